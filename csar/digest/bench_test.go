package digest_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

const benchSize = 64 << 20

// benchData is 64 MiB of pseudo-random bytes, made once.
var benchData = sync.OnceValue(func() []byte {
	b := make([]byte, benchSize)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
})

func benchSum(b *testing.B, wants []digest.Want) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, n, err := digest.Sum(context.Background(), bytes.NewReader(data), wants)
		if err != nil || n != int64(len(data)) {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkSum hashes 64 MiB in memory with one algorithm.
func BenchmarkSum(b *testing.B) {
	for _, alg := range []string{"SHA-256", "SHA-512", "sha3_512", "blake2b", "md5"} {
		b.Run(alg, func(b *testing.B) { benchSum(b, []digest.Want{{Algorithm: alg}}) })
	}
}

// BenchmarkSumMulti hashes 64 MiB with SHA-256, SHA-512 and sha3_512
// together: "Sum" is the parallel engine, "Multi" the same three hashes one
// after the other in one goroutine, for comparison.
func BenchmarkSumMulti(b *testing.B) {
	wants := []digest.Want{{Algorithm: "SHA-256"}, {Algorithm: "SHA-512"}, {Algorithm: "sha3_512"}}
	b.Run("Sum", func(b *testing.B) { benchSum(b, wants) })
	b.Run("Multi", func(b *testing.B) {
		data := benchData()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			m, err := digest.NewMulti(wants)
			if err != nil {
				b.Fatal(err)
			}
			m.Write(data)
			m.Results()
		}
	})
}

// BenchmarkVersusSha512sum compares digest.Sum(SHA-512) over a 1 GiB file
// with coreutils sha512sum on the same file, both reading from the page
// cache. The file goes to $VNFPKGM_BENCHDIR, else os.TempDir(), and is
// removed afterwards. It reports sha512sum-MB/s, digest-MB/s and ratio
// (digest speed / sha512sum speed).
func BenchmarkVersusSha512sum(b *testing.B) {
	tool, err := exec.LookPath("sha512sum")
	if err != nil {
		b.Skipf("sha512sum not found, nothing to compare with: %v", err)
	}
	dir := os.Getenv("VNFPKGM_BENCHDIR")
	if dir == "" {
		dir = os.TempDir()
	}
	const size = 1 << 30
	path := writeRandomFile(b, dir, size)
	// Warm the page cache so both read from memory.
	warm, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, n, err := digest.Sum(context.Background(), warm, nil); err != nil || n != size {
		b.Fatal(n, err)
	}
	warm.Close()

	var toolTime, ourTime time.Duration
	for b.Loop() {
		start := time.Now()
		out, err := exec.Command(tool, path).Output()
		toolTime += time.Since(start)
		if err != nil {
			b.Fatalf("%s: %v", tool, err)
		}

		start = time.Now()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		res, n, err := digest.Sum(context.Background(), f, []digest.Want{{Algorithm: "SHA-512"}})
		ourTime += time.Since(start)
		f.Close()
		if err != nil || n != size {
			b.Fatal(n, err)
		}
		if got, _, _ := strings.Cut(string(out), " "); !digest.Equal(got, res[0].Hex) {
			b.Fatalf("sha512sum says %s, digest.Sum says %s", got, res[0].Hex)
		}
	}
	mb := float64(size) * float64(b.N) / 1e6
	toolSpeed, ourSpeed := mb/toolTime.Seconds(), mb/ourTime.Seconds()
	b.ReportMetric(toolSpeed, "sha512sum-MB/s")
	b.ReportMetric(ourSpeed, "digest-MB/s")
	b.ReportMetric(ourSpeed/toolSpeed, "ratio")
}

// writeRandomFile writes size pseudo-random bytes to a new file in dir,
// removed when the benchmark ends, and returns its path.
func writeRandomFile(b *testing.B, dir string, size int) string {
	b.Helper()
	f, err := os.CreateTemp(dir, "vnfpkgm-digest-bench-*.bin")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.Remove(f.Name()) })
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{2}), int64(size)); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return f.Name()
}
