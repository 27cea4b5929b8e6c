package csar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// The archive format is recognised from its first bytes with the standard
// library alone. A general archive library would register dozens of
// compressors at process start, which every run of the command-line
// client paid for although a package is only ever a zip, a tar or a
// tar.gz (issue 14: `vnfpkgm help` under 2 ms).

// zipSignatures open a zip: a local file header, or the end of central
// directory record of an empty archive.
var zipSignatures = [][]byte{[]byte("PK\x03\x04"), []byte("PK\x05\x06")}

var gzipSignature = []byte{0x1f, 0x8b}

// otherFormats name the archive and compression formats an operator may
// upload by mistake, so that the refusal says what the file is.
var otherFormats = []struct {
	name  string
	magic []byte
}{
	{"7z", []byte("7z\xbc\xaf\x27\x1c")},
	{"rar", []byte("Rar!\x1a\x07")},
	{"xz", []byte("\xfd7zXZ\x00")},
	{"bz2", []byte("BZh")},
	{"zst", []byte("\x28\xb5\x2f\xfd")},
	{"lz4", []byte("\x04\x22\x4d\x18")},
	{"lz", []byte("LZIP")},
}

// detect identifies the archive format by its bytes, never by a name. A
// CSAR is a zip (SOL 004); tar and tar.gz are accepted for operators who
// build packages with tar. Anything else is named and refused rather than
// guessed at.
func detect(r io.ReaderAt, size int64) (string, error) {
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return "", refuse(CodeArchiveCorrupt, "", "the package cannot be identified: %v", err)
	}
	head = head[:n]
	for _, sig := range zipSignatures {
		if bytes.HasPrefix(head, sig) {
			return FormatZip, nil
		}
	}
	if bytes.HasPrefix(head, gzipSignature) {
		return detectInsideGzip(r, size)
	}
	if startsWithTarHeader(io.NewSectionReader(r, 0, size)) {
		return FormatTar, nil
	}
	for _, f := range otherFormats {
		if bytes.HasPrefix(head, f.magic) {
			return "", refuse(CodeArchiveUnsupported, "", "the package is a %s archive; only zip (SOL 004), tar and tar.gz are accepted", f.name)
		}
	}
	return "", refuse(CodeArchiveUnsupported, "", "the package is not a zip, tar or tar.gz archive")
}

// detectInsideGzip accepts a gzip stream only when it holds a tar.
func detectInsideGzip(r io.ReaderAt, size int64) (string, error) {
	gz, err := gzip.NewReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		return "", refuse(CodeArchiveCorrupt, "", "the package cannot be identified: gzip: %v", err)
	}
	defer gz.Close()
	if startsWithTarHeader(gz) {
		return FormatTarGz, nil
	}
	return "", refuse(CodeArchiveUnsupported, "", "the package is a gz archive; only zip (SOL 004), tar and tar.gz are accepted")
}

// startsWithTarHeader reports whether r begins with a tar header that
// archive/tar reads without error (its checksum holds).
func startsWithTarHeader(r io.Reader) bool {
	_, err := tar.NewReader(r).Next()
	return err == nil
}

// eachTarHeader calls fn with every header of the tar stream r, in
// archive order, until the end of the archive or until fn returns
// fs.SkipAll. A PAX global header (git archive writes one) describes the
// archive, not a member, and is skipped. Before fn returns, r is
// positioned at the member's bytes.
func eachTarHeader(ctx context.Context, r io.Reader, fn func(hdr *tar.Header) error) error {
	_, err := eachTarMember(ctx, r, func(hdr *tar.Header, _ io.Reader) error { return fn(hdr) })
	return err
}

// eachTarMember is eachTarHeader that also hands fn the member's content.
// It reports whether fn stopped the walk with fs.SkipAll (only the
// member fn was looking for does).
func eachTarMember(ctx context.Context, r io.Reader, fn func(hdr *tar.Header, body io.Reader) error) (stopped bool, err error) {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := fn(hdr, tr); errors.Is(err, fs.SkipAll) {
			return true, nil
		} else if err != nil {
			return false, fmt.Errorf("handling file: %s: %w", hdr.Name, err)
		}
	}
}
