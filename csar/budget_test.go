package csar_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"sync/atomic"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// countingReaderAt records the bytes read between sniff and boundary: a
// test can tell that no member data was touched beyond the first bytes
// that format detection sniffs (magic numbers, a tar header).
type countingReaderAt struct {
	r               *bytes.Reader
	sniff, boundary int64
	inside          atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	lo, hi := max(off, c.sniff), min(off+int64(n), c.boundary)
	if hi > lo {
		c.inside.Add(hi - lo)
	}
	return n, err
}

// expansionBomb writes a zip of n members of size bytes of zeros each,
// every member compressed once and copied raw, and returns it with the
// offset where its central directory starts (where member data ends).
func expansionBomb(t testing.TB, n int, size int64) ([]byte, int64) {
	t.Helper()
	var raw bytes.Buffer
	fw, err := flate.NewWriter(&raw, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, size)
	fw.Write(zeros)
	fw.Close()
	crc := crc32.ChecksumIEEE(zeros)
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := range n {
		h := &zip.FileHeader{Name: fmt.Sprintf("Files/z%05d", i), Method: zip.Deflate,
			CRC32: crc, CompressedSize64: uint64(raw.Len()), UncompressedSize64: uint64(size)}
		mw, err := w.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		mw.Write(raw.Bytes())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	dataEnd := int64(buf.Len())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), dataEnd
}

// TestManySmallBombEntriesAreRefusedAtOpen: every member is just under
// RatioFloor, so the per-entry ratio check exempts each one, yet the
// archive as a whole expands ~1000:1. It must be refused from the central
// directory alone, with archive-expansion-budget, before a single member
// byte is read (so nothing is decompressed).
func TestManySmallBombEntriesAreRefusedAtOpen(t *testing.T) {
	const n, size = 2000, 1<<20 - 1
	data, dataEnd := expansionBomb(t, n, size)
	// Detection reads the start of the archive: less than its first two
	// members (each about 1 KiB compressed).
	r := &countingReaderAt{r: bytes.NewReader(data), sniff: 4096, boundary: dataEnd}
	_, err := csar.Open(context.Background(), r, int64(len(data)), csar.Limits{})
	var refused *csar.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("a %d-byte zip declaring %d bytes was opened (err %v), want it refused", len(data), int64(n)*size, err)
	}
	found := false
	for _, p := range refused.Problems {
		if p.Code == csar.CodeArchiveExpansionBudget {
			found = true
		}
	}
	if !found {
		t.Fatalf("problems %v, want %s", refused.Problems, csar.CodeArchiveExpansionBudget)
	}
	if got := r.inside.Load(); got != 0 {
		t.Fatalf("%d bytes of member data past the first 4 KiB were read before refusing; want none", got)
	}
}

// TestExpansionBudgetIsConfigurable: the same archive passes under a
// budget above its ratio, so the check is the limit and not a side effect.
func TestExpansionBudgetIsConfigurable(t *testing.T) {
	data, _ := expansionBomb(t, 50, 1<<20-1)
	lim := csar.DefaultLimits
	lim.MaxArchiveRatio = 5000
	if _, err := csar.Open(context.Background(), bytes.NewReader(data), int64(len(data)), lim); err != nil {
		t.Fatalf("under a 5000:1 budget: %v", err)
	}
	lim.MaxArchiveRatio = 10
	if _, err := csar.Open(context.Background(), bytes.NewReader(data), int64(len(data)), lim); err == nil {
		t.Fatal("under a 10:1 budget the archive was opened")
	}
}
