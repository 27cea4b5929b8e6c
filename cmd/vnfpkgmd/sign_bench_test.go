package main_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
)

// BenchmarkOnboardSigned1GiB uploads and onboards the 1 GiB package of
// BenchmarkUploadOnboard1GiB (metadata first, image listed with SHA-512)
// three ways, in turn in each op: unsigned; security option 1 (manifest
// signed, the image signed with SHA-512 by its entry's Signature: its
// signature check takes the digest of the digest pass); security option
// 2 (the package, stored in a signed zip). Signatures are made by openssl.
// Metrics: the upload+onboard seconds of each and the ratios to the
// unsigned one (aim: option 1 <= 1.1), the same ratios of the server's
// CPU time, and the server's peak RSS.
func BenchmarkOnboardSigned1GiB(b *testing.B) {
	const size = 1 << 30
	dir := benchDir(b)
	pki := signtest.New(b)
	plain := filepath.Join(dir, "plain.zip")
	writeRandomPackageLaid(b, plain, size, 3, "0c4b2b4e-5160-4000-8000-000000000001", true)
	option1 := filepath.Join(dir, "option1.zip")
	writeOption1(b, pki, plain, option1, dir)
	option2 := filepath.Join(dir, "option2.zip")
	writeOption2(b, pki, plain, option2)
	s := startBenchServer(b, filepath.Join(dir, "data"), "--trust-store", pki.Root)

	files := []string{plain, option1, option2}
	times := make([]time.Duration, len(files))
	cpu := make([]time.Duration, len(files))
	pid := s.cmd.Process.Pid
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, f := range files {
			b.StopTimer()
			// The blob the previous upload left dirty is written back now,
			// not during the next variant's upload.
			syscall.Sync()
			warmCache(b, f)
			id := s.create()
			b.StartTimer()
			start, cpu0 := time.Now(), procCPU(pid)
			s.put(id, f)
			s.awaitOnboarded(id)
			times[k] += time.Since(start)
			cpu[k] += procCPU(pid) - cpu0
			b.StopTimer()
			s.remove(id)
			b.StartTimer()
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(times[0].Seconds()/n, "unsigned-s")
	b.ReportMetric(times[1].Seconds()/n, "option1-s")
	b.ReportMetric(times[2].Seconds()/n, "option2-s")
	b.ReportMetric(times[1].Seconds()/times[0].Seconds(), "option1-ratio")
	b.ReportMetric(times[2].Seconds()/times[0].Seconds(), "option2-ratio")
	// The server's CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(cpu[1].Seconds()/cpu[0].Seconds(), "option1-cpu-ratio")
	b.ReportMetric(cpu[2].Seconds()/cpu[0].Seconds(), "option2-cpu-ratio")
	b.ReportMetric(procStatusMiB(b, s.cmd.Process.Pid, "VmHWM"), "server-peak-RSS-MiB")
}

// writeOption1 copies the package (members as stored, in order) with its
// manifest naming a SHA-512 signature of the image and signed, and the
// image's signature before the image.
func writeOption1(b *testing.B, pki *signtest.PKI, in, out, dir string) {
	b.Helper()
	zr, err := zip.OpenReader(in)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	image := filepath.Join(dir, "big.img")
	for _, f := range zr.File {
		if f.Name == "Files/images/big.img" {
			copyMember(b, f, image)
		}
	}
	imageCMS := pki.SignFile(image, signtest.RSA, signtest.Options{MD: "sha512"})
	os.Remove(image)
	dst, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	zw := zip.NewWriter(dst)
	for _, f := range zr.File {
		switch f.Name {
		case "manifest.mf":
			var mf bytes.Buffer
			copyTo(b, f, &mf)
			text := bytes.Replace(mf.Bytes(), []byte("Source: Files/images/big.img\n"), []byte("Source: Files/images/big.img\nSignature: Files/images/big.img.cms\n"), 1)
			write(b, zw, "manifest.mf", append(text, pki.Sign(text, signtest.RSA, signtest.Options{})...))
		case "Files/images/big.img":
			write(b, zw, "Files/images/big.img.cms", imageCMS)
			if err := zw.Copy(f); err != nil {
				b.Fatal(err)
			}
		default:
			if err := zw.Copy(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// writeOption2 wraps the package, stored, in a signed zip.
func writeOption2(b *testing.B, pki *signtest.PKI, in, out string) {
	b.Helper()
	cert, _ := os.ReadFile(pki.Cert(signtest.RSA))
	writeSignedZip(b, in, out, pki.SignFile(in, signtest.RSA, signtest.Options{}), cert)
}

func write(b *testing.B, zw *zip.Writer, name string, data []byte) {
	b.Helper()
	w, err := zw.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
}

func copyTo(b *testing.B, f *zip.File, w io.Writer) {
	b.Helper()
	rc, err := f.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		b.Fatal(fmt.Errorf("%s: %w", f.Name, err))
	}
}

func copyMember(b *testing.B, f *zip.File, name string) {
	b.Helper()
	out, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	copyTo(b, f, out)
}
