package vnfpkgm

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// serveContent serves bytes with RFC 9110 ranges and conditions through
// http.ServeContent, but answers its errors (416, 412) as ProblemDetails
// like every other error of the API, keeping Content-Range on a 416.
func serveContent(c echo.Context, modified time.Time, content io.ReadSeeker) {
	w := &problemWriter{ResponseWriter: c.Response().Writer, c: c}
	http.ServeContent(w, c.Request(), "", modified, content)
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
		return "the requested range does not overlap the content; Content-Range gives its size"
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
