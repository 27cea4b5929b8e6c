// Package restclient is the JSON-over-HTTP plumbing of the VIM drivers
// that talk REST (cloudhypervisor, flintlock): a deadline on every call,
// retries of idempotent calls only, a bearer token that is sent and never
// shown, and the remote's statuses mapped to the vim package's typed
// errors.
package restclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// Client calls one remote API.
type Client struct {
	// Name says which VIM type speaks, in error messages.
	Name string
	Base *url.URL
	HTTP *http.Client
	// Token, when set, is sent as "Authorization: Bearer"; it appears in
	// no error and no log.
	Token   string
	Timeout time.Duration // of one attempt, unless the call says otherwise
	// Retries is how many times an idempotent call is tried again after
	// the remote was unreachable or answered 502, 503 or 504.
	Retries int
	Backoff time.Duration // before the first retry; doubled each time
	// DecodeError reads the remote's error body into a code and a message
	// (nil: the body's text is the message).
	DecodeError func(body []byte) (code, message string)
}

// Call is one request.
type Call struct {
	Method, Path string
	Query        url.Values
	Body         any // JSON-encoded when not nil
	Out          any // JSON-decoded from a 2xx answer when not nil
	// Idempotent calls (GET, DELETE) are retried; others never: a
	// retried POST could create twice.
	Idempotent bool
	Timeout    time.Duration // overrides Client.Timeout
}

// RemoteError is an answer of the remote with an error status.
type RemoteError struct {
	Client, Method, Path string
	Status               int
	Code, Message        string
}

func (e *RemoteError) Error() string {
	msg := fmt.Sprintf("%s: %s %s: %d %s", e.Client, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps the status to the vim package's errors.
func (e *RemoteError) Is(target error) bool {
	switch {
	case e.Status == http.StatusNotFound:
		return target == vim.ErrNotFound
	case e.Status == http.StatusConflict:
		return target == vim.ErrConflict || target == vim.ErrWrongState
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return target == vim.ErrAuth
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return target == vim.ErrUnavailable
	case e.Status >= 400:
		return target == vim.ErrInvalid
	}
	return false
}

// retryable reports whether an attempt that failed with err may be tried
// again: the remote was not reached, or said it cannot answer now.
func retryable(err error) bool {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Status == http.StatusBadGateway || re.Status == http.StatusServiceUnavailable || re.Status == http.StatusGatewayTimeout
	}
	return errors.Is(err, vim.ErrUnavailable)
}

// Do makes the call, retrying it when it is idempotent.
func (c *Client) Do(ctx context.Context, call Call) error {
	tries := 1
	if call.Idempotent {
		tries += c.Retries
	}
	wait := c.Backoff
	var err error
	for i := 0; i < tries; i++ {
		if i > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return fmt.Errorf("%w: %s: %s %s: %v (after %v)", vim.ErrUnavailable, c.Name, call.Method, call.Path, ctx.Err(), err)
			}
			wait *= 2
		}
		err = c.once(ctx, call)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	if tries > 1 {
		return fmt.Errorf("%w (%d attempts)", err, tries)
	}
	return err
}

func (c *Client) once(ctx context.Context, call Call) error {
	resp, cancel, err := c.send(ctx, call, "application/json")
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	if call.Out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(call.Out); err != nil {
		return fmt.Errorf("%s: %s %s: the answer is not the JSON expected: %v", c.Name, call.Method, call.Path, c.timeoutErr(ctx, call, err))
	}
	return nil
}

// Stream makes a GET whose body the caller reads (and closes); the
// deadline covers the whole read.
func (c *Client) Stream(ctx context.Context, call Call, accept string) (io.ReadCloser, error) {
	resp, cancel, err := c.send(ctx, call, accept)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{resp.Body, closeBoth{resp.Body, cancel}}, nil
}

type closeBoth struct {
	c      io.Closer
	cancel context.CancelFunc
}

func (b closeBoth) Close() error {
	err := b.c.Close()
	b.cancel()
	return err
}

