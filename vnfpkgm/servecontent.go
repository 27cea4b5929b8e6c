package vnfpkgm

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// serveContent serves size bytes of content with RFC 9110 ranges and
// conditions through http.ServeContent, but answers its errors (416, 412)
// as ProblemDetails like every other error of the API, keeping
// Content-Range on a 416. http.ServeContent serves ranges as they are
// asked, one Seek each: the Range header is first replaced by the plan of
// planRanges (overlaps merged, capped at cfg.MaxRanges) so that a
// compressed member, which can only be read forwards, is read once.
func (s *Server) serveContent(c echo.Context, modified time.Time, size int64, content io.ReadSeeker) {
	req := c.Request()
	if h := req.Header.Get("Range"); h != "" {
		seq, sequential := content.(*reopener)
		plan := planRanges(h, size, s.cfg.MaxRanges, sequential)
		if plan.header == "" {
			req.Header.Del("Range")
		} else {
			req.Header.Set("Range", plan.header)
		}
		if sequential {
			seq.keepRanges(plan.keep)
		}
	}
	w := &problemWriter{ResponseWriter: c.Response().Writer, c: c}
	http.ServeContent(w, req, "", modified, content)
	c.Response().Committed = true
	c.Response().Status = w.status
	c.Response().Size = w.size
}

// problemWriter passes success through and turns an error status from
// http.ServeContent into a ProblemDetails body.
type problemWriter struct {
	http.ResponseWriter
	c       echo.Context
	status  int
	size    int64
	problem bool
}

func (w *problemWriter) WriteHeader(status int) {
	w.status = status
	if status < 400 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.problem = true
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Length", "ETag", "Last-Modified", "X-Content-Type-Options", "Content-Encoding"} {
		h.Del(k)
	}
	pd := sol013.NewProblem(status, problemDetail(status))
	pd.Instance = w.c.Request().URL.Path
	body, _ := pd.MarshalJSON()
	h.Set("Content-Type", sol013.ContentTypeProblem)
	w.ResponseWriter.WriteHeader(status)
	if w.c.Request().Method != http.MethodHead {
		n, _ := w.ResponseWriter.Write(body)
		w.size += int64(n)
	}
}

func problemDetail(status int) string {
	switch status {
	case http.StatusRequestedRangeNotSatisfiable:
		// planRanges hands http.ServeContent only valid range sets: its
		// 416 always means that none of them overlaps the content.
		return "no requested range overlaps the content; Content-Range gives its size"
	case http.StatusPreconditionFailed:
		return "a precondition of the request (If-Match, If-Unmodified-Since) does not hold"
	}
	return strings.ToLower(http.StatusText(status))
}

func (w *problemWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.problem {
		return len(p), nil // http.ServeContent's plain-text error: replaced
	}
	n, err := w.ResponseWriter.Write(p)
	w.size += int64(n)
	return n, err
}

// ReadFrom lets io.Copy hand the transfer to the connection (sendfile for
// files) instead of copying through 32 KiB buffers.
func (w *problemWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.problem {
		return io.Copy(io.Discard, r)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.size += n
	return n, err
}
