package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// memSource is a catalogue in memory: vnfdId -> images, each image's bytes.
type memSource struct {
	images map[string][]Image
	data   map[string][]byte // by ImagePath
	opens  atomic.Int32
}

func (m *memSource) VnfdIDs(context.Context) ([]string, error) {
	var ids []string
	for id := range m.images {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (m *memSource) Images(_ context.Context, vnfdID string) ([]Image, error) {
	im, ok := m.images[vnfdID]
	if !ok {
		return nil, ErrNotFound
	}
	return im, nil
}

func (m *memSource) Open(_ context.Context, img Image) (io.ReadSeekCloser, int64, error) {
	m.opens.Add(1)
	b := m.data[img.ImagePath]
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

type memStore struct {
	mu   sync.Mutex
	rows map[string]storage.OCILayer
}

func (s *memStore) GetOCILayer(_ context.Context, pkg, sw string) (*storage.OCILayer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[pkg+"/"+sw]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &r, nil
}

func (s *memStore) PutOCILayer(_ context.Context, l *storage.OCILayer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[l.PackageID+"/"+l.SoftwareImageID] = *l
	return nil
}

func newTestRegistry() (*Registry, *memSource) {
	img := func(pkg, vnfd, sw, path string) Image {
		return Image{PackageID: pkg, ContentKey: "k-" + pkg, VnfdID: vnfd, SoftwareImageID: sw, Version: "1.0", ImagePath: path}
	}
	src := &memSource{
		images: map[string][]Image{
			"vnf-a": {img("p1", "vnf-a", "VDU1", "a1.img"), img("p1", "vnf-a", "VDU2", "a2.img"),
				// Two ids that map to one name: neither is served.
				img("p1", "vnf-a", "Disk", "a3.img"), img("p1", "vnf-a", "disk", "a4.img")},
			"VNF-B": {img("p2", "VNF-B", "VDU1", "b1.img")},
			"vnf-b": {img("p3", "vnf-b", "VDU1", "b2.img")},
			"vnf-c": {img("p4", "vnf-c", "VDU1", "c1.img")},
		},
		data: map[string][]byte{"a1.img": imageBytes(3000), "a2.img": imageBytes(10), "a3.img": nil, "a4.img": nil,
			"b1.img": nil, "b2.img": nil, "c1.img": imageBytes(700)},
	}
	return New(src, &memStore{rows: map[string]storage.OCILayer{}}, DefaultPlatform, slog.New(slog.DiscardHandler)), src
}

func get(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	var v map[string]any
	json.Unmarshal(w.Body.Bytes(), &v)
	return w, v
}

func errorCode(v map[string]any) string {
	errs, _ := v["errors"].([]any)
	if len(errs) != 1 {
		return ""
	}
	c, _ := errs[0].(map[string]any)["code"].(string)
	return c
}

// TestCatalogLeavesOutAmbiguousNames: vnfdIds or image ids that map to
// one name are served under neither, and say why.
func TestCatalogLeavesOutAmbiguousNames(t *testing.T) {
	r, _ := newTestRegistry()
	w, v := get(t, r, "/v2/_catalog")
	if w.Code != 200 {
		t.Fatalf("catalog: %d %s", w.Code, w.Body)
	}
	want := []any{"vnfpkg/vnf-a/vdu1", "vnfpkg/vnf-a/vdu2", "vnfpkg/vnf-c/vdu1"}
	if got, _ := v["repositories"].([]any); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("catalog %v, want %v", v["repositories"], want)
	}
	for _, name := range []string{"vnfpkg/vnf-b/vdu1", "vnfpkg/vnf-a/disk"} {
		w, v := get(t, r, "/v2/"+name+"/tags/list")
		if w.Code != 404 || errorCode(v) != "NAME_UNKNOWN" || !strings.Contains(w.Body.String(), "ambiguous") {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	// Paging: n=2, then from the Link.
	w, v = get(t, r, "/v2/_catalog?n=2")
	link := w.Header().Get("Link")
	if got, _ := v["repositories"].([]any); len(got) != 2 || link != `</v2/_catalog?last=vnfpkg%2Fvnf-a%2Fvdu2&n=2>; rel="next"` {
		t.Fatalf("first page %v, Link %q", v, link)
	}
	_, v = get(t, r, link[1:strings.IndexByte(link, '>')])
	if got, _ := v["repositories"].([]any); len(got) != 1 || got[0] != "vnfpkg/vnf-c/vdu1" {
		t.Fatalf("second page %v", v)
	}
	if w, v := get(t, r, "/v2/_catalog?n=-1"); w.Code != 400 || errorCode(v) != "PAGINATION_NUMBER_INVALID" {
		t.Fatalf("n=-1: %d %s", w.Code, w.Body)
	}
}

// TestLayerDigestComputedOnce: concurrent first pulls read the image
// through once; later ones read the stored digest.
func TestLayerDigestComputedOnce(t *testing.T) {
	r, src := newTestRegistry()
	var wg sync.WaitGroup
	digests := make([]string, 8)
	for i := range digests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _ := get(t, r, "/v2/vnfpkg/vnf-a/vdu1/manifests/1.0")
			digests[i] = w.Header().Get("Docker-Content-Digest")
		}()
	}
	wg.Wait()
	get(t, r, "/v2/vnfpkg/vnf-a/vdu1/manifests/1.0")
	if n := src.opens.Load(); n != 1 {
		t.Fatalf("image read %d times for its digest, want once", n)
	}
	for _, d := range digests {
		if d == "" || d != digests[0] {
			t.Fatalf("manifest digests differ: %v", digests)
		}
	}
}

// TestReferrers: an empty index for any subject of a repository served
// (the spec forbids 404 there), NAME_UNKNOWN for a repository not served.
func TestReferrers(t *testing.T) {
	r, _ := newTestRegistry()
	zero := "sha256:" + strings.Repeat("0", 64)
	w, v := get(t, r, "/v2/vnfpkg/vnf-a/vdu1/referrers/"+zero+"?artifactType=application/x-test")
	if w.Code != 200 || w.Header().Get("Content-Type") != MediaTypeIndex || w.Header().Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("referrers: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if m, ok := v["manifests"].([]any); !ok || len(m) != 0 || v["schemaVersion"] != float64(2) {
		t.Fatalf("referrers index: %v", v)
	}
	if w, v := get(t, r, "/v2/vnfpkg/nope/vdu1/referrers/"+zero); w.Code != 404 || errorCode(v) != "NAME_UNKNOWN" {
		t.Fatalf("referrers of an unknown repository: %d %s", w.Code, w.Body)
	}
}

// TestBootFiles: a VDU's kernel is its own repository, one component
// longer than a software image's, laid out alike, its digest stored apart
// from the VDU's image.
func TestBootFiles(t *testing.T) {
	r, src := newTestRegistry()
	kernel := Image{PackageID: "p4", ContentKey: "k-p4", VnfdID: "vnf-c", SoftwareImageID: "VDU1", Version: "1.0", ImagePath: "Files/kernel/vmlinuz", Artifact: "kernel"}
	src.images["vnf-c"] = append(src.images["vnf-c"], kernel)
	src.data["Files/kernel/vmlinuz"] = imageBytes(1234)

	_, v := get(t, r, "/v2/_catalog")
	if got := v["repositories"].([]any); len(got) != 4 || got[3] != "vnfpkg/vnf-c/vdu1/kernel" {
		t.Fatalf("catalog %v", got)
	}
	w, m := get(t, r, "/v2/vnfpkg/vnf-c/vdu1/kernel/manifests/1.0")
	if w.Code != 200 {
		t.Fatalf("kernel manifest: %d %s", w.Code, w.Body)
	}
	manifestDigest := w.Header().Get("Docker-Content-Digest")
	ann := m["annotations"].(map[string]any)
	if ann["com.github.vnfpkgm.artifact"] != "kernel" || ann["com.github.vnfpkgm.vdu-id"] != "VDU1" || ann["com.github.vnfpkgm.artifact-path"] != "Files/kernel/vmlinuz" {
		t.Fatalf("annotations %v", ann)
	}
	layer := m["layers"].([]any)[0].(map[string]any)["digest"].(string)
	w, _ = get(t, r, "/v2/vnfpkg/vnf-c/vdu1/kernel/blobs/"+layer)
	if w.Code != 200 || !bytes.Contains(w.Body.Bytes(), []byte("disk/vmlinuz")) || !bytes.Contains(w.Body.Bytes(), imageBytes(1234)) {
		t.Fatalf("kernel layer: %d, %d bytes", w.Code, w.Body.Len())
	}
	repo, tag, digest, err := r.BootFileReference(context.Background(), "vnf-c", "VDU1", "kernel")
	if err != nil || repo != "vnfpkg/vnf-c/vdu1/kernel" || tag != "1.0" || digest != manifestDigest {
		t.Fatalf("reference %s %s %s %v", repo, tag, digest, err)
	}
	// The VDU's image and its kernel have their own digests.
	w1, _ := get(t, r, "/v2/vnfpkg/vnf-c/vdu1/manifests/1.0")
	w2, _ := get(t, r, "/v2/vnfpkg/vnf-c/vdu1/kernel/manifests/1.0")
	if w1.Header().Get("Docker-Content-Digest") == w2.Header().Get("Docker-Content-Digest") {
		t.Fatal("the image and its kernel share a manifest")
	}
	for _, name := range []string{"vnfpkg/vnf-c/vdu1/initrd", "vnfpkg/vnf-c/vdu1/bios", "vnfpkg/vnf-c/vdu2/kernel"} {
		if w, v := get(t, r, "/v2/"+name+"/manifests/1.0"); w.Code != 404 || errorCode(v) != "NAME_UNKNOWN" {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if _, _, _, err := r.BootFileReference(context.Background(), "vnf-c", "VDU1", "initrd"); !NotServed(err) {
		t.Fatalf("no initrd: %v", err)
	}
}
