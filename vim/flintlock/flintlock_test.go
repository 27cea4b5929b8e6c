package flintlock_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/flintlock"
	"github.com/vnfpkgm/vnfpkgm/vim/flintlock/flintlocktest"
)

// fixture is a Flintlock stand-in, a registry with a root volume image and
// a kernel image, and a driver.
type fixture struct {
	fl   *flintlocktest.Server
	reg  *flintlocktest.Registry
	d    *flintlock.Driver
	root *vim.OCIReference
}

func newFixture(t *testing.T, opts map[string]string) *fixture {
	t.Helper()
	f := &fixture{fl: flintlocktest.New(), reg: flintlocktest.NewRegistry()}
	t.Cleanup(f.fl.Close)
	t.Cleanup(f.reg.Close)
	kernel := f.reg.Add("kernels/vmlinux", "6.1", map[string][]byte{"boot/vmlinux": []byte("kernel")})
	rootRef := f.reg.Add("vnfpkg/x/vdu1", "1.0", map[string][]byte{"disk/a.img": []byte("root fs")})
	_, digest, _ := strings.Cut(rootRef, "@")
	f.root = &vim.OCIReference{Registry: "http://" + f.reg.Host, Repository: "vnfpkg/x/vdu1", Tag: "1.0", Digest: digest}
	all := map[string]string{"kernel_image": kernel, "poll_interval": "10ms"}
	for k, v := range opts {
		all[k] = v
	}
	cfg := vim.Config{Endpoint: f.fl.URL, Options: all}
	if err := vim.CheckConfig(context.Background(), flintlock.Type, cfg); err != nil {
		t.Fatal(err)
	}
	d, err := flintlock.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	return f
}

func (f *fixture) allocate(t *testing.T) (*vim.Compute, error) {
	t.Helper()
	ctx := context.Background()
	img, err := f.d.AddImage(ctx, vim.ImageSpec{Name: "root", OCI: func(context.Context) (*vim.OCIReference, error) { return f.root, nil }})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := f.d.CreateFlavour(ctx, vim.FlavourSpec{VCPUs: 2, MemoryBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return f.d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Labels: map[string]string{"vduId": "VDU1"}})
}

func TestMicroVMLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c, err := f.allocate(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != vim.StateRunning || c.ImageID != f.reg.Host+"/vnfpkg/x/vdu1@"+f.root.Digest {
		t.Fatalf("allocated %+v", c)
	}
	vm := f.fl.MicroVMs()[c.ID]
	if *vm.Spec.VCPU != 2 || *vm.Spec.MemoryInMb != 256 || *vm.Spec.Kernel.Image == "" || vm.Spec.Kernel.Filename != "boot/vmlinux" ||
		*vm.Spec.RootVolume.Source.ContainerSource != c.ImageID || *vm.Spec.Namespace != "vnfpkgm" || vm.Spec.Labels["vduId"] != "VDU1" {
		t.Fatalf("MicroVM in flintlock: %+v", vm.Spec)
	}
	if pulls := f.fl.Pulls(); len(pulls) != 2 {
		t.Fatalf("pulled %v, want the root volume and the kernel", pulls)
	}
	if _, err := f.d.OperateCompute(ctx, c.ID, vim.ActionStop); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("stop: %v", err)
	}
	for range 2 {
		if err := f.d.TerminateCompute(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := f.d.QueryCompute(ctx, c.ID); err != nil || got.State != vim.StateStopped {
		t.Fatalf("after delete: %+v %v, want DELETING (STOPPED) once", got, err)
	}
	if _, err := f.d.QueryCompute(ctx, c.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("after deletion: %v", err)
	}
	if _, err := f.d.ListImages(ctx); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("list images: %v", err)
	}
}

