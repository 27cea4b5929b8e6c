package blob

// This file is the S3 driver: objects in a bucket of any S3-compatible
// service, through minio-go (github.com/minio/minio-go/v7). minio-go was
// chosen over aws-sdk-go-v2 for being one module instead of a dozen, and
// for having both what this driver needs directly: the low-level
// multipart calls (Core) and a server-side copy that switches to a
// multipart copy above 5 GiB (ComposeObject).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 part sizes: S3's limits on a multipart upload's parts (the last may
// be smaller) and how many there may be.
const (
	MinS3PartSize     = 5 << 20
	MaxS3PartSize     = 5 << 30
	DefaultS3PartSize = 16 << 20
	maxS3Parts        = 10000
)

// S3Config says where an S3 store keeps its objects and how it writes them.
type S3Config struct {
	Bucket string
	// Prefix is prepended (with a "/") to every key; "" for none.
	Prefix string
	// Endpoint is the service's URL (http:// or https://, host and port);
	// "" for AWS S3 in Region.
	Endpoint string
	Region   string
	// PathStyle addresses the bucket in the path (http://host/bucket/key)
	// rather than in the host name; the default with an Endpoint, which is
	// what most S3-compatible services expect.
	PathStyle bool
	// PartSize is the size of a multipart upload's parts, which is also
	// the memory a Writer holds (one part at a time).
	PartSize int64
	// StaleUpload is how long an unfinished upload may go without a new
	// part before CleanTemp takes it for one whose writer died.
	StaleUpload time.Duration
	// CredentialsFile is an AWS shared credentials file ("" for the
	// standard places: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then
	// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials), and Profile its
	// section ("" for AWS_PROFILE or "default").
	CredentialsFile, Profile string
}

// ParseS3URL reads s3://bucket/prefix?endpoint=URL&region=R&path-style=true|false.
// Anything else in the URL is refused rather than ignored. PartSize and
// StaleUpload get their defaults.
func ParseS3URL(s string) (S3Config, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fmt.Errorf("blob store %q: want s3://bucket/prefix?endpoint=...&region=...", s)
	}
	if u.User != nil || u.Fragment != "" {
		return S3Config{}, fmt.Errorf("blob store %q: credentials or a fragment do not belong in the URL (credentials come from the AWS variables or a credentials file)", u.Redacted())
	}
	c := S3Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), PartSize: DefaultS3PartSize, StaleUpload: time.Hour, Region: "us-east-1"}
	if c.Prefix != "" {
		if err := ValidKey(c.Prefix); err != nil {
			return S3Config{}, fmt.Errorf("blob store %q: prefix: %w", s, err)
		}
	}
	q := u.Query()
	for name, vs := range q {
		v := vs[len(vs)-1]
		switch name {
		case "endpoint":
			e, err := url.Parse(v)
			if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || (e.Path != "" && e.Path != "/") {
				return S3Config{}, fmt.Errorf("blob store %q: endpoint %q: want http(s)://host[:port]", s, v)
			}
			c.Endpoint = v
			c.PathStyle = true
		case "region":
			c.Region = v
		case "path-style":
			switch v {
			case "true":
				c.PathStyle = true
			case "false":
				c.PathStyle = false
			default:
				return S3Config{}, fmt.Errorf("blob store %q: path-style must be true or false", s)
			}
		default:
			return S3Config{}, fmt.Errorf("blob store %q: unknown parameter %q (endpoint, region, path-style)", s, name)
		}
	}
	if q.Has("path-style") && q.Get("path-style") == "false" {
		c.PathStyle = false
	}
	return c, nil
}

// S3 is a Store in an S3 bucket. Commit protocol: a Writer holds one part
// in memory; the first time it fills, a multipart upload starts under a
// temporary key (Prefix/.tmp/<uuid>, which no valid key can name) and
// the part goes up; Commit sends the last part, completes the upload and
// copies the temporary object to its key on the server side (one atomic
// PUT for the reader), then deletes the temporary object. An object that
// never filled a part goes up in one PUT to its key at Commit. A process
// that dies mid-write leaves an unfinished upload or a temporary object,
// which CleanTemp removes once stale.
type S3 struct {
	cfg    S3Config
	client *minio.Client
	core   minio.Core
}

