package csar

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"runtime"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// Precomputed is what a StreamDigester learned while an archive streamed
// in: per member, where its bytes were in the stream and the digests of
// its content. It is a hint, never a verdict: a digest is used at
// verification only when the member the archive's index (zip central
// directory, tar headers) describes is provably the one that streamed by
// (see Archive.Known). It is bounded: at most MaxEntries members, each
// with at most one digest per known algorithm.
type Precomputed struct {
	Format  string             `json:"format"`
	Entries []PrecomputedEntry `json:"entries"`
	// Stopped says why the stream was not followed to its end ("" when it
	// was): the members after that point were not digested and are read
	// back at verification.
	Stopped string `json:"stopped,omitempty"`
	// Work is what following the stream cost; it is not persisted.
	Work StreamWork `json:"-"`
}

// StreamWork counts the work a StreamDigester did, so that its bounds
// (each linear in the bytes streamed) can be checked by counting rather
// than by timing.
type StreamWork struct {
	Streamed      int64 // archive bytes the parser read
	Inflated      int64 // bytes decompressed: zip deflate members, a tar.gz stream
	Candidates    int64 // data descriptor positions tested in stored zip members
	MetadataBytes int64 // metadata text parsed to learn algorithms
	Declared      int   // package paths the metadata declared algorithms for
}

// PrecomputedEntry is one member as it streamed by. Offsets and sizes are
// measured on the stream, not copied from headers: for a zip, DataOffset
// is where the member's compressed bytes start in the archive and
// CompressedSize how many of them the decompressor consumed; Size and
// CRC32 describe what it produced. For a tar (and a tar.gz, whose offsets
// are in the decompressed stream), DataOffset is where the member's bytes
// start and Size how many there are.
type PrecomputedEntry struct {
	Name           string `json:"name"`
	HeaderOffset   int64  `json:"headerOffset,omitempty"` // zip only
	DataOffset     int64  `json:"dataOffset"`
	Method         uint16 `json:"method,omitempty"`
	CompressedSize int64  `json:"compressedSize"`
	Size           int64  `json:"size"`
	CRC32          uint32 `json:"crc32"`
	// Descriptor says that a zip data descriptor with this CRC-32 was
	// found right after the member's data (where a reader checks it).
	Descriptor bool `json:"descriptor,omitempty"`
	// Digests maps a canonical algorithm name (digest.Algorithm.Name) to
	// the lowercase hex digest of the member's content. For SHAKE the
	// digest has the algorithm's default length; a shorter expected value
	// is a prefix of it.
	Digests map[string]string `json:"digests"`
}

// StreamOptions configure a StreamDigester.
type StreamOptions struct {
	// Speculative algorithms are computed for a member whose algorithms
	// are not known yet when it streams by (no manifest seen before it),
	// in case the manifest that follows asks for them, but only over its
	// first SpeculativeLimit bytes: a member that turns out longer drops
	// them. Names as Lookup accepts them; unknown names are ignored.
	Speculative []string
	// SpeculativeLimit is the largest member speculated on (0: 16 MiB).
	SpeculativeLimit int64
	// MaxEntries bounds the members recorded and the paths the metadata
	// may declare algorithms for (0: Limits.MaxEntries).
	MaxEntries int
	// Limits are the server's archive limits (zero fields: DefaultLimits):
	// decompressing beyond what they let the archive index accept is
	// wasted, so the digester stops there.
	Limits Limits
	// MaxTextSize bounds the metadata files (TOSCA.meta, manifests, YAML)
	// held in memory and parsed to learn algorithms from (0: 1 MiB; VNFD
	// files are tens of KiB, and a parsed YAML tree takes several times
	// its text).
	MaxTextSize int64
	// MaxMetadataBytes bounds the metadata text parsed per stream, all
	// files together (0: DefaultMaxMetadataBytes); what follows is not
	// learned from. Parsing runs while the upload waits on the digester.
	MaxMetadataBytes int64
}

// DefaultMaxMetadataBytes is 4 MiB: a SOL 001 VNFD with its type files is
// a few hundred KiB (the ETSI types file, the largest, is about 100 KiB).
const DefaultMaxMetadataBytes = 4 << 20

