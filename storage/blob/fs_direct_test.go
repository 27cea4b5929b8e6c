package blob

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
)

// directSupported reports whether dir's filesystem accepts O_DIRECT.
func directSupported(t *testing.T, dir string) bool {
	f, err := os.OpenFile(dir+"/probe", os.O_CREATE|os.O_WRONLY|syscall.O_DIRECT, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(dir + "/probe")
	return true
}

// TestDirectAndBufferedWritesRoundTrip writes objects whose sizes fall
// around the alignment and the buffer size, in uneven writes and through
// ReadFrom, with direct I/O (where the filesystem supports it) and
// without, and reads back exactly what was written.
func TestDirectAndBufferedWritesRoundTrip(t *testing.T) {
	ctx := context.Background()
	sizes := []int{0, 1, directAlign - 1, directAlign, directAlign + 1, directChunk - 1, directChunk, directChunk + 1, 3*directChunk + 17}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, buffered := range []bool{false, true} {
		s := newFS(t)
		s.buffered = buffered
		wantDirect := !buffered && directSupported(t, s.tmp)
		for _, size := range sizes {
			for _, viaReadFrom := range []bool{false, true} {
				data := make([]byte, size)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				w, err := s.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := w.(*fsWriter).direct != nil; got != wantDirect {
					t.Fatalf("buffered=%v: direct writer %v, want %v", buffered, got, wantDirect)
				}
				if viaReadFrom {
					_, err = io.Copy(w, bytes.NewReader(data))
				} else {
					for rest := data; len(rest) > 0 && err == nil; {
						k := min(len(rest), 1+rng.IntN(200000))
						_, err = w.Write(rest[:k])
						rest = rest[k:]
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if w.Size() != int64(size) {
					t.Fatalf("Size %d after %d bytes", w.Size(), size)
				}
				if err := w.Commit(ctx, "k"); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(s.path("k"))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("buffered=%v size %d readFrom=%v: read %d bytes (%v), differing", buffered, size, viaReadFrom, len(got), err)
				}
			}
		}
		// An abort in the middle leaves no temp file.
		w, _ := s.Create(ctx)
		w.Write(make([]byte, directChunk+5))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if left := dirEntries(t, s.tmp); len(left) != 0 {
			t.Fatalf("left after abort: %v", left)
		}
	}
}

// TestDirectInPlaceWrites mixes whole aligned chunks, which are written
// from the caller's memory, with uneven writes, which are gathered into
// the writer's buffers, and reads back exactly what was written. The
// caller's buffer is overwritten after each Write returns, as the upload
// path does: an in-place write that had not finished would show.
func TestDirectInPlaceWrites(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	if !directSupported(t, s.tmp) {
		t.Skip("the temp directory's filesystem refuses O_DIRECT")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	buf := alignedBuffer(2 * directChunk)
	var want []byte
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{2 * directChunk, directChunk, 100, 2 * directChunk, directAlign, directChunk, 2*directChunk - 7} {
		p := buf[:k]
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want = append(want, p...)
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		clear(p)
	}
	if err := w.Commit(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(s.path("k"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (%v), want %d identical", len(got), err, len(want))
	}
}
