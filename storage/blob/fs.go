package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FS is a Store on a local (or shared) filesystem:
//
//	<dir>/tmp/w-*.tmp     data of writers not yet committed
//	<dir>/objects/<key>   committed objects, one file per key
//
// Create makes a temp file under tmp and holds an advisory lock (flock) on
// it for the writer's lifetime. Commit fsyncs the file, renames it to
// objects/<key> (creating and fsyncing missing parent directories) and
// fsyncs the destination directory, so a committed object survives a
// crash and an uncommitted one is never visible. CleanTemp removes the temp
// files whose lock is free, that is whose writer's process has died; it is
// safe to run while other processes write. Both directories must be on the
// same filesystem (they are, being under dir).
type FS struct {
	root    string
	tmp     string
	objects string
	// buffered disables direct I/O (fs_direct.go), for tests of the
	// buffered path on filesystems that support it.
	buffered bool
}

var _ Store = (*FS)(nil)
var _ TempCleaner = (*FS)(nil)

const tempPattern = "w-*.tmp"

// NewFS opens (creating if needed) a filesystem store rooted at dir.
func NewFS(dir string) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	s := &FS{root: abs, tmp: filepath.Join(abs, "tmp"), objects: filepath.Join(abs, "objects")}
	// The packages are the operators' (licensed software, credentials in
	// scripts): only the server's user reads them. Directories made by
	// older versions with wider modes are narrowed.
	for _, d := range []string{s.tmp, s.objects} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	for _, d := range []string{abs, s.tmp, s.objects} {
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	// Make the two directories themselves durable.
	if err := syncDir(abs); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return s, nil
}

// Dir is the store's root directory.
func (s *FS) Dir() string { return s.root }

func (s *FS) path(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}

// Create implements Store.
func (s *FS) Create(ctx context.Context) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for range 8 {
		f, err := os.CreateTemp(s.tmp, tempPattern)
		if err != nil {
			return nil, fmt.Errorf("blob: create temp: %w", err)
		}
		locked, err := tryLock(f)
		if err != nil || !locked {
			f.Close()
			os.Remove(f.Name())
			if err == nil {
				err = errors.New("new temp file is locked by someone else")
			}
			return nil, fmt.Errorf("blob: lock temp: %w", err)
		}
		// CleanTemp may have removed the file between its creation and our
		// lock (it removes only while holding the lock itself). If the name
		// still leads to our file, no CleanTemp can remove it any more.
		if same, _ := sameFile(f, f.Name()); same {
			w := &fsWriter{s: s, f: f}
			if !s.buffered {
				w.direct = openDirect(f) // fs_direct.go; nil: buffered writes
			}
			return w, nil
		}
		f.Close()
	}
	return nil, errors.New("blob: create temp: file kept disappearing")
}

func sameFile(f *os.File, name string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Lstat(name)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

type fsWriter struct {
	s      *FS
	f      *os.File
	direct *directWriter // nil: writes go through f
	n      int64
	done   bool
}

func (w *fsWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrClosed
	}
	var n int
	var err error
	if w.direct != nil {
		n, err = w.direct.Write(p)
	} else {
		n, err = w.f.Write(p)
	}
	w.n += int64(n)
	return n, err
}

// ReadFrom lets io.Copy hand the source to the file directly, so the kernel
// can splice from a socket where it is able to.
func (w *fsWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, ErrClosed
	}
	if w.direct != nil {
		// Through Write: direct writes need the aligned buffers.
		return io.Copy(struct{ io.Writer }{w}, r)
	}
	n, err := w.f.ReadFrom(r)
	w.n += n
	return n, err
}

func (w *fsWriter) Size() int64 { return w.n }

func (w *fsWriter) Commit(ctx context.Context, key string) error {
	if w.done {
		return ErrClosed
	}
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.direct != nil {
		if err := w.direct.finish(w.f, w.n); err != nil {
			w.discard()
			return fmt.Errorf("blob: commit %s: %w", key, err)
		}
	}
	if err := w.f.Sync(); err != nil {
		w.discard()
		return fmt.Errorf("blob: commit %s: fsync: %w", key, err)
	}
	dst := w.s.path(key)
	var err error
	// A concurrent Delete may remove a parent directory that has just become
	// empty while we create the path or before we rename into it: then
	// make it again.
	for range 64 {
		err = w.s.mkdirAll(filepath.Dir(dst))
		if err == nil {
			err = os.Rename(w.f.Name(), dst)
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		if _, serr := os.Lstat(w.f.Name()); serr != nil {
			break // our temp file is gone: nothing to retry
		}
	}
	if err != nil {
		w.discard()
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("%w: %s: %v", ErrKeyConflict, key, err)
		}
		return fmt.Errorf("blob: commit %s: %w", key, err)
	}
	w.done = true
	err = syncDir(filepath.Dir(dst))
	w.f.Close() // releases the lock; the data is already synced
	if err != nil {
		return fmt.Errorf("blob: commit %s: fsync directory: %w", key, err)
	}
	return nil
}

func (w *fsWriter) closeDirect() {
	if w.direct != nil {
		w.direct.close()
	}
}

