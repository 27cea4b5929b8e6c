package csar_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha512"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// streamBenchZip is a zip written by Go's writer (data descriptors) with
// the manifest first, listing a stored, incompressible image of size
// bytes with SHA-512: the digester knows what to compute when the image
// streams by.
func streamBenchZip(b *testing.B, size int) []byte {
	b.Helper()
	img := make([]byte, size)
	rand.NewChaCha8([32]byte{9}).Read(img)
	sum := sha512.Sum512(img)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mf, _ := zw.Create("manifest.mf")
	mf.Write([]byte("Source: Files/big.img\nAlgorithm: SHA-512\nHash: "))
	mf.Write([]byte(hexString(sum[:]) + "\n"))
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/big.img", Method: zip.Store})
	if err != nil {
		b.Fatal(err)
	}
	w.Write(img)
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamDigester feeds a 256 MiB archive to a StreamDigester in
// 1 MiB writes, as storeContent does, and compares with hashing the image
// with SHA-512 alone (what the digester must at least do). Metrics:
// stream-MB/s, sha512-MB/s, and the CPU time of each per GB (the
// digester's includes following the zip and its CRC-32).
func BenchmarkStreamDigester(b *testing.B) {
	data := streamBenchZip(b, 256<<20)
	b.SetBytes(int64(len(data)))
	var wall, cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0, t0 := cpuTime(), time.Now()
		pre := streamThrough(data, 1<<20, csar.StreamOptions{Speculative: csar.DefaultSpeculative})
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		if len(pre.Entries) != 2 || pre.Entries[1].Digests["SHA-512"] == "" {
			b.Fatalf("digests %+v", pre)
		}
	}
	b.StopTimer()
	c0, t0 := cpuTime(), time.Now()
	h := sha512.New()
	for i := 0; i < b.N; i++ {
		h.Write(data)
	}
	refWall, refCPU := time.Since(t0), cpuTime()-c0
	gb := float64(len(data)) * float64(b.N) / 1e9
	b.ReportMetric(gb*1e3/wall.Seconds(), "stream-MB/s")
	b.ReportMetric(gb*1e3/refWall.Seconds(), "sha512-MB/s")
	b.ReportMetric(cpu.Seconds()/gb, "stream-cpu-s/GB")
	b.ReportMetric(refCPU.Seconds()/gb, "sha512-cpu-s/GB")
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestStreamDigesterPeakMemory streams a 256 MiB archive, generated on
// the fly, through a StreamDigester in a child process and checks the
// child's peak RSS: the digester holds a few 1 MiB buffers, never the
// archive. The manifest comes first and asks for two algorithms, so the
// member goes through digest.Sum's parallel ring, its largest footprint.
func TestStreamDigesterPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// RunChild, not a bare exec: it first brings this process's
	// high-water mark down, which the child would otherwise inherit from
	// whatever other tests of the package built in memory.
	peakBytes, _ := testenv.RunChild(t, "TestChildStreamDigester", "VNFPKGM_CHILD_STREAM=256")
	peak := peakBytes >> 20
	t.Logf("peak RSS of the child streaming 256 MiB: %d MiB", peak)
	if peak >= 64 {
		t.Fatalf("peak RSS %d MiB, want < 64", peak)
	}
}

// TestChildStreamDigester is the child of TestStreamDigesterPeakMemory;
// it does nothing unless VNFPKGM_CHILD_STREAM gives a size in MiB.
func TestChildStreamDigester(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("VNFPKGM_CHILD_STREAM"))
	if mib == 0 {
		t.Skip("runs only as the child of TestStreamDigesterPeakMemory")
	}
	d := csar.NewStreamDigester(csar.StreamOptions{Speculative: csar.DefaultSpeculative})
	zw := zip.NewWriter(d)
	mf, _ := zw.Create("manifest.mf")
	io.WriteString(mf, "Source: Files/big.img\nAlgorithm: md5\nHash: 00\n\nSource: Files/big.img\nAlgorithm: SHA-256\nHash: 00\n")
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/big.img", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyBuffer(w, io.LimitReader(zeros{}, int64(mib)<<20), make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	pre := d.Close()
	if len(pre.Entries) != 2 || len(pre.Entries[1].Digests) != 2 || pre.Entries[1].Size != int64(mib)<<20 {
		t.Fatalf("digests %+v", pre)
	}
}
