package openstack

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// fakeGlance covers what a real Glance will not do: store other bytes than
// it was sent (a corrupting store), and stay "saving" for a while.
type fakeGlance struct {
	mu      sync.Mutex
	image   map[string]any
	data    []byte
	gets    int
	corrupt bool
	deleted bool
}

func (f *fakeGlance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const id = "11111111-2222-3333-4444-555555555555"
	switch {
	case r.Method == "POST" && r.URL.Path == "/v2/images":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["id"], body["status"] = id, "queued"
		f.image = body
		writeJSON(w, 201, body)
	case r.Method == "PUT" && r.URL.Path == "/v2/images/"+id+"/file":
		f.data, _ = io.ReadAll(r.Body)
		stored := f.data
		if f.corrupt {
			stored = append(bytes.Clone(f.data[:len(f.data)-1]), f.data[len(f.data)-1]^1)
		}
		sum := sha512.Sum512(stored)
		f.image["status"] = "saving"
		f.image["size"] = len(stored)
		f.image["os_hash_algo"] = "sha512"
		f.image["os_hash_value"] = hex.EncodeToString(sum[:])
		w.WriteHeader(204)
	case r.URL.Path == "/v2/images/"+id && f.image != nil && !f.deleted:
		if r.Method == "DELETE" {
			f.deleted = true
			w.WriteHeader(204)
			return
		}
		f.gets++
		if f.gets >= 3 && f.image["status"] == "saving" {
			f.image["status"] = "active"
		}
		writeJSON(w, 200, f.image)
	default:
		http.NotFound(w, r)
	}
}

func TestFakeGlanceStoredMismatch(t *testing.T) {
	for _, corrupt := range []bool{false, true} {
		f := &fakeGlance{corrupt: corrupt}
		srv := httptest.NewServer(f)
		d, err := vim.Open(context.Background(), "openstack", vim.Config{Options: map[string]string{
			"auth": "none", "image_endpoint": srv.URL + "/v2/", "poll_interval": "5ms",
		}})
		if err != nil {
			t.Fatal(err)
		}
		data := imageBytes(100000, 7)
		im, err := d.AddImage(context.Background(), vim.ImageSpec{
			Name: "x", ContainerFormat: "bare", DiskFormat: "raw", Content: bytes.NewReader(data), Size: int64(len(data)),
		})
		srv.Close()
		if !corrupt {
			if err != nil || im.Status != "active" || f.gets < 3 {
				t.Errorf("AddImage = %+v, %v (GETs %d)", im, err, f.gets)
			}
			continue
		}
		var ce *vim.ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(ce.What, "Glance stored") || ce.Algorithm != "SHA-512" {
			t.Errorf("corrupting store: err = %v, want a ChecksumError about what Glance stored", err)
		}
		if !f.deleted {
			t.Errorf("the corrupt image was not deleted")
		}
		if !bytes.Equal(f.data, data) {
			t.Errorf("Glance received %d bytes, not the %d sent", len(f.data), len(data))
		}
	}
}
