package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func newFS(t testing.TB) *FS {
	t.Helper()
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t testing.TB, s Store, key string, data []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
}

func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	data := make([]byte, 1<<20+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	// Write through io.Copy (ReadFrom) and plain Write.
	if n, err := io.Copy(w, bytes.NewReader(data[:1000])); err != nil || n != 1000 {
		t.Fatal(n, err)
	}
	if _, err := w.Write(data[1000:]); err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(data)) {
		t.Fatalf("Size %d, want %d", w.Size(), len(data))
	}
	before := time.Now().Add(-2 * time.Second)
	key := "packages/0d6f1c4e-1b5a-4b6e-9d51-1f1f1f1f1f1f/content"
	if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("object visible before Commit: %v", err)
	}
	if err := w.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, key); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Commit: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Commit: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	if got := dirEntries(t, s.tmp); len(got) != 0 {
		t.Fatalf("temp left after Commit: %v", got)
	}

	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Size() != int64(len(data)) {
		t.Fatalf("object Size %d", o.Size())
	}
	if o.ModTime().Before(before) || o.ModTime().After(time.Now().Add(2*time.Second)) {
		t.Fatalf("ModTime %v", o.ModTime())
	}
	buf := make([]byte, 4096)
	if _, err := o.ReadAt(buf, 500000); err != nil || !bytes.Equal(buf, data[500000:504096]) {
		t.Fatalf("ReadAt: %v", err)
	}
	// ReadAt at the end returns io.EOF with what is left.
	n, err := o.ReadAt(buf, int64(len(data)-10))
	if n != 10 || err != io.EOF {
		t.Fatalf("ReadAt tail: %d %v", n, err)
	}
	if _, err := o.Seek(-123, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(tail, data[len(data)-123:]) {
		t.Fatalf("Seek+Read: %v", err)
	}
	if _, err := o.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, o); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("content differs")
	}

	info, err := s.Stat(ctx, key)
	if err != nil || info.Key != key || info.Size != int64(len(data)) {
		t.Fatalf("Stat: %+v %v", info, err)
	}

	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after Delete: %v", err)
	}
	// The reader opened before the Delete still reads.
	if _, err := o.ReadAt(buf[:10], 0); err != nil || !bytes.Equal(buf[:10], data[:10]) {
		t.Fatalf("ReadAt on deleted object: %v", err)
	}
	// Parent directories left empty are removed.
	if got := dirEntries(t, s.objects); len(got) != 0 {
		t.Fatalf("objects dir not empty after Delete: %v", got)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("a"), 100000)); err != nil {
		t.Fatal(err)
	}
	if got := dirEntries(t, s.tmp); len(got) != 1 {
		t.Fatalf("temp files while writing: %v", got)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	if err := w.Commit(ctx, "a/b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Abort: %v", err)
	}
	if got := dirEntries(t, s.root); strings.Join(got, ",") != "objects,tmp" {
		t.Fatalf("left after Abort: %v", got)
	}
}

func TestCommitReplaces(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	put(t, s, "k/v", []byte("old content"))
	o, err := s.Open(ctx, "k/v")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	put(t, s, "k/v", []byte("new"))
	got, _ := io.ReadAll(o)
	if string(got) != "old content" {
		t.Fatalf("open reader sees %q", got)
	}
	o2, err := s.Open(ctx, "k/v")
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	got, _ = io.ReadAll(o2)
	if string(got) != "new" || o2.Size() != 3 {
		t.Fatalf("new reader sees %q", got)
	}
}