// DefaultSpeculative is the algorithm computed for members whose
// algorithms are not known yet. SHA-256 is what SOL 004 manifests use
// most for scripts, charts and other small files (every manifest of the
// interop corpus lists them with SHA-256; its images with SHA-512) and,
// with SHA-NI, costs 0.6 ms/MiB here against 1.4 for SHA-512 (1.76 vs
// 0.76 GB/s). Speculating stops at SpeculativeLimit (16 MiB: at most
// ~10 ms of hashing per member): on a 1 GiB image whose manifest comes
// later and names SHA-512, a speculative SHA-256 measured +0.6 CPU-s
// for nothing, while a miss on a small file costs a read of a few KiB.
var DefaultSpeculative = []string{"SHA-256"}

// streamChunk is the size of the buffers handed from the writer to the
// parsing goroutine; streamBuffers of them are in flight, so a burst of
// writes does not wait for hashing, and memory stays at a few MiB.
const (
	streamChunk   = 1 << 20
	streamBuffers = 4
)

// StreamDigester is an io.Writer fed the bytes of an archive as they are
// uploaded (beside the blob store). A goroutine follows the archive's
// structure (zip local headers, tar headers, tar.gz) and digests each
// member in the same pass, overlapping the writer: Write only copies into
// one of a few buffers, and WriteShared hands over the caller's buffer
// without a copy. It never fails the upload: on anything it cannot follow
// it stops digesting and records why.
type StreamDigester struct {
	work    chan handoff
	free    chan []byte // Write's buffers, back from the parser
	owned   int         // Write's buffers allocated so far
	recycle func([]byte)
	done    chan struct{}
	result  *Precomputed
	once    sync.Once
	fill    []byte // the buffer Write is filling, nil between buffers
}

// handoff is a piece of the stream passed to the parsing goroutine, which
// calls release(b) once it has consumed b.
type handoff struct {
	b       []byte
	release func([]byte)
}

// NewStreamDigester starts a digester; Close must follow.
func NewStreamDigester(opts StreamOptions) *StreamDigester {
	d := &StreamDigester{work: make(chan handoff, streamBuffers), free: make(chan []byte, streamBuffers), done: make(chan struct{})}
	d.recycle = func(b []byte) { d.free <- b[:0] }
	p := newStreamParser(opts, &chanReader{work: d.work})
	go func() {
		defer close(d.done)
		defer p.src.drain()
		// A bug here must cost the digests, never the server.
		defer func() {
			if r := recover(); r != nil {
				p.stop(fmt.Sprintf("internal error: %v", r))
				d.result = p.out
			}
		}()
		d.result = p.run()
	}()
	return d
}

// Write copies b into the buffer being filled, handing each full buffer
// to the parsing goroutine (socket reads are often a few KiB: handing
// each over would cost a channel operation and a buffer apiece). Its
// buffers are allocated on first use, at most streamBuffers of them. It
// always succeeds.
func (d *StreamDigester) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if d.fill == nil {
			if d.owned < streamBuffers {
				d.owned++
				d.fill = make([]byte, 0, streamChunk)
			} else {
				d.fill = <-d.free
			}
		}
		k := min(len(b), cap(d.fill)-len(d.fill))
		d.fill = append(d.fill, b[:k]...)
		b = b[k:]
		if len(d.fill) == cap(d.fill) {
			d.flush()
		}
	}
	return n, nil
}

// WriteShared hands b itself to the parsing goroutine, after what Write
// still holds; the parser calls release(b) once it is done with it, and b
// must not change until then. For large pieces (an upload's 1 MiB reads):
// it saves copying every byte. It may block while streamBuffers pieces
// are waiting to be parsed.
func (d *StreamDigester) WriteShared(b []byte, release func([]byte)) {
	if len(b) == 0 {
		release(b)
		return
	}
	d.flush()
	d.work <- handoff{b: b, release: release}
}

// flush hands over the buffer Write is filling, if it holds anything.
func (d *StreamDigester) flush() {
	if len(d.fill) > 0 {
		d.work <- handoff{b: d.fill, release: d.recycle}
		d.fill = nil
	}
}

// Close ends the stream and returns what was digested. Later calls
// return the same result.
func (d *StreamDigester) Close() *Precomputed {
	d.once.Do(func() {
		d.flush()
		close(d.work)
	})
	<-d.done
	return d.result
}