// NewS3 connects to the bucket of cfg, which must exist.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.PartSize < MinS3PartSize || cfg.PartSize > MaxS3PartSize {
		return nil, fmt.Errorf("blob: S3 part size %d: must be between %d and %d bytes", cfg.PartSize, MinS3PartSize, int64(MaxS3PartSize))
	}
	if cfg.StaleUpload <= 0 {
		return nil, errors.New("blob: S3 stale upload age must be positive")
	}
	host, secure := "s3."+cfg.Region+".amazonaws.com", true
	if cfg.Region == "" {
		host = "s3.amazonaws.com"
	}
	if cfg.Endpoint != "" {
		e, err := url.Parse(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("blob: S3 endpoint: %w", err)
		}
		host, secure = e.Host, e.Scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        s3Credentials(cfg),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	s := &S3{cfg: cfg, client: client, core: minio.Core{Client: client}}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 bucket %s at %s: %w", cfg.Bucket, host, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: S3 bucket %s does not exist at %s", cfg.Bucket, host)
	}
	return s, nil
}

// s3Credentials: a named file, or the standard AWS chain (environment,
// then the shared credentials file). The secrets stay inside minio-go's
// signer: nothing here formats them.
func s3Credentials(cfg S3Config) *credentials.Credentials {
	if cfg.CredentialsFile != "" {
		return credentials.NewFileAWSCredentials(cfg.CredentialsFile, cfg.Profile)
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Profile: cfg.Profile},
	})
}

// Config is the store's configuration.
func (s *S3) Config() S3Config { return s.cfg }

func (s *S3) name(key string) string {
	if s.cfg.Prefix == "" {
		return key
	}
	return s.cfg.Prefix + "/" + key
}

// tmpPrefix is where uncommitted objects live: ".tmp" is not a valid key
// segment, so no key collides with it and List skips it.
func (s *S3) tmpPrefix() string { return s.name(".tmp") + "/" }

// s3Err maps S3's "no such key" to ErrNotFound.
func s3Err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("blob: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}

// Create starts a Writer; nothing is sent before a part is full.
func (s *S3) Create(ctx context.Context) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &s3Writer{s: s, tmp: s.tmpPrefix() + uuid.NewString(), buf: make([]byte, 0, s.cfg.PartSize)}, nil
}

type s3Writer struct {
	s        *S3
	tmp      string // the temporary object's name
	uploadID string // "" until the first part is sent
	parts    []minio.CompletePart
	buf      []byte // the part being filled
	n        int64
	done     bool
}

func (w *s3Writer) Size() int64 { return w.n }

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrClosed
	}
	written := 0
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, written, w.n = p[k:], written+k, w.n+int64(k)
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(context.Background()); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// flush sends the buffered bytes as the next part, starting the upload
// with the first.
func (w *s3Writer) flush(ctx context.Context) error {
	if len(w.parts) == maxS3Parts {
		return fmt.Errorf("blob: S3 object larger than %d parts of %d bytes: raise the part size", maxS3Parts, w.s.cfg.PartSize)
	}
	if w.uploadID == "" {
		id, err := w.s.core.NewMultipartUpload(ctx, w.s.cfg.Bucket, w.tmp, minio.PutObjectOptions{})
		if err != nil {
			return fmt.Errorf("blob: S3 start upload: %w", err)
		}
		w.uploadID = id
	}
	n := len(w.parts) + 1
	part, err := w.s.core.PutObjectPart(ctx, w.s.cfg.Bucket, w.tmp, w.uploadID, n,
		bytes.NewReader(w.buf), int64(len(w.buf)), minio.PutObjectPartOptions{})
	if err != nil {
		return fmt.Errorf("blob: S3 upload part %d: %w", n, err)
	}
	w.parts = append(w.parts, minio.CompletePart{PartNumber: n, ETag: part.ETag})
	w.buf = w.buf[:0]
	return nil
}

func (w *s3Writer) Commit(ctx context.Context, key string) error {
	if w.done {
		return ErrClosed
	}
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := w.s
	if w.uploadID == "" {
		// Smaller than a part: one PUT, visible whole or not at all.
		_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.name(key), bytes.NewReader(w.buf), int64(len(w.buf)),
			minio.PutObjectOptions{DisableMultipart: true})
		if err != nil {
			return fmt.Errorf("blob: S3 put %s: %w", key, err)
		}
		w.finish()
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, w.tmp, w.uploadID, w.parts, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("blob: S3 complete upload: %w", err)
	}
	w.uploadID = "" // completed: what is left to clean is the temporary object
	_, err := s.client.ComposeObject(ctx, minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: s.name(key)},
		minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: w.tmp})
	if err != nil {
		return fmt.Errorf("blob: S3 copy to %s: %w", key, err)
	}
	w.finish()
	return nil
}

