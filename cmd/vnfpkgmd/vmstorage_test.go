package main_test

// Virtual storage and VNFD kernels through the real server: the sample
// package rebuilt with VirtualBlockStorage nodes (and kernel artifacts),
// against the Cloud Hypervisor and Flintlock stand-ins.

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor/cloudhypervisortest"
	"github.com/vnfpkgm/vnfpkgm/vim/flintlock/flintlocktest"
)

const sampleVNFD = "Definitions/sample_vnf.yaml"

// editedSample rebuilds the sample package with its VNFD edited (and a new
// descriptor id, so that it is another VNF), extra files added, and the
// manifest's digests made again; it returns the new package's path.
func editedSample(t *testing.T, edit func(vnfd string) string, extra map[string][]byte) string {
	t.Helper()
	zr, err := zip.OpenReader(samplePackage(t))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	read := func(f *zip.File) []byte {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	changed := map[string][]byte{}
	var manifest string
	for _, f := range zr.File {
		switch f.Name {
		case sampleVNFD:
			vnfd := string(read(f))
			old := regexp.MustCompile(`equal: ([0-9a-f-]{36}) \]`).FindStringSubmatch(vnfd)
			if old == nil {
				t.Fatalf("no descriptor_id in the sample's VNFD")
			}
			vnfd = strings.ReplaceAll(vnfd, old[1], uuid.NewString())
			changed[f.Name] = []byte(edit(vnfd))
		case "sample_vnf.mf":
			manifest = string(read(f))
		}
	}
	for name, b := range extra {
		changed[name] = b
	}
	// The manifest: each Source block's hash for the files changed, and a
	// block for each file added.
	blocks := strings.Split(manifest, "\n\n")
	listed := map[string]bool{}
	for i, b := range blocks {
		m := regexp.MustCompile(`^Source: (\S+)\nAlgorithm: SHA-256\nHash: [0-9a-f]{64}`).FindStringSubmatch(strings.TrimSpace(b))
		if m == nil {
			continue
		}
		listed[m[1]] = true
		if data, ok := changed[m[1]]; ok {
			blocks[i] = fmt.Sprintf("Source: %s\nAlgorithm: SHA-256\nHash: %x", m[1], sha256.Sum256(data))
		}
	}
	for name, data := range changed {
		if !listed[name] {
			blocks = append(blocks, fmt.Sprintf("Source: %s\nAlgorithm: SHA-256\nHash: %x", name, sha256.Sum256(data)))
		}
	}
	manifest = strings.TrimRight(strings.Join(blocks, "\n\n"), "\n") + "\n"

	out := filepath.Join(t.TempDir(), "edited-sample.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for _, f := range zr.File {
		switch data, ok := changed[f.Name]; {
		case f.Name == "sample_vnf.mf":
			write(f.Name, []byte(manifest))
		case ok:
			write(f.Name, data)
		default:
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, data := range extra {
		write(name, data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// withStorage adds virtual_storage requirements of VDU1 and their
// VirtualBlockStorage nodes (YAML at the node_templates level).
func withStorage(names []string, nodes string) func(string) string {
	return func(vnfd string) string {
		req := "      requirements:\n"
		for _, n := range names {
			req += "        - virtual_storage: " + n + "\n"
		}
		return strings.TrimRight(vnfd, "\n") + "\n" + req + nodes
	}
}

// swImageData is the sample VDU's sw_image_data block, to give a storage
// the same image.
func swImageData(t *testing.T, vnfd string) string {
	m := regexp.MustCompile(`(?s)\n(        sw_image_data:\n.*?)      capabilities:`).FindStringSubmatch(vnfd)
	if m == nil {
		t.Fatal("no sw_image_data in the sample's VNFD")
	}
	return m[1]
}

const blankStorage = `    Data:
      type: tosca.nodes.nfv.Vdu.VirtualBlockStorage
      properties:
        virtual_block_storage_data:
          size_of_storage: 2 GiB
    Logs:
      type: tosca.nodes.nfv.Vdu.VirtualBlockStorage
      properties:
        virtual_block_storage_data:
          size_of_storage: 100 MB
`

// TestCloudHypervisorVirtualStorage: a VDU with two VirtualBlockStorage
// requirements gets two dataplane volumes, attached to its instance and
// deleted with it; every failure of the dataplane is a precise
// ProblemDetails and leaves no volume; a storage with an image is refused
// before anything is made.
func TestCloudHypervisorVirtualStorage(t *testing.T) {
	pkg := editedSample(t, withStorage([]string{"Data", "Logs"}, blankStorage), nil)
	var seededVNFD string
	seeded := editedSample(t, func(vnfd string) string {
		seededVNFD = withStorage([]string{"Data", "Seeded"}, blankStorage+`    Seeded:
      type: tosca.nodes.nfv.Vdu.VirtualBlockStorage
      properties:
        virtual_block_storage_data:
          size_of_storage: 1 GiB
`+swImageData(t, vnfd)+`      artifacts:
        sw_image:
          type: tosca.artifacts.nfv.SwImage
          file: ../Files/images/sample-rootfs.qcow2
`)(vnfd)
		return seededVNFD
	}, nil)
	dp := cloudhypervisortest.New()
	defer dp.Close()
	s := startServer(t, "")
	pkgID, info := s.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package with storage: %v\n%s", info, s.log)
	}
	seededID, sinfo := s.onboard(t, seeded)
	if sinfo["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package with a seeded storage: %v\n%s\n%s", sinfo, seededVNFD, s.log)
	}
	base, alloc := registerVDU1VIM(t, s, map[string]any{"type": "cloudhypervisor", "name": "ch", "endpoint": dp.URL, "options": map[string]any{"timeout": "1s", "retries": "1"}})

	r := alloc(pkgID)
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	compPath := base + "/compute/" + comp["id"].(string)
	inst := comp["vimComputeId"].(string)
	vols := dp.Volumes()
	want := map[string]struct {
		name, mount string
		gb          int
	}{inst + "-vol0": {"Data", "/mnt/Data", 2}, inst + "-vol1": {"Logs", "/mnt/Logs", 1}}
	if len(vols) != 2 {
		t.Fatalf("dataplane volumes: %+v", vols)
	}
	for id, w := range want {
		got := vols[id]
		if got.Name != w.name || got.SizeGB != w.gb || got.AttachedTo == nil || *got.AttachedTo != inst || got.MountPath == nil || *got.MountPath != w.mount {
			t.Errorf("volume %s: %+v, want %+v attached to %s", id, got, w, inst)
		}
	}
	if in := dp.Instances()[inst]; len(in.Volumes) != 2 {
		t.Errorf("instance %+v: want two volumes", in)
	}
	if got := fmt.Sprint(comp["volumes"]); got != fmt.Sprintf("[%s-vol0 %s-vol1]", inst, inst) {
		t.Errorf("the compute's volumes: %s", got)
	}

	// Each failure: a ProblemDetails naming the call and the storage, and
	// nothing left behind.
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/volumes", Status: 500, Skip: 1})
	problem(t, "second volume 5xx", alloc(pkgID), 503, "virtual storage Logs", "POST /volumes", "500")
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/volumes", Status: 400})
	problem(t, "first volume 4xx", alloc(pkgID), 400, "virtual storage Data", "POST /volumes", "400")
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Status: 500})
	problem(t, "instance 5xx", alloc(pkgID), 503, "POST /instances", "500")
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Status: 422})
	problem(t, "instance 4xx", alloc(pkgID), 400, "POST /instances", "422")
	dp.ClearFaults()
	if n, m := len(dp.Volumes()), len(dp.Instances()); n != 2 || m != 1 {
		t.Fatalf("failed allocations left volumes or instances: %d volumes, %d instances", n, m)
	}
	var list []map[string]any
	s.do("GET", base+"/compute", nil).json(t, &list)
	if len(list) != 1 {
		t.Fatalf("failed allocations left compute records: %v", list)
	}

	// A storage made from an image: the dataplane cannot; refused before
	// any image is registered or volume made.
	problem(t, "storage from an image", alloc(seededID), 409, "Seeded", "storage-image", "cloudhypervisor")
	if n := len(dp.Volumes()); n != 2 {
		t.Fatalf("a refused allocation made volumes: %d", n)
	}
	var images []map[string]any
	s.do("GET", base+"/software_images", nil).json(t, &images)
	for _, im := range images {
		if im["vnfPkgId"] == seededID {
			t.Fatalf("a refused allocation registered %v", im)
		}
	}

	// Terminate: the instance and its volumes go.
	expectStatus(t, s.do("DELETE", compPath, nil), 204)
	if n, m := len(dp.Volumes()), len(dp.Instances()); n != 0 || m != 0 {
		t.Fatalf("after terminate: %d volumes, %d instances", n, m)
	}
}

