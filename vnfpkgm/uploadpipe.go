package vnfpkgm

import (
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// An upload streams through a ring of uploadRingChunks buffers of
// uploadChunkSize bytes, consecutive in one allocation. Each is filled
// once from the request body and then shared, without a copy, by the
// three consumers of the bytes: the package's SHA-256 and the blob writer
// (both in the reading goroutine) and the stream digester (its parsing
// goroutine, csar.StreamDigester.WriteShared), the bottleneck with its
// SHA-512 or other member digests. The ring is used in order, so a buffer
// is filled again once all three are done with it.
//
// Choices, each measured on a 1 GiB upload (BenchmarkUploadOnboard1GiB):
//   - Whole 1 MiB chunks: a socket read returns what has arrived, often
//     64 KiB or less, and handing each read on cost sixteen or more
//     goroutine wake-ups per MiB where one does.
//   - Sharing instead of copying to the hash and to the digester: two
//     passes fewer over every byte.
//   - The SHA-256 in the reading goroutine rather than in one of its own:
//     three busy goroutines on two cores switched far more (0.05 CPU-s).
//   - The blob written uploadWriteChunks chunks at a time, one contiguous
//     run of the ring: a direct write blocks in the kernel until the device
//     has the data, and each blocking system call lets the scheduler hand
//     the goroutine's processor to another thread and take one back after;
//     1,024 such round trips per GiB cost about 0.2 CPU-s.
const (
	uploadChunkSize   = 1 << 20
	uploadRingChunks  = 4
	uploadWriteChunks = 2 // divides uploadRingChunks: a run never wraps
)

// uploadSlabs keeps the rings of finished uploads for the next ones: a
// fresh ring per upload was garbage the heap grew by before the next
// collection, a few MiB of peak RSS on a server doing nothing else.
var uploadSlabs = sync.Pool{New: func() any {
	b := make([]byte, uploadRingChunks*uploadChunkSize)
	return &b
}}

// uploadChunk is one buffer of the ring.
type uploadChunk struct {
	buf  []byte
	refs atomic.Int32  // consumers yet to finish with the chunk
	free chan struct{} // holds a token while the chunk is free
	// release is done, in the form the digester calls back.
	release func([]byte)
}

func (c *uploadChunk) done() {
	if c.refs.Add(-1) == 0 {
		c.free <- struct{}{}
	}
}

// streamUpload copies src to blob while h hashes the same bytes and dg
// digests them. It returns the bytes written to blob, the sum of h, and
// the first error of src or blob; after an error the hash and the
// digester saw a prefix only, and the caller discards all three.
func streamUpload(blob io.Writer, src io.Reader, h hash.Hash, dg *csar.StreamDigester) (n int64, sum []byte, err error) {
	slabp := uploadSlabs.Get().(*[]byte)
	slab := *slabp
	ring := make([]*uploadChunk, uploadRingChunks)
	for i := range ring {
		c := &uploadChunk{buf: slab[i*uploadChunkSize : (i+1)*uploadChunkSize : (i+1)*uploadChunkSize], free: make(chan struct{}, 1)}
		c.release = func([]byte) { c.done() }
		c.free <- struct{}{}
		ring[i] = c
	}
	// pending is the run of chunks read and not yet written: ring[first:
	// first+count], the last one holding last bytes.
	first, count, last := 0, 0, 0
	flush := func() error {
		if count == 0 {
			return nil
		}
		run := ring[first : first+count]
		// One write for the run, except a short last chunk (the end of
		// the body), written on its own: the direct writer writes a
		// length that is not a multiple of the block size through its
		// own buffers, and would copy the whole run.
		end := first*uploadChunkSize + (count-1)*uploadChunkSize + last
		parts := [][]byte{slab[first*uploadChunkSize : end]}
		if last < uploadChunkSize && count > 1 {
			parts = [][]byte{slab[first*uploadChunkSize : end-last], slab[end-last : end]}
		}
		var werr error
		for _, p := range parts {
			var w int
			w, werr = blob.Write(p)
			n += int64(w)
			if werr != nil {
				break
			}
		}
		for _, c := range run {
			c.done()
		}
		first, count = (first+count)%uploadRingChunks, 0
		return werr
	}
	for i := 0; ; i = (i + 1) % uploadRingChunks {
		c := ring[i]
		<-c.free
		k, rerr := io.ReadFull(src, c.buf)
		if k == 0 {
			c.free <- struct{}{}
		} else {
			c.refs.Store(2) // the digester, and the blob writer in flush
			dg.WriteShared(c.buf[:k], c.release)
			h.Write(c.buf[:k])
			count, last = count+1, k
			if count == uploadWriteChunks || k < len(c.buf) {
				if err = flush(); err != nil {
					break
				}
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	if ferr := flush(); err == nil {
		err = ferr
	}
	// The slab goes back to the pool once the digester has released
	// every chunk (it parses or, having stopped, drains what it holds).
	for _, c := range ring {
		<-c.free
	}
	uploadSlabs.Put(slabp)
	return n, h.Sum(nil), err
}