// TestMicroVMFailed: a root volume altered on its way fails the MicroVM,
// and the driver says so in ERROR.
func TestMicroVMFailed(t *testing.T) {
	f := newFixture(t, nil)
	f.fl.Inject(flintlocktest.Fault{Method: "POST", CorruptPull: true})
	c, err := f.allocate(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != vim.StateError || c.StateReason != vim.ReasonVIMFault || !strings.Contains(c.Detail, "FAILED") {
		t.Fatalf("corrupt root volume: %+v", c)
	}
	if why := f.fl.Failure(c.ID); !strings.Contains(why, "digest_mismatch") {
		t.Fatalf("the stand-in failed it for %q", why)
	}
}

func TestRemoteFailures(t *testing.T) {
	f := newFixture(t, map[string]string{"timeout": "300ms", "retries": "2"})
	ctx := context.Background()
	f.fl.Inject(flintlocktest.Fault{Method: "GET", Status: http.StatusServiceUnavailable})
	if _, err := f.d.QueryCompute(ctx, "abc"); !errors.Is(err, vim.ErrUnavailable) || f.fl.Requests("GET", "/v1alpha1/microvm/abc") != 3 || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("503: %v after %d attempts", err, f.fl.Requests("GET", "/v1alpha1/microvm/abc"))
	}
	f.fl.ClearFaults()
	f.fl.Inject(flintlocktest.Fault{Method: "POST", Status: http.StatusInternalServerError})
	if _, err := f.allocate(t); !errors.Is(err, vim.ErrUnavailable) || f.fl.Requests("POST", "/v1alpha1/microvm") != 1 || !strings.Contains(err.Error(), "INTERNAL") {
		t.Fatalf("500 on create: %v after %d attempts, want 1", err, f.fl.Requests("POST", "/v1alpha1/microvm"))
	}
	f.fl.ClearFaults()
	if _, err := f.d.QueryCompute(ctx, "unknown-uid"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("unknown uid: %v", err)
	}
	f.fl.Inject(flintlocktest.Fault{Path: "/v1alpha1/microvm/slow", Delay: 5 * time.Second})
	if _, err := f.d.QueryCompute(ctx, "slow"); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Fatalf("timeout: %v", err)
	}
	f.fl.ClearFaults()
	noKernel, _ := flintlock.Open(ctx, vim.Config{Endpoint: f.fl.URL})
	var oe *vim.OptionError
	if _, err := noKernel.AllocateCompute(ctx, vim.ComputeSpec{}); !errors.As(err, &oe) || oe.Option != "kernel_image" {
		t.Fatalf("no kernel_image: %v", err)
	}
	f.fl.Close()
	if _, err := f.d.QueryCompute(ctx, "x"); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("closed: %v", err)
	}
}

// TestStandInIsStrict: the stand-in refuses what Flintlock would.
func TestStandInIsStrict(t *testing.T) {
	fl := flintlocktest.New()
	defer fl.Close()
	for body, want := range map[string]int{
		`{"namespace":"n","vcpu":1,"memoryInMb":64,"kernel":{"image":"h/k:1"},"rootVolume":{"id":"root","source":{"containerSource":"h/r:1"}},"colour":"red"}`: 400,
		`{"vcpu":1,"memoryInMb":64,"kernel":{"image":"h/k:1"},"rootVolume":{"id":"root","source":{"containerSource":"h/r:1"}}}`:                                400,
		`{"namespace":"n","vcpu":"one","memoryInMb":64,"kernel":{"image":"h/k:1"},"rootVolume":{"id":"root","source":{"containerSource":"h/r:1"}}}`:            400,
		`{"namespace":"n","vcpu":1,"memoryInMb":64,"kernel":{"image":"h/k:1"}}`:                                                                                400,
		`{"namespace":"n","vcpu":1,"memoryInMb":64,"uid":"x","kernel":{"image":"h/k:1"},"rootVolume":{"id":"root","source":{"containerSource":"h/r:1"}}}`:      400,
	} {
		resp, err := http.Post(fl.URL+"/v1alpha1/microvm", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", body, resp.StatusCode, want)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		cfg    vim.Config
		option string
	}{
		{vim.Config{Endpoint: "unix:///run/flintlock.sock"}, "endpoint"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"kernel_image": "no slash"}}, "kernel_image"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"compute_timeout": "-1s"}}, "compute_timeout"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"retries": "x"}}, "retries"},
		{vim.Config{Endpoint: "http://x", Credentials: map[string]string{"token": "t"}}, "credentials"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"kernel": "k"}}, "kernel"},
	} {
		err := vim.CheckConfig(ctx, flintlock.Type, c.cfg)
		var oe *vim.OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%+v: %v, want an error on %s", c.cfg, err, c.option)
		}
	}
}

