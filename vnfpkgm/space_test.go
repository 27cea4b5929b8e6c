package vnfpkgm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

// fullStore is a blob store whose writes fail with ENOSPC after `after`
// bytes while full is set, as a full filesystem answers (the error names
// the temp file, as the real one does).
type fullStore struct {
	blob.Store
	dir   string
	after int64
	full  atomic.Bool
}

func (f *fullStore) Create(ctx context.Context) (blob.Writer, error) {
	w, err := f.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &fullWriter{Writer: w, s: f}, nil
}

type fullWriter struct {
	blob.Writer
	s *fullStore
	n int64
}

func (w *fullWriter) Write(p []byte) (int, error) {
	if w.s.full.Load() && w.n+int64(len(p)) > w.s.after {
		return 0, &os.PathError{Op: "write", Path: filepath.Join(w.s.dir, "blobs", "tmp", "w-123.tmp"), Err: syscall.ENOSPC}
	}
	w.n += int64(len(p))
	return w.Writer.Write(p)
}

func testServer(t *testing.T, mutate func(*Config)) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Database, cfg.BlobDir = dir, filepath.Join(dir, "vnfpkgm.db"), filepath.Join(dir, "blobs")
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func call(t *testing.T, s *Server, method, path, ctype, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var m map[string]any
	json.Unmarshal(rec.Body.Bytes(), &m)
	if rec.Code >= 400 && !strings.Contains(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("%s %s: %d with %q, want ProblemDetails", method, path, rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Code, m
}

// TestUploadDiskFull: an upload that runs out of space answers 507 without
// the server's paths, the package is CREATED again, and /healthz is 503
// until a probe write succeeds again.
func TestUploadDiskFull(t *testing.T) {
	s, dir := testServer(t, nil)
	full := &fullStore{Store: s.blobs, dir: dir, after: 4096}
	full.full.Store(true)
	s.blobs = full
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	code, pd := call(t, s, "PUT", BasePath+"/vnf_packages/"+id+"/package_content", "application/zip", strings.Repeat("x", 100000))
	if code != http.StatusInsufficientStorage {
		t.Fatalf("upload to a full disk: %d %v, want 507", code, pd)
	}
	if detail := pd["detail"].(string); strings.Contains(detail, dir) || strings.Contains(detail, "/") {
		t.Fatalf("the detail reveals a path: %q", detail)
	}
	if _, info := call(t, s, "GET", BasePath+"/vnf_packages/"+id, "", ""); info["onboardingState"] != "CREATED" {
		t.Fatalf("after the failed upload: %v", info["onboardingState"])
	}
	code, pd = call(t, s, "GET", "/healthz", "", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(pd["detail"].(string), "space") {
		t.Fatalf("healthz while the disk is full: %d %v", code, pd)
	}
	full.full.Store(false) // the operator freed space
	if code, pd = call(t, s, "GET", "/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("healthz once space is back: %d %v", code, pd)
	}
	if code, pd = call(t, s, "PUT", BasePath+"/vnf_packages/"+id+"/package_content", "application/zip", "not a zip, but stored"); code != http.StatusAccepted {
		t.Fatalf("upload once space is back: %d %v", code, pd)
	}
}

// TestDatabaseFull: a database write refused for lack of space (SQLite's
// SQLITE_FULL, here from a page limit) answers 507, not 500.
func TestDatabaseFull(t *testing.T) {
	s, _ := testServer(t, func(c *Config) {
		// One connection, so that the page limit set on it applies to every statement.
		c.DBPool = storage.Pool{MaxOpen: 1, MaxIdle: 1, MaxIdleTime: time.Hour}
	})
	var pages int
	if err := s.db.Gorm().Raw("PRAGMA page_count").Scan(&pages).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Gorm().Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Error; err != nil {
		t.Fatal(err)
	}
	big := `{"userDefinedData":{"pad":"` + strings.Repeat("x", 32<<10) + `"}}` // new pages, under --max-user-data-size
	code, pd := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", big)
	if code != http.StatusInsufficientStorage {
		t.Fatalf("create with a full database: %d %v, want 507", code, pd)
	}
}

// TestFetchDiskFull: an upload_from_uri whose package finds the disk full
// fails with 507 in its onboardingFailureDetails, as a PUT answers, not a
// generic 500, and readiness reports it.
func TestFetchDiskFull(t *testing.T) {
	s, dir := testServer(t, nil)
	full := &fullStore{Store: s.blobs, dir: dir, after: 4096}
	full.full.Store(true)
	s.blobs = full
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("p"), 100000))
	}))
	t.Cleanup(origin.Close)
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	if code, pd := call(t, s, "POST", BasePath+"/vnf_packages/"+id+"/package_content/upload_from_uri", "application/json",
		`{"addressInformation":"`+origin.URL+`/p.zip"}`); code != http.StatusAccepted {
		t.Fatalf("upload_from_uri: %d %v", code, pd)
	}
	ctx := context.Background()
	job, err := s.db.ClaimJobOf(ctx, "test-fetcher", time.Minute, storage.JobKinds{Only: []string{JobFetch}})
	if err != nil {
		t.Fatal(err)
	}
	s.runJob(ctx, "test-fetcher", job)
	_, info = call(t, s, "GET", BasePath+"/vnf_packages/"+id, "", "")
	details, _ := info["onboardingFailureDetails"].(map[string]any)
	if info["onboardingState"] != "CREATED" || details == nil || details["status"] != float64(http.StatusInsufficientStorage) {
		t.Fatalf("after a fetch to a full disk: %v %v, want CREATED with a 507", info["onboardingState"], details)
	}
	if code, _ := call(t, s, "GET", "/healthz", "", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz after a fetch to a full disk: %d, want 503", code)
	}
}
