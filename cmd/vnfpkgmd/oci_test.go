package main_test

// The OCI pull endpoint (/v2) against the real server, pulled by skopeo.

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/oci"
)

// samplePackage returns the sample package built by make samples.
func samplePackage(t *testing.T) string {
	t.Helper()
	zip := filepath.Join(testenv.RepoRoot(), "samples", "build", "sample-vnf.zip")
	if _, err := os.Stat(zip); err != nil {
		testenv.Missing(t, zip, "run make samples")
	}
	return zip
}

// zipMember reads one file of a zip.
func zipMember(t *testing.T, file, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func skopeo(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("skopeo", args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user registries.conf or credentials
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// ociImage is one software image of the onboarded sample and its registry names.
type ociImage struct {
	id, imagePath, repo, tag string
}

func onboardedImages(t *testing.T, info map[string]any) []ociImage {
	t.Helper()
	tag, ok := oci.Tag(info["vnfSoftwareVersion"].(string))
	if !ok {
		t.Fatalf("no tag for %v", info["vnfSoftwareVersion"])
	}
	var out []ociImage
	sws, _ := info["softwareImages"].([]any)
	for _, x := range sws {
		sw := x.(map[string]any)
		p, _ := sw["imagePath"].(string)
		if p == "" {
			continue
		}
		repo, ok := oci.RepositoryName(info["vnfdId"].(string), sw["id"].(string))
		if !ok {
			t.Fatalf("no repository for %v", sw)
		}
		out = append(out, ociImage{id: sw["id"].(string), imagePath: p, repo: repo, tag: tag})
	}
	if len(out) == 0 {
		t.Fatalf("the sample has no software image inside it: %v", info)
	}
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestOCIPullWithSkopeo pulls every software image of the sample with
// skopeo and checks the layer is KubeVirt's containerDisk holding the
// package's image byte for byte, then Range, HEAD, the lists and the
// spec's errors on the same server.
func TestOCIPullWithSkopeo(t *testing.T) {
	testenv.Command(t, "skopeo", "skopeo")
	pkg := samplePackage(t)
	s := startServer(t, "")
	_, info := s.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	host := strings.TrimPrefix(s.base, "http://")

	r := s.do("GET", "/v2/", nil)
	expectStatus(t, r, 200)
	if r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("/v2/ headers: %v", r.header)
	}
	images := onboardedImages(t, info)
	var catalog struct{ Repositories []string }
	r = s.do("GET", "/v2/_catalog", nil)
	expectStatus(t, r, 200)
	r.json(t, &catalog)
	if len(catalog.Repositories) != len(images) {
		t.Fatalf("catalog %v, images %v", catalog.Repositories, images)
	}

	for _, im := range images {
		if !contains(catalog.Repositories, im.repo) {
			t.Fatalf("catalog %v lacks %s", catalog.Repositories, im.repo)
		}
		ref := "docker://" + host + "/" + im.repo + ":" + im.tag
		var inspected struct {
			Digest, Architecture, Os string
			Layers                   []string
		}
		if err := json.Unmarshal(skopeo(t, "inspect", "--tls-verify=false", ref), &inspected); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		// The layer is kept as served (uncompressed), and so is every digest.
		skopeo(t, "copy", "--src-tls-verify=false", "--dest-oci-accept-uncompressed-layers", "--preserve-digests", ref, "oci:"+dir+":"+im.tag)
		manifestDigest, layer := checkOCILayout(t, dir, im)
		if manifestDigest != inspected.Digest || len(inspected.Layers) != 1 || inspected.Os != "linux" {
			t.Fatalf("inspect %+v, copied manifest %s", inspected, manifestDigest)
		}
		want := zipMember(t, pkg, im.imagePath)
		got := diskFile(t, layer, path.Base(im.imagePath))
		if !bytes.Equal(got, want) {
			t.Fatalf("disk/%s in the layer (%d bytes, sha256 %s) is not the package's image (%d bytes, sha256 %s)",
				path.Base(im.imagePath), len(got), sha256Hex(got), len(want), sha256Hex(want))
		}
		checkRegistryReads(t, s, im, manifestDigest, layer, len(want))
	}
	if n := strings.Count(s.log.String(), "OCI layer digest computed"); n != len(images) {
		t.Fatalf("layer digests computed %d times for %d images: once each expected\n%s", n, len(images), s.log)
	}
	checkRegistryErrors(t, s, images[0])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkOCILayout reads what skopeo wrote: the manifest (media types of
// the image spec, one uncompressed layer) and returns its digest and the
// layer's bytes, checking every blob against its digest.
func checkOCILayout(t *testing.T, dir string, im ociImage) (string, []byte) {
	t.Helper()
	blob := func(digest string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if "sha256:"+sha256Hex(b) != digest {
			t.Fatalf("blob %s has digest sha256:%s", digest, sha256Hex(b))
		}
		return b
	}
	var index struct {
		Manifests []struct {
			MediaType, Digest string
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil || len(index.Manifests) != 1 || index.Manifests[0].MediaType != oci.MediaTypeManifest {
		t.Fatalf("index.json: %v %s", err, b)
	}
	var m struct {
		SchemaVersion int
		MediaType     string
		Config        struct{ MediaType, Digest string }
		Layers        []struct {
			MediaType, Digest string
			Size              int64
		}
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != oci.MediaTypeManifest || m.Config.MediaType != oci.MediaTypeConfig ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != oci.MediaTypeLayer {
		t.Fatalf("manifest of %s: %+v", im.repo, m)
	}
	var cfg struct {
		Architecture, OS string
		RootFS           struct {
			Type    string
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(blob(m.Config.Digest), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.RootFS.Type != "layers" || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != m.Layers[0].Digest {
		t.Fatalf("config of %s: %+v (the layer is uncompressed: its diff id is its digest)", im.repo, cfg)
	}
	layer := blob(m.Layers[0].Digest)
	if int64(len(layer)) != m.Layers[0].Size {
		t.Fatalf("layer is %d bytes, the manifest says %d", len(layer), m.Layers[0].Size)
	}
	return index.Manifests[0].Digest, layer
}

// diskFile checks the layer is a containerDisk (disk/ and disk/<file>,
// owned 107:107, nothing else) and returns the file's bytes.
func diskFile(t *testing.T, layer []byte, file string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(layer))
	var names []string
	var data []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 107 || h.Gid != 107 {
			t.Fatalf("%s is owned %d:%d, not 107:107", h.Name, h.Uid, h.Gid)
		}
		if h.Typeflag == tar.TypeReg {
			if data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(names) != fmt.Sprint([]string{"disk/", "disk/" + file}) {
		t.Fatalf("layer entries %v, want disk/ and disk/%s", names, file)
	}
	return data
}

// checkRegistryReads checks HEAD, by-digest reads, ranges and the tags list.
func checkRegistryReads(t *testing.T, s *server, im ociImage, manifestDigest string, layer []byte, imageSize int) {
	t.Helper()
	base := "/v2/" + im.repo
	for _, ref := range []string{im.tag, manifestDigest} {
		r := s.do("HEAD", base+"/manifests/"+ref, nil)
		expectStatus(t, r, 200)
		if r.header.Get("Docker-Content-Digest") != manifestDigest || r.header.Get("Content-Type") != oci.MediaTypeManifest || len(r.body) != 0 {
			t.Fatalf("HEAD manifest %s: %v", ref, r.header)
		}
		r = s.do("GET", base+"/manifests/"+ref, nil)
		expectStatus(t, r, 200)
		if "sha256:"+sha256Hex(r.body) != manifestDigest {
			t.Fatalf("GET manifest %s: body digest sha256:%s, want %s", ref, sha256Hex(r.body), manifestDigest)
		}
	}
	layerDigest := "sha256:" + sha256Hex(layer)
	r := s.do("HEAD", base+"/blobs/"+layerDigest, nil)
	expectStatus(t, r, 200)
	if r.header.Get("Content-Length") != fmt.Sprint(len(layer)) || r.header.Get("Docker-Content-Digest") != layerDigest {
		t.Fatalf("HEAD layer: %v", r.header)
	}
	// Ranges across each boundary of the layer: header/image, the image's
	// middle, image/padding, and the end blocks.
	header := len(layer) - imageSize - (512-imageSize%512)%512 - 1024
	for _, rg := range [][2]int{{0, 511}, {header - 10, header + 10}, {header + imageSize/2, header + imageSize/2 + 70000},
		{header + imageSize - 5, header + imageSize + 5}, {len(layer) - 1030, len(layer) - 1}} {
		r := s.do("GET", base+"/blobs/"+layerDigest, nil, "Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
		expectStatus(t, r, 206)
		if !bytes.Equal(r.body, layer[rg[0]:rg[1]+1]) {
			t.Fatalf("range %d-%d of the layer: %d bytes differ from the pulled layer's", rg[0], rg[1], len(r.body))
		}
		if r.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", rg[0], rg[1], len(layer)) {
			t.Fatalf("range %d-%d: Content-Range %q", rg[0], rg[1], r.header.Get("Content-Range"))
		}
	}
	r = s.do("GET", base+"/blobs/"+layerDigest, nil, "Range", fmt.Sprintf("bytes=%d-", len(layer)))
	if r.status != 416 || r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(layer)) {
		t.Fatalf("range past the end: %d, Content-Range %q", r.status, r.header.Get("Content-Range"))
	}

	var tags struct {
		Name string
		Tags []string
	}
	r = s.do("GET", base+"/tags/list", nil)
	expectStatus(t, r, 200)
	r.json(t, &tags)
	if tags.Name != im.repo || fmt.Sprint(tags.Tags) != fmt.Sprint([]string{im.tag}) {
		t.Fatalf("tags list: %+v", tags)
	}
	r = s.do("GET", base+"/tags/list?n=0", nil)
	expectStatus(t, r, 200)
	r.json(t, &tags)
	// The spec: n=0 answers an empty list and no Link.
	if len(tags.Tags) != 0 || r.header.Get("Link") != "" {
		t.Fatalf("tags list n=0: %+v, Link %q", tags, r.header.Get("Link"))
	}
}

// checkRegistryErrors checks the spec's error codes.
func checkRegistryErrors(t *testing.T, s *server, im ociImage) {
	t.Helper()
	base := "/v2/" + im.repo
	zero := "sha256:" + strings.Repeat("0", 64)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", base + "/manifests/no-such-tag", 404, "MANIFEST_UNKNOWN"},
		{"GET", base + "/manifests/" + zero, 404, "MANIFEST_UNKNOWN"},
		{"GET", base + "/blobs/" + zero, 404, "BLOB_UNKNOWN"},
		{"GET", base + "/blobs/not-a-digest", 400, "DIGEST_INVALID"},
		{"GET", "/v2/vnfpkg/no-such-vnfd/vdu1/manifests/" + im.tag, 404, "NAME_UNKNOWN"},
		{"GET", "/v2/vnfpkg/no-such-vnfd/vdu1/tags/list", 404, "NAME_UNKNOWN"},
		{"GET", "/v2/Not_A..Name/manifests/x", 400, "NAME_INVALID"},
		{"PUT", base + "/manifests/" + im.tag, 405, "UNSUPPORTED"},
		{"POST", base + "/blobs/uploads/", 405, "UNSUPPORTED"},
		{"DELETE", base + "/blobs/" + zero, 405, "UNSUPPORTED"},
	} {
		r := s.do(c.method, c.path, nil)
		var body struct {
			Errors []struct{ Code, Message string }
		}
		if r.status != c.status || json.Unmarshal(r.body, &body) != nil || len(body.Errors) != 1 || body.Errors[0].Code != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.status, r.body, c.status, c.code)
		}
	}
}

// writeImagePackage writes a package whose VDU1 software image is size
// random bytes, stored (not compressed), from the sample's VNFD.
func writeImagePackage(t *testing.T, name string, size int64) {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "samples", "sample-vnf", "Definitions", "sample_vnf.yaml.in"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	zw := zip.NewWriter(bw)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/images/sample-rootfs.qcow2", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	h := sha512.New()
	rng := rand.NewChaCha8([32]byte{42})
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size; {
		chunk := buf[:min(int64(len(buf)), size-n)]
		rng.Read(chunk)
		w.Write(chunk)
		h.Write(chunk)
		n += int64(len(chunk))
	}
	vnfd := strings.NewReplacer("@IMAGE_SHA512@", hex.EncodeToString(h.Sum(nil)), "@IMAGE_SIZE@", fmt.Sprint(size),
		"@MIN_DISK@", fmt.Sprint(size>>20+1), "@DESCRIPTOR_ID@", "0c1e0000-0000-4000-8000-00000000b16").Replace(string(tmpl))
	files := map[string]string{
		"TOSCA-Metadata/TOSCA.meta":   "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: oci test\nEntry-Definitions: Definitions/sample_vnf.yaml\n",
		"Definitions/sample_vnf.yaml": vnfd,
	}
	for n, content := range files {
		f, _ := zw.Create(n)
		io.WriteString(f, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestOCILayerMemoryBounded: the layer of a 256 MiB image is digested and
// served in full while the server's peak RSS stays far below the image's
// size (the layer is streamed from the package, never held).
func TestOCILayerMemoryBounded(t *testing.T) {
	const size, ceilingMiB = 256 << 20, 96
	pkg := filepath.Join(t.TempDir(), "big.zip")
	writeImagePackage(t, pkg, size)
	s := startBenchServer(t, filepath.Join(t.TempDir(), "data"))
	id := s.create()
	s.put(id, pkg)
	s.awaitOnboarded(id)
	repo, _ := oci.RepositoryName("0c1e0000-0000-4000-8000-00000000b16", "VDU1")
	r := s.call("GET", "/v2/"+repo+"/manifests/1.0", nil)
	s.expect(r, 200, "manifest")
	var m struct {
		Layers []struct {
			Digest string
			Size   int64
		}
	}
	if err := json.Unmarshal(r.body, &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("manifest: %v %s", err, r.body)
	}
	resp, err := http.Get(s.base + "/v2/" + repo + "/blobs/" + m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil || resp.StatusCode != 200 || n != m.Layers[0].Size || "sha256:"+hex.EncodeToString(h.Sum(nil)) != m.Layers[0].Digest {
		t.Fatalf("layer: %d, %d bytes of %d, %v", resp.StatusCode, n, m.Layers[0].Size, err)
	}
	peak := procStatusMiB(t, s.cmd.Process.Pid, "VmHWM")
	t.Logf("server peak RSS %.1f MiB (image %d MiB)", peak, size>>20)
	if peak > ceilingMiB {
		t.Fatalf("server peak RSS %.0f MiB serving a %d MiB image, ceiling %d MiB", peak, size>>20, ceilingMiB)
	}
}
