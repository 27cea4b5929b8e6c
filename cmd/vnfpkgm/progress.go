package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress is a one-line progress bar redrawn in place on a terminal. A
// disabled progress counts and prints nothing. Add may be called from
// several goroutines.
type progress struct {
	w       io.Writer
	label   string
	total   int64 // -1 when unknown
	base    int64 // bytes already there when it started (a resumed download)
	cur     atomic.Int64
	start   time.Time
	enabled bool

	mu      sync.Mutex
	lastLen int
	stop    chan struct{}
	stopped chan struct{}
}

// refresh is how often the bar is redrawn.
const refresh = 150 * time.Millisecond

// newProgress starts a bar at done bytes of total (-1: unknown).
func newProgress(w io.Writer, enabled bool, label string, done, total int64) *progress {
	p := &progress{w: w, label: label, total: total, base: done, start: time.Now(), enabled: enabled}
	p.cur.Store(done)
	if enabled {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return p
}

func (p *progress) Add(n int64) { p.cur.Add(n) }

// Write counts len(b): a progress is an io.Writer to tee into.
func (p *progress) Write(b []byte) (int, error) {
	p.cur.Add(int64(len(b)))
	return len(b), nil
}

func (p *progress) loop() {
	defer close(p.stopped)
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw(false)
		}
	}
}

// Done draws the final state and ends the line.
func (p *progress) Done() {
	if !p.enabled {
		return
	}
	close(p.stop)
	<-p.stopped
	p.draw(true)
	fmt.Fprintln(p.w)
}

func (p *progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.render(p.cur.Load(), time.Since(p.start), final)
	pad := ""
	if n := p.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.lastLen = len(line)
	fmt.Fprint(p.w, "\r"+line+pad)
}

// barWidth is the number of cells of the bar itself.
const barWidth = 30

// render is the text of the bar for cur bytes after elapsed.
func (p *progress) render(cur int64, elapsed time.Duration, final bool) string {
	var rate float64
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(cur-p.base) / s
	}
	var b strings.Builder
	b.WriteString(p.label)
	if p.total > 0 {
		frac := float64(cur) / float64(p.total)
		frac = min(max(frac, 0), 1)
		filled := int(frac * barWidth)
		fmt.Fprintf(&b, " %3d%% [%s%s] %s / %s", int(frac*100), strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), humanBytes(cur), humanBytes(p.total))
	} else {
		fmt.Fprintf(&b, " %s", humanBytes(cur))
	}
	fmt.Fprintf(&b, "  %s/s", humanBytes(int64(rate)))
	switch {
	case final:
		fmt.Fprintf(&b, "  in %s", roundDuration(elapsed))
	case p.total > 0 && rate > 0 && cur < p.total:
		fmt.Fprintf(&b, "  ETA %s", roundDuration(time.Duration(float64(p.total-cur)/rate*float64(time.Second))))
	}
	return b.String()
}

func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// humanBytes is n in B, KiB, MiB, GiB or TiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if f < unit || u == "TiB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return ""
}

// countingReader counts what is read through it into a progress.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.Add(int64(n))
	return n, err
}