func (w *fsWriter) discard() {
	w.closeDirect()
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

func (w *fsWriter) Abort() error {
	if w.done {
		return nil
	}
	w.closeDirect()
	w.done = true
	cerr := w.f.Close()
	// Removing after closing is fine: without the lock CleanTemp could take
	// the file, and then our Remove finds nothing, which is the same outcome.
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: abort: %w", err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("blob: abort: %w", cerr)
	}
	return nil
}

// mkdirAll creates dir and its missing parents below the objects directory,
// fsyncing the parent of each directory it creates so that the new entries
// are durable before an object is renamed into them.
func (s *FS) mkdirAll(dir string) error {
	rel, err := filepath.Rel(s.objects, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := s.objects
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, part)
		err := os.Mkdir(next, 0o700)
		switch {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Lstat(next)
			if serr != nil {
				return serr
			}
			if !fi.IsDir() {
				return fmt.Errorf("%s: %w", next, syscall.ENOTDIR)
			}
		default:
			return err
		}
		cur = next
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems cannot fsync a directory; their renames are then as
	// durable as they can be.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	return err
}

// Open implements Store.
func (s *FS) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	// Only a regular file the store put there is an object: not a
	// directory (a key prefix), not something reached through a symlink
	// (which Stat, using Lstat, would not report either).
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if same, _ := sameFile(f, s.path(key)); !same {
		f.Close()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return &fsObject{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}

// fsObject embeds the *os.File so that io.Copy and http.ServeContent can use
// its WriteTo (sendfile) when copying to a socket.
type fsObject struct {
	*os.File
	size int64
	mod  time.Time
}

func (o *fsObject) Size() int64        { return o.size }
func (o *fsObject) ModTime() time.Time { return o.mod }

// Stat implements Store.
func (s *FS) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Lstat(s.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Store. It also removes the parent directories the
// deletion leaves empty (up to, not including, the objects directory).
func (s *FS) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a key prefix, not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	// No fsync: if the removal is lost in a crash the object comes back as
	// an unreferenced orphan, which start-up clean-up removes again.
	for d := filepath.Dir(p); d != s.objects && strings.HasPrefix(d, s.objects); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break // not empty (or already gone)
		}
	}
	return nil
}

// listBatch is how many directory entries List reads at a time, which
// bounds its memory whatever the number of objects.
const listBatch = 256

// List implements Store. Its memory is bounded by the key depth times a
// small batch, not by the number of objects.
func (s *FS) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	// Start at the deepest directory the prefix names entirely.
	dirKey := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey = prefix[:i+1]
	}
	return s.walk(ctx, dirKey, prefix, fn)
}

// walk lists the directory named by dirKey ("" or ending in "/").
func (s *FS) walk(ctx context.Context, dirKey, prefix string, fn func(Info) error) error {
	d, err := os.Open(filepath.Join(s.objects, filepath.FromSlash(dirKey)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("blob: list: %w", err)
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, rerr := d.ReadDir(listBatch)
		for _, e := range ents {
			name := e.Name()
			if validSegment(name) != nil {
				continue // not something Commit could have made
			}
			key := dirKey + name
			switch {
			case e.IsDir():
				sub := key + "/"
				if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
					if err := s.walk(ctx, sub, prefix, fn); err != nil {
						return err
					}
				}
			case e.Type().IsRegular():
				if !strings.HasPrefix(key, prefix) {
					continue
				}
				fi, err := e.Info()
				if err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						continue // deleted meanwhile
					}
					return fmt.Errorf("blob: list: %w", err)
				}
				if err := fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if errors.Is(rerr, fs.ErrNotExist) {
				return nil // directory removed while we read it
			}
			return fmt.Errorf("blob: list: %w", rerr)
		}
	}
}

// CleanTemp implements TempCleaner: it removes every temp file no live
// writer holds (its lock is free), in this process or any other on the
// host. Call it at start-up; it is also safe to call at any time.
func (s *FS) CleanTemp(ctx context.Context) (int, error) {
	d, err := os.Open(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("blob: clean temp: %w", err)
	}
	defer d.Close()
	removed := 0
	for {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		ents, rerr := d.ReadDir(listBatch)
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			ok, err := s.removeIfStale(filepath.Join(s.tmp, e.Name()))
			if err != nil {
				return removed, fmt.Errorf("blob: clean temp: %w", err)
			}
			if ok {
				removed++
			}
		}
		if rerr == io.EOF {
			return removed, nil
		}
		if rerr != nil {
			return removed, fmt.Errorf("blob: clean temp: %w", rerr)
		}
	}
}

func (s *FS) removeIfStale(name string) (bool, error) {
	f, err := os.Open(name) // flock needs no write access
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // committed or aborted meanwhile
		}
		return false, err
	}
	defer f.Close()
	locked, err := tryLock(f)
	if err != nil {
		return false, err
	}
	if !locked {
		return false, nil // a live writer
	}
	// We hold the lock: no writer owns this file. Remove it only if the name
	// still refers to it (it may have been renamed into place by a Commit
	// that finished between our open and our lock).
	if same, _ := sameFile(f, name); !same {
		return false, nil
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}
