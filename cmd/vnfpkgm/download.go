package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Downloads (package content and artifacts).
//
// The bytes go to F.part; F appears, by a rename, only once every byte is
// there and, when the server declares a checksum, the whole file matches
// it. Beside F.part, F.part.state (JSON) records what is needed to resume:
// the resource, its strong ETag, its size and, for a download split into
// ranges, which byte ranges are already written. --continue resumes from
// there with Range requests carrying If-Range: the ETag, so that content
// changed on the server since is sent whole and the download starts again
// instead of mixing two versions. A single-connection download is written
// in order, so its progress is the size of F.part. --connections N splits
// what is missing into pieces of at most pieceSize (N at least) that N
// connections fetch in file order and write at their offsets. The digest
// follows the completed prefix as it grows (prefixhash.go): the file is
// verified as it arrives, not by reading it all again at the end.

// checksum is a SOL 005 Checksum.
type checksum struct {
	Algorithm string `json:"algorithm"`
	Hash      string `json:"hash"`
}

// download is one resource to fetch into a file.
type download struct {
	env      *cliEnv
	api      *apiClient
	url      string // absolute
	resource string // the API path, recorded to recognise the partial file
	what     string // "VNF package ID", for messages
	dest     string // the file; "" writes to stdout
	want     *checksum
	// mustVerify makes the lack of a usable checksum a failure.
	mustVerify bool
	resume     bool
	conns      int
}

// partState is the content of F.part.state.
type partState struct {
	Resource   string     `json:"resource"`
	ETag       string     `json:"etag"`
	Size       int64      `json:"size"`
	Sequential bool       `json:"sequential"`     // written in order from 0: the file size is the progress
	Have       [][2]int64 `json:"have,omitempty"` // [start, end) ranges written, when not sequential
	// The state of the running digest of the first Hashed bytes
	// (encoding.BinaryMarshaler of the hash, base64 in JSON): a resumed
	// download continues it rather than read those bytes again.
	Hashed        int64  `json:"hashed,omitempty"`
	HashAlgorithm string `json:"hashAlgorithm,omitempty"`
	HashState     []byte `json:"hashState,omitempty"`
}

// pieceSize bounds the pieces of a parallel download. Connections take
// pieces in file order, so the completed prefix, which the digest follows,
// grows at the speed of the whole download and lags it by a few pieces at
// most; smaller pieces would cost more requests.
const pieceSize = 16 << 20

// errChanged: the server sent the whole content to a ranged request whose
// If-Range no longer holds.
var errChanged = errors.New("the content changed on the server")

// result is what a finished transfer knows.
type result struct {
	size int64
	sum  *prefixHash // the digest of a prefix of the file (nil: not verifiable)
}

func (d *download) note(format string, args ...any) {
	fmt.Fprintf(d.env.stderr, "%s: %s\n", d.env.cmd, fmt.Sprintf(format, args...))
}

// digester returns a digest of the expected checksum at offset 0, or nil
// (with the reason) when the download cannot be verified.
func (d *download) digester() (*prefixHash, string) {
	if d.want == nil || d.want.Algorithm == "" || d.want.Hash == "" {
		return nil, "the server declares no checksum for it"
	}
	ph, err := newPrefixHash(d.want)
	if err != nil {
		return nil, fmt.Sprintf("its checksum cannot be checked: %v", err)
	}
	return ph, ""
}

func (d *download) run() error {
	if _, why := d.digester(); why != "" && d.mustVerify {
		return failf("%s cannot be verified: %s; nothing was downloaded", d.what, why)
	}
	if d.dest == "" {
		return d.toStdout()
	}
	part := d.dest + ".part"
	statePath := part + ".state"
	var st *partState
	_, partErr := os.Stat(part)
	partExists := partErr == nil
	if d.resume {
		st = loadState(statePath)
		switch {
		case st == nil && partExists:
			d.note("%s has no usable record of what it holds (%s): starting again", part, filepath.Base(statePath))
		case st != nil && st.Resource != d.resource:
			d.note("%s holds a download of %s, not of %s: starting again", part, st.Resource, d.resource)
			st = nil
		case st == nil:
			d.note("there is no partial download %s: downloading from the start", part)
		case st.ETag == "":
			d.note("the server gave no strong ETag for %s: it cannot be resumed safely; starting again", part)
			st = nil
		}
	} else if partExists {
		d.note("discarding the partial download %s (--continue resumes one)", part)
	}
	var res result
	for attempt := 0; ; attempt++ {
		var err error
		res, err = d.fetch(part, statePath, st)
		if errors.Is(err, errChanged) && attempt == 0 {
			d.note("%s changed on the server since the partial download (or ranges are not honoured): starting again", d.what)
			st = nil
			continue
		}
		if errors.Is(err, errChanged) {
			return failf("the server keeps answering ranged requests for %s with the whole content", d.what)
		}
		if err != nil {
			var ce *connError
			kept := fmt.Sprintf("what was received is kept in %s: run the same command with --continue to resume", part)
			if _, serr := os.Stat(part); serr != nil {
				return err
			}
			switch {
			case errors.As(err, &ce) && ce.lost:
				ce.hint = kept
			case d.env.ctx.Err() != nil:
				d.note("%s", kept)
			}
			return err
		}
		break
	}
	verified, err := d.verify(part, statePath, res)
	if err != nil {
		return err
	}
	if err := os.Rename(part, d.dest); err != nil {
		return &localError{err}
	}
	os.Remove(statePath)
	fmt.Fprintf(d.env.stdout, "%s downloaded to %s (%d bytes, %s).\n", upperFirst(d.what), d.dest, res.size, verified)
	return nil
}