func TestCommitContextCanceled(t *testing.T) {
	s := newFS(t)
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Commit(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with canceled context: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(context.Background(), "a"); !errors.Is(err, ErrNotFound) {
		t.Fatal("committed despite canceled context")
	}
	if got := dirEntries(t, s.tmp); len(got) != 0 {
		t.Fatalf("temp left: %v", got)
	}
}

func TestHostileKeys(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	bad := []string{
		"", "/", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./a", "a/./b",
		"a//b", "a/", "/a", `a\b`, `..\..\x`, "a\x00b", "a\nb", "a b", "a:b", "C:/x",
		".hidden", "a/.tmp", "ü", "a?b", "a*b", "%2e%2e/x",
		strings.Repeat("a", 256), strings.Repeat("a/", 600) + "a",
	}
	for _, k := range bad {
		if err := ValidKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Open(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q) = %v", k, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v", k, err)
		}
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("evil"))
		if err := w.Commit(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Commit(%q) = %v", k, err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/", "../", "a//", "/a", ".x"} {
		if err := s.List(ctx, p, func(Info) error { return nil }); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("List(%q) = %v", p, err)
		}
	}
	good := []string{"a", "packages/123e4567-e89b-12d3-a456-426614174000/content", "A.b_c-d/e.f", strings.Repeat("a", 255)}
	for _, k := range good {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v", k, err)
		}
	}
	// Nothing was written anywhere, least of all outside the store.
	if got := dirEntries(t, s.root); strings.Join(got, ",") != "objects,tmp" {
		t.Fatalf("store contents: %v", got)
	}
	if got := dirEntries(t, filepath.Dir(s.root)); len(got) != 3 {
		t.Fatalf("written beside the store: %v", got)
	}
}

func TestKeyConflict(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	put(t, s, "a/b", []byte("1"))
	for _, k := range []string{"a/b/c", "a"} {
		w, _ := s.Create(ctx)
		w.Write([]byte("2"))
		if err := w.Commit(ctx, k); !errors.Is(err, ErrKeyConflict) {
			t.Errorf("Commit(%q) = %v, want ErrKeyConflict", k, err)
		}
		w.Abort()
	}
	// A prefix is not an object.
	if _, err := s.Stat(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat of a directory: %v", err)
	}
	if _, err := s.Open(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a directory: %v", err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Errorf("Delete of a directory: %v", err)
	}
	if _, err := s.Stat(ctx, "a/b"); err != nil {
		t.Errorf("a/b lost: %v", err)
	}
	if got := dirEntries(t, s.tmp); len(got) != 0 {
		t.Fatalf("temp left: %v", got)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	keys := []string{"packages/p1/content", "packages/p2/content", "packages/p2/extra", "packagesX/y", "other/z", "top"}
	for i := 0; i < 600; i++ { // more than one ReadDir batch in one directory
		keys = append(keys, fmt.Sprintf("many/k%04d", i))
	}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}
	list := func(prefix string) []string {
		var got []string
		if err := s.List(ctx, prefix, func(i Info) error {
			if i.Size != int64(len(i.Key)) {
				t.Errorf("%s: size %d", i.Key, i.Size)
			}
			got = append(got, i.Key)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		return got
	}
	if got := list(""); len(got) != len(keys) {
		t.Fatalf("List(\"\") = %d keys, want %d", len(got), len(keys))
	}
	if got := strings.Join(list("packages/"), " "); got != "packages/p1/content packages/p2/content packages/p2/extra" {
		t.Fatalf("List(packages/) = %s", got)
	}
	if got := strings.Join(list("packages"), " "); got != "packages/p1/content packages/p2/content packages/p2/extra packagesX/y" {
		t.Fatalf("List(packages) = %s", got)
	}
	if got := strings.Join(list("packages/p2"), " "); got != "packages/p2/content packages/p2/extra" {
		t.Fatalf("List(packages/p2) = %s", got)
	}
	if got := list("nothing/"); len(got) != 0 {
		t.Fatalf("List(nothing/) = %v", got)
	}
	if got := list("many/"); len(got) != 600 {
		t.Fatalf("List(many/) = %d", len(got))
	}
	// Deleting from inside the callback is allowed.
	n := 0
	if err := s.List(ctx, "many/", func(i Info) error { n++; return s.Delete(ctx, i.Key) }); err != nil {
		t.Fatal(err)
	}
	if n != 600 || len(list("many/")) != 0 {
		t.Fatalf("deleted %d, left %d", n, len(list("many/")))
	}
	// An error from fn stops the listing.
	stop := errors.New("stop")
	calls := 0
	if err := s.List(ctx, "", func(Info) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("List stop: %v after %d calls", err, calls)
	}
	// Temp files are never listed.
	w, _ := s.Create(ctx)
	defer w.Abort()
	w.Write([]byte("pending"))
	for _, k := range list("") {
		if strings.Contains(k, "tmp") {
			t.Fatalf("temp file listed: %s", k)
		}
	}
}

// TestCrashLeavesNoTemp kills a process in the middle of a write (no Commit,
// no Abort), then opens a new store over the same directory: CleanTemp
// removes the dead writer's temp file and nothing else is left.
func TestCrashLeavesNoTemp(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	dir := t.TempDir()
	s, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "keep/me", []byte("committed before the crash"))

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "BLOB_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "written, now dying") {
		t.Fatalf("helper did not crash as planned: %v\n%s", err, out)
	}
	tmps := dirEntries(t, filepath.Join(dir, "tmp"))
	if len(tmps) != 1 {
		t.Fatalf("expected the dead writer's temp file, found %v", tmps)
	}

	// A live writer in this process must survive the clean-up.
	s2, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	live, err := s2.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live.Write([]byte("still writing"))

	n, err := s2.CleanTemp(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp = %d, %v; want 1", n, err)
	}
	if got := dirEntries(t, filepath.Join(dir, "tmp")); len(got) != 1 {
		t.Fatalf("after CleanTemp: %v (want only the live writer's file)", got)
	}
	if err := live.Commit(ctx, "live/one"); err != nil {
		t.Fatalf("live writer after CleanTemp: %v", err)
	}
	if n, err := s2.CleanTemp(ctx); err != nil || n != 0 {
		t.Fatalf("second CleanTemp = %d, %v", n, err)
	}
	if got := dirEntries(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Fatalf("temp left: %v", got)
	}
	var keys []string
	s2.List(ctx, "", func(i Info) error { keys = append(keys, i.Key); return nil })
	sort.Strings(keys)
	if strings.Join(keys, " ") != "keep/me live/one" {
		t.Fatalf("objects after crash: %v", keys)
	}
}