// chanReader reads the pieces the writer hands over, releasing each once
// consumed.
type chanReader struct {
	work <-chan handoff
	cur  []byte
	held handoff // the piece cur is a suffix of (b nil: none)
	n    int64   // bytes read so far: the stream position
}

func (r *chanReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		r.releaseHeld()
		runtime.Gosched()
		h, ok := <-r.work
		if !ok {
			return 0, io.EOF
		}
		r.held, r.cur = h, h.b
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	r.n += int64(n)
	return n, nil
}

func (r *chanReader) releaseHeld() {
	if r.held.b != nil {
		r.held.release(r.held.b)
		r.held = handoff{}
	}
}

// drain consumes the rest of the stream after parsing stopped, so the
// writer never blocks.
func (r *chanReader) drain() {
	r.releaseHeld()
	r.cur = nil
	for h := range r.work {
		h.release(h.b)
	}
}

// streamParser follows one archive stream.
type streamParser struct {
	opts   StreamOptions
	limits Limits
	src    *chanReader
	out    *Precomputed
	// What the metadata seen so far asks of the members still to come.
	perFile      map[string][]digest.Algorithm // package path -> algorithms (manifest, TOSCA.meta)
	fromYAML     []digest.Algorithm            // sw_image_data checksum algorithms
	manifestSeen bool                          // the manifest was learned from
	metaSeen     bool                          // TOSCA.meta was learned from
	// entryManifest is the manifest TOSCA.meta names ("" when none).
	entryManifest string
	speculative   []digest.Algorithm
}

func newStreamParser(opts StreamOptions, src *chanReader) *streamParser {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = opts.Limits.withDefaults().MaxEntries
	}
	if opts.MaxTextSize <= 0 {
		opts.MaxTextSize = 1 << 20
	}
	if opts.MaxMetadataBytes <= 0 {
		opts.MaxMetadataBytes = DefaultMaxMetadataBytes
	}
	if opts.SpeculativeLimit <= 0 {
		opts.SpeculativeLimit = 16 << 20
	}
	p := &streamParser{opts: opts, limits: opts.Limits.withDefaults(), src: src, out: &Precomputed{Entries: []PrecomputedEntry{}}, perFile: map[string][]digest.Algorithm{}}
	for _, name := range opts.Speculative {
		if a, ok := digest.Lookup(name); ok {
			p.speculative = addAlgorithm(p.speculative, a)
		}
	}
	return p
}

func addAlgorithm(list []digest.Algorithm, a digest.Algorithm) []digest.Algorithm {
	for _, b := range list {
		if a == b {
			return list
		}
	}
	return append(list, a)
}

// run detects the format and follows the archive.
func (p *streamParser) run() *Precomputed {
	br := bufio.NewReaderSize(p.src, streamChunk)
	head, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(head, []byte(zipLocalSig)):
		p.out.Format = FormatZip
		p.followZip(br)
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		p.out.Format = FormatTarGz
		p.followTarGz(br)
	case len(head) == 512 && bytes.HasPrefix(head[257:], []byte("ustar")):
		p.out.Format = FormatTar
		p.followTar(br)
	default:
		p.stop("not a zip, tar or tar.gz stream")
	}
	p.out.Work.Streamed = p.src.n - int64(br.Buffered())
	p.out.Work.Declared = len(p.perFile)
	return p.out
}

func (p *streamParser) stop(reason string) {
	if p.out.Stopped == "" {
		p.out.Stopped = reason
	}
}

// wants lists the algorithms to compute for a member: those the metadata
// seen so far declares for it and those any VNFD seen so far uses for
// software images; and, apart, the speculative ones not among them, while
// no manifest has been seen (after it, the manifest's list is known
// exactly).
func (p *streamParser) wants(name string) (declared, speculative []digest.Want) {
	var algs []digest.Algorithm
	for _, a := range p.perFile[name] {
		algs = addAlgorithm(algs, a)
	}
	for _, a := range p.fromYAML {
		algs = addAlgorithm(algs, a)
	}
	for _, a := range algs {
		declared = append(declared, digest.Want{Algorithm: a.Name})
	}
	if !p.manifestSeen {
		for _, a := range p.speculative {
			if len(addAlgorithm(algs, a)) > len(algs) {
				speculative = append(speculative, digest.Want{Algorithm: a.Name})
			}
		}
	}
	return declared, speculative
}