// finish ends a committed writer: the temporary object goes (a failure
// leaves it to CleanTemp).
func (w *s3Writer) finish() {
	w.done = true
	w.buf = nil
	if len(w.parts) > 0 {
		w.s.client.RemoveObject(context.Background(), w.s.cfg.Bucket, w.tmp, minio.RemoveObjectOptions{})
	}
}

func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf = nil
	ctx := context.Background()
	if w.uploadID != "" {
		if err := w.s.core.AbortMultipartUpload(ctx, w.s.cfg.Bucket, w.tmp, w.uploadID); err != nil &&
			minio.ToErrorResponse(err).Code != "NoSuchUpload" {
			return fmt.Errorf("blob: S3 abort upload: %w", err)
		}
	}
	if len(w.parts) > 0 {
		// A Commit that failed after completing the upload left the
		// temporary object.
		if err := w.s.client.RemoveObject(ctx, w.s.cfg.Bucket, w.tmp, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("blob: S3 remove temporary object: %w", err)
		}
	}
	return nil
}

// Stat describes the object under key.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Err("stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete removes the object under key (S3's DELETE is idempotent).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	return s3Err("delete", key, s.client.RemoveObject(ctx, s.cfg.Bucket, s.name(key), minio.RemoveObjectOptions{}))
}

// List lists the objects under prefix, leaving out temporary ones.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	full := prefix
	if s.cfg.Prefix != "" {
		full = s.cfg.Prefix + "/" + prefix
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when fn stops early
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: full, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("blob: S3 list %s: %w", prefix, oi.Err)
		}
		key := oi.Key
		if s.cfg.Prefix != "" {
			key = strings.TrimPrefix(key, s.cfg.Prefix+"/")
		}
		if ValidKey(key) != nil {
			continue // a temporary object, or one not written through a Store
		}
		if err := fn(Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

// CleanTemp aborts the unfinished uploads and removes the temporary
// objects whose writer is gone: nothing sent to them for StaleUpload (a
// live writer sends a part at least every part size of its input, and the
// server cuts an upload that stalls long before). It compares the
// service's timestamps with this host's clock, so StaleUpload must exceed
// any clock skew by far.
func (s *S3) CleanTemp(ctx context.Context) (int, error) {
	cutoff := time.Now().Add(-s.cfg.StaleUpload)
	removed := 0
	for up := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, s.tmpPrefix(), true) {
		if up.Err != nil {
			return removed, fmt.Errorf("blob: S3 list uploads: %w", up.Err)
		}
		last, err := s.lastActivity(ctx, up)
		if err != nil {
			return removed, err
		}
		if last.After(cutoff) {
			continue
		}
		err = s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, up.Key, up.UploadID)
		if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
			return removed, fmt.Errorf("blob: S3 abort stale upload: %w", err)
		}
		removed++
	}
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.tmpPrefix(), Recursive: true}) {
		if oi.Err != nil {
			return removed, fmt.Errorf("blob: S3 list temporary objects: %w", oi.Err)
		}
		if oi.LastModified.After(cutoff) {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, oi.Key, minio.RemoveObjectOptions{}); err != nil {
			return removed, fmt.Errorf("blob: S3 remove stale temporary object: %w", err)
		}
		removed++
	}
	return removed, nil
}

