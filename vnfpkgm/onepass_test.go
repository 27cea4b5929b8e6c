package vnfpkgm

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// readLog records every byte range read from the blob store's objects.
type readLog struct {
	mu     sync.Mutex
	ranges [][2]int64 // [offset, end)
}

func (l *readLog) add(off int64, n int) {
	if n > 0 {
		l.mu.Lock()
		l.ranges = append(l.ranges, [2]int64{off, off + int64(n)})
		l.mu.Unlock()
	}
}

func (l *readLog) reset() {
	l.mu.Lock()
	l.ranges = nil
	l.mu.Unlock()
}

// within returns the bytes read inside [lo, hi), counting repeats.
func (l *readLog) within(lo, hi int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, r := range l.ranges {
		if a, b := max(r[0], lo), min(r[1], hi); b > a {
			n += b - a
		}
	}
	return n
}

// countingStore is the server's blob store with every read recorded.
type countingStore struct {
	blob.Store
	log *readLog
}

func (s countingStore) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countingObject{Object: o, log: s.log}, nil
}

type countingObject struct {
	blob.Object
	log *readLog
}

func (o *countingObject) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.Object.ReadAt(p, off)
	o.log.add(off, n)
	return n, err
}

func (o *countingObject) Read(p []byte) (int, error) {
	off, err := o.Object.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	n, err := o.Object.Read(p)
	o.log.add(off, n)
	return n, err
}

// onePassPackage rebuilds the corpus's helloworld3 package so that its
// manifest lists SHA-512 (the image) and SHA-384 (the script and the
// Kubernetes file) and its VNFD's sw_image_data use SHA-256, with its
// members in the given order. The image is stored, the rest deflated,
// all written by Go's zip writer (so with data descriptors).
func onePassPackage(t *testing.T, order func(names []string) []string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(testenv.Corpus(t), "helloworld3-multi.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
		names = append(names, f.Name)
	}
	const image, script, kube = "Files/images/cirros-0.5.2-x86_64-disk.img", "Scripts/install.sh", "Files/kubernetes/deployment.yaml"
	h256 := sha256.Sum256(files[image])
	h512 := sha512.Sum512(files[image])
	df := "Definitions/helloworld3_df_simple.yaml"
	files[df] = []byte(strings.ReplaceAll(strings.ReplaceAll(string(files[df]), "algorithm: sha-512", "algorithm: sha-256"),
		hex.EncodeToString(h512[:]), hex.EncodeToString(h256[:])))
	s384 := func(name string) string { h := sha512.Sum384(files[name]); return hex.EncodeToString(h[:]) }
	files["manifest.mf"] = []byte("Source: " + image + "\nAlgorithm: SHA-512\nHash: " + hex.EncodeToString(h512[:]) +
		"\n\nSource: " + script + "\nAlgorithm: SHA-384\nHash: " + s384(script) +
		"\n\nSource: " + kube + "\nAlgorithm: SHA-384\nHash: " + s384(kube) + "\n")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order(names) {
		method := zip.Deflate
		if name == image {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func metadataFirst(names []string) []string {
	rank := func(n string) int {
		switch {
		case n == "TOSCA-Metadata/TOSCA.meta":
			return 0
		case n == "manifest.mf":
			return 1
		case strings.HasPrefix(n, "Definitions/"):
			return 2
		}
		return 3
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

func alphabetical(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

// onePassServer is a server over a temporary directory whose blob reads
// are recorded.
func onePassServer(t *testing.T) (*Server, *readLog) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Database = filepath.Join(cfg.DataDir, "vnfpkgm.db")
	cfg.BlobDir = filepath.Join(cfg.DataDir, "blobs")
	s, err := NewServer(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log := &readLog{}
	s.blobs = countingStore{Store: s.blobs, log: log}
	return s, log
}

// uploadPackage creates a package and PUTs data as its content through
// the HTTP handler; it returns the package id.
func uploadPackage(t *testing.T, s *Server, data []byte) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, BasePath+"/vnf_packages", strings.NewReader(`{}`)).WithContext(context.Background()))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var info struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &info)
	req := httptest.NewRequest(http.MethodPut, BasePath+"/vnf_packages/"+info.ID+"/package_content", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/zip")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	return info.ID
}

// member is where a member's stored bytes lie in the archive.
type member struct {
	lo, hi int64
	size   int64
}

func members(t *testing.T, data []byte) map[string]member {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]member{}
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = member{off, off + int64(f.CompressedSize64), int64(f.UncompressedSize64)}
	}
	return out
}

// TestOnboardingReadsNoDigestedMember uploads a package whose manifest
// and VNFD stream in before the files they describe, then runs the
// onboarding job: every digest (SHA-512 and SHA-384 from the manifest,
// SHA-256 from sw_image_data) comes from the upload, so not one byte of
// the image, the script or the Kubernetes file is read back, and all the
// job reads is less than the metadata files' size.
func TestOnboardingReadsNoDigestedMember(t *testing.T) {
	data := onePassPackage(t, metadataFirst)
	s, log := onePassServer(t)
	id := uploadPackage(t, s, data)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, BasePath+"/vnf_packages/"+id+"?all_fields", nil))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "igests") || strings.Contains(rec.Body.String(), "contentKey") {
		t.Fatalf("VnfPkgInfo while PROCESSING: %d %s", rec.Code, rec.Body)
	}
	onboardReadingNoDigestedMember(t, s, log, id, data)
}

