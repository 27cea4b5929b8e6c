package blob

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// newS3 starts versitygw and returns a store on a new bucket of it, under
// a prefix, with the smallest part size S3 allows (so that a few MiB make
// a multipart upload). Credentials come from a credentials file.
func newS3(t testing.TB) *S3 {
	t.Helper()
	srv := testenv.VersityGW(t)
	return s3On(t, srv, "bkt", MinS3PartSize)
}

func s3On(t testing.TB, srv *testenv.S3Server, bucket string, partSize int64) *S3 {
	t.Helper()
	ctx := context.Background()
	admin, err := minio.New(strings.TrimPrefix(srv.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(srv.Access, srv.Secret, ""), Region: srv.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := admin.BucketExists(ctx, bucket); !ok {
		if err := admin.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: srv.Region}); err != nil {
			t.Fatal(err)
		}
	}
	creds := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(creds, []byte("[default]\naws_access_key_id = "+srv.Access+"\naws_secret_access_key = "+srv.Secret+"\n"), 0o600)
	cfg, err := ParseS3URL("s3://" + bucket + "/pre/fix?endpoint=" + srv.Endpoint + "&region=" + srv.Region)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PartSize, cfg.CredentialsFile = partSize, creds
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eachStore runs fn on the filesystem store and on the S3 store: the
// contract of Store, whatever the driver.
func eachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	t.Run("fs", func(t *testing.T) { fn(t, newFS(t)) })
	t.Run("s3", func(t *testing.T) { fn(t, newS3(t)) })
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeInChunks writes data in chunks of varying sizes, as a stream does.
func writeInChunks(t testing.TB, w io.Writer, data []byte) {
	t.Helper()
	for i, off := 1, 0; off < len(data); i++ {
		n := min(len(data)-off, (i*7919)%(1<<20)+1)
		if _, err := w.Write(data[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
}

func TestContractRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		// Empty, smaller than a part, and several parts with a short last one.
		for _, size := range []int{0, 1000, 2*MinS3PartSize + 12345} {
			data := randomBytes(size, uint64(size))
			key := fmt.Sprintf("packages/p%d/content", size)
			w, err := s.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			writeInChunks(t, w, data)
			if w.Size() != int64(size) {
				t.Fatalf("Size %d, want %d", w.Size(), size)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("visible before Commit: %v", err)
			}
			if err := w.Commit(ctx, key); err != nil {
				t.Fatal(err)
			}
			w.Abort() // does nothing after Commit
			info, err := s.Stat(ctx, key)
			if err != nil || info.Size != int64(size) || info.Key != key {
				t.Fatalf("Stat: %+v %v", info, err)
			}
			o, err := s.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(o)
			if err != nil || !bytes.Equal(got, data) || o.Size() != int64(size) {
				t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
			}
			checkRandomAccess(t, o, data)
			o.Close()
		}
	})
}

// checkRandomAccess reads o at random offsets with ReadAt and Seek+Read.
func checkRandomAccess(t *testing.T, o Object, data []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(len(data)), 3))
	for range 20 {
		if len(data) == 0 {
			break
		}
		off := r.IntN(len(data))
		n := min(r.IntN(3*s3ReadAtBlock/2)+1, len(data)-off)
		p := make([]byte, n)
		if k, err := o.ReadAt(p, int64(off)); k != n || (err != nil && err != io.EOF) || !bytes.Equal(p, data[off:off+n]) {
			t.Fatalf("ReadAt(%d bytes at %d): %d, %v", n, off, k, err)
		}
		if _, err := o.Seek(int64(off), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(o, p); err != nil || !bytes.Equal(p, data[off:off+n]) {
			t.Fatalf("Seek(%d)+Read(%d): %v", off, n, err)
		}
	}
	p := make([]byte, 10)
	if k, err := o.ReadAt(p, int64(len(data))); k != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d %v", k, err)
	}
	if k, err := o.ReadAt(p, int64(len(data))-3); len(data) >= 3 && (k != 3 || err != io.EOF) {
		t.Fatalf("ReadAt across the end: %d %v", k, err)
	}
}

func TestContractAbortAndErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		writeInChunks(t, w, randomBytes(MinS3PartSize+10, 1)) // one part sent
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("second Abort: %v", err)
		}
		if err := w.Commit(ctx, "a/b"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Commit after Abort: %v", err)
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after Abort: %v", err)
		}
		if _, err := s.Stat(ctx, "a/b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat of an aborted object: %v", err)
		}
		if _, err := s.Open(ctx, "a/b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Open of a missing object: %v", err)
		}
		if err := s.Delete(ctx, "a/b"); err != nil {
			t.Fatalf("Delete of a missing object: %v", err)
		}
		if tc, ok := s.(TempCleaner); ok {
			if n, err := tc.CleanTemp(ctx); err != nil || n != 0 {
				t.Fatalf("CleanTemp after Abort: %d %v", n, err)
			}
		}
		for _, key := range []string{"../x", "/a", "a//b", ".tmp/x", "a b", ""} {
			w, _ := s.Create(ctx)
			if err := w.Commit(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Commit(%q): %v", key, err)
			}
			w.Abort()
			if _, err := s.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q): %v", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q): %v", key, err)
			}
		}
		w, _ = s.Create(ctx)
		w.Write([]byte("x"))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := w.Commit(cctx, "c"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Commit with a canceled context: %v", err)
		}
		w.Abort()
		if _, err := s.Stat(ctx, "c"); !errors.Is(err, ErrNotFound) {
			t.Fatal("committed despite a canceled context")
		}
	})
}

func TestContractReplaceListDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		put(t, s, "k/v", []byte("old content"))
		put(t, s, "k/v", []byte("new"))
		o, err := s.Open(ctx, "k/v")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(o)
		o.Close()
		if string(got) != "new" {
			t.Fatalf("after replace: %q", got)
		}
		for _, k := range []string{"a/b", "a/c", "ab/d"} {
			put(t, s, k, []byte(k))
		}
		// An upload in progress is not an object.
		w, _ := s.Create(ctx)
		writeInChunks(t, w, randomBytes(MinS3PartSize+1, 2))
		defer w.Abort()
		list := func(prefix string) string {
			var keys []string
			if err := s.List(ctx, prefix, func(i Info) error { keys = append(keys, i.Key+":"+strconv.FormatInt(i.Size, 10)); return nil }); err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			return strings.Join(keys, ",")
		}
		if got := list("a/"); got != "a/b:3,a/c:3" {
			t.Fatalf("List(a/): %s", got)
		}
		if got := list(""); got != "a/b:3,a/c:3,ab/d:4,k/v:3" {
			t.Fatalf("List(): %s", got)
		}
		if err := s.Delete(ctx, "a/b"); err != nil {
			t.Fatal(err)
		}
		if got := list("a"); got != "a/c:3,ab/d:4" {
			t.Fatalf("List(a) after Delete: %s", got)
		}
	})
}

// TestContractZipMember reads a member of a stored zip through ReadAt, as
// the package reader does: on S3 only the central directory and the
// member are fetched, not the whole object.
func TestContractZipMember(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	big, _ := zw.CreateHeader(&zip.FileHeader{Name: "images/disk.img", Method: zip.Store})
	big.Write(randomBytes(8<<20, 9))
	small, _ := zw.Create("Definitions/vnfd.yaml")
	small.Write([]byte("tosca_definitions_version: tosca_simple_yaml_1_3\n"))
	zw.Close()
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		put(t, s, "pkg/content", buf.Bytes())
		o, err := s.Open(ctx, "pkg/content")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		zr, err := zip.NewReader(o, o.Size())
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open("Definitions/vnfd.yaml")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(f)
		if !strings.HasPrefix(string(got), "tosca_definitions_version") {
			t.Fatalf("member: %q", got)
		}
		if so, ok := o.(*s3Object); ok && so.fetched.Load() > 2*s3ReadAtBlock {
			t.Fatalf("fetched %d bytes of a %d-byte zip to read a small member", so.fetched.Load(), o.Size())
		}
	})
}

