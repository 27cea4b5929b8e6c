package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// A download is verified by a running digest of the prefix of F.part that
// is complete: bytes are hashed in file order, once, as soon as every byte
// before them is on disk. A follower goroutine hashes what the connection
// (or the connections of a parallel download) have written, reading it
// back at once (from the page cache: the bytes were written an instant
// before), so that hashing runs beside the socket reads and file writes
// on another core, and never holds out-of-order data in memory. Only a
// body of unknown size is hashed in line, buffer by buffer. The digest's state is saved with F.part.state, so that
// --continue resumes the digest where it stopped instead of reading the
// partial file again.

// prefixHash is the digest of the bytes [0, pos) of a file.
type prefixHash struct {
	want *checksum

	mu  sync.Mutex
	pos int64
	// h is a hash whose state marshals (the SHA-2 family, which is what
	// SOL 004 packages declare); m, for the other algorithms the digest
	// package knows, cannot be saved and is computed again on resume.
	h hash.Hash
	m *digest.Multi
}

// newPrefixHash returns the digest of the checksum's algorithm at offset
// 0, or an error when the checksum cannot be checked.
func newPrefixHash(want *checksum) (*prefixHash, error) {
	ph := &prefixHash{want: want}
	if h := savableHash(want.Algorithm); h != nil {
		if _, err := hex.DecodeString(want.Hash); err != nil || len(want.Hash) != 2*h.Size() {
			return nil, fmt.Errorf("%s %q is not a %d-digit hex value", want.Algorithm, want.Hash, 2*h.Size())
		}
		ph.h = h
		return ph, nil
	}
	m, err := digest.NewMulti([]digest.Want{{Algorithm: want.Algorithm, Expected: want.Hash}})
	if err != nil {
		return nil, err
	}
	ph.m = m
	return ph, nil
}

// savableHash returns a new hash of the algorithm when its state can be
// saved (encoding.BinaryMarshaler), else nil.
func savableHash(algorithm string) hash.Hash {
	a, ok := digest.Lookup(algorithm)
	if !ok {
		return nil
	}
	switch a.Name {
	case "SHA-224":
		return sha256.New224()
	case "SHA-256":
		return sha256.New()
	case "SHA-384":
		return sha512.New384()
	case "SHA-512":
		return sha512.New()
	}
	return nil
}

// Write hashes the bytes that follow the prefix.
func (ph *prefixHash) Write(b []byte) (int, error) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	ph.write(b)
	return len(b), nil
}

func (ph *prefixHash) write(b []byte) {
	if ph.h != nil {
		ph.h.Write(b)
	} else {
		ph.m.Write(b)
	}
	ph.pos += int64(len(b))
}

// hashed is the length of the prefix hashed.
func (ph *prefixHash) hashed() int64 {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return ph.pos
}

// save records the digest's state in st (nothing when it cannot be saved).
func (ph *prefixHash) save(st *partState) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	st.Hashed, st.HashAlgorithm, st.HashState = 0, "", nil
	if ph.h == nil || ph.pos == 0 {
		return
	}
	b, err := ph.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return // the prefix is hashed again on resume
	}
	st.Hashed, st.HashAlgorithm, st.HashState = ph.pos, ph.want.Algorithm, b
}

// restore continues from the state st recorded, when it is one of this
// algorithm for at most the first limit bytes (what is known to be on
// disk). It reports whether it did; otherwise the digest stays at 0.
func (ph *prefixHash) restore(st *partState, limit int64) bool {
	if ph.h == nil || st.HashState == nil || st.Hashed <= 0 || st.Hashed > limit {
		return false
	}
	if a, ok := digest.Lookup(st.HashAlgorithm); !ok || a.Name != mustLookup(ph.want.Algorithm) {
		return false
	}
	h := savableHash(ph.want.Algorithm)
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.HashState); err != nil {
		return false
	}
	ph.mu.Lock()
	defer ph.mu.Unlock()
	ph.h, ph.pos = h, st.Hashed
	return true
}

func mustLookup(algorithm string) string {
	a, _ := digest.Lookup(algorithm)
	return a.Name
}

