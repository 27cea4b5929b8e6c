package vnfpkgm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// JobUpload is the job of a PUT upload in progress: started running by the
// request handler with a lease it renews while the body streams in. If the
// process dies, the lease expires and a worker of any replica claims the
// job: the uploader is gone, so the package returns to CREATED and the
// dead writer's temp file is removed (uploadAbandoned).
const JobUpload = "upload"

// uploadHold is an upload's lease on its package.
type uploadHold struct {
	job   *storage.Job
	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

// uploadOwner names the uploads of this process in job leases.
func (s *Server) uploadOwner() string { return s.owner + "/upload" }

// beginUpload moves package id from CREATED to UPLOADING and starts its
// upload job, in one transaction, then renews the lease until
// stopRenewing.
func (s *Server) beginUpload(ctx context.Context, id string) (*uploadHold, error) {
	h := &uploadHold{job: &storage.Job{PackageID: id, Kind: JobUpload}, owner: s.uploadOwner(), done: make(chan struct{})}
	err := s.db.Tx(ctx, func(tx *storage.DB) error {
		if _, err := tx.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingCreated), func(p *storage.Package) error {
			p.OnboardingState = storage.OnboardingUploading
			// A new upload is the current onboarding procedure: the failure
			// of an earlier one no longer applies.
			p.OnboardingFailureDetails = nil
			return nil
		}); err != nil {
			return err
		}
		return tx.StartJob(ctx, h.job, h.owner, s.cfg.UploadLease)
	})
	if err != nil {
		return nil, err
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stop = stop
	go s.renewUpload(renewCtx, h)
	return h, nil
}

// renewUpload renews h's lease at a third of its duration. A lost lease
// (this process was paused longer than the lease, and the package was
// given back) is logged; the upload's final transaction then fails.
func (s *Server) renewUpload(ctx context.Context, h *uploadHold) {
	defer close(h.done)
	t := time.NewTicker(s.cfg.UploadLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.db.RenewLease(ctx, h.job.ID, h.owner, s.cfg.UploadLease)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("upload lease lost", "package", h.job.PackageID, "error", err)
				return
			}
		}
	}
}

// stopRenewing ends the renewals, before the job itself ends in
// storeContent's or backToCreated's transaction (a renewal after the end
// would report a lost lease, and one during it would wait for the
// transaction's write lock while the transaction waited for it). It may be
// called more than once; a nil hold (a fetch) has no renewals.
func (h *uploadHold) stopRenewing() {
	if h == nil {
		return
	}
	h.stop()
	<-h.done
}

// end completes the upload's job inside tx (stopRenewing must have run):
// ErrConflict if the lease was lost. A nil hold (a fetch, covered by its
// own job) does nothing.
func (h *uploadHold) end(ctx context.Context, tx *storage.DB) error {
	if h == nil {
		return nil
	}
	return tx.CompleteJob(ctx, h.job.ID, h.owner)
}

