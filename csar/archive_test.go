package csar_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// zipEntry describes one member for makeZip.
type zipEntry struct {
	name    string
	body    string
	method  uint16
	symlink bool
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method}
		if e.symlink {
			h.SetMode(fs.ModeSymlink | 0o777)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type tarEntry struct {
	name     string
	body     string
	typeflag byte
	link     string
}

func makeTar(t testing.TB, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		out = zw
	}
	w := tar.NewWriter(out)
	for _, e := range entries {
		tf := e.typeflag
		if tf == 0 {
			tf = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: tf, Linkname: e.link, Mode: 0o644}
		if tf == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if tf == tar.TypeReg {
			if _, err := io.WriteString(w, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func open(data []byte, lim csar.Limits) (*csar.Archive, error) {
	return csar.Open(context.Background(), bytes.NewReader(data), int64(len(data)), lim)
}

// refusedCodes opens data and returns the codes of the problems it was
// refused for (nil when it opened).
func refusedCodes(t *testing.T, data []byte, lim csar.Limits) []string {
	t.Helper()
	_, err := open(data, lim)
	if err == nil {
		return nil
	}
	var refused *csar.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("want a *RefusedError, got %T: %v", err, err)
	}
	var codes []string
	for _, p := range refused.Problems {
		if p.Severity != csar.SeverityError || p.Message == "" {
			t.Fatalf("refusal problem without severity or message: %+v", p)
		}
		codes = append(codes, p.Code)
	}
	return codes
}

func TestHostileArchivesAreRefused(t *testing.T) {
	zeros := strings.Repeat("\x00", 4<<20)
	cases := []struct {
		name string
		data []byte
		lim  csar.Limits
		want string
	}{
		{"empty upload", nil, csar.Limits{}, csar.CodeArchiveEmpty},
		{"not an archive", []byte("this is plain text, not a package\n"), csar.Limits{}, csar.CodeArchiveUnsupported},
		{"gzip without tar", gzipBytes(t, "just text"), csar.Limits{}, csar.CodeArchiveUnsupported},
		{"truncated zip", makeZip(t, zipEntry{name: "a.txt", body: "x"})[:30], csar.Limits{}, csar.CodeArchiveCorrupt},
		{"zip dot-dot", makeZip(t, zipEntry{name: "Files/../../evil.sh", body: "x"}), csar.Limits{}, csar.CodeArchivePathTraversal},
		{"zip absolute", makeZip(t, zipEntry{name: "/etc/passwd", body: "x"}), csar.Limits{}, csar.CodeArchiveAbsolutePath},
		{"zip drive letter", makeZip(t, zipEntry{name: "C:/x", body: "x"}), csar.Limits{}, csar.CodeArchiveAbsolutePath},
		{"zip backslash", makeZip(t, zipEntry{name: `Files\x`, body: "x"}), csar.Limits{}, csar.CodeArchiveInvalidPath},
		{"zip symlink escaping", makeZip(t, zipEntry{name: "Files/link", body: "../../etc/passwd", symlink: true}), csar.Limits{}, csar.CodeArchiveLinkEscape},
		{"zip symlink absolute", makeZip(t, zipEntry{name: "Files/link", body: "/etc/passwd", symlink: true}), csar.Limits{}, csar.CodeArchiveLinkEscape},
		{"zip duplicate", makeZip(t, zipEntry{name: "a.txt", body: "1"}, zipEntry{name: "./a.txt", body: "2"}), csar.Limits{}, csar.CodeArchiveDuplicateEntry},
		{"too many entries", makeZip(t, zipEntry{name: "a"}, zipEntry{name: "b"}, zipEntry{name: "c"}), csar.Limits{MaxEntries: 2}, csar.CodeArchiveTooManyEntries},
		{"total size", makeZip(t, zipEntry{name: "a", body: strings.Repeat("a", 600)}, zipEntry{name: "b", body: strings.Repeat("b", 600)}), csar.Limits{MaxTotalSize: 1000}, csar.CodeArchiveTooLarge},
		{"entry size", makeZip(t, zipEntry{name: "a", body: strings.Repeat("a", 600)}), csar.Limits{MaxEntrySize: 500}, csar.CodeArchiveEntryTooLarge},
		{"zip bomb ratio", makeZip(t, zipEntry{name: "bomb", body: zeros, method: zip.Deflate}), csar.Limits{}, csar.CodeArchiveCompressionRatio},
		{"tar dot-dot", makeTar(t, false, tarEntry{name: "../evil", body: "x"}), csar.Limits{}, csar.CodeArchivePathTraversal},
		{"tar symlink escaping", makeTar(t, false, tarEntry{name: "Files/l", typeflag: tar.TypeSymlink, link: "../../../etc/shadow"}), csar.Limits{}, csar.CodeArchiveLinkEscape},
		{"tar hard link to missing", makeTar(t, false, tarEntry{name: "Files/l", typeflag: tar.TypeLink, link: "nowhere"}), csar.Limits{}, csar.CodeArchiveLinkEscape},
		{"tar device", makeTar(t, false, tarEntry{name: "dev", typeflag: tar.TypeChar}), csar.Limits{}, csar.CodeArchiveUnsupportedEntry},
		{"tar.gz bomb ratio", makeTar(t, true, tarEntry{name: "bomb", body: zeros}), csar.Limits{}, csar.CodeArchiveCompressionRatio},
		{"tar.gz duplicate", makeTar(t, true, tarEntry{name: "a", body: "1"}, tarEntry{name: "a", body: "2"}), csar.Limits{}, csar.CodeArchiveDuplicateEntry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			codes := refusedCodes(t, c.data, c.lim)
			for _, code := range codes {
				if code == c.want {
					return
				}
			}
			t.Fatalf("want refusal %s, got %v", c.want, codes)
		})
	}
}

func gzipBytes(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFormatsReadAlike opens the same package as zip (stored and
// deflated), tar and tar.gz, detected by content, and reads it through
// fs.FS: fstest.TestFS checks the whole fs contract.
func TestFormatsReadAlike(t *testing.T) {
	files := map[string]string{
		"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\n",
		"Definitions/vnfd.yaml":     "tosca_definitions_version: tosca_simple_yaml_1_2\n",
		"Files/images/disk.img":     strings.Repeat("0123456789abcdef", 4096),
	}
	names := []string{"TOSCA-Metadata/TOSCA.meta", "Definitions/vnfd.yaml", "Files/images/disk.img"}
	var zs, zd []zipEntry
	var ts []tarEntry
	for _, n := range names {
		zs = append(zs, zipEntry{name: n, body: files[n], method: zip.Store})
		zd = append(zd, zipEntry{name: n, body: files[n], method: zip.Deflate})
		ts = append(ts, tarEntry{name: "./" + n, body: files[n]})
	}
	ts = append(ts, tarEntry{name: "Files/alias.img", typeflag: tar.TypeSymlink, link: "images/disk.img"})
	formats := []struct {
		name, format string
		data         []byte
		random       bool
	}{
		{"zip stored", csar.FormatZip, makeZip(t, zs...), true},
		{"zip deflated", csar.FormatZip, makeZip(t, zd...), false},
		{"tar", csar.FormatTar, makeTar(t, false, ts...), true},
		{"tar.gz", csar.FormatTarGz, makeTar(t, true, ts...), false},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			a, err := open(f.data, csar.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Format != f.format {
				t.Fatalf("format %q, want %q", a.Format, f.format)
			}
			if err := fstest.TestFS(a, names...); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				got, err := fs.ReadFile(a, n)
				if err != nil || string(got) != files[n] {
					t.Fatalf("%s: read %d bytes, err %v", n, len(got), err)
				}
			}
			img, err := a.Open("Files/images/disk.img")
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			ra, isRA := img.(io.ReaderAt)
			if isRA != f.random {
				t.Fatalf("io.ReaderAt implemented: %v, want %v (only for uncompressed members)", isRA, f.random)
			}
			if isRA {
				buf := make([]byte, 16)
				if _, err := ra.ReadAt(buf, 16*100+3); err != nil || string(buf) != "3456789abcdef012" {
					t.Fatalf("ReadAt: %q, %v", buf, err)
				}
			}
			if strings.HasPrefix(f.name, "tar") {
				alias, err := fs.ReadFile(a, "Files/alias.img")
				if err != nil || string(alias) != files["Files/images/disk.img"] {
					t.Fatalf("link inside the package: %d bytes, %v", len(alias), err)
				}
			}
		})
	}
}

// TestSeekAfterSequentialRead checks that a member read partly, then
// seeked, continues from the right place.
func TestSeekAfterSequentialRead(t *testing.T) {
	body := strings.Repeat("abcdefghij", 1000)
	a, err := open(makeZip(t, zipEntry{name: "f", body: body, method: zip.Store}), csar.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := a.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 25)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	s := f.(io.Seeker)
	pos, err := s.Seek(5, io.SeekCurrent)
	if err != nil || pos != 30 {
		t.Fatalf("Seek: %d, %v", pos, err)
	}
	next := make([]byte, 4)
	if _, err := io.ReadFull(f, next); err != nil || string(next) != "abcd" {
		t.Fatalf("read after seek: %q, %v", next, err)
	}
}

// TestLyingZipSizeIsCaught writes a member whose header declares fewer
// bytes than it holds: reading it must fail, never return extra bytes.
func TestLyingZipSizeIsCaught(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	body := strings.Repeat("x", 1000)
	fw, err := w.CreateRaw(&zip.FileHeader{Name: "liar", Method: zip.Store, CompressedSize64: 1000, UncompressedSize64: 10, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, body)
	w.Close()
	a, err := open(buf.Bytes(), csar.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fs.ReadFile(a, "liar"); err == nil {
		t.Fatalf("read %d bytes of a member whose CRC and size lie, want an error", len(got))
	}
}

// FuzzOpen feeds arbitrary bytes to the archive reader: it must refuse or
// open them without panicking, and whatever it opens must read back within
// the limits it was given.
func FuzzOpen(f *testing.F) {
	f.Add(makeZip(f, zipEntry{name: "TOSCA-Metadata/TOSCA.meta", body: goodMeta}, zipEntry{name: "a/b", body: "x", method: zip.Deflate}))
	f.Add(makeTar(f, false, tarEntry{name: "./a", body: "abc"}, tarEntry{name: "l", typeflag: tar.TypeSymlink, link: "a"}))
	f.Add(makeTar(f, true, tarEntry{name: "a", body: "abc"}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	lim := csar.Limits{MaxEntries: 64, MaxTotalSize: 1 << 20, MaxEntrySize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("hang on %q", data))
			}
		}()
		a, err := open(data, lim)
		if err != nil {
			var refused *csar.RefusedError
			if !errors.As(err, &refused) || len(refused.Problems) == 0 {
				t.Fatalf("an unopenable archive must be refused with problems, got %v", err)
			}
			return
		}
		var total int64
		fs.WalkDir(a, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if !fs.ValidPath(name) || strings.HasPrefix(name, "..") {
				t.Fatalf("invalid path %q", name)
			}
			f, err := a.Open(name)
			if err != nil {
				return nil
			}
			n, _ := io.Copy(io.Discard, io.LimitReader(f, 2<<20))
			f.Close()
			total += n
			return nil
		})
		if total > 1<<20 {
			t.Fatalf("read %d bytes from an archive limited to 1 MiB", total)
		}
	})
}