// textCap returns how many bytes of a member's text to keep and parse
// to learn algorithms from: 0 when it is not learned from, or the
// stream's metadata budget is spent.
func (p *streamParser) textCap(name string) int64 {
	if !p.learnsFrom(name) {
		return 0
	}
	return max(min(p.opts.MaxTextSize, p.opts.MaxMetadataBytes-p.out.Work.MetadataBytes), 0)
}

// learnsFrom reports whether a member may declare algorithms of members
// that follow it: TOSCA.meta, the one manifest (the one TOSCA.meta names,
// or without TOSCA.meta a manifest at the root, as verification finds
// it), and YAML files (VNFD image checksums). Only the first manifest is
// learned from: a package has one, and another .mf is not what
// verification checks against.
func (p *streamParser) learnsFrom(name string) bool {
	switch {
	case name == MetaPath:
		return !p.metaSeen
	case path.Ext(name) == ".mf":
		switch {
		case p.manifestSeen:
			return false
		case p.metaSeen:
			return name == p.entryManifest
		}
		return path.Dir(name) == "."
	case path.Ext(name) == ".yaml", path.Ext(name) == ".yml":
		return true
	}
	return false
}

// digestMember hashes one member's content from r. text receives a
// bounded copy of a metadata member's content.
func (p *streamParser) digestMember(name string, r io.Reader) ([]digest.Result, int64, []byte, error) {
	var text *boundedBuffer
	if limit := p.textCap(name); limit > 0 {
		text = &boundedBuffer{max: limit}
		r = io.TeeReader(r, text)
	}
	declared, speculative := p.wants(name)
	var spec *cappedHash
	if len(speculative) > 0 {
		m, err := digest.NewMulti(speculative)
		if err != nil {
			return nil, 0, nil, err
		}
		spec = &cappedHash{m: m, limit: p.opts.SpeculativeLimit}
		r = io.TeeReader(r, spec)
	}
	results, n, err := digest.Sum(context.Background(), r, declared)
	if err != nil {
		return nil, n, nil, err
	}
	if spec != nil && !spec.over {
		results = append(results, spec.m.Results()...)
	}
	if text != nil && !text.over {
		return results, n, text.b.Bytes(), nil
	}
	return results, n, nil, nil
}

// cappedHash feeds a Multi until more than limit bytes came, then stops
// hashing (and the digests are dropped).
type cappedHash struct {
	m     *digest.Multi
	limit int64
	over  bool
}

func (c *cappedHash) Write(b []byte) (int, error) {
	if !c.over {
		if c.m.Count()+int64(len(b)) > c.limit {
			c.over = true
		} else {
			c.m.Write(b)
		}
	}
	return len(b), nil
}

// record adds a digested member; past MaxEntries it stops.
func (p *streamParser) record(e PrecomputedEntry, results []digest.Result) bool {
	if len(p.out.Entries) >= p.opts.MaxEntries {
		p.stop("more members than MaxEntries")
		return false
	}
	e.Digests = make(map[string]string, len(results))
	for _, r := range results {
		e.Digests[r.Algorithm.Name] = r.Hex
	}
	p.out.Entries = append(p.out.Entries, e)
	return true
}

// learn reads the algorithms a metadata member declares for the members
// after it. Parse problems do not matter here: verification reports them.
func (p *streamParser) learn(name string, text []byte) {
	if text == nil {
		return
	}
	p.out.Work.MetadataBytes += int64(len(text))
	switch {
	case name == MetaPath:
		p.metaSeen = true
		meta, _ := ParseMeta(text, MetaPath)
		if mf := meta.Get(KeyEntryManifest); mf != "" {
			p.entryManifest = strings.Clone(path.Clean(mf))
		}
		for _, fb := range meta.Files {
			p.declare(fb.Name, fb.Algorithm)
		}
	case path.Ext(name) == ".mf":
		m, _ := ParseManifest(text, name)
		p.manifestSeen = true
		for _, e := range m.Entries {
			if !e.External {
				p.declare(e.Source, e.Algorithm)
			}
		}
	default:
		var doc yaml.Node
		if yaml.Unmarshal(text, &doc) == nil {
			p.learnChecksums(&doc)
		}
	}
}

