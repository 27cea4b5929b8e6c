package main_test

import (
	"archive/zip"
	"bufio"
	"crypto/sha512"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDeflatedPackage writes a valid CSAR whose one image, size bytes
// that compress about 2:1 (as a disk image does), is a deflated zip
// member listed in the manifest with SHA-512.
func writeDeflatedPackage(tb testing.TB, name string, size int64) {
	tb.Helper()
	out, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	zw := zip.NewWriter(bw)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/images/big.img", Method: zip.Deflate})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 1<<20)
	h := sha512.New()
	for n := int64(0); n < size; {
		chunk := buf[:min(int64(len(buf)), size-n)]
		for i := range chunk {
			chunk[i] = byte(rng.IntN(16))
		}
		w.Write(chunk)
		h.Write(chunk)
		n += int64(len(chunk))
	}
	meta, _ := zw.Create("TOSCA-Metadata/TOSCA.meta")
	io.WriteString(meta, "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: bench\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n")
	mf, _ := zw.Create("manifest.mf")
	fmt.Fprintf(mf, "Source: Files/images/big.img\nAlgorithm: SHA-512\nHash: %x\n", h.Sum(nil))
	vnfd, _ := zw.Create("Definitions/vnfd.yaml")
	io.WriteString(vnfd, bigVNFD)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkDescendingRangesDeflatedArtifact256MiB is issue 15's case
// through the real server: one GET of 200 descending one-byte ranges of a
// 256 MiB deflated artifact (it cost 14 CPU-seconds when each range
// decompressed the member from its start). Metric: server-cpu-s, the
// server's CPU time per request.
func BenchmarkDescendingRangesDeflatedArtifact256MiB(b *testing.B) {
	const size = 256 << 20
	dir := benchDir(b)
	pkg := filepath.Join(dir, "deflated.zip")
	writeDeflatedPackage(b, pkg, size)
	s := startBenchServer(b, filepath.Join(dir, "data"))
	id := s.create()
	s.put(id, pkg)
	s.awaitOnboarded(id)
	var specs []string
	for i := int64(199); i >= 0; i-- {
		specs = append(specs, fmt.Sprintf("%d-%d", i*(size/200), i*(size/200)))
	}
	rng := "bytes=" + strings.Join(specs, ",")
	path := pkgs + "/" + id + "/artifacts/Files/images/big.img"
	pid := s.cmd.Process.Pid
	before := procCPU(pid)
	b.ResetTimer()
	for b.Loop() {
		s.expect(s.call("GET", path, nil, "Range", rng), 206, "200 descending ranges")
	}
	b.StopTimer()
	b.ReportMetric((procCPU(pid)-before).Seconds()/float64(b.N), "server-cpu-s")
}
