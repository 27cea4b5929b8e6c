package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// KeySource gives the keys that sign access tokens.
type KeySource interface {
	// Keys returns the current key set.
	Keys(ctx context.Context) (jwk.Set, error)
	// Refresh is called when a token names a key the current set lacks
	// (the issuer rotated its keys): it returns a newer set if one may be
	// fetched now, else the current one.
	Refresh(ctx context.Context) (jwk.Set, error)
}

// maxDocument bounds what is read of a discovery document, a JWKS or an
// introspection answer: a server that streams without end must not fill
// memory.
const maxDocument = 1 << 20

// RemoteKeys is the JWKS of an external issuer, found by OIDC discovery
// (Issuer) or given (JWKSURL), kept for TTL and fetched again early when
// a token names an unknown key, at most once per MinRefresh so that
// tokens with made-up key ids cannot make the server hammer the issuer.
type RemoteKeys struct {
	Issuer     string
	JWKSURL    string
	Client     *http.Client
	TTL        time.Duration
	MinRefresh time.Duration
	Now        func() time.Time

	fetchMu sync.Mutex // one fetch at a time; others wait for its result
	mu      sync.Mutex
	set     jwk.Set
	fetched time.Time
	fetches int
}

// Fetches reports how many times the key set was downloaded.
func (r *RemoteKeys) Fetches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

func (r *RemoteKeys) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *RemoteKeys) current() (jwk.Set, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set, r.fetched
}

// Keys returns the cached set, fetching it when there is none or it is
// older than TTL. A failed fetch of a stale set keeps the stale set: the
// issuer being briefly away must not lock every client out.
func (r *RemoteKeys) Keys(ctx context.Context) (jwk.Set, error) {
	set, at := r.current()
	if set != nil && r.now().Sub(at) < r.TTL {
		return set, nil
	}
	fresh, err := r.fetch(ctx, at)
	if err != nil && set != nil {
		return set, nil
	}
	return fresh, err
}

// Refresh fetches the set again unless it was fetched less than
// MinRefresh ago.
func (r *RemoteKeys) Refresh(ctx context.Context) (jwk.Set, error) {
	set, at := r.current()
	if set != nil && r.now().Sub(at) < r.MinRefresh {
		return set, nil
	}
	return r.fetch(ctx, at)
}

// fetch downloads the set, unless another caller did so since seen (the
// fetch time the caller based its decision on).
func (r *RemoteKeys) fetch(ctx context.Context, seen time.Time) (jwk.Set, error) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if set, at := r.current(); set != nil && at.After(seen) {
		return set, nil
	}
	url := r.JWKSURL
	if url == "" {
		doc, err := Discover(ctx, r.Client, r.Issuer)
		if err != nil {
			return nil, err
		}
		url = doc.JWKSURI
		r.JWKSURL = url // discovery once; the keys behind it change, not where they are
	}
	body, err := getDocument(ctx, r.Client, url)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	r.mu.Lock()
	r.set, r.fetched = set, r.now()
	r.fetches++
	r.mu.Unlock()
	return set, nil
}

// Discovery is what the server reads of an OpenID Provider's metadata
// (OpenID Connect Discovery 1.0 §3, RFC 8414).
type Discovery struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
}

// Discover reads issuer's /.well-known/openid-configuration and checks
// that it names the same issuer (OIDC Discovery §4.3: a document that
// claims another issuer must not be used).
func Discover(ctx context.Context, client *http.Client, issuer string) (*Discovery, error) {
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := getDocument(ctx, client, url)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery: %w", err)
	}
	var doc Discovery
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("OIDC discovery %s: %w", url, err)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("OIDC discovery %s names issuer %q, not %q", url, doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return nil, fmt.Errorf("OIDC discovery %s has no jwks_uri", url)
	}
	return &doc, nil
}

func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocument {
		return nil, errors.New("GET " + url + ": document larger than 1 MiB")
	}
	return body, nil
}