// result finishes the digest: its hex value and whether it matches.
func (ph *prefixHash) result() (hexSum string, match bool) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	if ph.h != nil {
		hexSum = hex.EncodeToString(ph.h.Sum(nil))
		return hexSum, digest.Equal(hexSum, ph.want.Hash)
	}
	r := ph.m.Results()[0]
	return r.Hex, r.Match
}

// catchUp hashes [pos, end) of f, reading it back, with a progress bar.
func (ph *prefixHash) catchUp(ctx context.Context, f *os.File, end int64, bar io.Writer) error {
	from := ph.hashed()
	if from >= end {
		return nil
	}
	_, err := io.Copy(io.MultiWriter(ph, bar), &ctxReader{ctx: ctx, r: io.NewSectionReader(f, from, end-from)})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return &localError{err}
	}
	return nil
}

// followBuffer is what the follower reads back at once: large enough for
// few system calls, small enough to stay in the CPU caches while hashed.
const followBuffer = 1 << 20

// segment is a part of the file in a parallel download: either on disk
// already (p nil) or a piece being fetched, on disk up to p.start+p.done.
type segment struct {
	start, end int64
	p          *piece
}

func (s segment) onDisk() int64 {
	if s.p == nil {
		return s.end
	}
	return s.p.start + s.p.done.Load()
}

// segments tiles [0, size) with the ranges already on disk and the pieces
// being fetched (which tile the holes), in file order.
func segments(have [][2]int64, pieces []*piece, size int64) []segment {
	var segs []segment
	for _, r := range merge(have) {
		if r[0] < size {
			segs = append(segs, segment{start: r[0], end: min(r[1], size)})
		}
	}
	for _, p := range pieces {
		segs = append(segs, segment{start: p.start, end: p.end, p: p})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.start, b.start) })
	return segs
}

// errStopped ends a follower whose download stopped before the end.
var errStopped = errors.New("the download stopped")

// wakeup is how the writers of the pieces wake the follower: only when it
// waits in their piece and there is a read's worth past where it waits
// (or the piece is complete), so that four connections writing do not
// wake it at each of their writes.
type wakeup struct {
	ch      chan struct{}
	waiting atomic.Int64 // the offset the follower waits at; -1 when it does not wait
}

func newWakeup() *wakeup {
	w := &wakeup{ch: make(chan struct{}, 1)}
	w.waiting.Store(-1)
	return w
}

// readable tells whether the follower at pos should read now rather than
// wait, with the segment on disk up to onDisk of end.
func readable(pos, onDisk, end int64) bool {
	return onDisk-pos >= followBuffer || (onDisk == end && onDisk > pos)
}

// wrote is called after each write of piece p.
func (w *wakeup) wrote(p *piece) {
	at := w.waiting.Load()
	if at < p.start || at >= p.end || !readable(at, p.start+p.done.Load(), p.end) {
		return
	}
	select {
	case w.ch <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// follow hashes f in file order as the segments reach the disk, until the
// digest covers size bytes. The pieces' writers call wu.wrote; stopped is
// closed when the connections have ended (then whatever is on disk is
// hashed and, short of size, errStopped returned). An interruption (ctx)
// stops it at once.
func (ph *prefixHash) follow(ctx context.Context, f *os.File, segs []segment, size int64, wu *wakeup, stopped <-chan struct{}) error {
	buf := make([]byte, followBuffer)
	i := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pos := ph.hashed()
		if pos >= size {
			return nil
		}
		for i < len(segs) && segs[i].end <= pos {
			i++
		}
		if i == len(segs) || segs[i].start > pos {
			return fmt.Errorf("internal error: no segment holds byte %d", pos)
		}
		seg := segs[i]
		if !readable(pos, seg.onDisk(), seg.end) && !closed(stopped) {
			// Say where it waits, then look again: a writer that wrote
			// in between sees where it waits and wakes it.
			wu.waiting.Store(pos)
			if !readable(pos, seg.onDisk(), seg.end) {
				select {
				case <-wu.ch:
				case <-stopped:
				case <-ctx.Done():
				}
			}
			wu.waiting.Store(-1)
			continue
		}
		avail := seg.onDisk()
		if avail <= pos {
			return errStopped // the connections ended; nothing more comes
		}
		n := int(min(avail-pos, int64(len(buf))))
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return &localError{err}
		}
		ph.Write(buf[:n])
	}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
