package auth

import (
	"context"
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

	initOnce sync.Once
	cache    *answerCache
	mu       sync.Mutex
	inflight map[tokenKey]*introspection
	calls    int
}

// introspection is a request in flight, which concurrent requests with
// the same token wait for instead of asking again.
type introspection struct {
	done   chan struct{}
	result verdict
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
	in.initOnce.Do(func() {
		in.cache = newAnswerCache(in.MaxEntries)
		in.inflight = map[tokenKey]*introspection{}
	})
	key := keyOf(token)
	if v, ok := in.cache.get(key, in.now()); ok {
		return v.answer()
	}
	in.mu.Lock()
	if v, ok := in.cache.get(key, in.now()); ok {
		// Answered between the look-up above and the lock.
		in.mu.Unlock()
		return v.answer()
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
	call := &introspection{done: make(chan struct{})}
	in.inflight[key] = call
	in.calls++
	in.mu.Unlock()

	// The request is the token's, not the caller's: a client that goes
	// away must not fail the others waiting for the same answer.
	call.result, call.err = in.introspect(context.WithoutCancel(ctx), token)
	if call.err == nil {
		in.cache.put(key, call.result, in.now())
	}
	in.mu.Lock()
	delete(in.inflight, key)
	in.mu.Unlock()
	close(call.done)
	if call.err != nil {
		return nil, call.err
	}
	return call.result.answer()
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

func (in *Introspector) introspect(ctx context.Context, token string) (verdict, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return verdict{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.ClientID), url.QueryEscape(in.ClientSecret))
	}
	resp, err := in.Client.Do(req)
	if err != nil {
		return verdict{}, unavailable("the introspection endpoint cannot be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return verdict{}, unavailable(fmt.Sprintf("the introspection endpoint answered %s", resp.Status))
	}
	var a introspectionAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(&a); err != nil {
		return verdict{}, unavailable("the introspection endpoint's answer is not JSON")
	}
	return in.judge(a), nil
}

// judge turns an introspection answer into a principal or a refusal, and
// says how long that holds.
func (in *Introspector) judge(a introspectionAnswer) verdict {
	now := in.now()
	refuse := func(e *Error) verdict {
		return verdict{refusal: e, until: now.Add(in.NegativeTTL)}
	}
	exp := time.Unix(a.Exp, 0)
	switch {
	case !a.Active:
		return refuse(invalidToken("the token is not active (expired, revoked or unknown)"))
	case a.Exp != 0 && !now.Before(exp):
		return refuse(invalidToken("the token has expired"))
	case a.Nbf != 0 && now.Before(time.Unix(a.Nbf, 0)):
		// Not cached for long: it becomes valid soon.
		return verdict{refusal: invalidToken("the token is not valid yet"), until: now}
	case in.Issuer != "" && a.Issuer != "" && a.Issuer != in.Issuer:
		return refuse(invalidToken("the token was issued by another issuer"))
	case in.Audience != "" && !slices.Contains(a.audiences(), in.Audience):
		return refuse(invalidToken("the token is meant for another audience"))
	}
	p := &Principal{Subject: a.Subject, ClientID: a.ClientID, Scopes: ScopeSet(a.Scope)}
	if a.Exp == 0 {
		// No lifetime given: nothing says how long the answer holds.
		return verdict{principal: p, until: now}
	}
	p.Expiry = exp
	return verdict{principal: p, until: exp}
}

func unavailable(detail string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Description: detail}
}
