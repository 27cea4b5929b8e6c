package csar

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

func zipOfEmpties(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("e/%06d", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZipDirectoryEntries(t *testing.T) {
	small := zipOfEmpties(t, 5)
	big := zipOfEmpties(t, 70_000) // more than 65535: archive/zip writes zip64 end records
	lying := bytes.Clone(small)
	end := bytes.LastIndex(lying, []byte(zipEndSig))
	binary.LittleEndian.PutUint16(lying[end+8:], 1)
	binary.LittleEndian.PutUint16(lying[end+10:], 1)
	prepended := append(bytes.Repeat([]byte{'x'}, 100), small...)
	for _, c := range []struct {
		name   string
		data   []byte
		limit  int
		want   int
		wantOK bool
	}{
		{"small", small, 100, 5, true},
		{"zip64", big, 100_000, 70_000, true},
		{"stops after limit", big, 10, 11, true},
		{"declared count ignored", lying, 100, 5, true},
		{"prepended data", prepended, 100, 0, false},
		{"no end record", small[:len(small)-30], 100, 0, false},
	} {
		n, ok := zipDirectoryEntries(bytes.NewReader(c.data), int64(len(c.data)), c.limit)
		if n != c.want || ok != c.wantOK {
			t.Errorf("%s: %d, %v; want %d, %v", c.name, n, ok, c.want, c.wantOK)
		}
	}
}

// TestTooManyEntriesRefusedCheaply checks that Open refuses an archive of
// 200,000 entries without parsing its directory: what it allocates stays
// far below the ~50 MB archive/zip would.
func TestTooManyEntriesRefusedCheaply(t *testing.T) {
	data := zipOfEmpties(t, 200_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), Limits{})
	runtime.ReadMemStats(&after)
	var re *RefusedError
	if !errors.As(err, &re) || len(re.Problems) != 1 || re.Problems[0].Code != CodeArchiveTooManyEntries {
		t.Fatalf("Open: %v, want one %s problem", err, CodeArchiveTooManyEntries)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("Open allocated %d bytes refusing the archive, want < 1 MiB", alloc)
	}
}
