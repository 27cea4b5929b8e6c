package vnfpkgm

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