// TestS3CleanTemp: an upload whose writer died (no part for StaleUpload)
// is aborted, and a temporary object a crash left between completion and
// copy is removed; a live upload is left alone.
func TestS3CleanTemp(t *testing.T) {
	ctx := context.Background()
	srv := testenv.VersityGW(t)
	s := s3On(t, srv, "bkt", MinS3PartSize)
	dead, _ := s.Create(ctx)
	writeInChunks(t, dead, randomBytes(MinS3PartSize+1, 4)) // then "dies": never committed
	leftover := s.tmpPrefix() + "crashed-after-complete"
	if _, err := s.client.PutObject(ctx, "bkt", leftover, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CleanTemp(ctx); err != nil || n != 0 {
		t.Fatalf("CleanTemp with fresh uploads: %d %v", n, err)
	}
	stale := *s
	stale.cfg.StaleUpload = time.Nanosecond
	time.Sleep(1100 * time.Millisecond) // S3 times have a second's resolution
	if n, err := stale.CleanTemp(ctx); err != nil || n != 2 {
		t.Fatalf("CleanTemp with stale uploads: %d %v, want 2", n, err)
	}
	if err := dead.Commit(ctx, "late"); err == nil {
		t.Fatal("a writer whose upload was cleaned committed")
	}
	dead.Abort()
	var left []string
	for up := range s.client.ListIncompleteUploads(ctx, "bkt", "", true) {
		left = append(left, up.Key)
	}
	for oi := range s.client.ListObjects(ctx, "bkt", minio.ListObjectsOptions{Recursive: true}) {
		left = append(left, oi.Key)
	}
	if len(left) != 0 {
		t.Fatalf("left in the bucket: %v", left)
	}
}

func TestParseS3URL(t *testing.T) {
	c, err := ParseS3URL("s3://bkt/a/b?endpoint=http://127.0.0.1:9000&region=eu-west-1")
	if err != nil || c.Bucket != "bkt" || c.Prefix != "a/b" || c.Endpoint != "http://127.0.0.1:9000" || c.Region != "eu-west-1" || !c.PathStyle {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := ParseS3URL("s3://bkt?endpoint=https://s3.example:443&path-style=false"); err != nil || c.PathStyle || c.Prefix != "" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{
		"s3:///x", "http://bkt/x", "s3://bkt/x?endpoint=ftp://h", "s3://bkt/x?endpoint=h:9000",
		"s3://bkt/x?partsize=5", "s3://bkt/../x", "s3://key:secret@bkt/x", "s3://bkt/x?path-style=maybe",
	} {
		if _, err := ParseS3URL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the secret: %v", bad, err)
		}
	}
}

// TestS3UploadMemory uploads a blob of 32 part sizes through a child
// process and bounds its peak RSS: the writer holds one part, whatever
// the size.
func TestS3UploadMemory(t *testing.T) {
	if os.Getenv("VNFPKGM_S3_CHILD") != "" {
		t.Skip("the parent")
	}
	srv := testenv.VersityGW(t)
	s3On(t, srv, "mem", MinS3PartSize) // creates the bucket
	const size = 32 * MinS3PartSize
	rss, out := testenv.RunChild(t, "TestS3UploadMemoryChild",
		"VNFPKGM_S3_CHILD="+srv.Endpoint, "AWS_ACCESS_KEY_ID="+srv.Access, "AWS_SECRET_ACCESS_KEY="+srv.Secret,
		"VNFPKGM_S3_SIZE="+strconv.Itoa(size))
	t.Logf("peak RSS %d MiB uploading and reading back %d MiB with %d MiB parts", rss>>20, size>>20, MinS3PartSize>>20)
	if !strings.Contains(string(out), "uploaded") {
		t.Fatalf("child: %s", out)
	}
	if rss > 64<<20 {
		t.Fatalf("peak RSS %d MiB for a %d MiB blob", rss>>20, size>>20)
	}
}

func TestS3UploadMemoryChild(t *testing.T) {
	endpoint := os.Getenv("VNFPKGM_S3_CHILD")
	if endpoint == "" {
		t.Skip("run by TestS3UploadMemory")
	}
	size, _ := strconv.ParseInt(os.Getenv("VNFPKGM_S3_SIZE"), 10, 64)
	ctx := context.Background()
	cfg, err := ParseS3URL("s3://mem/x?endpoint=" + endpoint) // credentials from AWS_* variables
	if err != nil {
		t.Fatal(err)
	}
	cfg.PartSize = MinS3PartSize
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	zerosRoundTrip(t, s, "big", size)
	fmt.Println("uploaded", size)
}

// zerosRoundTrip streams size zero bytes into key and reads them back,
// holding neither.
func zerosRoundTrip(t testing.TB, s Store, key string, size int64) {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := io.Copy(w, &zeroReader{n: size}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, o)
	o.Close()
	if err != nil || n != size {
		t.Fatal(n, err)
	}
}
