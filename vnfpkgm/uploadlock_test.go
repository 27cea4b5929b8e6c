package vnfpkgm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// TestUploadRenewalDoesNotBlockItsTransaction: the upload's final
// transaction holds the database's write lock (here its only connection);
// a lease renewal that starts meanwhile must not be what the transaction
// waits for. Renewals every millisecond make the overlap near certain;
// before the renewals were stopped ahead of the transaction, an upload here
// never finished.
func TestUploadRenewalDoesNotBlockItsTransaction(t *testing.T) {
	s, _ := testServer(t, func(c *Config) {
		c.UploadLease = 3 * time.Millisecond
		c.DBPool = storage.Pool{MaxOpen: 1, MaxIdle: 1, MaxIdleTime: time.Hour}
	})
	for i := 0; i < 20; i++ {
		code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, info)
		}
		id := info["id"].(string)
		done := make(chan int, 1)
		go func() {
			code, _ := call(t, s, "PUT", BasePath+"/vnf_packages/"+id+"/package_content", "application/zip", "not a zip, stored all the same")
			done <- code
		}()
		select {
		case code := <-done:
			if code != http.StatusAccepted {
				t.Fatalf("upload %d: %d", i, code)
			}
		case <-time.After(30 * time.Second): // a hang, not a timing: an upload of 30 bytes
			t.Fatalf("upload %d never finished: its transaction waits for a lease renewal that waits for it", i)
		}
	}
}

// TestTruncatedMultipartUpload: a multipart/form-data upload cut before
// its closing boundary is the client's error (400, the package CREATED
// again), not the server's (it answered 500 and logged an error).
func TestTruncatedMultipartUpload(t *testing.T) {
	s, _ := testServer(t, nil)
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	body := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.zip\"\r\n" +
		"Content-Type: application/zip\r\n\r\nPK and a body that ends without its boundary"
	code, pd := call(t, s, "PUT", BasePath+"/vnf_packages/"+id+"/package_content", "multipart/form-data; boundary=b", body)
	if code != http.StatusBadRequest || !strings.Contains(pd["detail"].(string), "ended before it was complete") {
		t.Fatalf("truncated multipart upload: %d %v, want 400 saying the body ended early", code, pd)
	}
	if _, info := call(t, s, "GET", BasePath+"/vnf_packages/"+id, "", ""); info["onboardingState"] != "CREATED" {
		t.Fatalf("after the failed upload: %v", info["onboardingState"])
	}
}

// TestFetchSecretsForgotten: the credentials of a fetch whose job is gone
// (its package was deleted while it waited) do not stay in memory.
func TestFetchSecretsForgotten(t *testing.T) {
	s, _ := testServer(t, nil)
	code, info := call(t, s, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, info)
	}
	id := info["id"].(string)
	code, pd := call(t, s, "POST", BasePath+"/vnf_packages/"+id+"/package_content/upload_from_uri", "application/json",
		`{"addressInformation":"http://127.0.0.1:9/p.zip","userName":"u","password":"p"}`)
	if code != http.StatusAccepted {
		t.Fatalf("upload_from_uri: %d %v", code, pd)
	}
	held := func() (n int) {
		s.fetchSecrets.Range(func(any, any) bool { n++; return true })
		return n
	}
	s.forgetEndedFetchSecrets(context.Background())
	if held() != 1 {
		t.Fatalf("the credentials of a queued fetch were dropped: %d held", held())
	}
	if _, err := s.db.DeletePackage(context.Background(), id, storage.Any); err != nil {
		t.Fatal(err)
	}
	s.forgetEndedFetchSecrets(context.Background())
	if held() != 0 {
		t.Fatalf("%d credentials held after their package and job went", held())
	}
}
