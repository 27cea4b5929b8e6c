package vnfpkgm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// isNoSpace reports whether err is a write refused for lack of space or
// quota (the blob store's files, or the database: storage maps SQLite's
// "database or disk is full" to ENOSPC).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// insufficientStorageProblem is the answer to a request whose data could
// not be stored for lack of space: 507 (RFC 4918), with nothing of the
// server's paths or filesystems.
func insufficientStorageProblem() *sol013.ProblemDetails {
	return sol013.NewProblem(http.StatusInsufficientStorage,
		"the server has no space left to store this request's data; try again once the operator has freed space")
}

// insufficientStorage turns an error caused by a full disk into 507 and
// records it for readiness; other errors pass unchanged.
func (s *Server) insufficientStorage(err error) error {
	if !isNoSpace(err) {
		return err
	}
	s.space.failed(time.Now())
	return insufficientStorageProblem()
}

// spaceState is the readiness of the storage for writes. While the last
// write failed for lack of space, /healthz answers 503 so that a load
// balancer sends uploads to another replica; each /healthz then tries a
// probe write of probeSize bytes to the blob store, and a probe that
// succeeds (space was freed) makes the server ready again.
type spaceState struct {
	mu       sync.Mutex
	failedAt time.Time // zero: ready
}

const probeSize = 1 << 20

func (st *spaceState) failed(at time.Time) {
	st.mu.Lock()
	st.failedAt = at
	st.mu.Unlock()
}

func (st *spaceState) lastFailure() time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.failedAt
}

// recovered clears the failure recorded at or before at.
func (st *spaceState) recovered(at time.Time) {
	st.mu.Lock()
	if !st.failedAt.After(at) {
		st.failedAt = time.Time{}
	}
	st.mu.Unlock()
}

// spaceReadiness is nil when the storage takes writes, else the 503
// /healthz answers.
func (s *Server) spaceReadiness(ctx context.Context) *sol013.ProblemDetails {
	at := s.space.lastFailure()
	if at.IsZero() {
		return nil
	}
	if err := s.probeWrite(ctx); err == nil {
		s.space.recovered(time.Now())
		return nil
	} else if !isNoSpace(err) {
		s.log.Warn("storage probe write", "error", err)
	}
	return sol013.Problemf(http.StatusServiceUnavailable,
		"not ready: a write failed for lack of space at %s and a %d-byte probe write still fails", at.UTC().Format(time.RFC3339), probeSize)
}

// probeWrite stores a probeSize-byte blob and deletes it. It commits the
// blob rather than aborting it after the writes: a store may accept Write
// into memory and meet the full disk only when it writes out (the direct
// I/O path keeps up to 1.5 MiB in flight), and Commit is where every store
// reports that.
func (s *Server) probeWrite(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return err
	}
	defer w.Abort()
	buf := make([]byte, 64<<10)
	for n := 0; n < probeSize; n += len(buf) {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("probe write: %w", err)
		}
	}
	key := probeKeyPrefix + strings.ToLower(rand.Text())
	if err := w.Commit(ctx, key); err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.Warn("storage probe: delete", "key", key, "error", err)
	}
	return nil
}

// probeKeyPrefix names the probe blobs, apart from every package's keys.
const probeKeyPrefix = "readiness-probe/"