// verify checks the finished F.part against the checksum; it returns how
// the download was verified. What the running digest has not covered yet
// (nothing, unless the download was complete before this run) is read back.
func (d *download) verify(part, statePath string, res result) (string, error) {
	ph := res.sum
	if ph == nil {
		_, why := d.digester()
		if d.mustVerify { // checked before the download; kept for safety
			return "", failf("%s cannot be verified: %s", d.what, why)
		}
		return "not verified: " + why, nil
	}
	if ph.hashed() < res.size {
		f, err := os.Open(part)
		if err != nil {
			return "", &localError{err}
		}
		bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Verifying", ph.hashed(), res.size)
		err = ph.catchUp(d.env.ctx, f, res.size, bar)
		bar.Done()
		f.Close()
		if err != nil {
			return "", err
		}
	}
	sum, match := ph.result()
	if !match {
		os.Remove(part)
		os.Remove(statePath)
		return "", failf("the download of %s does not match its checksum (%s %s expected, %s received); it was deleted: download it again",
			d.what, d.want.Algorithm, strings.ToLower(d.want.Hash), sum)
	}
	return d.want.Algorithm + " verified", nil
}

// fetch brings F.part to completion, from st when resuming.
func (d *download) fetch(part, statePath string, st *partState) (result, error) {
	ph, _ := d.digester()
	if st != nil {
		return d.resumeFrom(part, statePath, st, ph)
	}
	if d.conns > 1 {
		resp, err := d.api.do(d.env.ctx, request{method: http.MethodHead, url: d.url})
		var pe *problemError
		switch {
		case errors.As(err, &pe):
			// A HEAD answer has no ProblemDetails body: the GET below
			// gets the same error with its explanation.
		case err != nil:
			return result{}, err
		default:
			resp.Body.Close()
		}
		if err == nil && resp.ContentLength > 0 && strongETag(resp.Header.Get("ETag")) != "" && resp.Header.Get("Accept-Ranges") == "bytes" {
			etag, size := strongETag(resp.Header.Get("ETag")), resp.ContentLength
			st = &partState{Resource: d.resource, ETag: etag, Size: size}
			f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return result{}, &localError{err}
			}
			defer f.Close()
			if err := f.Truncate(size); err != nil {
				return result{}, &localError{err}
			}
			if err := saveState(statePath, st); err != nil {
				return result{}, err
			}
			return d.parallel(f, statePath, st, [][2]int64{{0, size}}, ph)
		}
		if err == nil {
			d.note("the server offers no ranges with a strong ETag for %s: downloading with one connection", d.what)
		}
	}
	// One connection from the start.
	resp, err := d.api.do(d.env.ctx, request{method: http.MethodGet, url: d.url})
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	st = &partState{Resource: d.resource, ETag: strongETag(resp.Header.Get("ETag")), Size: resp.ContentLength, Sequential: true}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644) // read too: the digest reads it back
	if err != nil {
		return result{}, &localError{err}
	}
	defer f.Close()
	if err := saveState(statePath, st); err != nil {
		return result{}, err
	}
	return d.sequential(f, resp.Body, 0, st, statePath, ph)
}