// lastActivity is when up last received a part (or started).
func (s *S3) lastActivity(ctx context.Context, up minio.ObjectMultipartInfo) (time.Time, error) {
	last := up.Initiated
	marker := 0
	for {
		res, err := s.core.ListObjectParts(ctx, s.cfg.Bucket, up.Key, up.UploadID, marker, 1000)
		if err != nil {
			if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
				return time.Now(), nil // finished meanwhile: not ours to clean
			}
			return time.Time{}, fmt.Errorf("blob: S3 list parts: %w", err)
		}
		for _, p := range res.ObjectParts {
			if p.LastModified.After(last) {
				last = p.LastModified
			}
		}
		if !res.IsTruncated {
			return last, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// Open opens the object under key. Reads are ranged GETs conditioned on
// the ETag seen at Open: if the object is replaced meanwhile, reads fail
// rather than mix two contents (S3 cannot keep the old one readable, as a
// file system does). Read streams one GET from the current offset;
// ReadAt fetches blocks of s3ReadAtBlock and keeps the last one, so the
// small reads of a zip's central directory and of a member cost one
// request per block, not per call.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return nil, s3Err("open", key, err)
	}
	return &s3Object{s: s, key: key, name: s.name(key), size: oi.Size, mod: oi.LastModified, etag: oi.ETag}, nil
}

// s3ReadAtBlock is the unit ReadAt fetches (and the memory it holds).
const s3ReadAtBlock = 1 << 20

type s3Object struct {
	s          *S3
	key, name  string
	size       int64
	mod        time.Time
	etag       string
	off        int64         // Read's offset
	body       io.ReadCloser // Read's open GET, from bodyOff
	bodyOff    int64
	mu         sync.Mutex // guards block
	block      []byte
	blockStart int64
	fetched    atomic.Int64 // bytes ReadAt fetched, for tests
}

func (o *s3Object) Size() int64        { return o.size }
func (o *s3Object) ModTime() time.Time { return o.mod }

// get opens a GET of [start, end] (inclusive; end < 0: to the end).
func (o *s3Object) get(start, end int64) (io.ReadCloser, error) {
	var opts minio.GetObjectOptions
	if err := opts.SetMatchETag(o.etag); err != nil {
		return nil, err
	}
	if end >= 0 {
		if err := opts.SetRange(start, end); err != nil {
			return nil, err
		}
	} else if start > 0 {
		if err := opts.SetRange(start, 0); err != nil {
			return nil, err
		}
	}
	body, _, _, err := o.s.core.GetObject(context.Background(), o.s.cfg.Bucket, o.name, opts)
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusPreconditionFailed {
			return nil, fmt.Errorf("blob: %s was replaced while open", o.key)
		}
		return nil, s3Err("read", o.key, err)
	}
	return body, nil
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.body == nil || o.bodyOff != o.off {
		o.closeBody()
		body, err := o.get(o.off, -1)
		if err != nil {
			return 0, err
		}
		o.body, o.bodyOff = body, o.off
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	o.bodyOff += int64(n)
	if err == io.EOF && o.off < o.size {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		o.closeBody()
	}
	return n, err
}

func (o *s3Object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("blob: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("blob: negative position")
	}
	o.off = offset // a GET from the old position is dropped at the next Read
	return offset, nil
}

func (o *s3Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob: negative offset")
	}
	n := 0
	for n < len(p) {
		if off+int64(n) >= o.size {
			return n, io.EOF
		}
		k, err := o.readAtOnce(p[n:], off+int64(n))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readAtOnce serves what it can of p at off from the kept block, fetching
// the block at off first if needed; a read larger than a block bypasses it.
func (o *s3Object) readAtOnce(p []byte, off int64) (int, error) {
	if len(p) >= s3ReadAtBlock {
		end := min(off+int64(len(p)), o.size) - 1
		return o.fetch(p[:end-off+1], off)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if off < o.blockStart || off >= o.blockStart+int64(len(o.block)) {
		end := min(off+s3ReadAtBlock, o.size)
		if o.block == nil {
			o.block = make([]byte, s3ReadAtBlock)
		}
		b := o.block[:end-off]
		if _, err := o.fetch(b, off); err != nil {
			o.block = o.block[:0]
			return 0, err
		}
		o.block, o.blockStart = b, off
	}
	return copy(p, o.block[off-o.blockStart:]), nil
}

// fetch reads exactly len(p) bytes at off with one ranged GET.
func (o *s3Object) fetch(p []byte, off int64) (int, error) {
	body, err := o.get(off, off+int64(len(p))-1)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	o.fetched.Add(int64(n))
	if err != nil {
		return n, fmt.Errorf("blob: read %s: %w", o.key, err)
	}
	return n, nil
}

func (o *s3Object) Close() error {
	o.closeBody()
	o.mu.Lock()
	o.block = nil
	o.mu.Unlock()
	return nil
}
