package csar

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// Limits bound what an archive may make the server do. Every field is
// configurable; zero fields take the value of DefaultLimits.
type Limits struct {
	MaxEntries   int   // files, directories and links
	MaxTotalSize int64 // sum of the declared uncompressed sizes
	MaxEntrySize int64 // uncompressed size of one entry
	// MaxRatio is the largest uncompressed/compressed ratio accepted for a
	// zip entry, or for a compressed tar as a whole. Entries smaller than
	// RatioFloor are exempt: small text files legitimately compress well.
	MaxRatio   float64
	RatioFloor int64
	// MaxArchiveRatio is the whole-archive expansion budget of a zip: the
	// sum of the declared uncompressed sizes over the archive's size. It
	// catches what the per-entry ratio lets through, many entries each
	// below RatioFloor (20,000 x 1 MiB of zeros fit in 25 MB). It is
	// checked from the central directory, before any member is
	// decompressed, once the declared total reaches RatioFloor. A tar.gz
	// is held to MaxRatio as a whole already.
	MaxArchiveRatio float64
}

// DefaultLimits suit multi-gigabyte VNF packages while refusing archive
// bombs: deflate tops out near 1032:1, so a bomb needs nested or exotic
// compression or a huge declared size, and both are caught.
var DefaultLimits = Limits{
	MaxEntries:   20000,
	MaxTotalSize: 64 << 30,
	MaxEntrySize: 64 << 30,
	MaxRatio:     250,
	RatioFloor:   1 << 20,
	// Packages are mostly images (stored or barely compressible) plus
	// some text; a whole package beyond 250:1 is not a package.
	MaxArchiveRatio: 250,
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = DefaultLimits.MaxEntrySize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultLimits.MaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = DefaultLimits.RatioFloor
	}
	if l.MaxArchiveRatio <= 0 {
		l.MaxArchiveRatio = DefaultLimits.MaxArchiveRatio
	}
	return l
}

// Archive formats recognised by content.
const (
	FormatZip   = "zip"
	FormatTar   = "tar"
	FormatTarGz = "tar.gz"
)

// RefusedError says why an archive cannot be opened: every problem found
// while indexing it, not just the first.
type RefusedError struct {
	Problems []Problem
}

func (e *RefusedError) Error() string {
	if len(e.Problems) == 1 {
		return "package refused: " + e.Problems[0].Message
	}
	return fmt.Sprintf("package refused: %s (and %d more problems)", e.Problems[0].Message, len(e.Problems)-1)
}

// Entry describes one member of the archive after its path was checked
// and normalised (slash-separated, no leading "./", no trailing "/").
type Entry struct {
	Path           string
	Size           int64 // uncompressed
	CompressedSize int64 // as stored; equals Size for tar members
	Mode           fs.FileMode
	ModTime        time.Time
	LinkTarget     string // normalised package path a link points at

	zipFile    *zip.File
	hardLink   bool
	dataOffset int64 // tar, tar.gz: where the bytes start in the (decompressed) stream
	ordinal    int   // position in the archive, for tar.gz re-reads
}

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Mode.IsDir() }

// Archive is a stored package opened for reading: an fs.FS over its
// members. It never extracts anything to disk; every read goes back to the
// underlying io.ReaderAt, so memory stays bounded whatever the size.
type Archive struct {
	Format  string
	r       io.ReaderAt
	size    int64
	entries map[string]*Entry
	order   []*Entry // files and links in archive order, directories excluded
	// dirs is built on the first ReadDir; an Archive is shared by
	// concurrent readers.
	dirsOnce sync.Once
	dirs     map[string][]fs.DirEntry
}

