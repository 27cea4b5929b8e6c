package plankton_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton/planktontest"
)

// imageStream is n pseudo-random bytes, the same for the same seed,
// generated as they are read: an image of any size without holding it.
func imageStream(n int64, seed uint64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), n)
}

// streamSHA256 is the SHA-256 of imageStream(n, seed).
func streamSHA256(t testing.TB, n int64, seed uint64) string {
	h := sha256.New()
	if _, err := io.Copy(h, imageStream(n, seed)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// addStreamedImage uploads and registers an n-byte image through d.
func addStreamedImage(t testing.TB, d vim.Driver, n int64, seed uint64, hash string) *vim.Image {
	im, err := d.AddImage(context.Background(), vim.ImageSpec{
		Name: "big", ContainerFormat: "bare", DiskFormat: "raw", Size: n,
		Checksum: vim.Checksum{Algorithm: "sha-256", Hash: hash},
		Content:  imageStream(n, seed),
		Labels:   map[string]string{"vnfPkgId": "p" + strconv.FormatUint(seed, 10), "softwareImageId": "VDU1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if im.Size != n {
		t.Fatalf("registered %d bytes, want %d", im.Size, n)
	}
	return im
}

// TestChildUpload runs in the child process of TestUploadMemoryBounded.
func TestChildUpload(t *testing.T) {
	size, err := strconv.ParseInt(os.Getenv("VNFPKGM_CHILD_PLANKTON"), 10, 64)
	if err != nil {
		t.Skip("runs as the child of TestUploadMemoryBounded")
	}
	pk := planktontest.Start(t, token)
	d := open(t, config(pk, nil))
	addStreamedImage(t, d, size, 7, os.Getenv("VNFPKGM_CHILD_PLANKTON_SHA256"))
}

// TestUploadMemoryBounded: a 256 MiB image goes to Pithos+ and Plankton
// (the stand-in in the same process, storing to disk) with a peak resident
// memory far below its size: the driver streams it once.
func TestUploadMemoryBounded(t *testing.T) {
	const size = 256 << 20
	const ceiling = 64 << 20
	hash := streamSHA256(t, size, 7)
	peak, out := testenv.RunChild(t, "TestChildUpload", "VNFPKGM_CHILD_PLANKTON="+strconv.Itoa(size), "VNFPKGM_CHILD_PLANKTON_SHA256="+hash)
	if !bytes.Contains(out, []byte("--- PASS: TestChildUpload")) {
		t.Fatalf("the child did not upload:\n%s", out)
	}
	t.Logf("peak RSS uploading %d MiB: %.1f MiB", size>>20, float64(peak)/(1<<20))
	if peak > ceiling {
		t.Fatalf("peak RSS %d MiB uploading a %d MiB image, ceiling %d MiB\n%s", peak>>20, size>>20, ceiling>>20, out)
	}
}

// BenchmarkAddImage64MiB: upload with MD5 and SHA-256 in one pass, to the
// stand-in Pithos+ on local disk, and registration.
func BenchmarkAddImage64MiB(b *testing.B) {
	const size = 64 << 20
	pk := planktontest.Start(b, token)
	d := open(b, config(pk, nil))
	hash := streamSHA256(b, size, 3)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		im := addStreamedImage(b, d, size, 3, hash)
		b.StopTimer()
		if err := d.DeleteImage(context.Background(), im.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
