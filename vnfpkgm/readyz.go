package vnfpkgm

// This file is /readyz (readiness: this replica can serve) and the
// observability routes. /healthz stays liveness (server.go).

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// readinessProbeKey is a key no object ever has: a Stat of it proves the
// blob store answers (not found is the expected answer).
const readinessProbeKey = "readyz/probe-never-written"

// readinessTimeout bounds each check, so that a database or store that
// hangs makes the replica unready instead of holding the probe.
const readinessTimeout = 5 * time.Second

func (s *Server) registerObservabilityRoutes(e *echo.Echo) {
	e.GET("/metrics", s.metrics.handler())
	e.GET("/readyz", s.readyz)
	e.HEAD("/readyz", s.readyz)
}

// readyz answers 200 when the database answers, every migration of this
// build is applied and the blob store answers; else 503 naming what
// failed (the causes are logged, not echoed: they may name hosts).
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), readinessTimeout)
	defer cancel()
	var failed []string
	if err := s.db.Gorm().WithContext(ctx).Exec("SELECT 1").Error; err != nil {
		s.log.Warn("not ready: database", "error", err)
		failed = append(failed, "the database does not answer")
	} else if pending, err := s.db.PendingMigrations(ctx); err != nil {
		s.log.Warn("not ready: migrations", "error", err)
		failed = append(failed, "the applied migrations cannot be read")
	} else if len(pending) > 0 {
		failed = append(failed, "migrations not applied: "+strings.Join(pending, ", "))
	}
	if _, err := s.blobs.Stat(ctx, readinessProbeKey); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.log.Warn("not ready: blob store", "error", err)
		failed = append(failed, "the blob store does not answer")
	}
	if len(failed) > 0 {
		return sol013.NewProblem(http.StatusServiceUnavailable, "not ready: "+strings.Join(failed, "; "))
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// logFor is the server's logger with the request id ctx carries (that
// of the request being served, or of the one that queued the job being
// run), so that a request's and its jobs' lines can be followed together.
func (s *Server) logFor(ctx context.Context) *slog.Logger {
	if id := storage.RequestIDFrom(ctx); id != "" {
		return s.log.With("request_id", id)
	}
	return s.log
}