// send makes one attempt and returns a 2xx response; on error nothing is
// left open.
func (c *Client) send(ctx context.Context, call Call, accept string) (*http.Response, context.CancelFunc, error) {
	timeout := c.Timeout
	if call.Timeout > 0 {
		timeout = call.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	u := c.Base.JoinPath(call.Path)
	u.RawQuery = call.Query.Encode()
	var body io.Reader
	if call.Body != nil {
		b, err := json.Marshal(call.Body)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, u.String(), body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if call.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%w: %s: %s %s: %v", vim.ErrUnavailable, c.Name, call.Method, call.Path, c.timeoutErr(ctx, call, unwrapURLError(err)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		re := &RemoteError{Client: c.Name, Method: call.Method, Path: call.Path, Status: resp.StatusCode}
		if c.DecodeError != nil {
			re.Code, re.Message = c.DecodeError(b)
		} else {
			re.Message = strings.TrimSpace(string(b))
		}
		return nil, nil, re
	}
	return resp, cancel, nil
}

// timeoutErr says "no answer within T" when the attempt's own deadline
// (not the caller's context) ended it.
func (c *Client) timeoutErr(ctx context.Context, call Call, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		timeout := c.Timeout
		if call.Timeout > 0 {
			timeout = call.Timeout
		}
		return fmt.Errorf("no answer within %v", timeout)
	}
	return err
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ParseEndpoint checks an http(s) URL with a host and nothing after the path.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q is not an http or https URL", raw)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q must have no user, query or fragment", raw)
	}
	return u, nil
}

// IgnoreNotFound is nil for a vim.ErrNotFound: deleting what is gone.
func IgnoreNotFound(err error) error {
	if errors.Is(err, vim.ErrNotFound) {
		return nil
	}
	return err
}

// Duration reads the option key as a positive Go duration (def when unset).
func Duration(opts map[string]string, key string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(opts[key])
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, vim.OptionErrorf(key, "%q is not a positive duration such as 30s or 5m", v)
	}
	return d, nil
}

// Retries reads the option "retries": 0 to 10 (def when unset).
func Retries(opts map[string]string, def int) (int, error) {
	v := strings.TrimSpace(opts["retries"])
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 10 {
		return 0, vim.OptionErrorf("retries", "%q is not a number from 0 to 10", v)
	}
	return n, nil
}

// RegistryHost reads the option "registry": the catalogue's OCI endpoint
// as the VIM reaches it, HOST[:PORT] ("" when unset).
func RegistryHost(opts map[string]string) (string, error) {
	v := strings.TrimSpace(opts["registry"])
	if strings.ContainsAny(v, "/ @") {
		return "", vim.OptionErrorf("registry", "%q is not HOST[:PORT]", v)
	}
	return v, nil
}

// ImageReference names the image of spec on the catalogue's OCI
// endpoint, HOST[:PORT]/REPOSITORY@DIGEST, the host being registryHost
// when set (the option "registry") or else the endpoint's own; it returns
// the manifest digest too.
func ImageReference(ctx context.Context, vimType, registryHost string, spec vim.ImageSpec) (ref, digest string, err error) {
	return OCIReference(ctx, vimType, registryHost, "its images", spec.OCI)
}

// OCIReference is ImageReference for any image of the catalogue's OCI
// endpoint named by oci (what says what it is, in the error when oci is
// nil).
func OCIReference(ctx context.Context, vimType, registryHost, what string, oci func(context.Context) (*vim.OCIReference, error)) (ref, digest string, err error) {
	if oci == nil {
		return "", "", fmt.Errorf("%w: VIM type %s has %s pulled from the catalogue's OCI endpoint, and this server has no address to give it (it listens on every address: set --public-url, or the VIM's option registry)", vim.ErrNotSupported, vimType, what)
	}
	ref2, err := oci(ctx)
	if err != nil {
		return "", "", err
	}
	host := registryHost
	if host == "" {
		u, err := url.Parse(ref2.Registry)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("%w: OCI endpoint %q has no host", vim.ErrInvalid, ref2.Registry)
		}
		host = u.Host
	}
	return host + "/" + ref2.Repository + "@" + ref2.Digest, ref2.Digest, nil
}
