package sol013

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestProblemJSON(t *testing.T) {
	p := NewProblem(http.StatusConflict, "package is not ONBOARDED").With("problems", []map[string]any{
		{"file": "Definitions/vnfd.yaml", "line": 3, "column": 5, "detail": "bad"},
	}).With("status", 999) // a standard member name is ignored
	p.Instance = "/vnfpkgm/v1/vnf_packages/1"
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"about:blank","title":"Conflict","status":409,"detail":"package is not ONBOARDED","instance":"/vnfpkgm/v1/vnf_packages/1","problems":[{"column":5,"detail":"bad","file":"Definitions/vnfd.yaml","line":3}]}`
	if string(data) != want {
		t.Errorf("JSON\n got %s\nwant %s", data, want)
	}
	var back ProblemDetails
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Status != 409 || back.Title != "Conflict" || back.Instance != p.Instance || len(back.Extensions["problems"].([]any)) != 1 {
		t.Errorf("round trip: %+v", back)
	}
	if _, ok := back.Extensions["status"]; ok {
		t.Error("standard member in Extensions")
	}
	// Value and pointer marshal alike; status and detail are always present.
	data, _ = json.Marshal(ProblemDetails{Status: 400})
	if string(data) != `{"status":400,"detail":""}` {
		t.Errorf("minimal: %s", data)
	}
	if p.Error() != "409 Conflict: package is not ONBOARDED" {
		t.Errorf("Error() = %q", p.Error())
	}
}

func TestProblemFromError(t *testing.T) {
	cases := []struct {
		err    error
		status int
		detail string
	}{
		{NewProblem(409, "busy"), 409, "busy"},
		{fmt.Errorf("wrapped: %w", NewProblem(422, "x")), 422, "x"},
		{echo.NewHTTPError(400, "bad body"), 400, "bad body"},
		{echo.NewHTTPError(400, errors.New("bad json")), 400, "bad json"},
		{echo.NewHTTPError(500, errors.New("db password=hunter2")), 500, "internal error"},
		{echo.NewHTTPError(400).SetInternal(echo.NewHTTPError(413, "too big")), 413, "too big"},
		{echo.ErrNotFound, 404, "does not exist"},
		{&FilterError{Pos: 3, Msg: "oops"}, 400, "column 3: oops"},
		{fmt.Errorf("list: %w", &SelectorError{Msg: "nope"}), 400, "nope"},
		{func() error { _, err := DecodeMarker("zz"); return err }(), 400, "nextpage_opaque_marker"},
		{errors.New("open /var/lib/secret: permission denied"), 500, "internal error"},
	}
	for _, c := range cases {
		p := ProblemFromError(c.err)
		if p.Status != c.status || !strings.Contains(p.Detail, c.detail) || p.Title != http.StatusText(c.status) {
			t.Errorf("%v -> %+v, want %d containing %q", c.err, p, c.status, c.detail)
		}
		if strings.Contains(p.Detail, "hunter2") || strings.Contains(p.Detail, "secret") {
			t.Errorf("detail leaks: %q", p.Detail)
		}
	}
	// The original is not modified when the handler fills in Instance.
	orig := NewProblem(409, "x")
	e := echo.New()
	c := e.NewContext(httptest.NewRequest("GET", "/a", nil), httptest.NewRecorder())
	HTTPErrorHandler(orig, c)
	if orig.Instance != "" {
		t.Error("HTTPErrorHandler modified the returned problem")
	}
}

// newServer builds an echo server wired as the daemon would wire it.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = HTTPErrorHandler
	e.Pre(CollapseLeadingSlashes())
	e.Use(Version("2.6.1", "2.6.0"))
	ok := func(c echo.Context) error { return c.String(http.StatusOK, c.Request().Method+" "+c.Path()) }
	g := e.Group("/vnfpkgm/v1")
	g.GET("/vnf_packages", ok)
	g.POST("/vnf_packages", ok)
	individual := func(c echo.Context) error {
		switch c.Param("id") {
		case "conflict":
			return NewProblem(http.StatusConflict, "not ONBOARDED").With("problems", []string{"a", "b"})
		case "boom":
			c.Response().Header().Set(echo.HeaderContentLength, "12345")
			c.Response().Header().Set("ETag", `"x"`)
			return errors.New("disk /data/blobs/1 unreadable")
		case "bad":
			return echo.NewHTTPError(http.StatusBadRequest, "bad id")
		}
		return ok(c)
	}
	g.GET("/vnf_packages/:id", individual)
	g.HEAD("/vnf_packages/:id", individual) // echo does not answer HEAD for GET routes by itself
	g.PATCH("/vnf_packages/:id", ok)
	g.DELETE("/vnf_packages/:id", ok)
	g.GET("/api_versions", ok)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   []byte
	pd     ProblemDetails
}

func do(t *testing.T, method, url string, hdr map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, body: body}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), ContentTypeProblem) && len(body) > 0 {
		if err := json.Unmarshal(body, &r.pd); err != nil {
			t.Fatalf("problem body %s: %v", body, err)
		}
	}
	return r
}

func TestErrorHandlerOverHTTP(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/vnfpkgm/v1"

	r := do(t, "GET", srv.URL+"/nowhere", nil)
	if r.status != 404 || r.header.Get("Content-Type") != ContentTypeProblem ||
		r.pd.Status != 404 || r.pd.Title != "Not Found" || r.pd.Type != "about:blank" ||
		r.pd.Instance != "/nowhere" || !strings.Contains(r.pd.Detail, "/nowhere") {
		t.Errorf("404: %d %v %s", r.status, r.header, r.body)
	}
	if r.header.Get("Version") != "2.6.1" {
		t.Errorf("404 without Version header")
	}

	for _, c := range []struct {
		method, path, allow string
	}{
		{"PUT", "/vnf_packages", "OPTIONS, GET, POST"},
		{"DELETE", "/vnf_packages", "OPTIONS, GET, POST"},
		{"POST", "/vnf_packages/42", "OPTIONS, DELETE, GET, HEAD, PATCH"},
		{"PUT", "/api_versions", "OPTIONS, GET"},
	} {
		r := do(t, c.method, base+c.path, nil)
		if r.status != 405 || r.pd.Status != 405 || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow=%q %s", c.method, c.path, r.status, r.header.Get("Allow"), r.body)
		}
		if r.pd.Instance != "/vnfpkgm/v1"+c.path || !strings.Contains(r.pd.Detail, c.allow) {
			t.Errorf("%s %s: problem %+v", c.method, c.path, r.pd)
		}
	}
	// OPTIONS on a routed path lists the same methods.
	if r := do(t, "OPTIONS", base+"/vnf_packages", nil); r.status != 204 || r.header.Get("Allow") != "OPTIONS, GET, POST" {
		t.Errorf("OPTIONS: %d %v", r.status, r.header)
	}

	r = do(t, "GET", base+"/vnf_packages/conflict", nil)
	if r.status != 409 || r.pd.Detail != "not ONBOARDED" || r.pd.Instance != "/vnfpkgm/v1/vnf_packages/conflict" {
		t.Errorf("409: %s", r.body)
	}
	if ps, _ := r.pd.Extensions["problems"].([]any); len(ps) != 2 {
		t.Errorf("409 extension lost: %s", r.body)
	}
	r = do(t, "GET", base+"/vnf_packages/boom", nil)
	if r.status != 500 || bytes.Contains(r.body, []byte("/data/blobs")) || r.header.Get("ETag") != "" ||
		r.pd.Status != 500 || r.pd.Detail == "" {
		t.Errorf("500: %d %v %s", r.status, r.header, r.body)
	}
	r = do(t, "GET", base+"/vnf_packages/bad", nil)
	if r.status != 400 || r.pd.Detail != "bad id" {
		t.Errorf("400: %s", r.body)
	}
	r = do(t, "HEAD", base+"/vnf_packages/conflict", nil)
	if r.status != 409 || len(r.body) != 0 || r.header.Get("Content-Type") != ContentTypeProblem {
		t.Errorf("HEAD: %d %v %q", r.status, r.header, r.body)
	}
}

func TestErrorHandlerCommitted(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest("GET", "/x", nil), rec)
	_ = c.String(200, "partial")
	HTTPErrorHandler(errors.New("late"), c)
	if rec.Code != 200 || rec.Body.String() != "partial" {
		t.Errorf("committed response changed: %d %q", rec.Code, rec.Body.String())
	}
}

func TestErrorHandlerKeeps416ContentRange(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest("GET", "/x", nil), rec)
	c.Response().Header().Set("Content-Range", "bytes */100")
	HTTPErrorHandler(NewProblem(http.StatusRequestedRangeNotSatisfiable, "no"), c)
	if rec.Code != 416 || rec.Header().Get("Content-Range") != "bytes */100" {
		t.Errorf("416: %d %v", rec.Code, rec.Header())
	}
}

// echo gives a group's route-not-found handler priority over 405: behind
// e.Group(prefix, middleware) it answers 404 to a known path with another
// method. HTTPErrorHandler restores 405 and OPTIONS.
func TestErrorHandlerGroupWithMiddleware(t *testing.T) {
	e := echo.New()
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = HTTPErrorHandler
	e.Pre(CollapseLeadingSlashes())
	e.Use(Version("2.6.1"))
	passthrough := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	g := e.Group("/vnfpkgm/v1", passthrough)
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	g.GET("/vnf_packages", ok)
	g.POST("/vnf_packages", ok)
	g.GET("/vnf_packages/:id", func(c echo.Context) error {
		if c.Param("id") == "missing" {
			return echo.ErrNotFound
		}
		return c.NoContent(http.StatusOK)
	})
	g.DELETE("/vnf_packages/:id", ok)
	g.GET("/vnf_packages/:id/artifacts/*", ok)
	srv := httptest.NewServer(e)
	defer srv.Close()
	base := srv.URL + "/vnfpkgm/v1"

	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PUT", "/vnf_packages", 405, "OPTIONS, GET, POST"},
		{"OPTIONS", "/vnf_packages", 204, "OPTIONS, GET, POST"},
		{"PATCH", "/vnf_packages/42", 405, "OPTIONS, DELETE, GET"},
		{"PUT", "/vnf_packages/42/artifacts/Scripts/a.sh", 405, "OPTIONS, GET"},
		{"GET", "/vnf_packages/missing", 404, ""}, // the handler's own 404 stays
		{"PUT", "/nothing/here", 404, ""},
		{"PUT", "/vnf_packages/42/nothing", 404, ""},
		{"GET", "/vnf_packages", 200, ""},
	} {
		r := do(t, c.method, base+c.path, nil)
		if r.status != c.status || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow=%q, want %d %q (%s)", c.method, c.path, r.status, r.header.Get("Allow"), c.status, c.allow, r.body)
		}
		if r.header.Get("Version") != "2.6.1" {
			t.Errorf("%s %s: no Version header", c.method, c.path)
		}
		if c.status == 405 && (r.pd.Status != 405 || !strings.Contains(r.pd.Detail, c.allow)) {
			t.Errorf("%s %s: problem %s", c.method, c.path, r.body)
		}
	}
}

func TestRouteMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/:id", "/a/42", true},
		{"/a/:id", "/a/42/x", false},
		{"/a/:id/x", "/a/42/x", true},
		{"/a/:id/*", "/a/42/x/y/z", true},
		{"/a/:id/*", "/a/42/", true},
		{"/a/:id/*", "/a/42", false},
		{"/*", "/anything", true},
	} {
		if got := routeMatches(c.pattern, c.path); got != c.want {
			t.Errorf("routeMatches(%q, %q) = %v", c.pattern, c.path, got)
		}
	}
}

func TestWriteProblemUnencodableExtension(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest("GET", "/x", nil), rec)
	p := NewProblem(http.StatusBadRequest, "bad").With("ch", make(chan int))
	if err := WriteProblem(c, p); err != nil {
		t.Fatal(err)
	}
	var back ProblemDetails
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || back.Status != 400 || back.Detail != "bad" || back.Extensions != nil {
		t.Errorf("body %s: %v", rec.Body.String(), err)
	}
}
