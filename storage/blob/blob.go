// Package blob stores opaque byte objects (VNF package archives, possibly
// many GiB) under caller-chosen keys.
//
// The Store interface is what the rest of the server uses, with two
// implementations: a directory (NewFS, fs.go) and a bucket of an
// S3-compatible service (NewS3, s3.go). Its contract, which the contract
// tests (s3_test.go, TestContract*) hold both to:
//
//   - An object becomes visible only when Writer.Commit returns nil, and then
//     completely: readers never see a partly written object, and after a
//     crash an object either exists whole or does not exist at all.
//   - Commit replaces an existing object under the same key (as a rename or
//     an S3 PUT does). Readers that opened the old object keep reading it
//     on a filesystem; on S3 their reads fail (never mixing two contents).
//     Callers that want objects to be immutable choose a new key for every
//     write (for example with a random suffix); this also makes concurrent
//     clean-up safe, since a key, once unreferenced, is never written again.
//   - Delete is idempotent.
//   - Nothing assumes a single process: several processes (or hosts sharing
//     the directory) may write, read and delete concurrently.
//   - Memory use is independent of object size.
//
// Keys are slash-separated paths such as "packages/<id>/content": see
// ValidKey for the rules.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

var (
	// ErrNotFound is returned (wrapped) when a key has no object.
	ErrNotFound = errors.New("blob: object not found")
	// ErrInvalidKey is returned (wrapped) for a key or prefix ValidKey refuses.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrClosed is returned when a Writer is used after Commit or Abort.
	ErrClosed = errors.New("blob: writer already committed or aborted")
	// ErrKeyConflict is returned when a key cannot be stored because it
	// collides with the path structure of another key (on a filesystem,
	// "a/b" cannot be an object when "a/b/c" is one).
	ErrKeyConflict = errors.New("blob: key conflicts with an existing key")
)

// Store is a blob store. Implementations are safe for concurrent use.
type Store interface {
	// Create starts a new object. Nothing is visible under any key until
	// the Writer is committed.
	Create(ctx context.Context) (Writer, error)
	// Open opens the object stored under key for reading.
	Open(ctx context.Context, key string) (Object, error)
	// Stat describes the object stored under key.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object under key. Deleting a missing object is
	// not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in no
	// particular order. An empty prefix lists everything. If fn returns an
	// error the listing stops and List returns that error. fn may delete
	// the object it is given; objects created or deleted during the listing
	// may or may not be reported.
	List(ctx context.Context, prefix string, fn func(Info) error) error
}

// TempCleaner is implemented by stores that keep temporary state for
// uncommitted writers (temp files, incomplete multipart uploads).
type TempCleaner interface {
	// CleanTemp removes the temporary state of writers that are no longer
	// alive (their process died before Commit or Abort). It never removes
	// the state of a live writer. It returns how many items it removed.
	CleanTemp(ctx context.Context) (int, error)
}

// Writer receives the bytes of a new object. It is not safe for concurrent
// use. A Writer must end with exactly one successful Commit or with Abort;
// `defer w.Abort()` right after Create is the intended pattern, since Abort
// after Commit does nothing.
type Writer interface {
	io.Writer
	// Size is the number of bytes written so far.
	Size() int64
	// Commit makes the bytes written so far durable and visible under key,
	// atomically. After a failed Commit the Writer may be unusable; Abort
	// then releases what is left.
	Commit(ctx context.Context, key string) error
	// Abort discards the bytes written. It is idempotent and does nothing
	// after a successful Commit.
	Abort() error
}

// Object is an open stored object. Reads at any offset are allowed, and
// concurrent ReadAt calls are safe.
type Object interface {
	io.ReaderAt
	io.ReadSeeker
	io.Closer
	// Size is the object's length in bytes.
	Size() int64
	// ModTime is when the object was written.
	ModTime() time.Time
}

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Key limits.
const (
	MaxKeyLen     = 1024
	MaxSegmentLen = 255
)

// ValidKey reports whether key may name an object: one or more segments
// separated by single "/", each 1..255 bytes of [A-Za-z0-9._-] not starting
// with "." (which excludes "." and ".."), at most 1024 bytes in all. So no
// absolute keys, no empty segments, no backslashes, no NUL or control
// characters, nothing that could leave the store's directory. The rules are
// the same for every implementation, so a key valid on one store is valid on
// all. Keys are case-sensitive; on a case-insensitive filesystem two keys
// differing only by case would collide, so callers should use lower case.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validSegment(seg); err != nil {
			return fmt.Errorf("%w: %q: %s", ErrInvalidKey, key, err)
		}
	}
	return nil
}

// validPrefix accepts what List takes: "" or a prefix of a valid key.
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen {
		return fmt.Errorf("%w: prefix longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		if i == len(segs)-1 && seg == "" {
			break // a trailing slash
		}
		if err := validSegment(seg); err != nil {
			return fmt.Errorf("%w: prefix %q: %s", ErrInvalidKey, prefix, err)
		}
	}
	return nil
}

func validSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty segment (leading, trailing or doubled slash)")
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("segment longer than %d bytes", MaxSegmentLen)
	case seg[0] == '.':
		return errors.New(`segment starts with "."`)
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("byte %q not allowed (only A-Z a-z 0-9 . _ -)", c)
		}
	}
	return nil
}
