package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// apiVersion is the SOL 005 API version the client speaks (the Version
// header SOL 013 asks clients to send).
const apiVersion = "2.6.1"

// apiPrefix is the URI prefix of the VNF package management API.
const apiPrefix = "/vnfpkgm/v1"

// apiClient talks to one vnfpkgmd.
type apiClient struct {
	base *url.URL // the endpoint with apiPrefix
	hc   *http.Client
}

func newAPIClient(endpoint *url.URL) *apiClient {
	u := *endpoint
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, apiPrefix) {
		p += apiPrefix
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = p, "", "", ""
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	// Counted from the end of the request body: an upload is stored as
	// it streams, so the answer follows the last byte closely.
	tr.ResponseHeaderTimeout = 2 * time.Minute
	tr.MaxIdleConnsPerHost = 64
	return &apiClient{base: &u, hc: &http.Client{Transport: tr}}
}

// url is the absolute URL of an API path ("/vnf_packages/ID"), whose
// segments the caller has escaped.
func (c *apiClient) url(path string, query url.Values) string {
	u := *c.base
	s := u.String() + path
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// problemError is an error answered by the server: its ProblemDetails, or
// the status and the start of the body when it sent something else.
type problemError struct {
	Status   int
	Title    string
	Detail   string
	Problems []csar.Problem
	Text     string // a body that is not a ProblemDetails, shortened
}

func (e *problemError) Error() string {
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	switch {
	case e.Detail != "":
		return fmt.Sprintf("%s: %s (HTTP %d)", title, e.Detail, e.Status)
	case e.Text != "":
		return fmt.Sprintf("%s (HTTP %d): %s", title, e.Status, e.Text)
	}
	return fmt.Sprintf("%s (HTTP %d)", title, e.Status)
}

// problemDetails is the JSON form of a SOL 013 ProblemDetails with the
// "problems" extension of onboarding failures.
type problemDetails struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Problems []csar.Problem `json:"problems"`
}

func problemFromBody(status int, body []byte) *problemError {
	var pd problemDetails
	if err := json.Unmarshal(body, &pd); err == nil && (pd.Title != "" || pd.Detail != "") {
		if pd.Status == 0 {
			pd.Status = status
		}
		return &problemError{Status: pd.Status, Title: pd.Title, Detail: pd.Detail, Problems: pd.Problems}
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	return &problemError{Status: status, Text: text}
}

// connError: the request did not get a complete answer (exit 3).
type connError struct {
	url string
	err error
	// lost is set when the connection broke during a transfer.
	lost bool
	hint string
}

func (e *connError) Error() string {
	msg := "cannot reach the server at " + e.url + ": " + describeNetErr(e.err)
	if e.lost {
		msg = "the connection to " + e.url + " was lost: " + describeNetErr(e.err)
	}
	if e.hint != "" {
		msg += "; " + e.hint
	}
	return msg
}

func (e *connError) Unwrap() error { return e.err }

// describeNetErr drops the "Get URL:" prefix url.Error adds (the URL is
// already in the message).
func describeNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the transfer ended early (unexpected EOF)"
	}
	return err.Error()
}

// request is one API call.
type request struct {
	method string
	url    string // absolute
	body   io.Reader
	size   int64 // body size, -1 when unknown
	header http.Header
}

// do sends r. An error answer (status >= 400) is returned as a
// *problemError with the body consumed; a transport failure as a
// *connError, or the context's error once it is done.
func (c *apiClient) do(ctx context.Context, r request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, r.body)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if r.body != nil {
		req.ContentLength = r.size
		if r.size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("Version", apiVersion)
	req.Header.Set("User-Agent", "vnfpkgm-cli")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var le *localError
		if errors.As(err, &le) { // the request body could not be read
			return nil, le
		}
		return nil, &connError{url: r.url, err: err}
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, problemFromBody(resp.StatusCode, body)
	}
	return resp, nil
}

// readBody reads a whole (small) answer.
func (c *apiClient) readBody(ctx context.Context, resp *http.Response, url string) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &connError{url: url, err: err, lost: true}
	}
	return b, nil
}

// decodeJSON decodes an answer keeping numbers exact.
func decodeJSON(body []byte, v any, what string) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return failf("the server's answer to %s is not the expected JSON: %v", what, err)
	}
	return nil
}

// getJSON GETs an absolute URL and decodes the answer into v.
func (c *apiClient) getJSON(ctx context.Context, url string, v any) (http.Header, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: url, header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	body, err := c.readBody(ctx, resp, url)
	if err != nil {
		return nil, err
	}
	return resp.Header, decodeJSON(body, v, "GET "+url)
}

// sendJSON sends in as a JSON body and decodes the answer into out (when
// out is not nil and the answer has a body).
func (c *apiClient) sendJSON(ctx context.Context, method, url, contentType string, in, out any) (*http.Response, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: method, url: url, body: bytes.NewReader(data), size: int64(len(data)),
		header: http.Header{"Content-Type": {contentType}, "Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	body, err := c.readBody(ctx, resp, url)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		return resp, decodeJSON(body, out, method+" "+url)
	}
	return resp, nil
}

// pkgPath is the API path of a package (or of one of its resources).
func pkgPath(id string, sub ...string) string {
	p := "/vnf_packages/" + url.PathEscape(id)
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// nextLink returns the target of the rel="next" link of a Link header
// (RFC 8288), resolved against the request URL, or "".
func nextLink(header http.Header, requestURL string) string {
	for _, v := range header.Values("Link") {
		for v != "" {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+end]
			v = v[start+end+1:]
			params := v
			if next := strings.IndexByte(v, '<'); next >= 0 {
				params = v[:next]
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(p), ",")), "=")
				if !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						base, err := url.Parse(requestURL)
						ref, err2 := url.Parse(target)
						if err != nil || err2 != nil {
							return ""
						}
						return base.ResolveReference(ref).String()
					}
				}
			}
		}
	}
	return ""
}
