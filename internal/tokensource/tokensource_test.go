package tokensource

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer is a token endpoint that checks the client's credentials the
// way the style asks and issues numbered tokens.
type tokenServer struct {
	*httptest.Server
	issued    atomic.Int64
	expiresIn string // JSON value of expires_in, "" to leave it out
	tokenType string
	status    int
	body      string // a fixed answer instead of a token
	lastForm  atomic.Value
}

func newTokenServer(t *testing.T, style AuthStyle) *tokenServer {
	ts := &tokenServer{expiresIn: "300", tokenType: "bearer"}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		ts.lastForm.Store(r.PostForm)
		id, secret, basic := r.BasicAuth()
		// RFC 6749 §2.3.1: the Basic parts are form-encoded.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if style == ClientSecretPost {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
			basic = !basic
		}
		if !basic || id != "cli ent" || secret != "s:cret&" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"unknown client"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		if ts.status != 0 {
			w.WriteHeader(ts.status)
		}
		if ts.body != "" {
			w.Write([]byte(ts.body))
			return
		}
		n := ts.issued.Add(1)
		out := `{"access_token":"tok` + string(rune('0'+n)) + `","token_type":"` + ts.tokenType + `"`
		if ts.expiresIn != "" {
			out += `,"expires_in":` + ts.expiresIn
		}
		w.Write([]byte(out + `}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSource(t *testing.T, ts *tokenServer, style AuthStyle, c *clock) *Source {
	t.Helper()
	s, err := New(Config{TokenURL: ts.URL + "/token", ClientID: "cli ent", ClientSecret: "s:cret&",
		Scopes: []string{"a", "b"}, AuthStyle: style, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenCachedUntilRenewal(t *testing.T) {
	for _, style := range []AuthStyle{ClientSecretBasic, ClientSecretPost} {
		ts := newTokenServer(t, style)
		c := &clock{t: time.Unix(1_000_000, 0)}
		s := newSource(t, ts, style, c)
		ctx := context.Background()
		first, err := s.Token(ctx)
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if first.AccessToken != "tok1" || first.TokenType != "Bearer" || !first.Expiry.Equal(c.t.Add(300*time.Second)) {
			t.Fatalf("style %d: first token %+v", style, first)
		}
		if got := ts.lastForm.Load().(url.Values)["scope"]; len(got) != 1 || got[0] != "a b" {
			t.Errorf("scope sent %q, want \"a b\"", got)
		}
		// 300 s lifetime: renewed 30 s before expiry, not earlier.
		c.t = c.t.Add(269 * time.Second)
		if tok, _ := s.Token(ctx); tok.AccessToken != "tok1" {
			t.Errorf("style %d: at 269 s got %s, want the cached tok1", style, tok.AccessToken)
		}
		c.t = c.t.Add(2 * time.Second)
		if tok, _ := s.Token(ctx); tok.AccessToken != "tok2" {
			t.Errorf("style %d: at 271 s got %s, want a renewed tok2", style, tok.AccessToken)
		}
		if s.Fetches() != 2 {
			t.Errorf("style %d: %d fetches, want 2", style, s.Fetches())
		}
	}
}

func TestShortLifetimeRenewedAtThreeQuarters(t *testing.T) {
	ts := newTokenServer(t, ClientSecretBasic)
	ts.expiresIn = `"40"` // as a string, which some servers send
	c := &clock{t: time.Unix(1_000_000, 0)}
	s := newSource(t, ts, ClientSecretBasic, c)
	s.Token(context.Background())
	c.t = c.t.Add(29 * time.Second)
	if tok, _ := s.Token(context.Background()); tok.AccessToken != "tok1" {
		t.Errorf("at 29 s of 40 got %s, want tok1", tok.AccessToken)
	}
	c.t = c.t.Add(2 * time.Second)
	if tok, _ := s.Token(context.Background()); tok.AccessToken != "tok2" {
		t.Errorf("at 31 s of 40 got %s, want tok2", tok.AccessToken)
	}
}

func TestInvalidateRefetchesOnce(t *testing.T) {
	ts := newTokenServer(t, ClientSecretBasic)
	ts.expiresIn = "" // no lifetime: kept until refused
	c := &clock{t: time.Unix(1_000_000, 0)}
	s := newSource(t, ts, ClientSecretBasic, c)
	ctx := context.Background()
	tok, _ := s.Token(ctx)
	c.t = c.t.Add(1000 * time.Hour)
	if again, _ := s.Token(ctx); again != tok {
		t.Fatalf("token without expires_in was not kept: %+v then %+v", tok, again)
	}
	s.Invalidate(tok.AccessToken)
	s.Invalidate(tok.AccessToken) // a second refusal of the same old token
	next, err := s.Token(ctx)
	if err != nil || next.AccessToken != "tok2" {
		t.Fatalf("after Invalidate got %+v, %v; want tok2", next, err)
	}
	s.Invalidate("tok1") // stale: must not drop tok2
	if cur, _ := s.Token(ctx); cur.AccessToken != "tok2" || s.Fetches() != 2 {
		t.Errorf("stale Invalidate dropped the current token: %s after %d fetches", cur.AccessToken, s.Fetches())
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	ts := newTokenServer(t, ClientSecretBasic)
	s := newSource(t, ts, ClientSecretBasic, &clock{t: time.Unix(1_000_000, 0)})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Token(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := ts.issued.Load(); n != 1 {
		t.Errorf("20 concurrent callers caused %d token requests, want 1", n)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	cases := []struct {
		name      string
		secret    string
		status    int
		body      string
		tokenType string
		wantCode  string
		wantDesc  string
	}{
		{name: "bad client", secret: "wrong", wantCode: "invalid_client", wantDesc: "unknown client"},
		{name: "not bearer", tokenType: "mac", wantDesc: `token_type "mac" is not Bearer`},
		{name: "no token", body: `{"token_type":"bearer"}`, wantDesc: "no access_token"},
		{name: "not json", body: `<html>`, wantDesc: "not a JSON token response"},
		{name: "bad lifetime", body: `{"access_token":"x","token_type":"bearer","expires_in":-5}`, wantDesc: "not a positive whole number"},
		{name: "server error", status: 503, body: `{"error":"temporarily_unavailable"}`, wantCode: "temporarily_unavailable"},
	}
	for _, tc := range cases {
		ts := newTokenServer(t, ClientSecretBasic)
		ts.status, ts.body = tc.status, tc.body
		if tc.tokenType != "" {
			ts.tokenType = tc.tokenType
		}
		secret := "s:cret&"
		if tc.secret != "" {
			secret = tc.secret
		}
		s, err := New(Config{TokenURL: ts.URL, ClientID: "cli ent", ClientSecret: secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Token(context.Background())
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("%s: error %v, want a token endpoint Error", tc.name, err)
			continue
		}
		if te.Code != tc.wantCode || !contains(te.Error(), tc.wantDesc) {
			t.Errorf("%s: got %q (code %q), want code %q and %q", tc.name, te.Error(), te.Code, tc.wantCode, tc.wantDesc)
		}
		if contains(te.Error(), secret) {
			t.Errorf("%s: the error shows the client secret: %q", tc.name, te.Error())
		}
	}
}

func TestConfigChecked(t *testing.T) {
	for _, cfg := range []Config{
		{TokenURL: "ftp://x/token", ClientID: "a"},
		{TokenURL: "/token", ClientID: "a"},
		{TokenURL: "http://x/token"},
		{TokenURL: "http://x/token", ClientID: "a", AuthStyle: 7},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad configuration", cfg)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