// bootArtifacts are VDU1's kernel and initrd artifacts (YAML at the
// VDU's artifacts level), initrd being Files/kernel/initrd.img.
const bootArtifacts = `        kernel:
          type: tosca.artifacts.Deployment
          file: ../Files/kernel/vmlinuz
        initrd:
          type: tosca.artifacts.File
          file: ../Files/kernel/initrd.img
`

// TestFlintlockBootFilesAndStorage: a VDU with kernel and initrd
// artifacts boots them from this server's /v2 (Flintlock pulls them and
// the bytes it booted are the package's), not the configured kernel; a
// storage with an image is an additional volume pulled from /v2; a blank
// storage, and a kernel artifact outside the package, are refused with a
// ProblemDetails before anything is made.
func TestFlintlockBootFilesAndStorage(t *testing.T) {
	initrd := []byte("an initramfs of the VNF\n")
	seededNode := func(vnfd string) string {
		return `    Seeded:
      type: tosca.nodes.nfv.Vdu.VirtualBlockStorage
      properties:
        virtual_block_storage_data:
          size_of_storage: 64 MiB
` + swImageData(t, vnfd) + `      artifacts:
        sw_image:
          type: tosca.artifacts.nfv.SwImage
          file: ../Files/images/sample-rootfs.qcow2
`
	}
	pkg := editedSample(t, func(vnfd string) string {
		vnfd = strings.Replace(vnfd, "      artifacts:\n", "      artifacts:\n"+bootArtifacts, 1)
		return withStorage([]string{"Seeded"}, seededNode(vnfd))(vnfd)
	}, map[string][]byte{"Files/kernel/initrd.img": initrd})
	remote := editedSample(t, func(vnfd string) string {
		return strings.Replace(vnfd, "      artifacts:\n", "      artifacts:\n        kernel:\n          type: tosca.artifacts.Deployment\n          file: https://images.example/vmlinuz\n", 1)
	}, nil)
	missing := editedSample(t, func(vnfd string) string {
		return strings.Replace(vnfd, "      artifacts:\n", "      artifacts:\n        kernel:\n          type: tosca.artifacts.Deployment\n          file: ../Files/kernel/no-such-vmlinuz\n", 1)
	}, nil)
	blank := editedSample(t, withStorage([]string{"Data", "Logs"}, blankStorage), nil)

	fl := flintlocktest.New()
	defer fl.Close()
	reg := flintlocktest.NewRegistry()
	defer reg.Close()
	configured := reg.Add("vnfpkgm/other-kernel", "1", map[string][]byte{"boot/vmlinux": []byte("not the VNF's kernel")})
	s := startServer(t, "")
	pkgID, info := s.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package with boot files: %v\n%s", info, s.log)
	}
	remoteID, rinfo := s.onboard(t, remote)
	if rinfo["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package with a remote kernel: %v\n%s", rinfo, s.log)
	}
	blankID, _ := s.onboard(t, blank)
	// A kernel artifact naming a file the package does not have: the
	// package is not onboarded, and says which file.
	_, minfo := s.onboard(t, missing)
	if minfo["onboardingState"] != "ERROR" || !strings.Contains(fmt.Sprint(minfo["onboardingFailureDetails"]), "no-such-vmlinuz") {
		t.Fatalf("package with a missing kernel: %v", minfo)
	}

	base, alloc := registerVDU1VIM(t, s, map[string]any{"type": "flintlock", "name": "fl", "endpoint": fl.URL,
		"options": map[string]any{"kernel_image": configured, "timeout": "2s", "retries": "1", "poll_interval": "50ms"}})

	r := alloc(pkgID)
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	if comp["state"] != "RUNNING" || fmt.Sprint(comp["volumes"]) != "[Seeded]" {
		t.Fatalf("allocated: %v", comp)
	}
	uid := comp["vimComputeId"].(string)
	vm := fl.MicroVMs()[uid]
	host := strings.TrimPrefix(s.base, "http://")
	var vnfdID string = info["vnfdId"].(string)
	kernelRepo := host + "/vnfpkg/" + vnfdID + "/vdu1/kernel@"
	if !strings.HasPrefix(*vm.Spec.Kernel.Image, kernelRepo) || vm.Spec.Kernel.Filename != "disk/vmlinuz" {
		t.Fatalf("kernel %s %s, want %s...", *vm.Spec.Kernel.Image, vm.Spec.Kernel.Filename, kernelRepo)
	}
	if vm.Spec.Initrd == nil || !strings.HasPrefix(*vm.Spec.Initrd.Image, host+"/vnfpkg/"+vnfdID+"/vdu1/initrd@") || vm.Spec.Initrd.Filename != "disk/initrd.img" {
		t.Fatalf("initrd %+v", vm.Spec.Initrd)
	}
	booted := fl.Booted(uid)
	if want := sha256Hex(zipMember(t, pkg, "Files/kernel/vmlinuz")); booted.KernelSHA256 != want {
		t.Fatalf("Flintlock booted a kernel with sha256 %s, the package's is %s", booted.KernelSHA256, want)
	}
	if booted.InitrdSHA256 != sha256Hex(initrd) || booted.InitrdSize != int64(len(initrd)) {
		t.Fatalf("initrd booted: %+v", booted)
	}
	var images []map[string]any
	s.do("GET", base+"/software_images", nil).json(t, &images)
	seededRef := ""
	for _, im := range images {
		if im["softwareImageId"] == "Seeded" {
			seededRef = im["vimImageId"].(string)
		}
	}
	if av := vm.Spec.AdditionalVolumes; seededRef == "" || len(av) != 1 || *av[0].ID != "Seeded" || *av[0].Source.ContainerSource != seededRef || av[0].SizeInMb != 64 {
		t.Fatalf("additional volumes %+v, want Seeded from %q, 64 MiB", vm.Spec.AdditionalVolumes, seededRef)
	}
	for _, p := range fl.Pulls() {
		if p == configured {
			t.Fatalf("the configured kernel was pulled for a VDU with its own: %v", fl.Pulls())
		}
	}

	// Refused before anything is made, each saying why.
	n := len(fl.MicroVMs())
	problem(t, "remote kernel", alloc(remoteID), 409, "kernel artifact of VDU VDU1", "https://images.example/vmlinuz", "not in the package")
	problem(t, "blank storage", alloc(blankID), 409, "Data", "storage capability", "flintlock")
	if len(fl.MicroVMs()) != n {
		t.Fatalf("refused allocations made MicroVMs")
	}
	expectStatus(t, s.do("DELETE", base+"/compute/"+comp["id"].(string), nil), 204)
}

// registerVDU1VIM registers the VIM described by body; alloc allocates
// compute for VDU1 of a package on it.
func registerVDU1VIM(t *testing.T, s *server, body map[string]any) (base string, alloc func(pkg string) response) {
	t.Helper()
	r := s.post(t, vims, body)
	expectStatus(t, r, 201)
	var v map[string]any
	r.json(t, &v)
	base = vims + "/" + v["id"].(string)
	return base, func(pkg string) response {
		return s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkg, "vduId": "VDU1"})
	}
}
