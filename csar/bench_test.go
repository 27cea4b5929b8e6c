package csar_test

import (
	"archive/zip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// benchDir is where the benchmarks write their multi-gigabyte packages.
func benchDir(b *testing.B) string {
	if d := os.Getenv("VNFPKGM_BENCHDIR"); d != "" {
		dir, err := os.MkdirTemp(d, "vnfpkgm-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// writeImagePackage writes a CSAR holding one stored image of size bytes
// (pseudo-random, or zeros when fast generation matters more than
// realism), listed in the manifest with SHA-512.
func writeImagePackage(b *testing.B, dir string, size int64, random bool) string {
	b.Helper()
	name := filepath.Join(dir, fmt.Sprintf("image-%d.zip", size))
	out, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	img, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/images/image.qcow2", Method: zip.Store})
	if err != nil {
		b.Fatal(err)
	}
	h := sha512.New()
	var src io.Reader = io.LimitReader(zeroReader{}, size)
	if random {
		src = io.LimitReader(rand.NewChaCha8([32]byte{7}), size)
	}
	if _, err := io.CopyBuffer(io.MultiWriter(img, h), src, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{
		"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: bench\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n",
		"Definitions/vnfd.yaml":     "tosca_definitions_version: tosca_simple_yaml_1_2\n",
		"manifest.mf": "metadata:\nvnf_provider_id: bench\nvnf_product_name: bench\nvnf_release_date_time: 2024-01-01T00:00:00Z\nvnf_package_version: 1.0\n\n" +
			"Source: Files/images/image.qcow2\nAlgorithm: SHA-512\nHash: " + hex.EncodeToString(h.Sum(nil)) + "\n",
	}
	for n, body := range files {
		w, err := zw.Create(n)
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return name
}

// warmPageCache reads a file once so the timed runs read from memory.
func warmPageCache(b *testing.B, name string) {
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func verifyFile(name string) (*csar.Package, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a, err := csar.Open(context.Background(), f, st.Size(), csar.Limits{})
	if err != nil {
		return nil, err
	}
	return csar.Verify(context.Background(), a, csar.Options{}), nil
}

// BenchmarkVerify1GiBImage verifies a package holding a 1 GiB image listed
// with SHA-512 and reports its speed as a ratio to sha512sum over the same
// file, both reading from the page cache.
func BenchmarkVerify1GiBImage(b *testing.B) {
	sha512sum, err := exec.LookPath("sha512sum")
	if err != nil {
		b.Skip("sha512sum is missing: apt-get install coreutils")
	}
	name := writeImagePackage(b, benchDir(b), 1<<30, true)
	st, _ := os.Stat(name)
	warmPageCache(b, name)

	start := time.Now()
	if out, err := exec.Command(sha512sum, name).CombinedOutput(); err != nil {
		b.Fatalf("sha512sum: %v: %s", err, out)
	}
	refSecs := time.Since(start).Seconds()

	b.SetBytes(st.Size())
	b.ResetTimer()
	var secs float64
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		p, err := verifyFile(name)
		if err != nil {
			b.Fatal(err)
		}
		if p.HasErrors() {
			b.Fatalf("the benchmark package must be valid: %v", p.Problems)
		}
		secs += time.Since(t0).Seconds()
	}
	secs /= float64(b.N)
	mb := float64(st.Size()) / 1e6
	b.ReportMetric(mb/refSecs, "sha512sum-MB/s")
	b.ReportMetric(mb/secs, "verify-MB/s")
	b.ReportMetric(refSecs/secs, "ratio-to-sha512sum")
}

// BenchmarkVerify4GiBPeakMemory verifies a 4 GiB package in a child
// process and reports that process's peak resident memory.
func BenchmarkVerify4GiBPeakMemory(b *testing.B) {
	name := writeImagePackage(b, benchDir(b), 4<<30, false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peak, _ := testenv.RunChild(b, "TestChildVerify", "VNFPKGM_CHILD_VERIFY="+name)
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// TestChildVerify is the child of BenchmarkVerify4GiBPeakMemory; it does
// nothing unless VNFPKGM_CHILD_VERIFY names a package.
func TestChildVerify(t *testing.T) {
	name := os.Getenv("VNFPKGM_CHILD_VERIFY")
	if name == "" {
		t.Skip("runs only as the child of BenchmarkVerify4GiBPeakMemory")
	}
	p, err := verifyFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasErrors() {
		t.Fatalf("invalid: %v", p.Problems)
	}
}

// BenchmarkVerifyHelloworld3 measures the structural checks (TOSCA.meta,
// manifest, listing) plus digests of a small real package.
func BenchmarkVerifyHelloworld3(b *testing.B) {
	name := filepath.Join("..", "..", "shared", "corpus", "helloworld3-multi.zip")
	if _, err := os.Stat(name); err != nil {
		b.Skip("../shared/corpus is missing")
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := verifyFile(name); err != nil {
			b.Fatal(err)
		}
	}
}
