package csar

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"path"
	"strings"
)

const (
	zipLocalSig      = "PK\x03\x04"
	zipCentralSig    = "PK\x01\x02"
	zipDescriptorSig = "PK\x07\x08"
	zipLocalLen      = 30
	// descriptorWindow is the most bytes a data descriptor test looks at:
	// a zip64 descriptor without signature (20 bytes) and the signature
	// of the header after it (4), or one with its signature (24).
	descriptorWindow = 28
	// zipFlagEncrypted and zipFlagDescriptor are general purpose flags:
	// bit 0, and bit 3 (sizes and CRC-32 follow the data).
	zipFlagEncrypted  = 0x1
	zipFlagDescriptor = 0x8
)

// zipLocal is a local file header as read from the stream.
type zipLocal struct {
	flags, method      uint16
	crc                uint32
	csize, usize       int64
	name               string
	headerOff, dataOff int64
	hasDescriptor, dir bool
}

// followZip walks the local file headers of a zip stream, digesting each
// member. It stops at the central directory, or where the stream cannot
// be delimited any more.
func (p *streamParser) followZip(br *bufio.Reader) {
	pos := func() int64 { return p.src.n - int64(br.Buffered()) }
	for {
		sig, err := br.Peek(4)
		if err != nil {
			p.stop("the stream ended before the central directory")
			return
		}
		if string(sig) != zipLocalSig {
			if string(sig) != zipCentralSig {
				p.stop(fmt.Sprintf("unexpected bytes at offset %d where a zip header should be", pos()))
			}
			return
		}
		h, err := readZipLocal(br, pos)
		if err != nil {
			p.stop(err.Error())
			return
		}
		if !p.followZipMember(br, h, pos) {
			return
		}
	}
}

func readZipLocal(br *bufio.Reader, pos func() int64) (*zipLocal, error) {
	h := &zipLocal{headerOff: pos()}
	var fixed [zipLocalLen]byte
	if _, err := io.ReadFull(br, fixed[:]); err != nil {
		return nil, fmt.Errorf("truncated zip header at offset %d", h.headerOff)
	}
	le := binary.LittleEndian
	h.flags, h.method = le.Uint16(fixed[6:]), le.Uint16(fixed[8:])
	h.crc = le.Uint32(fixed[14:])
	c32, u32 := le.Uint32(fixed[18:]), le.Uint32(fixed[22:])
	h.csize, h.usize = int64(c32), int64(u32)
	nameExtra := make([]byte, int(le.Uint16(fixed[26:]))+int(le.Uint16(fixed[28:])))
	if _, err := io.ReadFull(br, nameExtra); err != nil {
		return nil, fmt.Errorf("truncated zip header at offset %d", h.headerOff)
	}
	nameLen := int(le.Uint16(fixed[26:]))
	h.name = string(nameExtra[:nameLen])
	h.dir = strings.HasSuffix(h.name, "/")
	h.hasDescriptor = h.flags&zipFlagDescriptor != 0
	if u32 == 0xFFFFFFFF || c32 == 0xFFFFFFFF {
		if err := h.readZip64(nameExtra[nameLen:], u32 == 0xFFFFFFFF, c32 == 0xFFFFFFFF); err != nil {
			return nil, err
		}
	}
	h.dataOff = pos()
	return h, nil
}

// readZip64 takes the 64-bit sizes from the zip64 extra field (id 1),
// which holds, in order, those of the two that are 0xFFFFFFFF above.
func (h *zipLocal) readZip64(extra []byte, usize, csize bool) error {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, size := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if len(extra) < 4+size {
			break
		}
		body := extra[4 : 4+size]
		extra = extra[4+size:]
		if id != 1 {
			continue
		}
		for _, want := range []struct {
			on  bool
			dst *int64
		}{{usize, &h.usize}, {csize, &h.csize}} {
			if !want.on {
				continue
			}
			if len(body) < 8 {
				return fmt.Errorf("zip64 extra field of %q too short", h.name)
			}
			v := le.Uint64(body)
			if v > 1<<62 {
				return fmt.Errorf("entry %q declares an impossible size", h.name)
			}
			*want.dst, body = int64(v), body[8:]
		}
		return nil
	}
	return fmt.Errorf("entry %q has 0xFFFFFFFF sizes and no zip64 extra field", h.name)
}