// Open indexes the archive in r (size bytes) and checks it against lim.
// The format is detected from the content, never from a file name. A
// hostile or broken archive yields a *RefusedError listing every problem.
func Open(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	if size <= 0 {
		return nil, refuse(CodeArchiveEmpty, "", "the package is empty (0 bytes)")
	}
	format, err := detect(r, size)
	if err != nil {
		return nil, err
	}
	ix := &indexer{a: &Archive{Format: format, r: r, size: size, entries: map[string]*Entry{}}, lim: lim}
	switch format {
	case FormatZip:
		err = ix.indexZip()
	case FormatTar:
		err = ix.indexTar(ctx)
	case FormatTarGz:
		err = ix.indexTarGz(ctx)
	}
	if err != nil {
		ix.add(CodeArchiveCorrupt, "", "the %s archive cannot be read: %v", format, err)
	}
	ix.finish()
	if len(ix.problems) > 0 {
		return nil, &RefusedError{Problems: ix.problems}
	}
	return ix.a, nil
}

func refuse(code, file, format string, args ...any) error {
	return &RefusedError{Problems: []Problem{{Severity: SeverityError, Code: code, File: file, Message: fmt.Sprintf(format, args...)}}}
}

type indexer struct {
	a        *Archive
	lim      Limits
	problems []Problem
	total    int64
	count    int
	tooMany  bool
}

func (ix *indexer) add(code, file, format string, args ...any) {
	ix.problems = append(ix.problems, Problem{Severity: SeverityError, Code: code, File: file, Message: fmt.Sprintf(format, args...)})
}

