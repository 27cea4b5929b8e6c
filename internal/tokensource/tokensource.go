// Package tokensource obtains OAuth 2.0 access tokens with the client
// credentials grant (RFC 6749 §4.4) and keeps them until shortly before they
// expire. It is the one outgoing token client of the project: the server's
// notification delivery (SubscriptionAuthentication
// OAUTH2_CLIENT_CREDENTIALS, SOL 013 §8) and the CLI use it alike, so that
// both cache, renew and react to a refused token the same way.
package tokensource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// AuthStyle is how the client authenticates to the token endpoint
// (RFC 6749 §2.3.1; the names are OpenID Connect's token_endpoint_auth_method).
type AuthStyle int

const (
	// ClientSecretBasic sends the credentials in an HTTP Basic
	// Authorization header, which every authorization server must support.
	ClientSecretBasic AuthStyle = iota
	// ClientSecretPost sends them as client_id and client_secret form fields.
	ClientSecretPost
)

// Config says where and as whom tokens are requested.
type Config struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string // requested scope, space-joined; none: the server's default
	Audience     string   // optional "audience" parameter (Hydra, Auth0, Keycloak accept it)
	AuthStyle    AuthStyle
	// HTTPClient carries the token requests (for an egress policy, TLS
	// settings or timeouts); nil: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil: time.Now. Tests move it to check renewal.
	Now func() time.Time
}

// Token is an access token and when it stops being usable. A zero Expiry
// means the server gave no lifetime: the token is kept until a resource
// server refuses it (Invalidate).
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time
}

// Error is an error response of the token endpoint (RFC 6749 §5.2), or a
// response that is not a usable token.
type Error struct {
	StatusCode  int
	Code        string // the "error" member, e.g. invalid_client
	Description string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("token endpoint answered %d", e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// maxResponse bounds what is read of a token response: a token endpoint
// that streams without end must not fill memory.
const maxResponse = 1 << 20

// Source hands out a cached token and fetches a new one when the cached one
// is about to expire or was refused. It is safe for concurrent use; callers
// that find no usable token while another fetch runs wait for that fetch
// instead of starting their own.
type Source struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	cur     *Token
	renewAt time.Time
	fetches int // token requests made, for tests and metrics
}

// New checks the configuration and returns a Source that has not fetched
// anything yet.
func New(cfg Config) (*Source, error) {
	u, err := url.Parse(cfg.TokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("token URL %q: want an absolute http or https URL", cfg.TokenURL)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("client id is empty")
	}
	if cfg.AuthStyle != ClientSecretBasic && cfg.AuthStyle != ClientSecretPost {
		return nil, fmt.Errorf("unknown client authentication style %d", cfg.AuthStyle)
	}
	s := &Source{cfg: cfg, client: cfg.HTTPClient, now: cfg.Now}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Token returns the cached token while it is fresh, otherwise fetches one.
func (s *Source) Token(ctx context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && (s.renewAt.IsZero() || s.now().Before(s.renewAt)) {
		return *s.cur, nil
	}
	t, err := s.fetch(ctx)
	if err != nil {
		return Token{}, err
	}
	s.cur = &t
	s.renewAt = renewalTime(s.now(), t.Expiry)
	return t, nil
}

// Invalidate drops the cached token if it is accessToken, so that the next
// Token call fetches a new one: a resource server answered 401 to it
// (revoked, or expired early). A token already replaced is left alone, so
// that concurrent callers refused with the same old token cause one fetch.
func (s *Source) Invalidate(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.AccessToken == accessToken {
		s.cur = nil
	}
}

// Fetches reports how many token requests the Source has made.
func (s *Source) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// renewalTime is when a token obtained at now and expiring at expiry should
// be replaced: a quarter of its lifetime early, at most 30 s early, so that
// a request carrying it does not meet its expiry in flight. Zero: never by
// time.
func renewalTime(now, expiry time.Time) time.Time {
	if expiry.IsZero() {
		return time.Time{}
	}
	margin := expiry.Sub(now) / 4
	if margin > 30*time.Second {
		margin = 30 * time.Second
	}
	return expiry.Add(-margin)
}

func (s *Source) fetch(ctx context.Context) (Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	if s.cfg.Audience != "" {
		form.Set("audience", s.cfg.Audience)
	}
	if s.cfg.AuthStyle == ClientSecretPost {
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_secret", s.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.AuthStyle == ClientSecretBasic {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret))
	}
	start := s.now()
	s.fetches++
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL may carry nothing secret, but the error is the
		// transport's: keep it, it names host and cause.
		return Token{}, fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return Token{}, fmt.Errorf("token response: %w", err)
	}
	if len(body) > maxResponse {
		return Token{}, &Error{StatusCode: resp.StatusCode, Description: "response larger than 1 MiB"}
	}
	return parseResponse(resp, body, start)
}

// tokenResponse is RFC 6749 §5.1 and §5.2 in one: a server answers one or
// the other.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

func parseResponse(resp *http.Response, body []byte, start time.Time) (Token, error) {
	var tr tokenResponse
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		e := &Error{StatusCode: resp.StatusCode}
		if jsonErr == nil {
			e.Code, e.Description = tr.Error, tr.ErrorDescription
		}
		return Token{}, e
	}
	if jsonErr != nil || (mt != "application/json" && mt != "") {
		return Token{}, &Error{StatusCode: resp.StatusCode, Description: "the response is not a JSON token response (" + mt + ")"}
	}
	if tr.AccessToken == "" {
		return Token{}, &Error{StatusCode: resp.StatusCode, Description: "the response has no access_token"}
	}
	// Only bearer tokens can be sent as "Authorization: Bearer" (RFC 6750);
	// a MAC or DPoP token used that way would be refused or, worse, leak.
	if !strings.EqualFold(tr.TokenType, "bearer") {
		return Token{}, &Error{StatusCode: resp.StatusCode, Description: fmt.Sprintf("token_type %q is not Bearer", tr.TokenType)}
	}
	t := Token{AccessToken: tr.AccessToken, TokenType: "Bearer"}
	if len(tr.ExpiresIn) > 0 && string(tr.ExpiresIn) != "null" {
		secs, err := expiresIn(tr.ExpiresIn)
		if err != nil {
			return Token{}, &Error{StatusCode: resp.StatusCode, Description: err.Error()}
		}
		// Counted from when the request left: the token was issued after
		// that, so this errs on the early side.
		t.Expiry = start.Add(time.Duration(secs) * time.Second)
	}
	return t, nil
}

// expiresIn reads expires_in, a number of seconds; some servers send it as a
// string, which is accepted when it holds a number.
func expiresIn(raw json.RawMessage) (int64, error) {
	var n json.Number
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("expires_in %s is not a number", raw)
		}
		n = json.Number(s)
	} else if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("expires_in %s is not a number", raw)
	}
	secs, err := n.Int64()
	if err != nil || secs <= 0 {
		return 0, fmt.Errorf("expires_in %s is not a positive whole number of seconds", raw)
	}
	return secs, nil
}