// followZipMember digests one member (or skips it) and leaves the stream
// at the next header. It returns false when the stream can no longer be
// followed.
func (p *streamParser) followZipMember(br *bufio.Reader, h *zipLocal, pos func() int64) bool {
	canSkip := !h.hasDescriptor
	if h.dir || h.flags&zipFlagEncrypted != 0 || (h.method != zip.Store && h.method != zip.Deflate) {
		// Nothing to digest (verification refuses or ignores these).
		if !canSkip {
			p.stop(fmt.Sprintf("member %q cannot be delimited in a stream", h.name))
			return false
		}
		return p.skipZipMember(br, h, pos)
	}
	if h.method == zip.Deflate && !h.hasDescriptor && !p.limits.ratioAllows(h.usize, h.csize) {
		// The archive index refuses such a member before inflating it:
		// do not inflate it either.
		return p.skipZipMember(br, h, pos)
	}
	crc := crc32.NewIEEE()
	var content io.Reader
	var scan *storedScan
	var inflate *inflateBound
	switch {
	case h.method == zip.Deflate:
		// br is an io.ByteReader, so flate reads no byte past the end of
		// the deflate stream: where it stops is where the member ends.
		inflate = p.boundZipInflate(flate.NewReader(br), h, pos)
		content = inflate
	case !h.hasDescriptor:
		content = &knownStored{br: br, crc: crc, left: h.csize}
	default:
		scan = &storedScan{br: br, crc: crc, tested: &p.out.Work.Candidates}
		content = scan
	}
	if inflate != nil {
		content = io.TeeReader(content, crc)
	}
	name := cleanMemberName(h.name)
	results, n, text, err := p.digestMember(name, content)
	if err != nil && inflate != nil && inflate.overMember && !h.hasDescriptor {
		// Its end is known from the local header: skip to it.
		return p.skipZipMember(br, h, pos)
	}
	if err != nil {
		p.stop(fmt.Sprintf("member %q: %v", h.name, err))
		return false
	}
	e := PrecomputedEntry{Name: h.name, HeaderOffset: h.headerOff, DataOffset: h.dataOff, Method: h.method, Size: n, CRC32: crc.Sum32()}
	switch {
	case scan != nil:
		e.CompressedSize, e.Descriptor = n, true
		if !scan.found {
			p.stop(fmt.Sprintf("no data descriptor after stored member %q", h.name))
			return false
		}
	case h.hasDescriptor:
		e.CompressedSize, e.Descriptor = pos()-h.dataOff, true
		if !consumeDescriptor(br, e.CRC32, e.CompressedSize, n) {
			p.stop(fmt.Sprintf("no matching data descriptor after member %q", h.name))
			return false
		}
	default:
		e.CompressedSize = pos() - h.dataOff
		switch {
		case e.CompressedSize > h.csize:
			p.stop(fmt.Sprintf("the deflate stream of %q runs past its declared size", h.name))
			return false
		case e.CompressedSize < h.csize:
			// The deflate stream ended before its declared size: skip to
			// the next header and record nothing (the sizes would never
			// match the central directory's anyway).
			return p.skipZipMember(br, h, pos)
		}
	}
	p.learn(name, text)
	return p.record(e, results)
}

// skipZipMember moves past the rest of a member whose compressed size
// the local header gives, recording nothing for it.
func (p *streamParser) skipZipMember(br *bufio.Reader, h *zipLocal, pos func() int64) bool {
	rest := h.dataOff + h.csize - pos()
	if rest < 0 {
		p.stop(fmt.Sprintf("the deflate stream of %q runs past its declared size", h.name))
		return false
	}
	if _, err := br.Discard(int(rest)); err != nil {
		p.stop("the stream ended inside member " + h.name)
		return false
	}
	return true
}

// boundZipInflate bounds what a deflated member may produce to what the
// archive index accepts: its declared size when the local header gives
// it (the central directory must agree for the digests to be used), else
// max(RatioFloor, MaxRatio x the compressed bytes consumed so far); and
// the whole stream to MaxArchiveRatio x the bytes streamed.
func (p *streamParser) boundZipInflate(r io.Reader, h *zipLocal, pos func() int64) *inflateBound {
	b := &inflateBound{r: r, total: &p.out.Work.Inflated}
	if h.hasDescriptor {
		b.memberLimit = func() int64 { return p.limits.ratioBound(pos() - h.dataOff) }
	} else {
		b.memberLimit = func() int64 { return h.usize }
	}
	b.streamLimit = func() int64 { return p.limits.archiveBound(pos()) }
	return b
}