// cleanPath checks an entry name as written in the archive and returns the
// package path it stands for. ok is false when the name was refused (the
// problem is recorded).
func (ix *indexer) cleanPath(raw string) (string, bool) {
	name := raw
	switch {
	case name == "":
		ix.add(CodeArchiveInvalidPath, "", "an archive entry has an empty name")
		return "", false
	case strings.ContainsRune(name, 0):
		ix.add(CodeArchiveInvalidPath, "", "entry %q has a NUL byte in its name", name)
		return "", false
	case strings.Contains(name, `\`):
		ix.add(CodeArchiveInvalidPath, raw, "entry %q uses a backslash; archive paths are slash-separated", raw)
		return "", false
	case strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':'):
		ix.add(CodeArchiveAbsolutePath, raw, "entry %q has an absolute path", raw)
		return "", false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			ix.add(CodeArchivePathTraversal, raw, "entry %q climbs out of the package with ..", raw)
			return "", false
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return ".", true
	}
	return clean, true
}

// record adds one entry after the checks every format shares.
func (ix *indexer) record(e *Entry, rawName string) {
	ix.count++
	if ix.count > ix.lim.MaxEntries {
		if !ix.tooMany {
			ix.tooMany = true
			ix.add(CodeArchiveTooManyEntries, "", "the archive has more than %d entries", ix.lim.MaxEntries)
		}
		return
	}
	p, ok := ix.cleanPath(rawName)
	if !ok {
		return
	}
	if p == "." {
		if !e.IsDir() {
			ix.add(CodeArchiveInvalidPath, rawName, "entry %q names the package root but is not a directory", rawName)
		}
		return
	}
	e.Path = p
	if prev, dup := ix.a.entries[p]; dup {
		if !(prev.IsDir() && e.IsDir()) {
			ix.add(CodeArchiveDuplicateEntry, p, "entry %q appears more than once in the archive", p)
		}
		return
	}
	if e.Size < 0 {
		ix.add(CodeArchiveCorrupt, p, "entry %q declares a negative size", p)
		return
	}
	if e.Size > ix.lim.MaxEntrySize {
		ix.add(CodeArchiveEntryTooLarge, p, "entry %q is %d bytes uncompressed; the limit is %d", p, e.Size, ix.lim.MaxEntrySize)
	}
	ix.total += e.Size
	if e.zipFile != nil && e.Size >= ix.lim.RatioFloor {
		if e.CompressedSize == 0 || float64(e.Size)/float64(e.CompressedSize) > ix.lim.MaxRatio {
			ix.add(CodeArchiveCompressionRatio, p, "entry %q expands from %d to %d bytes, beyond the compression ratio limit of %g", p, e.CompressedSize, e.Size, ix.lim.MaxRatio)
		}
	}
	ix.a.entries[p] = e
	if !e.IsDir() {
		e.ordinal = len(ix.a.order)
		ix.a.order = append(ix.a.order, e)
	}
}

// finish applies the checks that need the whole index: total size, the
// ratio of a compressed tar, links and missing parent directories.
func (ix *indexer) finish() {
	a := ix.a
	if ix.total > ix.lim.MaxTotalSize {
		ix.add(CodeArchiveTooLarge, "", "the archive expands to %d bytes; the limit is %d", ix.total, ix.lim.MaxTotalSize)
	}
	if a.Format == FormatTarGz && ix.total >= ix.lim.RatioFloor && float64(ix.total)/float64(a.size) > ix.lim.MaxRatio {
		ix.add(CodeArchiveCompressionRatio, "", "the archive expands from %d to %d bytes, beyond the compression ratio limit of %g", a.size, ix.total, ix.lim.MaxRatio)
	}
	if a.Format == FormatZip && ix.total >= ix.lim.RatioFloor && float64(ix.total)/float64(a.size) > ix.lim.MaxArchiveRatio {
		ix.add(CodeArchiveExpansionBudget, "", "the archive's %d entries expand from %d to %d bytes in all, beyond the whole-archive expansion limit of %g:1", ix.count, a.size, ix.total, ix.lim.MaxArchiveRatio)
	}
	for _, e := range a.order {
		if e.Mode&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := a.resolve(e); err != nil {
			ix.add(CodeArchiveLinkEscape, e.Path, "link %q: %v", e.Path, err)
		}
	}
	// Directories implied by file paths, so ReadDir and Stat see them.
	for _, e := range a.order {
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			d, ok := a.entries[dir]
			if ok {
				if !d.IsDir() {
					ix.add(CodeArchiveDuplicateEntry, dir, "%q is both a file and the directory of %q", dir, e.Path)
				}
				break
			}
			a.entries[dir] = &Entry{Path: dir, Mode: fs.ModeDir | 0o755}
		}
	}
}

func (ix *indexer) indexZip() error {
	if n, ok := zipDirectoryEntries(ix.a.r, ix.a.size, ix.lim.MaxEntries); ok && n > ix.lim.MaxEntries {
		ix.tooMany = true
		ix.add(CodeArchiveTooManyEntries, "", "the archive has more than %d entries", ix.lim.MaxEntries)
		return nil
	}
	zr, err := zip.NewReader(ix.a.r, ix.a.size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return err
	}
	for _, f := range zr.File {
		e := &Entry{
			Size:           int64(f.UncompressedSize64),
			CompressedSize: int64(f.CompressedSize64),
			Mode:           f.Mode(),
			ModTime:        f.Modified,
			zipFile:        f,
		}
		if f.UncompressedSize64 > 1<<62 || f.CompressedSize64 > 1<<62 {
			ix.add(CodeArchiveCorrupt, f.Name, "entry %q declares an impossible size", f.Name)
			continue
		}
		if strings.HasSuffix(f.Name, "/") {
			e.Mode |= fs.ModeDir
		}
		switch {
		case e.IsDir():
		case e.Mode&fs.ModeSymlink != 0:
			target, err := readLinkTarget(f)
			if err != nil {
				ix.add(CodeArchiveCorrupt, f.Name, "link %q cannot be read: %v", f.Name, err)
				continue
			}
			e.LinkTarget = target
		case !e.Mode.IsRegular():
			ix.add(CodeArchiveUnsupportedEntry, f.Name, "entry %q is a %s, which a package may not hold", f.Name, e.Mode.Type())
			continue
		case f.Flags&0x1 != 0:
			ix.add(CodeArchiveUnsupportedEntry, f.Name, "entry %q is encrypted with zip encryption, which is not supported (SOL 004 encrypts artifacts with CMS)", f.Name)
			continue
		case f.Method != zip.Store && f.Method != zip.Deflate:
			ix.add(CodeArchiveUnsupportedEntry, f.Name, "entry %q uses zip compression method %d; only stored (0) and deflate (8) are supported", f.Name, f.Method)
			continue
		}
		ix.record(e, f.Name)
	}
	return nil
}

// readLinkTarget reads a zip symlink's target, which zip stores as the
// entry's content; links longer than a path could be are refused.
func readLinkTarget(f *zip.File) (string, error) {
	if f.UncompressedSize64 > 4096 {
		return "", fmt.Errorf("link target of %d bytes is too long", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// indexTar lists a plain tar. The reader is a
// seekable section, so skipping member data seeks instead of reading, and
// the position at each header is where that member's bytes start: members
// can later be read at random without a rescan.
func (ix *indexer) indexTar(ctx context.Context) error {
	sr := io.NewSectionReader(ix.a.r, 0, ix.a.size)
	return ix.indexTarStream(ctx, sr, func() (int64, error) { return sr.Seek(0, io.SeekCurrent) })
}

// indexTarGz lists a tar.gz. Members are read again by decompressing from
// the start, but where each member's bytes start in the decompressed
// stream is still recorded: it identifies the member for digests computed
// while the package streamed in (Known).
func (ix *indexer) indexTarGz(ctx context.Context) error {
	gz, err := gzip.NewReader(io.NewSectionReader(ix.a.r, 0, ix.a.size))
	if err != nil {
		return err
	}
	defer gz.Close()
	cr := &countingReader{r: gz}
	return ix.indexTarStream(ctx, cr, func() (int64, error) { return cr.n, nil })
}

// indexTarStream lists the tar in r; offset tells where r is.
func (ix *indexer) indexTarStream(ctx context.Context, r io.Reader, offset func() (int64, error)) error {
	return eachTarHeader(ctx, r, func(hdr *tar.Header) error {
		e := &Entry{Size: hdr.Size, CompressedSize: hdr.Size, Mode: hdr.FileInfo().Mode(), ModTime: hdr.ModTime}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.Mode |= fs.ModeDir
			e.Size, e.CompressedSize = 0, 0
		case tar.TypeReg, tar.TypeRegA:
			if isPAXSparse(hdr) {
				// A sparse file in PAX form looks regular, but its
				// bytes in the archive are a map and holes left out:
				// not the content, which members are served as.
				ix.add(CodeArchiveUnsupportedEntry, hdr.Name, "entry %q is a sparse file (PAX GNU.sparse records), which is not supported", hdr.Name)
				return nil
			}
			off, err := offset()
			if err != nil {
				return err
			}
			e.dataOffset = off
		case tar.TypeSymlink, tar.TypeLink:
			e.Mode = fs.ModeSymlink | 0o777
			e.Size, e.CompressedSize = 0, 0
			e.LinkTarget = hdr.Linkname
			// Hard link names are package paths, not relative to the link.
			e.hardLink = hdr.Typeflag == tar.TypeLink
		case tar.TypeGNUSparse:
			ix.add(CodeArchiveUnsupportedEntry, hdr.Name, "entry %q is a GNU sparse file, which is not supported", hdr.Name)
			return nil
		default:
			ix.add(CodeArchiveUnsupportedEntry, hdr.Name, "entry %q has tar type %q, which a package may not hold", hdr.Name, string(hdr.Typeflag))
			return nil
		}
		ix.record(e, hdr.Name)
		if ix.tooMany {
			return fs.SkipAll
		}
		return nil
	})
}

// isPAXSparse reports whether hdr is a sparse file in one of the PAX
// forms of GNU tar (0.0, 0.1 and 1.0 all carry GNU.sparse.* records).
func isPAXSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// resolve follows links from e to a regular file or directory inside the
// package. Symlink targets are relative to the link's directory; tar hard
// link targets are package paths.
func (a *Archive) resolve(e *Entry) (*Entry, error) {
	for hops := 0; e.Mode&fs.ModeSymlink != 0; hops++ {
		if hops == 8 {
			return nil, errors.New("too many levels of links")
		}
		if path.IsAbs(e.LinkTarget) {
			return nil, fmt.Errorf("points at the absolute path %q", e.LinkTarget)
		}
		target := path.Clean(e.LinkTarget)
		if !e.hardLink {
			target = path.Join(path.Dir(e.Path), e.LinkTarget)
		}
		if target == ".." || strings.HasPrefix(target, "../") {
			return nil, fmt.Errorf("points outside the package (%q)", e.LinkTarget)
		}
		next, ok := a.entries[target]
		if !ok {
			return nil, fmt.Errorf("points at %q, which is not in the package", target)
		}
		e = next
	}
	return e, nil
}
