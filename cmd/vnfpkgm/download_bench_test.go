package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The benchmarks of verified downloads run against an httptest server that
// serves one big file with http.ServeContent (Range, If-Range with a strong
// ETag) as the package content of package "p1", with its SHA-256 as the
// package checksum. They compare the CLI with a plain single-stream GET
// written to a file, measured in the same run.

// rangeFile writes size pseudo-random (incompressible) bytes under dir
// and returns the file's path and SHA-256.
func rangeFile(tb testing.TB, dir string, size int64) (path, sum string) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "content.bin"))
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{7}), size); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil))
}

// rangeServer serves path as the content of the onboarded package p1.
func rangeServer(tb testing.TB, path, sum string) string {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /vnfpkgm/v1/vnf_packages/p1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "p1", "onboardingState": "ONBOARDED",
			"checksum": map[string]string{"algorithm": "SHA-256", "hash": sum},
		})
	})
	mux.HandleFunc("GET /vnfpkgm/v1/vnf_packages/p1/package_content", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("ETag", `"`+sum[:32]+`"`)
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// plainGet is the reference: one GET, the body copied to a new file.
func plainGet(tb testing.TB, url, dest string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(dest)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkDownloadVerified downloads a 1 GiB package with 1 and 4
// connections, verified against its SHA-256, and reports the ratio of its
// time to a plain GET of the same file to disk (ratio-to-plain-GET, lower
// is better; 1.0 is the plain GET's speed) with both speeds. Files go
// under $VNFPKGM_BENCHDIR when set.
func BenchmarkDownloadVerified(b *testing.B) {
	dir := benchDir(b)
	const size = 1 << 30
	path, sum := rangeFile(b, dir, size)
	base := rangeServer(b, path, sum)
	for _, conns := range []int{1, 4} {
		b.Run(fmt.Sprintf("connections=%d", conns), func(b *testing.B) {
			b.SetBytes(size)
			var plain, cli time.Duration
			for b.Loop() {
				ref := filepath.Join(dir, "plain.bin")
				t0 := time.Now()
				plainGet(b, base+"/vnfpkgm/v1/vnf_packages/p1/package_content", ref)
				plain += time.Since(t0)
				os.Remove(ref)

				dest := filepath.Join(dir, "cli.bin")
				t0 = time.Now()
				code, stdout, stderr := runCLI("--endpoint", base, "package", "download", "p1", "--file", dest, "--connections", fmt.Sprint(conns))
				cli += time.Since(t0)
				if code != exitOK {
					b.Fatalf("exit %d: %s%s", code, stdout, stderr)
				}
				os.Remove(dest)
			}
			mb := float64(size) * float64(b.N) / 1e6
			b.ReportMetric(mb/plain.Seconds(), "plain-GET-MB/s")
			b.ReportMetric(mb/cli.Seconds(), "cli-MB/s")
			b.ReportMetric(cli.Seconds()/plain.Seconds(), "ratio-to-plain-GET")
		})
	}
}

// benchDir is a directory for big files: a new one under
// $VNFPKGM_BENCHDIR when set, else the benchmark's temp dir.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("VNFPKGM_BENCHDIR")
	if root == "" {
		return b.TempDir()
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "vnfpkgm-cli-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
