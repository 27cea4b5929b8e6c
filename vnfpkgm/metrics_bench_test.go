package vnfpkgm

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// BenchmarkMetricsMiddleware is the cost per request of the /metrics HTTP
// middlewares (echoprometheus and the streamed-bytes counters): the same
// small PUT through echo without them ("bare") and with them ("metrics");
// the difference is their cost.
func BenchmarkMetricsMiddleware(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "vnfpkgm.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m, err := newServerMetrics(db, []string{"example.com"})
	if err != nil {
		b.Fatal(err)
	}
	handler := func(c echo.Context) error {
		if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
			return err
		}
		return c.String(http.StatusAccepted, "ok")
	}
	for _, bc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{
		{"bare", nil},
		{"metrics", []echo.MiddlewareFunc{m.httpMiddleware, m.countBytes}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.Use(bc.mw...)
			e.PUT("/vnfpkgm/v1/vnf_packages/:id/package_content", handler)
			body := strings.Repeat("x", 512)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPut, "/vnfpkgm/v1/vnf_packages/0b7c/package_content", strings.NewReader(body))
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusAccepted {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
