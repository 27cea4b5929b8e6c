package main_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/hydratest"
)

// challenge fails unless the response carries an RFC 6750 challenge with
// the given error code ("" : none).
func challenge(t *testing.T, r response, code string) {
	t.Helper()
	wa := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(wa, "Bearer ") {
		t.Fatalf("WWW-Authenticate %q, want a Bearer challenge", wa)
	}
	if has := strings.Contains(wa, `error="`+code+`"`); code != "" && !has || code == "" && strings.Contains(wa, "error=") {
		t.Fatalf("WWW-Authenticate %q, want error %q", wa, code)
	}
}

// The API behind an external authorization server (Hydra, JWT access
// tokens): every status of RFC 6750 and SOL 013 clause 8.
func TestAuthWithHydraJWT(t *testing.T) {
	h := hydratest.Start(t, "jwt", time.Hour)
	id, secret := h.CreateClient(t, []string{"vnfpkgm:read", "vnfpkgm:write", "vnfpkgm:admin"}, "vnfpkgm")
	s := startServer(t, "", "--auth-issuer", h.PublicURL, "--auth-audience", "vnfpkgm")
	reader := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
	writer := h.Token(t, id, secret, []string{"vnfpkgm:read", "vnfpkgm:write"}, "vnfpkgm")
	admin := h.Token(t, id, secret, []string{"vnfpkgm:admin"}, "vnfpkgm")

	// Public: health and the API description.
	expectStatus(t, s.do("GET", "/healthz", nil), 200)
	if r := s.do("GET", "/api-ref/openapi.yaml", nil); r.status != 200 {
		t.Fatalf("the API description is not public: %d", r.status)
	}
	// ETSI: a missing token is 401, a malformed Authorization 400.
	r := s.do("GET", pkgs, nil)
	expectProblem(t, r, 401)
	challenge(t, r, "")
	r = s.do("GET", pkgs, nil, "Authorization", "Bear sometoken")
	expectProblem(t, r, 400)
	challenge(t, r, "invalid_request")
	r = s.do("GET", pkgs, nil, "Authorization", "Bearer not-a-valid-token")
	expectProblem(t, r, 401)
	challenge(t, r, "invalid_token")

	expectStatus(t, s.do("GET", pkgs, nil, "Authorization", "Bearer "+reader), 200)
	expectStatus(t, s.do("GET", pkgs, nil, "X-Auth-Token", reader), 200)
	r = s.do("POST", pkgs, strings.NewReader(`{}`), "Authorization", "Bearer "+reader, "Content-Type", "application/json")
	pd := expectProblem(t, r, 403)
	challenge(t, r, "insufficient_scope")
	if !strings.Contains(pd["detail"].(string), "vnfpkgm:write") || !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="vnfpkgm:write"`) {
		t.Fatalf("403 without the missing scope named: %v %s", pd, r.header.Get("WWW-Authenticate"))
	}
	expectStatus(t, s.do("POST", pkgs, strings.NewReader(`{}`), "Authorization", "Bearer "+writer, "Content-Type", "application/json"), 201)
	// The VIM API holds credentials: admin only.
	expectProblem(t, s.do("GET", "/vim/v1/vims", nil, "Authorization", "Bearer "+writer), 403)
	expectStatus(t, s.do("GET", "/vim/v1/vims", nil, "Authorization", "Bearer "+admin), 200)

	// Tokens never reach the log.
	for _, tok := range []string{reader, writer, admin} {
		if bytes.Contains(s.log.Bytes(), []byte(tok)) {
			t.Fatal("a token is in the server's log")
		}
	}
}

// Opaque tokens through Hydra's introspection endpoint, revocation.
func TestAuthWithHydraIntrospection(t *testing.T) {
	h := hydratest.Start(t, "opaque", time.Hour)
	id, secret := h.CreateClient(t, []string{"vnfpkgm:read"}, "vnfpkgm")
	s := startServer(t, "", "--auth-introspection-url", h.IntrospectionURL(), "--auth-audience", "vnfpkgm")
	token := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
	expectStatus(t, s.do("GET", pkgs, nil, "Authorization", "Bearer "+token), 200)
	revoked := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
	h.Revoke(t, id, secret, revoked)
	r := s.do("GET", pkgs, nil, "Authorization", "Bearer "+revoked)
	expectProblem(t, r, 401)
	challenge(t, r, "invalid_token")
}

// Beyond loopback, no authentication is no start, unless asked for.
func TestSecureByDefault(t *testing.T) {
	code, _, stderr := runBinary(t, "--listen", "0.0.0.0:0", "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "insecure-no-auth") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming --insecure-no-auth", code, stderr)
	}
	s := startServer(t, "")
	if !strings.Contains(s.log.String(), "authentication is off") {
		t.Fatalf("no log line says the loopback default is open:\n%s", s.log)
	}
}
