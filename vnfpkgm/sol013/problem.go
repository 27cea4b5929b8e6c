package sol013

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// ContentTypeProblem is the media type of a ProblemDetails body (RFC 7807).
const ContentTypeProblem = "application/problem+json"

// ProblemDetails is the error body of SOL 013 clause 6.4 (IETF RFC 7807).
// Status and Detail are mandatory in SOL 013; Type, Title and Instance are
// optional. Extensions holds further members, e.g. "problems" with the list
// of onboarding problems; a member named like a standard one is ignored.
//
// *ProblemDetails is an error: a handler may return it and HTTPErrorHandler
// renders it as it is.
type ProblemDetails struct {
	Type       string
	Title      string
	Status     int
	Detail     string
	Instance   string
	Extensions map[string]any
}

// NewProblem returns a problem of type about:blank with the standard title
// of status.
func NewProblem(status int, detail string) *ProblemDetails {
	return &ProblemDetails{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Problemf is NewProblem with a formatted detail.
func Problemf(status int, format string, args ...any) *ProblemDetails {
	return NewProblem(status, fmt.Sprintf(format, args...))
}

// With sets the extension member key to value and returns p.
func (p *ProblemDetails) With(key string, value any) *ProblemDetails {
	if p.Extensions == nil {
		p.Extensions = map[string]any{}
	}
	p.Extensions[key] = value
	return p
}

func (p *ProblemDetails) Error() string {
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	if p.Detail == "" {
		return strconv.Itoa(p.Status) + " " + title
	}
	return strconv.Itoa(p.Status) + " " + title + ": " + p.Detail
}

// Clone returns a copy of p whose Extensions map is its own.
func (p *ProblemDetails) Clone() *ProblemDetails {
	q := *p
	if p.Extensions != nil {
		q.Extensions = make(map[string]any, len(p.Extensions))
		for k, v := range p.Extensions {
			q.Extensions[k] = v
		}
	}
	return &q
}

var standardMembers = map[string]bool{"type": true, "title": true, "status": true, "detail": true, "instance": true}

// MarshalJSON writes type, title, status, detail, instance (status and detail
// always, the others when set), then the extension members in name order.
func (p ProblemDetails) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	member := func(name string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("ProblemDetails member %q: %w", name, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(data)
		return nil
	}
	if p.Type != "" {
		_ = member("type", p.Type)
	}
	if p.Title != "" {
		_ = member("title", p.Title)
	}
	_ = member("status", p.Status)
	_ = member("detail", p.Detail)
	if p.Instance != "" {
		_ = member("instance", p.Instance)
	}
	keys := make([]string, 0, len(p.Extensions))
	for k := range p.Extensions {
		if !standardMembers[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := member(k, p.Extensions[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the standard members and keeps the others in Extensions.
func (p *ProblemDetails) UnmarshalJSON(data []byte) error {
	var std struct {
		Type     string `json:"type"`
		Title    string `json:"title"`
		Status   int    `json:"status"`
		Detail   string `json:"detail"`
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(data, &std); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*p = ProblemDetails{Type: std.Type, Title: std.Title, Status: std.Status, Detail: std.Detail, Instance: std.Instance}
	for k, raw := range all {
		if standardMembers[k] {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		p.With(k, v)
	}
	return nil
}

// ProblemFromError maps an error to the ProblemDetails it is rendered as,
// without Instance:
//   - a *ProblemDetails in the chain: a copy of it (Title and Type filled in if empty);
//   - an *echo.HTTPError: its status; its message as detail if it is a string
//     or (below 500) an error; echo's bare status-text messages are replaced
//     by a sentence;
//   - a *FilterError or *SelectorError, or ErrInvalidMarker: 400 with the error text;
//   - anything else: 500 with a generic detail that reveals nothing of the error.
func ProblemFromError(err error) *ProblemDetails {
	var pd *ProblemDetails
	if errors.As(err, &pd) && pd != nil {
		p := pd.Clone()
		if p.Status == 0 {
			p.Status = http.StatusInternalServerError
		}
		if p.Title == "" {
			p.Title = http.StatusText(p.Status)
		}
		if p.Type == "" {
			p.Type = "about:blank"
		}
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he != nil {
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		status := he.Code
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		detail := ""
		switch m := he.Message.(type) {
		case string:
			detail = m
		case error:
			if status < 500 {
				detail = m.Error()
			}
		case nil:
		default:
			if status < 500 {
				detail = fmt.Sprint(m)
			}
		}
		if detail == "" || detail == http.StatusText(status) {
			detail = defaultDetail(status)
		}
		return NewProblem(status, detail)
	}
	var fe *FilterError
	var se *SelectorError
	switch {
	case errors.As(err, &fe), errors.As(err, &se), errors.Is(err, ErrInvalidMarker):
		return NewProblem(http.StatusBadRequest, err.Error())
	}
	return NewProblem(http.StatusInternalServerError, defaultDetail(http.StatusInternalServerError))
}

func defaultDetail(status int) string {
	switch status {
	case http.StatusNotFound:
		return "The requested resource does not exist."
	case http.StatusMethodNotAllowed:
		return "The method is not allowed on this resource."
	case http.StatusInternalServerError:
		return "The server encountered an internal error; it has been logged."
	}
	if t := http.StatusText(status); t != "" {
		return t + "."
	}
	return "Error " + strconv.Itoa(status) + "."
}

// WriteProblem sends p with content type application/problem+json (headers
// only for a HEAD request).
func WriteProblem(c echo.Context, p *ProblemDetails) error {
	body, err := json.Marshal(p)
	if err != nil {
		// An extension member that cannot be encoded: send the rest.
		q := p.Clone()
		q.Extensions = nil
		body, _ = json.Marshal(q)
	}
	c.Response().Header().Set(echo.HeaderContentType, ContentTypeProblem)
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	return c.Blob(p.Status, ContentTypeProblem, body)
}

// HTTPErrorHandler is an echo.HTTPErrorHandler that renders every error as
// ProblemDetails (see ProblemFromError) with instance set to the request path.
//
// Unknown paths are 404. A known path asked with a method it does not have is
// 405 with an Allow header. echo's router does the work when it can: it
// computes the Allow value of the path ("OPTIONS, GET, POST": echo itself
// answers OPTIONS on every routed path), its MethodNotAllowedHandler sets it,
// and this handler falls back to the context key echo.ContextKeyHeaderAllow
// if a middleware lost it. But echo gives a route-not-found handler priority
// over 405, and Group with middleware (e.Group(prefix, mw) or g.Use) registers
// one for prefix/*: behind such a group echo answers 404 to PUT on a GET-only
// path and to OPTIONS. So a router 404 (an *echo.HTTPError) is checked
// against the registered routes: if routes exist for the path but none for
// the method, the answer becomes 405 with Allow listing OPTIONS and their
// methods, or, for OPTIONS, 204 with that Allow, as echo answers elsewhere.
//
// 5xx errors are logged with c.Logger(), never sent. Headers that described
// the body a handler meant to send (Content-Length, Content-Disposition,
// Content-Encoding, ETag, Last-Modified, and Content-Range except on a 416)
// are removed. Nothing is written if the response was already committed.
func HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := ProblemFromError(err)
	if p.Status >= 500 {
		c.Logger().Error(err)
	}
	req := c.Request()
	// Headers a handler set for the body it meant to send do not describe this one.
	h := c.Response().Header()
	for _, name := range []string{echo.HeaderContentLength, echo.HeaderContentDisposition, echo.HeaderContentEncoding, "ETag", echo.HeaderLastModified} {
		h.Del(name)
	}
	if p.Status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range") // a 416 keeps its "bytes */SIZE"
	}
	if p.Instance == "" {
		p.Instance = req.URL.EscapedPath()
	}
	var he *echo.HTTPError
	if p.Status == http.StatusNotFound && errors.As(err, &he) && c.Echo() != nil {
		if methods := routeMethods(c.Echo(), req); len(methods) > 0 && !slices.Contains(methods, req.Method) {
			if !slices.Contains(methods, http.MethodOptions) { // answered below, as echo would
				methods = append([]string{http.MethodOptions}, methods...)
			}
			allow := strings.Join(methods, ", ")
			if req.Method == http.MethodOptions {
				h.Set(echo.HeaderAllow, allow)
				if werr := c.NoContent(http.StatusNoContent); werr != nil {
					c.Logger().Error(werr)
				}
				return
			}
			h.Set(echo.HeaderAllow, allow)
			p = NewProblem(http.StatusMethodNotAllowed, defaultDetail(http.StatusMethodNotAllowed))
			p.Instance = req.URL.EscapedPath()
		}
	}
	if p.Status == http.StatusMethodNotAllowed {
		if h.Get(echo.HeaderAllow) == "" {
			if allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && allow != "" {
				h.Set(echo.HeaderAllow, allow)
			}
		}
		if allow := h.Get(echo.HeaderAllow); allow != "" && p.Detail == defaultDetail(http.StatusMethodNotAllowed) {
			p.Detail = fmt.Sprintf("The method %s is not allowed on %s; allowed: %s.", req.Method, p.Instance, allow)
		}
	}
	if p.Status == http.StatusNotFound && p.Detail == defaultDetail(http.StatusNotFound) {
		p.Detail = fmt.Sprintf("No resource exists at %s.", p.Instance)
	}
	if werr := WriteProblem(c, p); werr != nil {
		c.Logger().Error(werr)
	}
}

// routeMethods returns the sorted methods of the routes of e whose path
// pattern matches the request path (route-not-found routes aside).
func routeMethods(e *echo.Echo, req *http.Request) []string {
	path := echo.GetPath(req)
	var methods []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || slices.Contains(methods, r.Method) {
			continue
		}
		if routeMatches(r.Path, path) {
			methods = append(methods, r.Method)
		}
	}
	sort.Strings(methods)
	return methods
}

// routeMatches reports whether path matches an echo route pattern: ":name"
// stands for one segment (up to the next '/'), "*" for the rest of the path.
func routeMatches(pattern, path string) bool {
	for pattern != "" {
		switch pattern[0] {
		case '*':
			return true
		case ':':
			pi := strings.IndexByte(pattern, '/')
			if pi < 0 {
				pi = len(pattern)
			}
			qi := strings.IndexByte(path, '/')
			if qi < 0 {
				qi = len(path)
			}
			pattern, path = pattern[pi:], path[qi:]
		default:
			if path == "" || pattern[0] != path[0] {
				return false
			}
			pattern, path = pattern[1:], path[1:]
		}
	}
	return path == ""
}