// resumeFrom continues the partial download st describes; ph continues
// from the digest state it saved when that is usable.
func (d *download) resumeFrom(part, statePath string, st *partState, ph *prefixHash) (result, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return result{}, &localError{err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return result{}, &localError{err}
	}
	if st.Size < 0 {
		return result{}, errChanged // size unknown: nothing to resume against
	}
	var have [][2]int64
	if st.Sequential {
		if fi.Size() > st.Size {
			return result{}, errChanged
		}
		have = [][2]int64{{0, fi.Size()}}
	} else {
		have = st.Have
	}
	if ph != nil {
		ph.restore(st, prefixEnd(have))
	}
	holes := missing(have, st.Size)
	if len(holes) == 0 {
		return result{size: st.Size, sum: ph}, nil
	}
	if d.conns <= 1 && st.Sequential {
		from := holes[0][0]
		resp, err := d.ranged(from, st.Size, st)
		if err != nil {
			return result{}, err
		}
		defer resp.Body.Close()
		if ph != nil {
			// What is on disk and not in the saved digest, then what comes.
			if err := ph.catchUp(d.env.ctx, f, from, io.Discard); err != nil {
				return result{}, err
			}
		}
		d.note("resuming %s at byte %d of %d", d.what, from, st.Size)
		return d.sequential(f, resp.Body, from, st, statePath, ph)
	}
	if st.Sequential {
		st.Sequential, st.Have = false, have
		if err := f.Truncate(st.Size); err != nil {
			return result{}, &localError{err}
		}
		if err := saveState(statePath, st); err != nil {
			return result{}, err
		}
	}
	d.note("resuming %s: %d of %d bytes missing", d.what, st.Size-covered(have), st.Size)
	return d.parallel(f, statePath, st, holes, ph)
}

// prefixEnd is where the range of have that starts at 0 ends (0 if none).
func prefixEnd(have [][2]int64) int64 {
	if m := merge(have); len(m) > 0 && m[0][0] <= 0 {
		return m[0][1]
	}
	return 0
}

// ranged GETs [from, to) of the resource with If-Range: st.ETag and
// checks that the answer is that range of the same content.
func (d *download) ranged(from, to int64, st *partState) (*http.Response, error) {
	resp, err := d.api.do(d.env.ctx, request{method: http.MethodGet, url: d.url, header: http.Header{
		"Range":    {fmt.Sprintf("bytes=%d-%d", from, to-1)},
		"If-Range": {st.ETag},
	}})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		resp.Body.Close()
		return nil, errChanged
	}
	if resp.StatusCode != http.StatusPartialContent {
		resp.Body.Close()
		return nil, failf("the server answered %s to a range request for %s", resp.Status, d.what)
	}
	a, b, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if !ok || size != st.Size || a != from || b != to-1 {
		resp.Body.Close()
		if ok && size != st.Size {
			return nil, errChanged
		}
		return nil, failf("the server answered the range %d-%d of %s with %q", from, to-1, d.what, resp.Header.Get("Content-Range"))
	}
	return resp, nil
}

