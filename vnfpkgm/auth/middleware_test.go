package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

func TestBearerToken(t *testing.T) {
	for _, c := range []struct {
		name      string
		header    http.Header
		token     string
		malformed bool
	}{
		{"none", http.Header{}, "", false},
		{"bearer", http.Header{"Authorization": {"Bearer abc.def-_~+/=="}}, "abc.def-_~+/==", false},
		{"scheme case-insensitive", http.Header{"Authorization": {"bearer abc"}}, "abc", false},
		{"x-auth-token", http.Header{"X-Auth-Token": {"gAAAA-xyz"}}, "gAAAA-xyz", false},
		{"authorization wins", http.Header{"Authorization": {"Bearer a"}, "X-Auth-Token": {"b"}}, "a", false},
		{"other scheme (ETSI's malformed case)", http.Header{"Authorization": {"Bear sometoken"}}, "", true},
		{"basic", http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}, "", true},
		{"no token", http.Header{"Authorization": {"Bearer"}}, "", true},
		{"empty token", http.Header{"Authorization": {"Bearer "}}, "", true},
		{"two spaces", http.Header{"Authorization": {"Bearer  abc"}}, "", true},
		{"bad character", http.Header{"Authorization": {"Bearer a\"b"}}, "", true},
		{"only padding", http.Header{"Authorization": {"Bearer =="}}, "", true},
		{"two headers", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, "", true},
		{"bad x-auth-token", http.Header{"X-Auth-Token": {"a b"}}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := BearerToken(c.header)
			if c.malformed {
				if e, ok := err.(*Error); !ok || e.Status != 400 || e.Code != CodeInvalidRequest {
					t.Fatalf("got %q, %v; want a 400 invalid_request", tok, err)
				}
				return
			}
			if err != nil || tok != c.token {
				t.Fatalf("got %q, %v; want %q", tok, err, c.token)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	p := DefaultPolicy(Scopes{Read: "r", Write: "w", Admin: "a"})
	for _, c := range []struct {
		method, path string
		scope        string
		protected    bool
	}{
		{"GET", "/healthz", "", false},
		{"GET", "/api-ref/openapi.yaml", "", false},
		{"GET", "/console/app.js", "", false},
		{"GET", "/console", "", false},
		{"POST", "/oauth2/token", "", false},
		{"GET", "/.well-known/openid-configuration", "", false},
		{"GET", "/healthzx", "r", true},
		{"GET", "/readyz", "", false},
		{"GET", "/metrics", "r", true},
		{"GET", "/vnfpkgm/v1/vnf_packages", "r", true},
		{"HEAD", "/vnfpkgm/v1/vnf_packages/x/package_content", "r", true},
		{"POST", "/vnfpkgm/v1/vnf_packages", "w", true},
		{"OPTIONS", "/vnfpkgm/v1/vnf_packages", "r", true},
		{"PUT", "/vnfpkgm/v1/vnf_packages/x/package_content", "w", true},
		{"PATCH", "/vnfpkgm/v1/vnf_packages/x", "w", true},
		{"DELETE", "/vnfpkgm/v1/vnf_packages/x", "w", true},
		{"POST", "/vnfpkgm/v1/subscriptions", "w", true},
		{"GET", "/vnfpkgm/v1/subscriptions", "r", true},
		{"GET", "/vim/v1/vims", "a", true},
		{"POST", "/vim/v1/vims/x/compute", "a", true},
		{"GET", "/vnfpkgm/api_versions", "r", true},
		{"GET", "/unknown", "r", true},
	} {
		scope, protected := p.Required(c.method, c.path)
		if scope != c.scope || protected != c.protected {
			t.Errorf("%s %s: scope %q protected %v, want %q %v", c.method, c.path, scope, protected, c.scope, c.protected)
		}
	}
}

func TestChallenge(t *testing.T) {
	e := &Error{Status: 403, Code: CodeInsufficientScope, Description: `needs "x"` + "\n", Scope: "x"}
	want := `Bearer realm="vnfpkgm", error="insufficient_scope", error_description="needs  x  ", scope="x"`
	if got := e.Challenge("vnfpkgm"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := (&Error{Status: 401}).Challenge("r"); got != `Bearer realm="r"` {
		t.Fatalf("a request without credentials gets no error code (RFC 6750 §3.1): %s", got)
	}
}

// A rule with its own refusal (the OCI registry's) answers in place of the
// guard; Exact covers its path only.
func TestRuleRefuseAndExact(t *testing.T) {
	var refused []*Error
	g := &Guard{Realm: "r", Policy: Policy{Rules: []Rule{
		{Prefix: "/v2/token", Exact: true, Methods: []string{http.MethodGet}, Public: true},
		{Prefix: "/v2", Scope: "read", Refuse: func(c echo.Context, e *Error) error {
			refused = append(refused, e)
			return c.String(499, "registry refusal")
		}},
	}, DefaultRead: "read", DefaultWrite: "write"}}
	e := echo.New()
	e.HTTPErrorHandler = sol013.HTTPErrorHandler
	e.Use(g.Middleware())
	e.Any("/*", func(c echo.Context) error { return c.String(200, "served") })
	for _, c := range []struct {
		method, path, authorization string
		status                      int
		code                        string // of the refusal passed to Refuse
	}{
		{"GET", "/v2/token", "", 200, ""},
		{"HEAD", "/v2/token", "", 499, ""},
		{"GET", "/v2/token/manifests/1", "", 499, ""},
		{"GET", "/v2/", "", 499, ""},
		{"GET", "/v2/a/manifests/1", "Bearer abc", 499, CodeInvalidToken},
		{"GET", "/v2/a/manifests/1", "Basic dTpw", 499, CodeInvalidRequest},
		{"GET", "/vnfpkgm/v1/vnf_packages", "", 401, ""},
	} {
		refused = nil
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.authorization != "" {
			req.Header.Set("Authorization", c.authorization)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, rec.Code, rec.Body, c.status)
			continue
		}
		if c.status == 499 && (len(refused) != 1 || refused[0].Code != c.code) {
			t.Errorf("%s %s: refusals %+v, want one with code %q", c.method, c.path, refused, c.code)
		}
		if c.status != 499 && len(refused) != 0 {
			t.Errorf("%s %s: the rule's refusal answered", c.method, c.path)
		}
	}
}