func (p *streamParser) declare(ref, alg string) {
	a, ok := digest.Lookup(alg)
	if !ok || ref == "" {
		return
	}
	clean := path.Clean(ref)
	if strings.HasPrefix(clean, "../") || strings.HasPrefix(clean, "/") {
		return
	}
	known, ok := p.perFile[clean]
	if !ok {
		if len(p.perFile) >= p.opts.MaxEntries {
			return // more paths than the archive may have members
		}
		// path.Clean may return a substring of the metadata text: a
		// copy lets the text go.
		clean = strings.Clone(clean)
	}
	p.perFile[clean] = addAlgorithm(known, a)
}

// learnChecksums collects the algorithm of every mapping that has both
// "algorithm" and "hash" keys: SOL 001 ChecksumData, as sw_image_data
// holds it. The image file it belongs to is only known after TOSCA
// processing, so the algorithm applies to every member that follows.
func (p *streamParser) learnChecksums(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		var alg string
		hasHash := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "algorithm":
				alg = n.Content[i+1].Value
			case "hash":
				hasHash = true
			}
		}
		if a, ok := digest.Lookup(alg); ok && hasHash {
			p.fromYAML = addAlgorithm(p.fromYAML, a)
		}
	}
	for _, c := range n.Content {
		p.learnChecksums(c)
	}
}

// boundedBuffer keeps the first max bytes written and notes an overflow.
type boundedBuffer struct {
	b    bytes.Buffer
	max  int64
	over bool
}

func (w *boundedBuffer) Write(b []byte) (int, error) {
	if !w.over {
		if int64(w.b.Len()+len(b)) > w.max {
			w.over = true
			w.b = bytes.Buffer{}
		} else {
			w.b.Write(b)
		}
	}
	return len(b), nil
}

// ratioBound is the most a compressed member of compressed bytes (or a
// tar.gz as a whole) may expand to and be accepted by the archive index.
func (l Limits) ratioBound(compressed int64) int64 {
	return max(l.RatioFloor, int64(l.MaxRatio*float64(compressed)))
}

// ratioAllows reports whether a zip member declaring these sizes passes
// the archive index's ratio check.
func (l Limits) ratioAllows(size, compressed int64) bool {
	return size <= l.ratioBound(compressed)
}

// archiveBound is the most the zip members within the first streamed
// bytes may expand to in all: the index holds the whole archive to
// MaxArchiveRatio, and a prefix beyond it is a bomb whatever follows.
func (l Limits) archiveBound(streamed int64) int64 {
	return max(l.RatioFloor, int64(l.MaxArchiveRatio*float64(streamed)))
}

// inflateBound passes a decompressor's output through while it stays
// within its bounds (nil: none), counting it in total. Past a bound it
// fails the read: the member, or the stream, is not digested further and
// onboarding reads it back (and the archive index, which checks the
// declared sizes before decompressing, refuses what lies about them).
type inflateBound struct {
	r           io.Reader
	total       *int64 // the stream's decompressed bytes (StreamWork.Inflated)
	memberLimit func() int64
	streamLimit func() int64
	n           int64 // this reader's output
	overMember  bool
}

var (
	errMemberInflate = errors.New("the member decompresses beyond what the archive limits accept")
	errStreamInflate = errors.New("the archive decompresses beyond what the archive limits accept")
)

func (b *inflateBound) Read(p []byte) (int, error) {
	// At most one byte past the allowance, so that an overrun costs one
	// byte, not a buffer.
	room := b.room()
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	*b.total += int64(n)
	switch {
	case b.memberLimit != nil && b.n > b.memberLimit():
		b.overMember = true
		return n, errMemberInflate
	case b.streamLimit != nil && *b.total > b.streamLimit():
		return n, errStreamInflate
	}
	return n, err
}

func (b *inflateBound) room() int64 {
	room := int64(math.MaxInt64 - 1)
	if b.memberLimit != nil {
		room = min(room, b.memberLimit()-b.n)
	}
	if b.streamLimit != nil {
		room = min(room, b.streamLimit()-*b.total)
	}
	return max(room, 0) + 1
}
