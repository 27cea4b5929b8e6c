package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func imageBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestLayerIsContainerDisk reads the layer with archive/tar: disk/ and
// disk/<file> owned 107:107, the image's bytes, the size and digest said.
func TestLayerIsContainerDisk(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 5000} {
		img := imageBytes(n)
		l, err := newLayer("Files/images/disk.qcow2", int64(n))
		if err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(l.reader(bytes.NewReader(img)))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(all)) != l.size() || len(all)%512 != 0 {
			t.Fatalf("size %d: layer is %d bytes, size() says %d", n, len(all), l.size())
		}
		sum := sha256.Sum256(all)
		d, err := l.digest(context.Background(), bytes.NewReader(img))
		if err != nil || d != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Fatalf("size %d: digest %s, %v", n, d, err)
		}
		tr := tar.NewReader(bytes.NewReader(all))
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("size %d: %v", n, err)
			}
			names = append(names, h.Name)
			if h.Uid != 107 || h.Gid != 107 {
				t.Fatalf("%s owned %d:%d", h.Name, h.Uid, h.Gid)
			}
			if h.Typeflag == tar.TypeReg {
				got, err := io.ReadAll(tr)
				if err != nil || !bytes.Equal(got, img) {
					t.Fatalf("size %d: disk file differs (%d bytes, %v)", n, len(got), err)
				}
			}
		}
		if len(names) != 2 || names[0] != "disk/" || names[1] != "disk/disk.qcow2" {
			t.Fatalf("entries %v", names)
		}
	}
}

// TestLayerRanges seeks to every region of the layer and compares what
// is read with the whole layer's bytes.
func TestLayerRanges(t *testing.T) {
	img := imageBytes(1300)
	l, _ := newLayer("a.img", int64(len(img)))
	all, _ := io.ReadAll(l.reader(bytes.NewReader(img)))
	r := l.reader(bytes.NewReader(img))
	for start := 0; start < len(all); start += 97 {
		for _, n := range []int{1, 300, 1100, len(all)} {
			want := all[start:min(start+n, len(all))]
			if _, err := r.Seek(int64(start), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("range %d+%d: %v", start, n, err)
			}
		}
	}
	if end, _ := r.Seek(0, io.SeekEnd); end != int64(len(all)) {
		t.Fatalf("SeekEnd %d, want %d", end, len(all))
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
}

// TestLayerShortImage: an image shorter than its entry says is an error,
// never a digest.
func TestLayerShortImage(t *testing.T) {
	l, _ := newLayer("a.img", 2000)
	_, err := l.digest(context.Background(), bytes.NewReader(imageBytes(1500)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short image: %v", err)
	}
}

// BenchmarkLayerDigest is the work of the first pull of an image: the
// layer read through once and hashed.
func BenchmarkLayerDigest(b *testing.B) {
	img := imageBytes(64 << 20)
	l, _ := newLayer("a.img", int64(len(img)))
	b.SetBytes(l.size())
	for b.Loop() {
		if _, err := l.digest(context.Background(), bytes.NewReader(img)); err != nil {
			b.Fatal(err)
		}
	}
}
