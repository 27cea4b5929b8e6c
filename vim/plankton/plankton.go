// Package plankton is the image-only VIM driver for Plankton, GRNET
// Synnefo's image service (an extension of the OpenStack Image API v1 over
// the Pithos+ object store), as its API guide describes it
// (shared/seeds/003_*). It registers itself as the VIM type "plankton".
//
// An image is uploaded to a Pithos+ container with one plain object PUT
// (the MD5 and the VNFD's digest computed in the same pass), then
// registered with POST /images and the X-Image-Meta-* headers: Location
// pithos://ACCOUNT/CONTAINER/OBJECT, the disk and container formats in
// Plankton's spelling, Size, Checksum (the MD5) and properties from the
// VNFD. Plankton has no compute: Info says so and the compute operations
// are refused before anything is sent.
//
// Configuration (vim.Config): Endpoint is the Plankton image API (the
// URL under which /images lives); Credentials["token"] is the Astakos
// token sent as X-Auth-Token (never logged nor put into errors); Options
// are listed in Options.
package plankton

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// Type is the VIM type this package registers.
const Type = "plankton"

// Defaults of the options.
const (
	defaultContainer     = "images"
	defaultCallTimeout   = 30 * time.Second
	defaultUploadTimeout = 30 * time.Minute
	defaultRetries       = 3
)

// Options are the options of the plankton VIM type.
var Options = []vim.Option{
	{Name: "pithos_endpoint", Value: "URL", Help: "the Pithos+ object API, the URL under which /ACCOUNT/CONTAINER/OBJECT lives (required)"},
	{Name: "account", Value: "UUID", Help: "the Pithos+ account (the user's unique id) that holds the images (required)"},
	{Name: "container", Value: "NAME", Default: defaultContainer, Help: "the Pithos+ container images are uploaded to (created if missing)"},
	{Name: "is_public", Value: "true|false", Default: "false", Help: "register images as public"},
	{Name: "call_timeout", Value: "DURATION", Default: defaultCallTimeout.String(), Help: "bound of each request other than the upload"},
	{Name: "upload_timeout", Value: "DURATION", Default: defaultUploadTimeout.String(), Help: "bound of the upload of one image"},
	{Name: "retries", Value: "N", Default: strconv.Itoa(defaultRetries), Help: "retries of an idempotent request (GET, HEAD, DELETE, container PUT) that met a network error or a 502, 503 or 504"},
}

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open: func(ctx context.Context, cfg vim.Config) (vim.Driver, error) {
			return Open(ctx, cfg)
		},
		Options: Options,
		Check:   Check,
	})
}

// settings are the parsed configuration.
type settings struct {
	images, pithos *url.URL
	account        string
	container      string
	public         bool
	callTimeout    time.Duration
	uploadTimeout  time.Duration
	retries        int
}

func parseSettings(cfg vim.Config) (settings, error) {
	var st settings
	var err error
	if st.images, err = parseURL(cfg.Endpoint); err != nil {
		return st, vim.OptionErrorf("endpoint", "%v", err)
	}
	if st.pithos, err = parseURL(cfg.Options["pithos_endpoint"]); err != nil {
		return st, vim.OptionErrorf("pithos_endpoint", "%v", err)
	}
	st.account = cfg.Options["account"]
	if st.account == "" || strings.ContainsAny(st.account, "/?#") {
		return st, vim.OptionErrorf("account", "the Pithos+ account is required and has no '/', '?' or '#'")
	}
	st.container = cfg.Options["container"]
	if st.container == "" {
		st.container = defaultContainer
	}
	if strings.ContainsAny(st.container, "/?#") {
		return st, vim.OptionErrorf("container", "%q is not a container name", st.container)
	}
	if st.public, err = vim.BoolOption(cfg.Options, "is_public"); err != nil {
		return st, err
	}
	if st.callTimeout, err = vim.DurationOption(cfg.Options, "call_timeout", defaultCallTimeout); err != nil {
		return st, err
	}
	if st.uploadTimeout, err = vim.DurationOption(cfg.Options, "upload_timeout", defaultUploadTimeout); err != nil {
		return st, err
	}
	if st.retries, err = vim.IntOption(cfg.Options, "retries", defaultRetries, 0, 10); err != nil {
		return st, err
	}
	if cfg.Credentials["token"] == "" {
		return st, vim.OptionErrorf("credentials", "Plankton needs the credential token (an Astakos token)")
	}
	return st, nil
}

// parseURL parses an http(s) URL with a host, without a trailing slash.
func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not an http(s) URL with a host and no query", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Check verifies a configuration before a VIM is registered, without
// contacting Plankton.
func Check(ctx context.Context, cfg vim.Config) error {
	_, err := parseSettings(cfg)
	return err
}

// Driver talks to one Plankton and its Pithos+. It is safe for concurrent use.
type Driver struct {
	st     settings
	token  string
	client *http.Client
}

var _ vim.Driver = (*Driver)(nil)

// Open checks the configuration; nothing is contacted until the first call.
func Open(ctx context.Context, cfg vim.Config) (*Driver, error) {
	st, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	c := cfg.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	return &Driver{st: st, token: cfg.Credentials["token"], client: c}, nil
}

// Info implements vim.Driver: images only.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	return vim.Info{Type: Type, Capabilities: []vim.Capability{vim.CapImages, vim.CapDeleteImages}}, nil
}

