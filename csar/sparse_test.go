package csar_test

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// paxSparseTar is a plain tar whose member "image.bin" is a PAX sparse
// file (GNU sparse format 1.0): 5 bytes of data stand for 2000 logical
// bytes. archive/tar's writer refuses the reserved GNU.sparse keys, so
// they are written under a key of the same length and renamed in the
// bytes (a PAX record's data carries no checksum).
func paxSparseTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sparseMap := "1\n0\n5\n" // one region: offset 0, length 5
	data := sparseMap + strings.Repeat("\x00", 512-len(sparseMap)) + "hello"
	hdr := &tar.Header{
		Name: "image.bin", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatPAX,
		PAXRecords: map[string]string{
			"GNU.xparse.major": "1", "GNU.xparse.minor": "0",
			"GNU.xparse.name": "image.bin", "GNU.xparse.realsize": "2000",
		},
	}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := bytes.ReplaceAll(buf.Bytes(), []byte("GNU.xparse."), []byte("GNU.sparse."))
	// The fixture is what it claims: the standard reader expands it.
	tr := tar.NewReader(bytes.NewReader(b))
	if h, err := tr.Next(); err != nil || h.Size != 2000 {
		t.Fatalf("fixture: %+v, %v: want a 2000-byte sparse member", h, err)
	}
	return b
}

// TestPAXSparseMemberRefused: a PAX sparse member looks like a regular
// file, but the bytes at its offset are not its content (a sparse map,
// then physical data shorter than its size, then the next headers). Served
// by range, they would differ from what a streamed digest hashed, so the
// package is refused as for the old GNU sparse type.
func TestPAXSparseMemberRefused(t *testing.T) {
	codes := refusedCodes(t, paxSparseTar(t), csar.Limits{})
	if !slices.Contains(codes, csar.CodeArchiveUnsupportedEntry) {
		t.Fatalf("PAX sparse member: codes %v, want %s", codes, csar.CodeArchiveUnsupportedEntry)
	}
}
