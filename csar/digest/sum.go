package digest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Want asks for one digest. Expected may be empty: then the digest is only
// computed.
type Want struct {
	Algorithm string // any spelling Lookup accepts
	Expected  string // hex, any case; for SHAKE its length sets the output length
}

// Result is the outcome of one Want.
type Result struct {
	Algorithm Algorithm
	Hex       string // lowercase hex digest
	Match     bool   // Hex equals Want.Expected; false if Expected was empty
}

// ErrFinished is returned by [Multi.Write] after [Multi.Results].
var ErrFinished = errors.New("digest: write after Results")

// plan is a validated list of Wants: one running hash per distinct algorithm.
type plan struct {
	algs    []Algorithm // distinct algorithms, in order of first appearance
	sizes   []int       // output size per distinct algorithm: the largest any Want needs
	hashers []hasher    // one per distinct algorithm
	wants   []planned   // one per Want, in order
}

type planned struct {
	idx      int // into algs
	size     int // output bytes this Want reads (a prefix for SHAKE)
	expected string
}

// newPlan validates wants before anything is read. Two Wants of one algorithm
// share one hash; for SHAKE the longest requested output is computed and
// shorter ones are its prefixes (SHAKE output of n bytes is a prefix of any
// longer output).
func newPlan(wants []Want) (*plan, error) {
	p := &plan{wants: make([]planned, 0, len(wants))}
	var index [len(registry)]int // id -> idx+1
	for _, w := range wants {
		a, ok := Lookup(w.Algorithm)
		if !ok {
			return nil, &UnknownAlgorithmError{Name: w.Algorithm}
		}
		size, err := outputSize(a, w.Expected)
		if err != nil {
			return nil, err
		}
		i := index[a.id] - 1
		if i < 0 {
			i = len(p.algs)
			index[a.id] = i + 1
			p.algs = append(p.algs, a)
			p.sizes = append(p.sizes, size)
		} else if size > p.sizes[i] {
			p.sizes[i] = size
		}
		p.wants = append(p.wants, planned{idx: i, size: size, expected: w.Expected})
	}
	p.hashers = make([]hasher, len(p.algs))
	for i, a := range p.algs {
		p.hashers[i] = registry[a.id].newHasher()
	}
	return p, nil
}

// outputSize checks an expected value against a and returns the number of
// output bytes it calls for.
func outputSize(a Algorithm, expected string) (int, error) {
	if expected == "" {
		return a.DefaultSize(), nil
	}
	bad := func(format string, args ...any) error {
		return &MalformedHashError{Algorithm: a.Name, Hash: expected, Reason: fmt.Sprintf(format, args...)}
	}
	for i := 0; i < len(expected); i++ {
		if _, ok := unhex(expected[i]); !ok {
			r, _ := utf8.DecodeRuneInString(expected[i:])
			return 0, bad("%q at offset %d is not a hex digit", r, i)
		}
	}
	n := len(expected)
	switch {
	case n%2 != 0:
		return 0, bad("odd number of hex digits (%d)", n)
	case a.Size != 0 && n != 2*a.Size:
		return 0, bad("%d hex digits, want %d", n, 2*a.Size)
	case a.Size == 0 && n > 2*MaxExtendableSize:
		return 0, bad("%d hex digits, at most %d", n, 2*MaxExtendableSize)
	}
	return n / 2, nil
}

// results finishes every hash; it is called once.
func (p *plan) results() []Result {
	sums := make([][]byte, len(p.hashers))
	for i, h := range p.hashers {
		sums[i] = h.sum(p.sizes[i])
	}
	out := make([]Result, len(p.wants))
	for i, w := range p.wants {
		x := hex.EncodeToString(sums[w.idx][:w.size])
		out[i] = Result{Algorithm: p.algs[w.idx], Hex: x, Match: w.expected != "" && Equal(x, w.expected)}
	}
	return out
}

// Multi is an io.Writer that feeds every byte written to the hashes of a
// list of Wants, one after the other in the writing goroutine. It suits a
// stream that is being copied elsewhere anyway (io.MultiWriter, io.TeeReader);
// to hash a reader, [Sum] is faster as it hashes several algorithms in
// parallel.
type Multi struct {
	p       *plan
	n       int64
	results []Result
}

// NewMulti validates wants as [Sum] does.
func NewMulti(wants []Want) (*Multi, error) {
	p, err := newPlan(wants)
	if err != nil {
		return nil, err
	}
	return &Multi{p: p}, nil
}

// Write hashes p. It fails only after Results, with ErrFinished.
func (m *Multi) Write(p []byte) (int, error) {
	if m.results != nil {
		return 0, ErrFinished
	}
	for _, h := range m.p.hashers {
		h.Write(p)
	}
	m.n += int64(len(p))
	return len(p), nil
}

// Count returns the number of bytes written.
func (m *Multi) Count() int64 { return m.n }

// Results finishes the hashes and returns one Result per Want, in order.
// Later calls return the same results.
func (m *Multi) Results() []Result {
	if m.results == nil {
		m.results = m.p.results()
	}
	return m.results
}

// Sum reads r to EOF once and computes every wanted digest, returning one
// Result per Want, in order, and the number of bytes read.
//
// Unknown algorithm names (*UnknownAlgorithmError) and expected values that
// do not fit their algorithm (*MalformedHashError) are reported before any
// byte is read. Two Wants with the same algorithm are computed once. A read
// error or the cancellation of ctx (checked between chunks) stops Sum; it
// then returns no results, the bytes read so far and the error (ctx.Err()
// itself, or the read error wrapped).
//
// No wants at all is allowed: Sum then only counts the bytes.
func Sum(ctx context.Context, r io.Reader, wants []Want) ([]Result, int64, error) {
	p, err := newPlan(wants)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if len(p.hashers) <= 1 {
		n, err = sumSerial(ctx, r, p.hashers)
	} else {
		n, err = sumParallel(ctx, r, p.hashers)
	}
	if err != nil {
		return nil, n, err
	}
	return p.results(), n, nil
}