// cleanMemberName is the package path a member name stands for, as the
// archive index computes it (without its checks: a name the index refuses
// refuses the whole package).
func cleanMemberName(name string) string {
	return path.Clean(strings.TrimSuffix(name, "/"))
}

// storedScan reads a stored member whose size is only in the data
// descriptor after it: it hands out bytes up to the first position where
// a descriptor with the CRC-32 and size of the bytes handed out so far
// begins. A false match needs the signature, the CRC-32 and the size to
// coincide; and a wrong delimitation only costs the digests, since they
// are used only when the central directory agrees on offset, sizes and
// CRC-32.
type storedScan struct {
	br         *bufio.Reader
	crc        hash.Hash32
	n          int64
	found      bool
	err        error
	tested     *int64 // candidates tested in the stream, for StreamWork
	candidates int64  // candidates tested in this member
	// clear is the member offset below which no descriptor can start:
	// the window is scanned once, not again at every Read.
	clear int64
}

func (s *storedScan) Read(p []byte) (int, error) {
	b, err := s.next(len(p))
	return copy(p, b), err
}

// WriteSlicesTo hands the member to w in slices of the reader's buffer,
// up to each candidate, without copying them (digest.SliceReader): on a
// stored image that saves a copy of every byte.
func (s *storedScan) WriteSlicesTo(w io.Writer) (int64, error) {
	return writeSlices(w, s.next)
}

// next returns the next bytes of the member, at most most of them, as a
// slice of the reader's buffer that stays valid until the next call.
func (s *storedScan) next(most int) ([]byte, error) {
	if s.found || s.err != nil {
		return nil, io.EOF
	}
	w, err := s.window()
	if len(w) == 0 {
		s.err = io.ErrUnexpectedEOF
		return nil, io.EOF
	}
	// A candidate is tested with up to descriptorWindow bytes after it:
	// keep them in the window until the stream ends.
	limit := len(w)
	if err == nil {
		limit -= descriptorWindow
	}
	from := int(min(max(s.clear-s.n, 0), int64(limit)))
	if from == 0 {
		if nextCandidate(w, 0, 1) == 0 {
			if s.overBudget() {
				s.err = errScanBudget
				return nil, s.err
			}
			if n := matchDescriptor(w, s.crc.Sum32(), s.n, s.n); n > 0 {
				s.br.Discard(n)
				s.found = true
				return nil, io.EOF
			}
		}
		from = 1
	}
	c := nextCandidate(w, from, limit)
	if c < 0 {
		c = limit
	}
	s.clear = s.n + int64(c) // no descriptor starts before c
	b := w[:min(c, most)]
	// Discarding what is buffered only moves the read position: b stays
	// intact until the next fill, which only a later call makes.
	s.br.Discard(len(b))
	s.crc.Write(b)
	s.n += int64(len(b))
	return b, nil
}

// knownStored reads a stored member whose size the local header gives,
// feeding its CRC-32; like storedScan it hands out slices of the reader's
// buffer to WriteSlicesTo.
type knownStored struct {
	br   *bufio.Reader
	crc  hash.Hash32
	left int64
}

func (k *knownStored) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := k.next(len(p))
	return copy(p, b), err
}

func (k *knownStored) WriteSlicesTo(w io.Writer) (int64, error) {
	return writeSlices(w, k.next)
}

// next returns up to most bytes of the member from the reader's buffer,
// io.EOF at its end or at the end of the stream (which then ends
// inside the member, as io.LimitReader would report it).
func (k *knownStored) next(most int) ([]byte, error) {
	if k.left <= 0 {
		return nil, io.EOF
	}
	want := int(min(k.left, int64(most)))
	if b := k.br.Buffered(); b > 0 {
		want = min(want, b)
	} else {
		want = min(want, k.br.Size())
	}
	b, _ := k.br.Peek(want)
	if len(b) == 0 {
		k.left = 0
		return nil, io.EOF
	}
	k.br.Discard(len(b))
	k.crc.Write(b)
	k.left -= int64(len(b))
	return b, nil
}