// TestBootFilesAndVolumes: the VDU's own kernel and initrd replace the
// configured ones (and the configured initrd goes with the configured
// kernel only); a volume from an image is an additional volume pulled by
// Flintlock; a blank one is refused before anything is asked.
func TestBootFilesAndVolumes(t *testing.T) {
	f := newFixture(t, map[string]string{"initrd_image": "registry.example/initrd:1"})
	ctx := context.Background()
	img, err := f.d.AddImage(ctx, vim.ImageSpec{Name: "root", OCI: func(context.Context) (*vim.OCIReference, error) { return f.root, nil }})
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := f.d.CreateFlavour(ctx, vim.FlavourSpec{VCPUs: 1, MemoryBytes: 64 << 20})
	ref := func(repo, file string, data []byte) *vim.BootFile {
		r := f.reg.Add(repo, "1.0", map[string][]byte{file: data})
		_, digest, _ := strings.Cut(r, "@")
		o := &vim.OCIReference{Registry: "http://" + f.reg.Host, Repository: repo, Tag: "1.0", Digest: digest}
		return &vim.BootFile{Path: "Files/" + file, File: file, OCI: func(context.Context) (*vim.OCIReference, error) { return o, nil }}
	}
	kernel := ref("vnfpkg/x/vdu1/kernel", "disk/vmlinuz", []byte("the VDU's kernel"))
	initrd := ref("vnfpkg/x/vdu1/initrd", "disk/initrd.img", []byte("the VDU's initrd"))
	data := f.reg.Add("vnfpkg/x/data", "1.0", map[string][]byte{"disk/data.img": []byte("data")})

	c, err := f.d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID,
		Kernel: kernel, Initrd: initrd, Storage: []vim.StorageSpec{{Name: "data", SizeBytes: 3<<20 + 1, ImageID: data}}})
	if err != nil || c.State != vim.StateRunning || len(c.Volumes) != 1 || c.Volumes[0] != "data" {
		t.Fatalf("allocate: %+v %v", c, err)
	}
	vm := f.fl.MicroVMs()[c.ID]
	if !strings.HasSuffix(*vm.Spec.Kernel.Image, "/vnfpkg/x/vdu1/kernel@"+strings.Split(*vm.Spec.Kernel.Image, "@")[1]) || vm.Spec.Kernel.Filename != "disk/vmlinuz" ||
		vm.Spec.Initrd == nil || vm.Spec.Initrd.Filename != "disk/initrd.img" {
		t.Fatalf("kernel %+v initrd %+v", vm.Spec.Kernel, vm.Spec.Initrd)
	}
	if v := vm.Spec.AdditionalVolumes; len(v) != 1 || *v[0].ID != "data" || *v[0].Source.ContainerSource != data || v[0].SizeInMb != 4 {
		t.Fatalf("additional volumes %+v", v)
	}
	b := f.fl.Booted(c.ID)
	if b.KernelSHA256 != sha256Hex("the VDU's kernel") || b.InitrdSHA256 != sha256Hex("the VDU's initrd") {
		t.Fatalf("booted %+v", b)
	}

	// The VDU's kernel without an initrd: the configured initrd is not
	// put under another kernel.
	c, err = f.d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Kernel: kernel})
	if err != nil || f.fl.MicroVMs()[c.ID].Spec.Initrd != nil {
		t.Fatalf("kernel alone: %+v %v", c, err)
	}
	// No address for the catalogue: an error, not the configured kernel.
	if _, err := f.d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Kernel: &vim.BootFile{Path: "Files/vmlinuz"}}); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "Files/vmlinuz") {
		t.Fatalf("kernel not served: %v", err)
	}
	n := len(f.fl.MicroVMs())
	if _, err := f.d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Storage: []vim.StorageSpec{{Name: "blank", SizeBytes: 1 << 20}}}); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "blank") {
		t.Fatalf("blank volume: %v", err)
	}
	if len(f.fl.MicroVMs()) != n {
		t.Fatal("a refused allocation made a MicroVM")
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