// Close implements vim.Driver; the driver holds no resources.
func (d *Driver) Close() error { return nil }

var errNoCompute = fmt.Errorf("%w: plankton: Plankton is an image service without compute", vim.ErrNotSupported)

// CreateFlavour implements vim.Driver: refused (no compute).
func (d *Driver) CreateFlavour(context.Context, vim.FlavourSpec) (*vim.Flavour, error) {
	return nil, errNoCompute
}

// QueryFlavour implements vim.Driver: refused (no compute).
func (d *Driver) QueryFlavour(context.Context, string) (*vim.Flavour, error) {
	return nil, errNoCompute
}

// DeleteFlavour implements vim.Driver: refused (no compute).
func (d *Driver) DeleteFlavour(context.Context, string) error { return errNoCompute }

// AllocateCompute implements vim.Driver: refused (no compute).
func (d *Driver) AllocateCompute(context.Context, vim.ComputeSpec) (*vim.Compute, error) {
	return nil, errNoCompute
}

// QueryCompute implements vim.Driver: refused (no compute).
func (d *Driver) QueryCompute(context.Context, string) (*vim.Compute, error) {
	return nil, errNoCompute
}

// OperateCompute implements vim.Driver: refused (no compute).
func (d *Driver) OperateCompute(context.Context, string, string) (*vim.Compute, error) {
	return nil, errNoCompute
}

// TerminateCompute implements vim.Driver: refused (no compute).
func (d *Driver) TerminateCompute(context.Context, string) error { return errNoCompute }

// request is one HTTP request to Plankton or Pithos+.
type request struct {
	method  string
	url     string
	header  http.Header
	body    io.Reader
	length  int64 // of body; -1 unknown
	timeout time.Duration
	what    string // for errors: "registering image x"
}

// idempotent reports whether a request may be repeated: reads, deletions,
// and a PUT without a body (the container).
func (r request) idempotent() bool {
	switch r.method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	case http.MethodPut:
		return r.body == nil
	}
	return false
}

// retryBackoff is the first pause between attempts; it doubles each time.
const retryBackoff = 200 * time.Millisecond

// do sends a request, retrying an idempotent one after a network error or
// a 502, 503 or 504, and returns the response with its body read (at most
// maxBody bytes) and closed. A status of 400 or more is an error mapped to
// the vim error it stands for; okMissing lets 404 through.
func (d *Driver) do(ctx context.Context, r request, okMissing bool) (*http.Response, []byte, error) {
	attempts := 1
	if r.idempotent() {
		attempts += d.st.retries
	}
	pause := retryBackoff
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := vim.Sleep(ctx, pause); err != nil {
				return nil, nil, lastErr
			}
			pause *= 2
		}
		resp, body, err := d.once(ctx, r)
		if err == nil && (resp.StatusCode < 400 || okMissing && resp.StatusCode == http.StatusNotFound) {
			return resp, body, nil
		}
		if err == nil {
			err = statusError(r.what, resp.StatusCode, body)
			if !retryableStatus(resp.StatusCode) {
				return resp, body, err
			}
		}
		lastErr = err
		if errors.Is(err, context.Canceled) {
			return nil, nil, err
		}
	}
	return nil, nil, lastErr
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// maxBody bounds what is read of an answer (lists of images, errors).
const maxBody = 8 << 20

func (d *Driver) once(ctx context.Context, r request) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, r.body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: plankton: %s: %v", vim.ErrInvalid, r.what, err)
	}
	if r.body != nil {
		req.ContentLength = r.length
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("X-Auth-Token", d.token)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, nil, d.transportError(ctx, r, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, d.transportError(ctx, r, err)
	}
	return resp, body, nil
}

// transportError is the error of a request that got no complete answer:
// the caller's cancellation as it is, a timeout naming its bound, anything
// else unavailability. The URL is kept out (it carries nothing secret,
// but the token never appears in any case: it is a header).
func (d *Driver) transportError(ctx context.Context, r request, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() == context.Canceled:
		return fmt.Errorf("plankton: %s: %w", r.what, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		bound := "call_timeout"
		if r.timeout == d.st.uploadTimeout && r.body != nil {
			bound = "upload_timeout"
		}
		return fmt.Errorf("%w: plankton: %s: no answer within %s (%s)", vim.ErrUnavailable, r.what, r.timeout, bound)
	}
	return fmt.Errorf("%w: plankton: %s: %v", vim.ErrUnavailable, r.what, err)
}

// statusError maps an HTTP error status of Plankton or Pithos+.
func statusError(what string, status int, body []byte) error {
	var kind error
	switch {
	case status == http.StatusNotFound:
		kind = vim.ErrNotFound
	case status == http.StatusConflict:
		kind = vim.ErrConflict
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		kind = vim.ErrAuth
	case status == http.StatusNotImplemented:
		kind = vim.ErrNotSupported
	case status == http.StatusRequestEntityTooLarge || status == http.StatusTooManyRequests || status >= 500:
		kind = vim.ErrUnavailable
	default:
		kind = vim.ErrInvalid
	}
	return fmt.Errorf("plankton: %s: %w: HTTP %d %s: %s", what, kind, status, http.StatusText(status), briefBody(body))
}

// briefBody keeps an error body short and on one line.
func briefBody(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
