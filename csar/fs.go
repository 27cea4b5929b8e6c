package csar

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"
)

// Interface checks: an *Archive is a read-only file system.
var (
	_ fs.FS        = (*Archive)(nil)
	_ fs.StatFS    = (*Archive)(nil)
	_ fs.ReadDirFS = (*Archive)(nil)
)

// Size is the stored archive's size in bytes.
func (a *Archive) Size() int64 { return a.size }

// Files lists the regular files and links of the archive in archive order.
func (a *Archive) Files() []*Entry { return a.order }

// Lookup returns the entry at a package path, following links.
func (a *Archive) Lookup(name string) (*Entry, bool) {
	e, ok := a.entries[name]
	if !ok {
		return nil, false
	}
	r, err := a.resolve(e)
	if err != nil {
		return nil, false
	}
	return r, true
}

func (a *Archive) lookup(op, name string) (*Entry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &Entry{Path: ".", Mode: fs.ModeDir | 0o755}, nil
	}
	e, ok := a.Lookup(name)
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

// Stat implements fs.StatFS.
func (a *Archive) Stat(name string) (fs.FileInfo, error) {
	e, err := a.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return entryInfo{e, path.Base(name)}, nil
}

// ReadDir implements fs.ReadDirFS: the entries of a directory, sorted.
func (a *Archive) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := a.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	a.dirsOnce.Do(func() {
		a.dirs = map[string][]fs.DirEntry{}
		for _, c := range a.entries {
			dir := path.Dir(c.Path)
			a.dirs[dir] = append(a.dirs[dir], fs.FileInfoToDirEntry(entryInfo{c, path.Base(c.Path)}))
		}
		for _, list := range a.dirs {
			sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
		}
	})
	list := a.dirs[e.Path]
	return append([]fs.DirEntry(nil), list...), nil
}

// Open implements fs.FS. Members stored without compression (zip "stored"
// and every tar member) open as files that also implement io.ReaderAt and
// io.Seeker, so ranges of a multi-gigabyte image are served without
// reading what comes before them.
func (a *Archive) Open(name string) (fs.File, error) {
	e, err := a.lookup("open", name)
	if err != nil {
		return nil, err
	}
	info := entryInfo{e, path.Base(name)}
	if e.IsDir() {
		list, err := a.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dirFile{info: info, list: list}, nil
	}
	switch {
	case e.zipFile != nil:
		rc, err := e.zipFile.Open()
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		f := &memberFile{info: info, stream: rc}
		if e.zipFile.Method != zip.Store {
			return f, nil
		}
		off, err := e.zipFile.DataOffset()
		if err != nil {
			rc.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		f.section = io.NewSectionReader(a.r, off, e.Size)
		return &randomFile{f}, nil
	case a.Format == FormatTar:
		s := io.NewSectionReader(a.r, e.dataOffset, e.Size)
		return &randomFile{&memberFile{info: info, stream: io.NopCloser(s), section: s}}, nil
	default:
		return a.openCompressedTarMember(e, info), nil
	}
}

// openCompressedTarMember streams one member of a tar.gz. Such an archive
// has no index, so the stream is decompressed from the start up to the
// member; a goroutine feeds the member's bytes into a pipe and stops as
// soon as the reader closes it.
func (a *Archive) openCompressedTarMember(e *Entry, info entryInfo) fs.File {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		pw.CloseWithError(a.copyCompressedTarMember(ctx, e, pw))
	}()
	return &memberFile{info: info, stream: closerFunc{pr, func() error { cancel(); return pr.Close() }}}
}

// copyCompressedTarMember decompresses the tar.gz up to the member e and
// copies its bytes to w. An archive that ends before the member (it
// changed since it was indexed) is io.ErrUnexpectedEOF.
func (a *Archive) copyCompressedTarMember(ctx context.Context, e *Entry, w io.Writer) error {
	gz, err := gzip.NewReader(io.NewSectionReader(a.r, 0, a.size))
	if err != nil {
		return err
	}
	defer gz.Close()
	ordinal := 0
	found, err := eachTarMember(ctx, gz, func(hdr *tar.Header, body io.Reader) error {
		if hdr.FileInfo().IsDir() {
			return nil
		}
		if ordinal != e.ordinal {
			ordinal++
			return nil
		}
		if _, err := io.Copy(w, body); err != nil {
			return err
		}
		return fs.SkipAll
	})
	if err == nil && !found {
		return io.ErrUnexpectedEOF
	}
	return err
}

type closerFunc struct {
	io.Reader
	close func() error
}

func (c closerFunc) Close() error { return c.close() }

// memberFile reads one member. Sequential reads go through stream, which
// for zip checks the CRC at the end; once the caller seeks or reads at an
// offset, reads go through section (present only for uncompressed members).
type memberFile struct {
	info    entryInfo
	stream  io.ReadCloser
	section *io.SectionReader
	read    int64 // bytes read through stream
	seeked  bool
}

func (f *memberFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *memberFile) Read(p []byte) (int, error) {
	if f.seeked {
		return f.section.Read(p)
	}
	n, err := f.stream.Read(p)
	f.read += int64(n)
	return n, err
}

func (f *memberFile) Close() error { return f.stream.Close() }

// randomFile is a member stored without compression: it adds io.ReaderAt
// and io.Seeker. Compressed members are plain memberFiles, so callers
// learn by a type assertion, not by a failing call, what they can do.
type randomFile struct{ *memberFile }

func (f *randomFile) ReadAt(p []byte, off int64) (int, error) { return f.section.ReadAt(p, off) }

// Seek switches reading to the section at the sequential read position.
func (f *randomFile) Seek(offset int64, whence int) (int64, error) {
	if !f.seeked {
		f.seeked = true
		if _, err := f.section.Seek(f.read, io.SeekStart); err != nil {
			return 0, err
		}
	}
	return f.section.Seek(offset, whence)
}

type dirFile struct {
	info entryInfo
	list []fs.DirEntry
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.list[d.pos:]
	if n <= 0 {
		d.pos = len(d.list)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.pos += n
	return rest[:n], nil
}

type entryInfo struct {
	e    *Entry
	name string
}

func (i entryInfo) Name() string       { return i.name }
func (i entryInfo) Size() int64        { return i.e.Size }
func (i entryInfo) Mode() fs.FileMode  { return i.e.Mode }
func (i entryInfo) ModTime() time.Time { return i.e.ModTime }
func (i entryInfo) IsDir() bool        { return i.e.IsDir() }
func (i entryInfo) Sys() any           { return i.e }
