package auth

import (
	"crypto/x509"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// Guard is the API's gate: every request a Policy protects must carry a
// valid bearer token (Authorization, or X-Auth-Token as OpenStack clients
// send it) or a client certificate mapped to scopes, holding the scope
// the route needs.
type Guard struct {
	Validator *Validator // nil: tokens are refused (certificates only)
	Policy    Policy
	Realm     string
	// CertPrincipal maps a verified client certificate (mutual TLS) to a
	// principal; nil, or nil returned: certificates grant nothing.
	CertPrincipal func(*x509.Certificate) *Principal
}

// PrincipalKey is the echo context key of the request's Principal.
const PrincipalKey = "vnfpkgm.principal"

// Middleware enforces the guard.
func (g *Guard) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			rule := g.Policy.Match(req.Method, req.URL.Path)
			if rule.Public {
				return next(c)
			}
			refuse := g.refuse
			if rule.Refuse != nil {
				refuse = func(c echo.Context, err error) error {
					if e, ok := err.(*Error); ok {
						return rule.Refuse(c, e)
					}
					return err
				}
			}
			p, err := g.authenticate(req)
			if err != nil {
				return refuse(c, err)
			}
			if !p.Has(rule.Scope) {
				return refuse(c, &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope,
					Description: "this request needs the scope " + rule.Scope, Scope: rule.Scope})
			}
			c.Set(PrincipalKey, p)
			return next(c)
		}
	}
}

// authenticate finds the request's credentials: a bearer token first,
// then a client certificate.
func (g *Guard) authenticate(req *http.Request) (*Principal, error) {
	token, err := BearerToken(req.Header)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if p := g.certificatePrincipal(req); p != nil {
			return p, nil
		}
		return nil, &Error{Status: http.StatusUnauthorized, Description: "this request needs a bearer token"}
	}
	if g.Validator == nil {
		return nil, invalidToken("this server accepts no bearer tokens")
	}
	return g.Validator.Validate(req.Context(), token)
}

func (g *Guard) certificatePrincipal(req *http.Request) *Principal {
	if g.CertPrincipal == nil || req.TLS == nil || len(req.TLS.VerifiedChains) == 0 {
		return nil
	}
	return g.CertPrincipal(req.TLS.VerifiedChains[0][0])
}

// refuse answers with a ProblemDetails and, for 400, 401 and 403, the
// RFC 6750 challenge.
func (g *Guard) refuse(c echo.Context, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		c.Response().Header().Set("WWW-Authenticate", e.Challenge(g.Realm))
	}
	p := sol013.NewProblem(e.Status, e.Description)
	if e.Scope != "" {
		p.With("requiredScope", e.Scope)
	}
	return p
}

// BearerToken returns the request's token: "Authorization: Bearer T"
// (RFC 6750 §2.1) or "X-Auth-Token: T" (what OpenStack clients send with
// a token given to them). None: "". A header that is not of that form is
// a malformed request (400), never ignored: the client meant to
// authenticate.
func BearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) > 1 {
		return "", invalidRequest("the request has several Authorization headers")
	}
	if len(values) == 0 {
		xs := h.Values("X-Auth-Token")
		switch {
		case len(xs) == 0:
			return "", nil
		case len(xs) > 1:
			return "", invalidRequest("the request has several X-Auth-Token headers")
		case !isB64Token(xs[0]):
			return "", invalidRequest("X-Auth-Token is not a token")
		}
		return xs[0], nil
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	switch {
	case !strings.EqualFold(scheme, "Bearer"):
		return "", invalidRequest("the Authorization header must be \"Bearer\" and a token")
	case !isB64Token(token):
		return "", invalidRequest("the bearer token is malformed")
	}
	return token, nil
}

// isB64Token is RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_"
// / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		b := body[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-._~+/", b) >= 0:
		default:
			return false
		}
	}
	return true
}