// TestUploadFromURIDigestsInOnePass: upload_from_uri stores the content
// through the same path, so its onboarding reads no digested member
// either.
func TestUploadFromURIDigestsInOnePass(t *testing.T) {
	data := onePassPackage(t, metadataFirst)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(data) }))
	defer origin.Close()
	s, log := onePassServer(t)
	ctx := context.Background()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, BasePath+"/vnf_packages", strings.NewReader(`{}`)))
	var info struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &info)
	req := httptest.NewRequest(http.MethodPost, BasePath+"/vnf_packages/"+info.ID+"/package_content/upload_from_uri",
		strings.NewReader(`{"addressInformation":"`+origin.URL+`/pkg.zip"}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload_from_uri: %d %s", rec.Code, rec.Body)
	}
	job, err := s.db.ClaimJob(ctx, "test", time.Minute)
	if err != nil || job.Kind != JobFetch {
		t.Fatalf("claimed %+v, %v; want the fetch job", job, err)
	}
	if err := s.fetch(ctx, job); err != nil {
		t.Fatal(err)
	}
	onboardReadingNoDigestedMember(t, s, log, info.ID, data)
}

// onboardReadingNoDigestedMember runs the onboarding job of an uploaded
// package and checks that it read none of the members whose digests the
// upload computed, and less than the metadata files' size in all.
func onboardReadingNoDigestedMember(t *testing.T, s *Server, log *readLog, id string, data []byte) {
	t.Helper()
	ctx := context.Background()
	p, err := s.db.GetPackage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if storedUploadDigests(p) == nil {
		t.Fatalf("no digests recorded at upload: %s", p.UploadDigests)
	}
	log.reset()
	if err := s.onboard(ctx, id); err != nil {
		t.Fatal(err)
	}
	p, err = s.db.GetPackage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.OnboardingState != storage.OnboardingOnboarded {
		t.Fatalf("state %s: %s", p.OnboardingState, p.OnboardingFailureDetails)
	}
	if p.UploadDigests != nil {
		t.Error("the upload digests were kept after onboarding")
	}
	ms := members(t, data)
	// archive/zip finds the end of the central directory by reading the
	// archive's last 1 KiB, which here also covers the end of the last
	// members: those bytes are not a digest pass.
	tail := int64(len(data)) - 1024
	var metadata int64
	for name, m := range ms {
		switch {
		case strings.HasPrefix(name, "Files/"), strings.HasPrefix(name, "Scripts/"):
			if n := log.within(m.lo, min(m.hi, tail)); n > 0 {
				t.Errorf("onboarding read %d bytes of %s, whose digests the upload computed", n, name)
			}
		default:
			metadata += m.size
		}
	}
	if total := log.within(0, int64(len(data))); total >= metadata {
		t.Errorf("onboarding read %d bytes, not less than the %d bytes of the metadata files", total, metadata)
	}
}

// TestOnboardingAlphabeticalOrder is the layout of Tacker's packages:
// Definitions/, Files/, Scripts/, TOSCA-Metadata/, manifest.mf. The VNFD
// streams in before the image, so the image's sw_image_data SHA-256
// comes from the upload; the manifest comes last, so what it alone asks
// for is read back, once per file: the image for SHA-512, the script and
// the Kubernetes file for SHA-384.
func TestOnboardingAlphabeticalOrder(t *testing.T) {
	data := onePassPackage(t, alphabetical)
	s, log := onePassServer(t)
	ctx := context.Background()
	id := uploadPackage(t, s, data)
	p, err := s.db.GetPackage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.blobs.Open(ctx, *p.ContentKey)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	rep, err := validate.Package(ctx, obj, obj.Size(), validate.Options{Precomputed: storedUploadDigests(p)})
	if err != nil || !rep.Valid {
		t.Fatalf("validate: %v %v", err, rep.Problems)
	}
	if rep.DigestsKnown != 2 || rep.DigestsRead != 3 {
		t.Errorf("%d digests from the upload and %d read back, want 2 (sw_image_data SHA-256 x2) and 3 (manifest SHA-512, SHA-384 x2)", rep.DigestsKnown, rep.DigestsRead)
	}
	log.reset()
	if err := s.onboard(ctx, id); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.db.GetPackage(ctx, id); p.OnboardingState != storage.OnboardingOnboarded {
		t.Fatalf("state %s: %s", p.OnboardingState, p.OnboardingFailureDetails)
	}
	ms := members(t, data)
	img := ms["Files/images/cirros-0.5.2-x86_64-disk.img"]
	if n := log.within(img.lo, img.hi); n != img.hi-img.lo {
		t.Errorf("the image was read for %d bytes, want exactly once (%d) for its SHA-512", n, img.hi-img.lo)
	}
}
