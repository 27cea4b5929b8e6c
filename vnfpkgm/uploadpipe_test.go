package vnfpkgm

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// unevenReader returns reads of varying sizes, a few bytes to over a
// chunk, as a socket does.
type unevenReader struct {
	data []byte
	step uint
}

func (r *unevenReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.step = r.step*7 + 3
	n := min(len(p), len(r.data), 1+int(r.step%(3*uploadChunkSize/2)))
	copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// pipeTestZip is a zip with a manifest naming SHA-512 for an image larger
// than the whole ring, stored with a data descriptor.
func pipeTestZip(t *testing.T, seed byte) ([]byte, []byte) {
	t.Helper()
	img := make([]byte, uploadRingChunks*uploadChunkSize*2+12345)
	rand.NewChaCha8([32]byte{seed}).Read(img)
	sum := sha512.Sum512(img)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mf, _ := zw.Create("manifest.mf")
	io.WriteString(mf, "Source: Files/big.img\nAlgorithm: SHA-512\nHash: "+hex.EncodeToString(sum[:])+"\n")
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/big.img", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(img)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum[:]
}

// TestStreamUploadSharesChunksFaithfully: the blob, the SHA-256 and the
// digests that streamUpload produces from shared chunks are those of the
// package, the same as the digester fed copies through Write.
func TestStreamUploadSharesChunksFaithfully(t *testing.T) {
	// Three at once, of different bytes, then three more reusing the
	// pooled rings of the first.
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if i < 3 {
				t.Parallel()
			}
			checkStreamUpload(t, byte(i))
		})
	}
}

func checkStreamUpload(t *testing.T, seed byte) {
	data, imageSum := pipeTestZip(t, seed)
	var blob bytes.Buffer
	dg := newUploadDigester(csar.Limits{})
	n, sum, err := streamUpload(&blob, &unevenReader{data: data}, sha256.New(), dg)
	got := dg.Close()
	if err != nil || n != int64(len(data)) {
		t.Fatalf("streamUpload: %d bytes of %d, %v", n, len(data), err)
	}
	if !bytes.Equal(blob.Bytes(), data) {
		t.Fatal("the blob differs from the body")
	}
	if want := sha256.Sum256(data); !bytes.Equal(sum, want[:]) {
		t.Fatalf("SHA-256 %x, want %x", sum, want)
	}
	ref := newUploadDigester(csar.Limits{})
	ref.Write(data)
	want := ref.Close()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("digests from shared chunks:\n%+v\nfrom copies:\n%+v", got, want)
	}
	if len(got.Entries) != 2 || got.Entries[1].Digests["SHA-512"] != hex.EncodeToString(imageSum) {
		t.Fatalf("image digests %+v", got.Entries)
	}
}

// failingWriter fails once it has taken limit bytes.
type failingWriter struct{ n, limit int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errors.New("disk on fire")
	}
	w.n += len(p)
	return len(p), nil
}

type failingReader struct {
	r     io.Reader
	left  int
	cause error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, f.cause
	}
	n, err := f.r.Read(p[:min(len(p), f.left)])
	f.left -= n
	return n, err
}

// TestStreamUploadErrors: a failing blob writer or body ends the upload
// with that error, and the hash and the digester still finish (no chunk
// is left unreleased: Close would wait for it forever).
func TestStreamUploadErrors(t *testing.T) {
	data, _ := pipeTestZip(t, 9)
	dg := newUploadDigester(csar.Limits{})
	_, _, err := streamUpload(&failingWriter{limit: 3 * uploadChunkSize}, bytes.NewReader(data), sha256.New(), dg)
	dg.Close()
	if err == nil || err.Error() != "disk on fire" {
		t.Fatalf("blob failure: %v", err)
	}
	cause := errors.New("connection reset")
	dg = newUploadDigester(csar.Limits{})
	n, _, err := streamUpload(io.Discard, &failingReader{r: bytes.NewReader(data), left: 5*uploadChunkSize + 17, cause: cause}, sha256.New(), dg)
	dg.Close()
	if !errors.Is(err, cause) || n != 5*uploadChunkSize+17 {
		t.Fatalf("body failure: %d bytes, %v", n, err)
	}
}

// TestStreamUploadRingOutlivesNoDigester: an upload starting right after
// another, before the first digester is closed, must not be handed the
// ring that digester may still be reading.
func TestStreamUploadRingOutlivesNoDigester(t *testing.T) {
	first, firstSum := pipeTestZip(t, 21)
	second, _ := pipeTestZip(t, 22)
	for range 3 {
		dg1 := newUploadDigester(csar.Limits{})
		if _, _, err := streamUpload(io.Discard, bytes.NewReader(first), sha256.New(), dg1); err != nil {
			t.Fatal(err)
		}
		dg2 := newUploadDigester(csar.Limits{})
		if _, _, err := streamUpload(io.Discard, bytes.NewReader(second), sha256.New(), dg2); err != nil {
			t.Fatal(err)
		}
		dg2.Close()
		got := dg1.Close()
		if len(got.Entries) != 2 || got.Entries[1].Digests["SHA-512"] != hex.EncodeToString(firstSum) {
			t.Fatalf("the first upload's digests %+v", got)
		}
	}
}