// chunkSize is the size of one read. Large reads matter: with 1 MiB the
// per-read overhead (syscall, channel hand-off) is negligible next to the
// hashing, while the ring below stays at a few MiB.
const chunkSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// maxEmptyReads bounds the consecutive (0, nil) reads fill tolerates.
const maxEmptyReads = 100

// fill reads into buf until it is full or r fails; it returns io.EOF only
// together with the last bytes, or alone at the end.
func fill(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		if m < 0 || m > len(buf)-n {
			return n, fmt.Errorf("digest: reader returned invalid count %d", m)
		}
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty >= maxEmptyReads {
				return n, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return n, nil
}

func readErr(err error) error { return fmt.Errorf("digest: reading stream: %w", err) }

// sumSerial hashes in the reading goroutine: with one algorithm there is
// nothing to run in parallel, and handing chunks to another goroutine only
// adds synchronisation.
func sumSerial(ctx context.Context, r io.Reader, hs []hasher) (int64, error) {
	if sr, ok := r.(SliceReader); ok {
		// The reader hands out its own buffer: hash it in place rather
		// than copy it into ours.
		n, err := sr.WriteSlicesTo(&serialWriter{ctx: ctx, hs: hs})
		switch {
		case err == nil:
			return n, nil
		case err == ctx.Err():
			return n, err
		default:
			return n, readErr(err)
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := fill(r, buf)
		total += int64(n)
		for _, h := range hs {
			h.Write(buf[:n])
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, readErr(err)
		}
	}
}

// SliceReader is a reader that can also hand its bytes to a writer as
// slices of its own buffer, which Sum then hashes in place instead of
// copying them into its chunk buffer (with one algorithm; the parallel
// ring needs its own chunks). It is an interface of its own, not
// io.WriterTo: an *os.File's WriteTo would copy through 32 KiB reads.
type SliceReader interface {
	io.Reader
	// WriteSlicesTo writes the rest of the stream to w, which must not
	// keep the slices, and returns the byte count and the first error.
	WriteSlicesTo(w io.Writer) (int64, error)
}

// serialWriter feeds every hasher what is written to it, checking ctx
// between writes as sumSerial does between chunks.
type serialWriter struct {
	ctx context.Context
	hs  []hasher
}

func (w *serialWriter) Write(b []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	for _, h := range w.hs {
		h.Write(b)
	}
	return len(b), nil
}

// ringSize is the number of chunks in flight in sumParallel.
const ringSize = 4

type chunk struct {
	bp   *[]byte
	n    int
	refs atomic.Int32 // hashers yet to consume the chunk
}

// sumParallel runs one goroutine per algorithm, each draining its own queue
// of chunks, while the calling goroutine reads into a ring of ringSize
// pooled chunks. A chunk goes back to the free list once every hasher has
// consumed it. Reading thus overlaps hashing and a fast hash may run up to
// ringSize chunks ahead of a slow one instead of idling at a per-chunk
// barrier, so on two cores SHA-256+SHA-512+sha3_512 run at close to the
// speed of sha3_512 alone.
//
// Measured on 2 idle cores (AMD EPYC, 64 MiB in memory), against a
// double-buffered barrier (every hasher finishes chunk k before chunk k+1
// is handed out, the next chunk being read meanwhile):
//
//	                          ring       barrier    sequential (Multi)
//	SHA-256+SHA-512           ~760 MB/s  ~610 MB/s
//	SHA-512+md5+blake2b       ~530 MB/s  ~420 MB/s
//	SHA-256+SHA-512+sha3_512  ~218 MB/s  ~209 MB/s  ~157 MB/s
//
// The ring reaches the bound (the slowest hash alone, or the total work
// spread over two cores); ring sizes 2, 4 and 8 measured the same. For one
// algorithm, the ring was within noise (~2%) of hashing in the reading
// goroutine, so sumSerial stays the simpler code.
func sumParallel(ctx context.Context, r io.Reader, hs []hasher) (total int64, err error) {
	free := make(chan *chunk, ringSize)
	for range ringSize {
		free <- &chunk{bp: bufPool.Get().(*[]byte)}
	}
	var abort atomic.Bool // set on error: hashers skip what is queued
	var wg sync.WaitGroup
	queues := make([]chan *chunk, len(hs))
	for i, h := range hs {
		// Capacity ringSize: sends never block, as only ringSize chunks exist.
		q := make(chan *chunk, ringSize)
		queues[i] = q
		wg.Go(func() {
			for c := range q {
				if !abort.Load() {
					h.Write((*c.bp)[:c.n])
				}
				if c.refs.Add(-1) == 0 {
					free <- c
				}
			}
		})
	}
	defer func() {
		if err != nil {
			abort.Store(true)
		}
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
		for range ringSize {
			bufPool.Put((<-free).bp)
		}
	}()

	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return total, ctx.Err()
		}
		n, rerr := fill(r, *c.bp)
		total += int64(n)
		if n > 0 {
			c.n = n
			c.refs.Store(int32(len(hs)))
			for _, q := range queues {
				q <- c
			}
		} else {
			free <- c
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, readErr(rerr)
		}
	}
}

// Validate checks a Want without hashing anything: the algorithm must be
// known and Expected, when set, must be a digest of its length.
func Validate(w Want) error {
	a, ok := Lookup(w.Algorithm)
	if !ok {
		return &UnknownAlgorithmError{Name: w.Algorithm}
	}
	_, err := outputSize(a, w.Expected)
	return err
}
