// Package standin is what the stand-ins of the seed's VIMs share: faults a
// test injects (a status, a delay, a corrupted pull), and the record of
// the requests received and the images pulled.
package standin

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault makes matching requests fail or wait: a test's way to see the VIM
// unavailable, refusing or slow.
type Fault struct {
	Method string // "" matches every method
	Path   string // a prefix of the path
	// Status, when not 0, answers the request with this status (and the
	// stand-in's error body) instead of serving it.
	Status int
	// Delay holds the request this long before it is served (or failed).
	Delay time.Duration
	// CorruptPull flips a byte of every layer the request's image pulls
	// read, as a transfer gone wrong would: the digest check refuses it.
	CorruptPull bool
	// Skip lets the first Skip matching requests through untouched (the
	// fault hits the next ones): e.g. the second volume of an allocation.
	Skip int
}

// Recorder holds the faults and the record of one stand-in.
type Recorder struct {
	mu       sync.Mutex
	faults   []Fault
	requests map[string]int
	pulls    []string
}

// Inject adds a fault; the last one added that matches a request applies.
func (r *Recorder) Inject(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// ClearFaults removes every fault.
func (r *Recorder) ClearFaults() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// Requests counts the requests received for "METHOD /path".
func (r *Recorder) Requests(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[method+" "+path]
}

// Pulls lists the image references pulled, in order.
func (r *Recorder) Pulls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.pulls...)
}

// Pulled records a pull.
func (r *Recorder) Pulled(ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls = append(r.pulls, ref)
}

// Begin records a request and applies its fault's delay. It returns the
// fault (zero when none matches), and false when the client left during
// the delay (nothing is to be answered).
func (r *Recorder) Begin(req *http.Request) (Fault, bool) {
	r.mu.Lock()
	if r.requests == nil {
		r.requests = map[string]int{}
	}
	r.requests[req.Method+" "+req.URL.Path]++
	var fault Fault
	for i, f := range r.faults {
		if (f.Method == "" || f.Method == req.Method) && strings.HasPrefix(req.URL.Path, f.Path) {
			if f.Skip > 0 {
				r.faults[i].Skip--
				continue
			}
			fault = f
		}
	}
	r.mu.Unlock()
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-req.Context().Done():
			return fault, false
		}
	}
	return fault, true
}
