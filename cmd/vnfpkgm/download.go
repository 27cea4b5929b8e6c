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

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
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
// what is missing into N ranges fetched in parallel and written at their
// offsets.

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
}

// errChanged: the server sent the whole content to a ranged request whose
// If-Range no longer holds.
var errChanged = errors.New("the content changed on the server")

// result is what a finished transfer knows.
type result struct {
	size int64
	sum  *digest.Multi // the digest of the whole file when computed on the fly
}

func (d *download) note(format string, args ...any) {
	fmt.Fprintf(d.env.stderr, "%s: %s\n", d.env.cmd, fmt.Sprintf(format, args...))
}

// digester returns a digest of the expected checksum, or nil (with the
// reason) when the download cannot be verified.
func (d *download) digester() (*digest.Multi, string) {
	if d.want == nil || d.want.Algorithm == "" || d.want.Hash == "" {
		return nil, "the server declares no checksum for it"
	}
	m, err := digest.NewMulti([]digest.Want{{Algorithm: d.want.Algorithm, Expected: d.want.Hash}})
	if err != nil {
		return nil, fmt.Sprintf("its checksum cannot be checked: %v", err)
	}
	return m, ""
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
// the download was verified.
func (d *download) verify(part, statePath string, res result) (string, error) {
	m, why := d.digester()
	if m == nil {
		if d.mustVerify { // checked before the download; kept for safety
			return "", failf("%s cannot be verified: %s", d.what, why)
		}
		return "not verified: " + why, nil
	}
	if res.sum != nil {
		m = res.sum
	} else {
		f, err := os.Open(part)
		if err != nil {
			return "", &localError{err}
		}
		bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Verifying", 0, res.size)
		_, err = io.Copy(io.MultiWriter(m, bar), &ctxReader{ctx: d.env.ctx, r: f})
		bar.Done()
		f.Close()
		if err != nil {
			if d.env.ctx.Err() != nil {
				return "", d.env.ctx.Err()
			}
			return "", &localError{err}
		}
	}
	r := m.Results()[0]
	if !r.Match {
		os.Remove(part)
		os.Remove(statePath)
		return "", failf("the download of %s does not match its checksum (%s %s expected, %s received); it was deleted: download it again",
			d.what, d.want.Algorithm, strings.ToLower(d.want.Hash), r.Hex)
	}
	return d.want.Algorithm + " verified", nil
}

// fetch brings F.part to completion, from st when resuming.
func (d *download) fetch(part, statePath string, st *partState) (result, error) {
	if st != nil {
		return d.resumeFrom(part, statePath, st)
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
			return d.parallel(f, statePath, st, [][2]int64{{0, size}})
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
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return result{}, &localError{err}
	}
	defer f.Close()
	if err := saveState(statePath, st); err != nil {
		return result{}, err
	}
	m, _ := d.digester()
	return d.sequential(f, resp.Body, 0, st.Size, m)
}

// resumeFrom continues the partial download st describes.
func (d *download) resumeFrom(part, statePath string, st *partState) (result, error) {
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
	holes := missing(have, st.Size)
	if len(holes) == 0 {
		return result{size: st.Size}, nil
	}
	if d.conns <= 1 && st.Sequential {
		from := holes[0][0]
		resp, err := d.ranged(from, st.Size, st)
		if err != nil {
			return result{}, err
		}
		defer resp.Body.Close()
		m, _ := d.digester()
		if m != nil {
			// The digest of what is already there, then of what comes.
			if _, err := io.Copy(m, &ctxReader{ctx: d.env.ctx, r: io.NewSectionReader(f, 0, from)}); err != nil {
				if d.env.ctx.Err() != nil {
					return result{}, d.env.ctx.Err()
				}
				return result{}, &localError{err}
			}
		}
		d.note("resuming %s at byte %d of %d", d.what, from, st.Size)
		return d.sequential(f, resp.Body, from, st.Size, m)
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
	return d.parallel(f, statePath, st, holes)
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

// sequential writes body to f from offset from, in order, hashing into m
// (when not nil) and showing progress; size is the expected end (-1:
// unknown).
func (d *download) sequential(f *os.File, body io.Reader, from, size int64, m *digest.Multi) (result, error) {
	bar := newProgress(d.env.stderr, isTerminal(d.env.stderr), "Downloading "+filepath.Base(d.dest), from, size)
	var w io.Writer = &fileWriter{w: io.NewOffsetWriter(f, from)}
	if m != nil {
		w = io.MultiWriter(w, m)
	}
	n, err := io.Copy(io.MultiWriter(w, bar), body)
	bar.Done()
	if err == nil && size >= 0 && from+n != size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return result{}, d.transferError(err)
	}
	return result{size: from + n, sum: m}, nil
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

// parallel fetches the holes of st into f with d.conns connections and
// records progress in statePath (every second, and at the end).
func (d *download) parallel(f *os.File, statePath string, st *partState, holes [][2]int64) (result, error) {
	have := st.Have
	var pieces []*piece
	for _, r := range split(holes, max(d.conns, 1)) {
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
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	sem := make(chan struct{}, max(d.conns, 1))
	for _, p := range pieces {
		wg.Add(1)
		go func(p *piece) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := d.fetchPiece(ctx, f, st, p, bar); err != nil && ctx.Err() == nil {
				fail(err)
			} else if err != nil && d.env.ctx.Err() != nil {
				fail(d.env.ctx.Err())
			}
		}(p)
	}
	wg.Wait()
	close(stopSaver)
	<-saverDone
	bar.Done()
	if err := record(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return result{}, firstErr
	}
	return result{size: st.Size}, nil
}

// fetchPiece downloads one range into its place in f.
func (d *download) fetchPiece(ctx context.Context, f *os.File, st *partState, p *piece, bar *progress) error {
	sub := *d
	env := *d.env
	env.ctx = ctx
	sub.env = &env
	resp, err := sub.ranged(p.start, p.end, st)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w := &fileWriter{w: io.NewOffsetWriter(f, p.start), count: &p.done}
	n, err := io.Copy(io.MultiWriter(w, bar), resp.Body)
	if err == nil && n != p.end-p.start {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return sub.transferError(err)
	}
	return nil
}

// fileWriter marks write errors as local ones and counts what was written.
type fileWriter struct {
	w     io.Writer
	count *atomic.Int64
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if w.count != nil {
		w.count.Add(int64(n))
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
	if r := m.Results()[0]; !r.Match {
		return failf("the data written does not match the checksum of %s (%s %s expected, %s received)", d.what, d.want.Algorithm, strings.ToLower(d.want.Hash), r.Hex)
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