// writeSlices writes to w what next hands out until io.EOF.
func writeSlices(w io.Writer, next func(most int) ([]byte, error)) (int64, error) {
	var n int64
	for {
		b, err := next(math.MaxInt)
		if len(b) > 0 {
			k, werr := w.Write(b)
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// window returns the bytes buffered ahead, refilling only when fewer than
// a descriptor test needs are left: a refill slides the buffered bytes to
// the front of the buffer, and doing it at every Read (each of which may
// hand out only a few bytes, up to the next candidate) copied the whole
// buffer per candidate.
func (s *storedScan) window() ([]byte, error) {
	if b := s.br.Buffered(); b > descriptorWindow {
		return s.br.Peek(b)
	}
	return s.br.Peek(s.br.Size())
}

// A candidate costs a Read, a descriptor test and hashing a short piece:
// data made of signatures has one every 4 bytes. Data from a real packer
// has few (random bytes: one signature in 2^32 positions; a nested zip: a
// few per member of the nested zip), so testing more than one candidate
// per scanBytesPerCandidate bytes, beyond scanFreeCandidates, is taken
// for an archive built to make the scan slow: the stream is not followed
// further (onboarding reads those members back).
const (
	scanBytesPerCandidate = 32
	scanFreeCandidates    = 4096
)

var errScanBudget = errors.New("too many data descriptor candidates in a stored member: its end is not looked for")

func (s *storedScan) overBudget() bool {
	*s.tested++
	s.candidates++
	return s.candidates > scanFreeCandidates+s.n/scanBytesPerCandidate
}

var headerSigs = [][]byte{[]byte(zipLocalSig), []byte(zipCentralSig), []byte("PK\x05\x06"), []byte("PK\x06\x06")}

// nextCandidate returns the first offset in [from, limit) where a data
// descriptor could begin: a descriptor signature there, or a header
// signature 12 or 20 bytes later (a descriptor without signature, 32- or
// 64-bit). -1 when there is none.
func nextCandidate(w []byte, from, limit int) int {
	best := -1
	consider := func(q int) {
		if q >= from && q < limit && (best < 0 || q < best) {
			best = q
		}
	}
	for i := from; i < len(w); {
		j := bytes.Index(w[i:], []byte("PK"))
		if j < 0 {
			break
		}
		h := i + j
		// A signature at h gives candidates at h, h-12 and h-20: none
		// below best once h-20 is past it.
		if h-20 >= limit || (best >= 0 && h-20 > best) {
			break
		}
		if bytes.HasPrefix(w[h:], []byte(zipDescriptorSig)) {
			consider(h)
		}
		for _, s := range headerSigs {
			if bytes.HasPrefix(w[h:], s) {
				consider(h - 12)
				consider(h - 20)
			}
		}
		i = h + 1
	}
	return best
}

// matchDescriptor returns the length of the data descriptor at the start
// of w if it describes a member of CRC-32 crc, compressed size csize and
// size usize, else 0. A descriptor without signature must be followed by
// a header signature, so that it is not a coincidence inside the data.
func matchDescriptor(w []byte, crc uint32, csize, usize int64) int {
	le := binary.LittleEndian
	followedByHeader := func(at int) bool {
		if len(w) < at+4 {
			return len(w) == at // the stream ends right after it
		}
		for _, s := range headerSigs {
			if bytes.Equal(w[at:at+4], s) {
				return true
			}
		}
		return false
	}
	fields := func(b []byte, wide bool) bool {
		if wide {
			return len(b) >= 20 && le.Uint32(b) == crc && int64(le.Uint64(b[4:])) == csize && int64(le.Uint64(b[12:])) == usize
		}
		return len(b) >= 12 && le.Uint32(b) == crc && int64(le.Uint32(b[4:])) == csize && int64(le.Uint32(b[8:])) == usize
	}
	signed := bytes.HasPrefix(w, []byte(zipDescriptorSig))
	switch {
	case signed && fields(w[4:], false) && followedByHeader(16):
		return 16
	case signed && fields(w[4:], true) && followedByHeader(24):
		return 24
	case fields(w, false) && followedByHeader(12):
		return 12
	case fields(w, true) && followedByHeader(20):
		return 20
	}
	return 0
}

// consumeDescriptor reads the data descriptor after a deflated member.
func consumeDescriptor(br *bufio.Reader, crc uint32, csize, usize int64) bool {
	w, _ := br.Peek(descriptorWindow)
	n := matchDescriptor(w, crc, csize, usize)
	if n == 0 {
		return false
	}
	_, err := br.Discard(n)
	return err == nil
}
