package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Principal is the consumer a valid token (or client certificate) stands
// for.
type Principal struct {
	Subject  string // sub, or the certificate subject
	ClientID string
	Scopes   map[string]bool
	// Expiry is when the token stops being valid (zero: no expiry known,
	// e.g. a client certificate, whose validity the TLS layer checked).
	Expiry time.Time
}

// Has reports whether the principal holds scope.
func (p *Principal) Has(scope string) bool { return p != nil && p.Scopes[scope] }

// ScopeSet parses a space-separated scope list (RFC 6749 §3.3).
func ScopeSet(list string) map[string]bool {
	set := map[string]bool{}
	for _, s := range strings.Fields(list) {
		set[s] = true
	}
	return set
}

// Scopes names the three scopes of the API. The names are configurable so
// that they fit an existing authorization server's conventions.
type Scopes struct {
	Read, Write, Admin string
}

// DefaultScopes are the names used unless configured otherwise.
var DefaultScopes = Scopes{Read: "vnfpkgm:read", Write: "vnfpkgm:write", Admin: "vnfpkgm:admin"}

// Rule says what a request needs: a path prefix and, optionally, the
// methods it applies to. Public routes need nothing.
type Rule struct {
	Prefix  string
	Exact   bool     // the path Prefix only, nothing below it
	Methods []string // none: every method
	Public  bool
	Scope   string
	// Refuse answers a request of this rule the guard refuses, in place
	// of the ProblemDetails with the RFC 6750 challenge: for an API with
	// an error format and challenge of its own (the OCI registry). nil:
	// the guard's answer.
	Refuse func(c echo.Context, e *Error) error
}

func (r Rule) matches(method, path string) bool {
	if r.Exact && path != r.Prefix || !hasPathPrefix(path, r.Prefix) {
		return false
	}
	if len(r.Methods) == 0 {
		return true
	}
	for _, m := range r.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// hasPathPrefix reports whether path is prefix or below it: "/a" covers
// "/a" and "/a/b" but not "/ab"; a prefix ending in "/" covers what starts
// with it.
func hasPathPrefix(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Policy maps requests to the scope they need: the first matching rule
// decides; a request no rule matches needs DefaultRead for reads (GET,
// HEAD, and OPTIONS, which only describes a resource) and DefaultWrite
// otherwise, so that routes added later (subscriptions, new resources) are
// protected without an edit here.
type Policy struct {
	Rules                     []Rule
	DefaultRead, DefaultWrite string
}

// DefaultPolicy: /healthz, /readyz, /api-ref, /console, the built-in authorization server's
// endpoints and the discovery documents are public; the VIM API (which
// holds VIM credentials and drives compute) needs admin; every other GET
// or HEAD needs read and every other method needs write.
func DefaultPolicy(s Scopes) Policy {
	return Policy{
		Rules: []Rule{
			{Prefix: "/healthz", Public: true},
			{Prefix: "/readyz", Public: true},
			// Operations data: a reader's token, unless --metrics-public.
			{Prefix: "/metrics", Scope: s.Read},
			{Prefix: "/api-ref", Public: true},
			// The console's pages hold no data: every API call they make
			// carries the signed-in user's token.
			{Prefix: "/console", Public: true},
			{Prefix: "/oauth2/token", Public: true},
			{Prefix: "/.well-known/", Public: true},
			{Prefix: "/vim/", Scope: s.Admin},
		},
		DefaultRead:  s.Read,
		DefaultWrite: s.Write,
	}
}

// Required returns the scope a request needs, and whether it needs a
// token at all.
func (p Policy) Required(method, path string) (scope string, protected bool) {
	r := p.Match(method, path)
	if r.Public {
		return "", false
	}
	return r.Scope, true
}

// Match returns the rule that decides a request: the first that matches,
// else the default rule of its method.
func (p Policy) Match(method, path string) Rule {
	for _, r := range p.Rules {
		if r.matches(method, path) {
			return r
		}
	}
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return Rule{Scope: p.DefaultRead}
	}
	return Rule{Scope: p.DefaultWrite}
}
