package vnfpkgm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

// BenchmarkUploadBody measures reading an upload body over a real TCP
// connection plainly and through the idle-deadline wrapper (one
// SetReadDeadline per read), the cost of --upload-idle-timeout.
func BenchmarkUploadBody(b *testing.B) {
	const size = 64 << 20
	payload := bytes.Repeat([]byte{0x5a}, 1<<20)
	for _, bc := range []struct {
		name string
		wrap func(w http.ResponseWriter, r *http.Request) io.Reader
	}{
		{"plain", func(_ http.ResponseWriter, r *http.Request) io.Reader { return r.Body }},
		{"idle-deadline", func(w http.ResponseWriter, r *http.Request) io.Reader {
			return &idleDeadlineBody{body: r.Body, rc: http.NewResponseController(w), idle: time.Minute}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{bc.wrap(w, r)}, make([]byte, 1<<20))
				if err != nil || n != size {
					http.Error(w, "short body", http.StatusBadRequest)
				}
			}))
			defer srv.Close()
			b.SetBytes(size)
			for b.Loop() {
				pr, pw := io.Pipe()
				go func() {
					for n := 0; n < size; n += len(payload) {
						pw.Write(payload)
					}
					pw.Close()
				}()
				req, _ := http.NewRequest(http.MethodPut, srv.URL, pr)
				req.ContentLength = size
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestAbandonedUploadLeavesNoContent: an uploader killed after committing
// the package's blob and before recording it in the row (storeContent's
// two steps) leaves a blob no row names. Reconcile spares such blobs for
// 15 minutes (another replica may be about to record one) and the
// periodic sweep never looks at them, so it is the abandoned upload's job,
// once the lease has expired, that removes it.
func TestAbandonedUploadLeavesNoContent(t *testing.T) {
	s, _ := testServer(t, nil)
	ctx := context.Background()
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	hold, err := s.beginUpload(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	hold.stopRenewing() // the uploader dies ...
	w, err := s.blobs.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "a whole package")
	key := storage.NewContentKey(id)
	if err := w.Commit(ctx, key); err != nil { // ... right after this
		t.Fatal(err)
	}
	// A worker claims the job once the lease has expired.
	if err := s.uploadAbandoned(ctx, hold.job); err == nil {
		t.Fatal("the abandoned upload's job should fail")
	}
	if _, info := call(t, s, "GET", BasePath+"/vnf_packages/"+id, "", ""); info["onboardingState"] != "CREATED" {
		t.Fatalf("after the abandoned upload: %v", info["onboardingState"])
	}
	if _, err := s.blobs.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the content the dead uploader committed is still stored: %v", err)
	}
}

// failingListStore fails List while fail is set, as a blob store that is
// briefly unreachable would.
type failingListStore struct {
	blob.Store
	fail bool
}

func (f *failingListStore) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if f.fail {
		return errors.New("blob store unreachable")
	}
	return f.Store.List(ctx, prefix, fn)
}

// TestAbandonedUploadRetriedAfterAFailure: when putting an abandoned
// upload's package back meets a passing failure, the job is queued again,
// not failed: a failed job would leave the package UPLOADING with nothing
// to put it back until a restart.
func TestAbandonedUploadRetriedAfterAFailure(t *testing.T) {
	s, _ := testServer(t, nil)
	ctx := context.Background()
	store := &failingListStore{Store: s.blobs, fail: true}
	s.blobs = store
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	hold, err := s.beginUpload(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	hold.stopRenewing() // the uploader dies; a worker claims its job
	s.runJob(ctx, hold.owner, hold.job)
	job, err := s.db.GetJob(ctx, hold.job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != storage.JobQueued {
		t.Fatalf("after a passing failure the job is %s, want queued again", job.State)
	}
	store.fail = false
	if err := s.uploadAbandoned(ctx, job); err == nil {
		t.Fatal("the abandoned upload's job should fail once it has put the package back")
	}
	if _, info := call(t, s, "GET", BasePath+"/vnf_packages/"+id, "", ""); info["onboardingState"] != "CREATED" {
		t.Fatalf("after the retry: %v", info["onboardingState"])
	}
}