// TestCrashHelper is the process TestCrashLeavesNoTemp kills.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("BLOB_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 1<<20)); err != nil {
		t.Fatal(err)
	}
	fmt.Println("written, now dying")
	p, _ := os.FindProcess(os.Getpid())
	p.Kill()
	time.Sleep(time.Minute)
}

// TestConcurrent commits and deletes sibling keys from many goroutines, so
// that Delete keeps removing the shared parent directory Commit needs.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newFS(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprintf("shared/d%d/k%d", i%2, g)
				w, err := s.Create(ctx)
				if err != nil {
					errs <- err
					return
				}
				w.Write([]byte(key))
				if err := w.Commit(ctx, key); err != nil {
					errs <- err
					return
				}
				o, err := s.Open(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				got, _ := io.ReadAll(o)
				o.Close()
				if string(got) != key {
					errs <- fmt.Errorf("%s: read %q", key, got)
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := dirEntries(t, s.root); strings.Join(got, ",") != "objects,tmp" {
		t.Fatalf("left: %v", got)
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestMemoryIndependentOfSize writes and reads back 64 MiB and checks that
// the heap allocated along the way is a small constant.
func TestMemoryIndependentOfSize(t *testing.T) {
	s := newFS(t)
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	zerosRoundTrip(t, s, "big", size)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte object", alloc, size)
	}
}

// TestSymlinkIsNotAnObject: a symlink planted in the objects directory (to
// a file outside the store) is neither listed, nor stat'ed, nor opened.
func TestSymlinkIsNotAnObject(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	ctx := context.Background()
	s := newFS(t)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)
	if err := os.Symlink(secret, filepath.Join(s.objects, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "link"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open through a symlink: %v", err)
	}
	if _, err := s.Stat(ctx, "link"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat of a symlink: %v", err)
	}
	s.List(ctx, "", func(i Info) error { t.Errorf("listed %s", i.Key); return nil })
	if err := s.Delete(ctx, "link"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Fatalf("Delete followed the symlink: %v", err)
	}
}
