package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// memoryCeilingMiB bounds the peak RSS of a child process downloading
// 256 MiB with 4 connections whose first piece comes last: the data that
// arrives ahead of the digest stays on disk, not in memory.
const memoryCeilingMiB = 64

func TestDownloadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and downloads 256 MiB")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory would be measured, not the download's")
	}
	t.Parallel()
	dir := t.TempDir()
	const size = 256 << 20
	path, sum := rangeFile(t, dir, size)
	origin, err := url.Parse(rangeServer(t, path, sum))
	if err != nil {
		t.Fatal(err)
	}
	// The first piece is held back until every other piece has been
	// served: all of them arrive before the prefix can grow.
	pieces := int64(pieceCount([][2]int64{{0, size}}, 4))
	var others atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(origin)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rng := r.Header.Get("Range")
		if strings.HasPrefix(rng, "bytes=0-") {
			deadline := time.Now().Add(time.Minute)
			for others.Load() < pieces-1 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		proxy.ServeHTTP(w, r)
		if rng != "" && !strings.HasPrefix(rng, "bytes=0-") {
			others.Add(1)
		}
	}))
	defer srv.Close()

	dest := filepath.Join(dir, "out.bin")
	// RunChild brings this process's high-water mark down first: the
	// child would otherwise report it as its own.
	peakBytes, _ := testenv.RunChild(t, "TestChildDownload", "VNFPKGM_CHILD_DOWNLOAD="+srv.URL+" "+dest)
	if others.Load() != pieces-1 {
		t.Fatalf("%d pieces served before the first, want %d", others.Load(), pieces-1)
	}
	if got := sha256Stream(t, dest); got != sum {
		t.Fatalf("downloaded %s, want %s", got, sum)
	}
	peak := peakBytes >> 20
	t.Logf("peak RSS of the download: %d MiB (%d MiB downloaded)", peak, size>>20)
	if peak > memoryCeilingMiB {
		t.Fatalf("peak RSS %d MiB, more than %d MiB", peak, memoryCeilingMiB)
	}
}

// TestChildDownload is the child of TestDownloadMemoryBounded; it does
// nothing unless VNFPKGM_CHILD_DOWNLOAD is "ENDPOINT DEST".
func TestChildDownload(t *testing.T) {
	arg := os.Getenv("VNFPKGM_CHILD_DOWNLOAD")
	if arg == "" {
		t.Skip("runs only as the child of TestDownloadMemoryBounded")
	}
	endpoint, dest, _ := strings.Cut(arg, " ")
	if code, stdout, stderr := runCLI("--endpoint", endpoint, "package", "download", "p1", "--file", dest, "--connections", "4"); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
}

// sha256Stream is the SHA-256 of a file, read as a stream.
func sha256Stream(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