// uploadAbandoned runs an upload job a worker claimed: its uploader's
// lease expired, so the process that received the upload died (or was
// stopped) mid-body. The package returns to CREATED with failure details
// saying so, and the temp files of dead writers go, and so does content
// the uploader committed without recording it. It returns the job's
// failure.
func (s *Server) uploadAbandoned(ctx context.Context, job *storage.Job) error {
	pd := sol013.NewProblem(http.StatusServiceUnavailable,
		"the upload was interrupted: the server receiving it stopped before the package was complete; upload again")
	pd.Title = "Upload failed"
	if err := s.removeUnrecordedContent(ctx, job.PackageID); err != nil {
		return &retryLater{err}
	}
	_, err := s.db.UpdatePackageIf(ctx, job.PackageID, storage.InOnboarding(storage.OnboardingUploading), func(p *storage.Package) error {
		p.OnboardingState = storage.OnboardingCreated
		p.OnboardingFailureDetails = storage.MustJSON(pd)
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrConflict) {
		return &retryLater{err}
	}
	if tc, ok := s.blobs.(blob.TempCleaner); ok {
		if _, err := tc.CleanTemp(ctx); err != nil {
			s.log.Warn("removing temp files of dead writers", "error", err)
		}
	}
	return errors.New("the uploader stopped before the end of the package; the package is CREATED again")
}

// retryLater is a job failure that a later attempt may not meet (the
// database or the blob store failed for a moment): the job is queued
// again rather than failed, since failing it would leave its package
// UPLOADING with no job to put it back.
type retryLater struct{ err error }

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// retryDelay is how long a retryLater job waits before it is claimed again.
const retryDelay = 5 * time.Second

// removeUnrecordedContent deletes the content blobs of package id that its
// row does not name, while the package is still UPLOADING under the dead
// uploader's lease: storeContent commits the blob before it records it,
// and a process killed in between leaves one that Reconcile would keep
// for its orphan grace and the sweep never sees. No one else writes
// content for the package meanwhile: a new upload or fetch needs it
// CREATED, and the dead uploader, if it was only paused, fails to record
// its blob (its lease is lost) and deletes it itself.
func (s *Server) removeUnrecordedContent(ctx context.Context, id string) error {
	p, err := s.db.GetPackage(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.OnboardingState != storage.OnboardingUploading {
		return nil
	}
	var stray []string
	err = s.blobs.List(ctx, storage.ContentKeyPrefix+id+"/", func(i blob.Info) error {
		if p.ContentKey == nil || i.Key != *p.ContentKey {
			stray = append(stray, i.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range stray {
		if err := s.blobs.Delete(ctx, key); err != nil {
			return err
		}
		s.log.Info("removed content an interrupted upload committed without recording it", "package", id, "key", key)
	}
	return nil
}

// clientReadError is a failure to read the body of a request: the
// client's doing, not the server's storage.
type clientReadError struct {
	err  error
	idle time.Duration // set when the body was cut for sending nothing that long
}

func (e *clientReadError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *clientReadError) Unwrap() error { return e.err }

// idleBody is the request body of c with an idle timeout: the body is cut
// once the client has sent nothing for cfg.UploadIdleTimeout (at least
// 15/16 of it: a read deadline on the connection, moved forward as reads
// return), so a client that stalls releases the
// connection, the temp file and the package. Its errors are
// *clientReadError. Without a connection that takes deadlines (HTTP/2)
// only the error tagging applies.
func (s *Server) idleBody(c echo.Context) *idleDeadlineBody {
	rc := http.NewResponseController(c.Response().Writer)
	return &idleDeadlineBody{body: c.Request().Body, rc: rc, idle: s.cfg.UploadIdleTimeout}
}

type idleDeadlineBody struct {
	body io.Reader
	rc   *http.ResponseController
	idle time.Duration
	// moved is when the deadline was last moved forward, and armed
	// whether the connection took it. Moving it resets a runtime timer;
	// doing so once idle/16 has passed instead of at every read (a read
	// returns what one TCP segment burst brought) keeps the deadline
	// between 15/16 of idle and idle ahead for a clock read per read.
	moved time.Time
	armed bool
}

func (b *idleDeadlineBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.moved) >= b.idle/16 {
		b.armed = b.rc.SetReadDeadline(now.Add(b.idle)) == nil
		b.moved = now
	}
	n, err := b.body.Read(p)
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case b.armed && errors.Is(err, os.ErrDeadlineExceeded):
		return n, &clientReadError{err: err, idle: b.idle}
	}
	return n, &clientReadError{err: err}
}

// clear removes the deadline once the body is read: the connection may
// wait idle for the client's next request.
func (b *idleDeadlineBody) clear() { b.rc.SetReadDeadline(time.Time{}) }

// idleCancelReader reads a response body, calling cancel (the request's
// context) when no read returns for idle: a client cannot put a deadline
// on its connection as a server can.
type idleCancelReader struct {
	r     io.Reader
	idle  time.Duration
	timer *time.Timer
	fired atomic.Bool
	once  sync.Once
}

func newIdleCancelReader(r io.Reader, idle time.Duration, cancel context.CancelFunc) *idleCancelReader {
	ir := &idleCancelReader{r: r, idle: idle}
	ir.timer = time.AfterFunc(idle, func() {
		ir.fired.Store(true)
		cancel()
	})
	return ir
}

func (r *idleCancelReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 && !r.fired.Load() {
		r.timer.Reset(r.idle)
	}
	if err != nil && err != io.EOF {
		err = &originReadError{err}
	}
	return n, err
}

// originReadError is a failure to read what a remote origin sends.
type originReadError struct{ err error }

func (e *originReadError) Error() string { return "reading from the origin: " + e.err.Error() }
func (e *originReadError) Unwrap() error { return e.err }

// idled reports whether the transfer was cut for idleness.
func (r *idleCancelReader) idled() bool { return r.fired.Load() }

func (r *idleCancelReader) stop() { r.once.Do(func() { r.timer.Stop() }) }

// notifyFetch wakes one idle fetch worker.
func (s *Server) notifyFetch() {
	select {
	case s.wakeFetch <- struct{}{}:
	default:
	}
}