// sequential writes body to f from offset from, in order, hashing into ph
// (when not nil, already at from) and showing progress; st.Size is the
// expected end (-1: unknown). When the transfer stops short, the digest's
// state is saved for --continue.
func (d *download) sequential(f *os.File, body io.Reader, from int64, st *partState, statePath string, ph *prefixHash) (result, error) {
	size := st.Size
	bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Downloading "+filepath.Base(d.dest), from, size)
	var w io.Writer = &fileWriter{w: io.NewOffsetWriter(f, from)}
	var fl *follower
	switch {
	case ph != nil && size >= 0:
		// Hashed by a follower, as a parallel download is: the digest
		// runs beside the socket reads and file writes, not between them.
		p := &piece{start: from, end: size}
		fl = d.startFollower(f, nil, []*piece{p}, size, ph)
		w = &fileWriter{w: io.NewOffsetWriter(f, from), count: &p.done, wrote: func() { fl.wu.wrote(p) }}
	case ph != nil:
		// No size to follow up to: hashed in line, the file first, so
		// that the digest never covers bytes not written.
		w = io.MultiWriter(w, ph)
	}
	n, err := copyBody(io.MultiWriter(w, bar), body)
	bar.Done()
	if err == nil && size >= 0 && from+n != size {
		err = io.ErrUnexpectedEOF
	}
	if fl != nil {
		if ferr := fl.finish(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		if ph != nil && st.ETag != "" {
			ph.save(st)
			saveState(statePath, st) // at worst, --continue hashes the prefix again
		}
		return result{}, d.transferError(err)
	}
	return result{size: from + n, sum: ph}, nil
}

// copyBuffer is the size of the buffer a body is copied through: larger
// than io.Copy's 32 KiB, for fewer system calls (a socket read and a file
// write per buffer). Larger buffers measured worse (256 KiB: a quarter
// more CPU with 4 connections, which write into one file under its lock).
const copyBuffer = 64 << 10

// copyBody copies a response body to w through a copyBuffer.
func copyBody(w io.Writer, body io.Reader) (int64, error) {
	return io.CopyBuffer(w, body, make([]byte, copyBuffer))
}

// transferError classifies an error met while copying a body.
func (d *download) transferError(err error) error {
	var le *localError
	switch {
	case d.env.ctx.Err() != nil:
		return d.env.ctx.Err()
	case errors.As(err, &le):
		return le
	}
	return &connError{url: d.url, err: err, lost: true}
}

// piece is one range of a parallel download.
type piece struct {
	start, end int64
	done       atomic.Int64
}

// parallel fetches the holes of st into f with d.conns connections taking
// the pieces in file order, while ph (when not nil) follows the completed
// prefix. Progress, with the digest's state, is recorded in statePath
// every second and at the end.
func (d *download) parallel(f *os.File, statePath string, st *partState, holes [][2]int64, ph *prefixHash) (result, error) {
	have := st.Have
	var pieces []*piece
	for _, r := range split(holes, pieceCount(holes, d.conns)) {
		pieces = append(pieces, &piece{start: r[0], end: r[1]})
	}
	var mu sync.Mutex // st
	record := func() error {
		mu.Lock()
		defer mu.Unlock()
		all := append([][2]int64(nil), have...)
		for _, p := range pieces {
			if n := p.done.Load(); n > 0 {
				all = append(all, [2]int64{p.start, p.start + n})
			}
		}
		st.Have = merge(all)
		if ph != nil {
			ph.save(st)
		}
		return saveState(statePath, st)
	}
	bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Downloading "+filepath.Base(d.dest), covered(have), st.Size)
	ctx, cancel := context.WithCancel(d.env.ctx)
	defer cancel()
	stopSaver := make(chan struct{})
	saverDone := make(chan struct{})
	go func() {
		defer close(saverDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopSaver:
				return
			case <-t.C:
				record()
			}
		}
	}()

	// The digest follows the pieces as they reach the disk.
	fl := d.startFollower(f, have, pieces, st.Size, ph)

	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		next     atomic.Int64
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range min(max(d.conns, 1), len(pieces)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(pieces)) {
					return
				}
				err := d.fetchPiece(ctx, f, st, pieces[i], bar, fl.wu)
				if err != nil && ctx.Err() == nil {
					fail(err)
				} else if err != nil && d.env.ctx.Err() != nil {
					fail(d.env.ctx.Err())
				}
			}
		}()
	}
	wg.Wait()
	bar.Done()
	followErr := fl.finish()
	close(stopSaver)
	<-saverDone
	if err := record(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return result{}, firstErr
	}
	if followErr != nil {
		return result{}, followErr
	}
	return result{size: st.Size, sum: ph}, nil
}

// follower runs prefixHash.follow beside the writers of the pieces.
type follower struct {
	wu      *wakeup
	stopped chan struct{}
	done    chan error
}

// startFollower starts the digest ph (nothing when nil) following the
// pieces, in a file whose other bytes (have) are on disk.
func (d *download) startFollower(f *os.File, have [][2]int64, pieces []*piece, size int64, ph *prefixHash) *follower {
	fl := &follower{wu: newWakeup(), stopped: make(chan struct{}), done: make(chan error, 1)}
	if ph == nil {
		fl.done <- nil
		return fl
	}
	segs := segments(have, pieces, size)
	go func() { fl.done <- ph.follow(d.env.ctx, f, segs, size, fl.wu, fl.stopped) }()
	return fl
}

// finish tells the follower that the writers have ended and waits until it
// has hashed what is on disk: nil when that is the whole file.
func (fl *follower) finish() error {
	close(fl.stopped)
	return <-fl.done
}

// pieceCount is how many pieces the holes are split into: one per
// connection at least, and enough for none to exceed pieceSize much.
func pieceCount(holes [][2]int64, conns int) int {
	var total int64
	for _, h := range holes {
		total += h[1] - h[0]
	}
	return max(conns, 1, int((total+pieceSize-1)/pieceSize))
}

// fetchPiece downloads one range into its place in f, telling wu after
// each write.
func (d *download) fetchPiece(ctx context.Context, f *os.File, st *partState, p *piece, bar *progress, wu *wakeup) error {
	sub := *d
	env := *d.env
	env.ctx = ctx
	sub.env = &env
	resp, err := sub.ranged(p.start, p.end, st)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w := &fileWriter{w: io.NewOffsetWriter(f, p.start), count: &p.done, wrote: func() { wu.wrote(p) }}
	// Never more than the piece: bytes beyond it would land on the next
	// piece's place in the file and count as done there.
	n, err := copyBody(io.MultiWriter(w, bar), io.LimitReader(resp.Body, p.end-p.start))
	if err == nil && n != p.end-p.start {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		if extra, _ := io.ReadFull(resp.Body, make([]byte, 1)); extra > 0 {
			return failf("the server sent more bytes than the range %d-%d it was asked for", p.start, p.end-1)
		}
	}
	if err != nil {
		return sub.transferError(err)
	}
	return nil
}

