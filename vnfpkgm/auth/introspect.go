package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Introspector checks opaque tokens with an RFC 7662 introspection
// endpoint. An active token's answer is kept until the token expires, so
// that the endpoint is asked once per token lifetime; an inactive one is
// kept for NegativeTTL. The cache holds at most MaxEntries tokens, keyed
// by their SHA-256 (the tokens themselves are not kept).
type Introspector struct {
	URL          string
	ClientID     string
	ClientSecret string
	Client       *http.Client
	// Issuer and Audience, when set, must match the answer's iss and aud.
	Issuer, Audience string
	MaxEntries       int
	NegativeTTL      time.Duration
	Now              func() time.Time

	mu       sync.Mutex
	cache    map[[32]byte]introspected
	inflight map[[32]byte]*introspection
	calls    int
}

type introspected struct {
	principal *Principal
	refusal   *Error
	until     time.Time
}

// introspection is a request in flight, which concurrent requests with
// the same token wait for instead of asking again.
type introspection struct {
	done   chan struct{}
	result introspected
	err    error
}

// Calls reports how many introspection requests were made.
func (in *Introspector) Calls() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls
}

func (in *Introspector) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// Validate returns the principal of an active token.
func (in *Introspector) Validate(ctx context.Context, token string) (*Principal, error) {
	key := sha256.Sum256([]byte(token))
	in.mu.Lock()
	if e, ok := in.cache[key]; ok && in.now().Before(e.until) {
		in.mu.Unlock()
		return e.answer()
	}
	if call, ok := in.inflight[key]; ok {
		in.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if call.err != nil {
			return nil, call.err
		}
		return call.result.answer()
	}
	if in.inflight == nil {
		in.inflight = map[[32]byte]*introspection{}
		in.cache = map[[32]byte]introspected{}
	}
	call := &introspection{done: make(chan struct{})}
	in.inflight[key] = call
	in.calls++
	in.mu.Unlock()

	// The request is the token's, not the caller's: a client that goes
	// away must not fail the others waiting for the same answer.
	call.result, call.err = in.introspect(context.WithoutCancel(ctx), token)
	in.mu.Lock()
	delete(in.inflight, key)
	if call.err == nil && call.result.until.After(in.now()) {
		in.store(key, call.result)
	}
	in.mu.Unlock()
	close(call.done)
	if call.err != nil {
		return nil, call.err
	}
	return call.result.answer()
}

func (e introspected) answer() (*Principal, error) {
	if e.refusal != nil {
		return nil, e.refusal
	}
	return e.principal, nil
}

// store keeps an answer, first dropping expired ones when the cache is
// full, then an arbitrary one (Go's map order) if it is still full.
func (in *Introspector) store(key [32]byte, e introspected) {
	max := in.MaxEntries
	if max <= 0 {
		max = 10000
	}
	if len(in.cache) >= max {
		now := in.now()
		for k, old := range in.cache {
			if !now.Before(old.until) {
				delete(in.cache, k)
			}
		}
	}
	for k := range in.cache {
		if len(in.cache) < max {
			break
		}
		delete(in.cache, k)
	}
	in.cache[key] = e
}

// introspectionAnswer is RFC 7662 §2.2; aud may be a string or an array.
type introspectionAnswer struct {
	Active   bool            `json:"active"`
	Scope    string          `json:"scope"`
	ClientID string          `json:"client_id"`
	Subject  string          `json:"sub"`
	Exp      int64           `json:"exp"`
	Nbf      int64           `json:"nbf"`
	Issuer   string          `json:"iss"`
	Aud      json.RawMessage `json:"aud"`
}

func (a introspectionAnswer) audiences() []string {
	var list []string
	if json.Unmarshal(a.Aud, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(a.Aud, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

func (in *Introspector) introspect(ctx context.Context, token string) (introspected, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return introspected{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.ClientID), url.QueryEscape(in.ClientSecret))
	}
	resp, err := in.Client.Do(req)
	if err != nil {
		return introspected{}, unavailable("the introspection endpoint cannot be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return introspected{}, unavailable(fmt.Sprintf("the introspection endpoint answered %s", resp.Status))
	}
	var a introspectionAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(&a); err != nil {
		return introspected{}, unavailable("the introspection endpoint's answer is not JSON")
	}
	return in.judge(a), nil
}

// judge turns an introspection answer into a principal or a refusal, and
// says how long that holds.
func (in *Introspector) judge(a introspectionAnswer) introspected {
	now := in.now()
	refuse := func(e *Error) introspected {
		return introspected{refusal: e, until: now.Add(in.NegativeTTL)}
	}
	exp := time.Unix(a.Exp, 0)
	switch {
	case !a.Active:
		return refuse(invalidToken("the token is not active (expired, revoked or unknown)"))
	case a.Exp != 0 && !now.Before(exp):
		return refuse(invalidToken("the token has expired"))
	case a.Nbf != 0 && now.Before(time.Unix(a.Nbf, 0)):
		// Not cached for long: it becomes valid soon.
		return introspected{refusal: invalidToken("the token is not valid yet"), until: now}
	case in.Issuer != "" && a.Issuer != "" && a.Issuer != in.Issuer:
		return refuse(invalidToken("the token was issued by another issuer"))
	case in.Audience != "" && !slices.Contains(a.audiences(), in.Audience):
		return refuse(invalidToken("the token is meant for another audience"))
	}
	p := &Principal{Subject: a.Subject, ClientID: a.ClientID, Scopes: ScopeSet(a.Scope)}
	if a.Exp == 0 {
		// No lifetime given: nothing says how long the answer holds.
		return introspected{principal: p, until: now}
	}
	p.Expiry = exp
	return introspected{principal: p, until: exp}
}

func unavailable(detail string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Description: detail}
}