// fileWriter marks write errors as local ones, counts what was written
// and calls wrote (when set) after it counted.
type fileWriter struct {
	w     io.Writer
	count *atomic.Int64
	wrote func()
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if w.count != nil {
		w.count.Add(int64(n))
	}
	if w.wrote != nil && n > 0 {
		w.wrote()
	}
	if err != nil {
		return n, &localError{err}
	}
	return n, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// toStdout streams the resource to stdout, verifying it on the way.
func (d *download) toStdout() error {
	if isTerminal(d.env.stdout) {
		return usagef("give --file: the content is not written to a terminal")
	}
	resp, err := d.api.do(d.env.ctx, request{method: http.MethodGet, url: d.url})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	m, why := d.digester()
	bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Downloading", 0, resp.ContentLength)
	var w io.Writer = &fileWriter{w: d.env.stdout}
	if m != nil {
		w = io.MultiWriter(w, m)
	}
	n, err := io.Copy(io.MultiWriter(w, bar), resp.Body)
	bar.Done()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return d.transferError(err)
	}
	if m == nil {
		d.note("%s was not verified: %s", d.what, why)
		return nil
	}
	if sum, match := m.result(); !match {
		return failf("the data written does not match the checksum of %s (%s %s expected, %s received)", d.what, d.want.Algorithm, strings.ToLower(d.want.Hash), sum)
	}
	return nil
}

// strongETag returns a strong entity tag, or "" for a weak or absent one
// (If-Range needs a strong one).
func strongETag(tag string) string {
	tag = strings.TrimSpace(tag)
	if strings.HasPrefix(tag, "W/") || len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return ""
	}
	return tag
}

// parseContentRange parses "bytes A-B/SIZE".
func parseContentRange(v string) (a, b, size int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	first, last, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	a, err1 = strconv.ParseInt(first, 10, 64)
	b, err2 = strconv.ParseInt(last, 10, 64)
	size, err3 = strconv.ParseInt(total, 10, 64)
	return a, b, size, err1 == nil && err2 == nil && err3 == nil && a <= b && b < size
}

// merge sorts ranges and joins those that touch or overlap.
func merge(rs [][2]int64) [][2]int64 {
	var in [][2]int64
	for _, r := range rs {
		if r[1] > r[0] {
			in = append(in, r)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i][0] < in[j][0] })
	var out [][2]int64
	for _, r := range in {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// missing returns the ranges of [0, size) not covered by have.
func missing(have [][2]int64, size int64) [][2]int64 {
	var holes [][2]int64
	pos := int64(0)
	for _, r := range merge(have) {
		start, end := max(r[0], 0), min(r[1], size)
		if start > pos {
			holes = append(holes, [2]int64{pos, min(start, size)})
		}
		pos = max(pos, end)
	}
	if pos < size {
		holes = append(holes, [2]int64{pos, size})
	}
	return holes
}

// covered is the number of bytes the ranges cover.
func covered(have [][2]int64) int64 {
	var n int64
	for _, r := range merge(have) {
		n += r[1] - r[0]
	}
	return n
}

// split divides holes into n pieces (more if there are more holes), giving
// the extra pieces to the holes with the most bytes per piece, and each
// hole's pieces equal sizes.
func split(holes [][2]int64, n int) [][2]int64 {
	count := make([]int64, len(holes))
	for i := range holes {
		count[i] = 1
	}
	for extra := n - len(holes); extra > 0; extra-- {
		best, bestPer := -1, int64(1)
		for i, h := range holes {
			if per := (h[1] - h[0]) / count[i]; per > bestPer && count[i] < h[1]-h[0] {
				best, bestPer = i, per
			}
		}
		if best < 0 {
			break
		}
		count[best]++
	}
	var out [][2]int64
	for i, h := range holes {
		length := h[1] - h[0]
		for k := int64(0); k < count[i]; k++ {
			out = append(out, [2]int64{h[0] + length*k/count[i], h[0] + length*(k+1)/count[i]})
		}
	}
	return out
}

func loadState(path string) *partState {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var st partState
	if json.Unmarshal(b, &st) != nil || st.Resource == "" {
		return nil
	}
	return &st
}

// saveState replaces the state file atomically.
func saveState(path string, st *partState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return &localError{err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &localError{err}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
