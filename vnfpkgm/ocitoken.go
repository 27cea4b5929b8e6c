package vnfpkgm

// The registry token flow on /v2 (Docker's token authentication, which
// docker, containerd, containers/image and crane follow): with
// authentication on, a /v2 request without an acceptable bearer token
// answers 401 with
//
//	WWW-Authenticate: Bearer realm="<registry root>/v2/token",service="vnfpkgm",scope="repository:<name>:pull"
//
// and GET /v2/token (or POST, the OAuth 2.0 form of the same spec) turns
// the client's Basic credentials into a bearer token that /v2 accepts.
//
// What the credentials are, as registries that sit on an OAuth 2.0
// service do it (GHCR, GCR, Harbor's and Quay's robot accounts):
//
//   - a password that is a JWT is an API access token: it is checked as
//     every bearer token is (signature, issuer, audience, expiry) and must
//     carry the read scope; the user name is ignored. The token handed back
//     is that token, with its real remaining lifetime.
//   - any other password goes, with the user name, to the authorization
//     server as OAuth 2.0 client credentials (client id, client secret) in
//     a client credentials grant asking for the read scope: in process for
//     the built-in server (--clients-file), at the discovered
//     token_endpoint of --auth-issuer otherwise. The token handed back is
//     the access token issued.
//   - where tokens are opaque (--auth-introspection-url), a password that
//     is not accepted as client credentials (or with no issuer to ask) is
//     an access token, introspected.
//
// Either way the token handed back is an API access token with the read
// scope, which the guard accepts on /v2 like any other. Only pull is ever
// granted: the registry is read-only. Credentials and tokens are never
// logged.

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/oci"
)

// Of the registry's token service.
const (
	// RegistryService is the service named in the challenge, which the
	// client sends back to the token endpoint.
	RegistryService = "vnfpkgm"
	// RegistryTokenPath is the token endpoint, the challenge's realm.
	RegistryTokenPath = "/v2/token"
)

// registryRules are the guard's rules for /v2, ahead of the others: the
// token endpoint is public (it authenticates its Basic credentials
// itself), every other request under /v2 needs the read scope whatever
// its method (the registry answers writes 405), and refusals there are
// the registry's 401 with its challenge.
//
// With --oci-public, pulls (GET and HEAD) need no token; the token
// endpoint still answers, for clients that authenticate anyway.
func (s *Server) registryRules() []auth.Rule {
	if s.cfg.Auth.OCIPublic {
		return []auth.Rule{
			{Prefix: RegistryTokenPath, Exact: true, Methods: []string{http.MethodGet, http.MethodPost}, Public: true},
			{Prefix: "/v2", Methods: []string{http.MethodGet, http.MethodHead}, Public: true},
			{Prefix: "/v2", Scope: s.cfg.Auth.Scopes.Read, Refuse: s.registryRefuse},
		}
	}
	return []auth.Rule{
		{Prefix: RegistryTokenPath, Exact: true, Methods: []string{http.MethodGet, http.MethodPost}, Public: true},
		{Prefix: "/v2", Scope: s.cfg.Auth.Scopes.Read, Refuse: s.registryRefuse},
	}
}

// registryRoot is the scheme and authority of the request's apiRoot
// (--public-url, or the address the server listens on; never the Host
// header): the registry lives at the root of its host, so a path of
// --public-url is dropped, as registryBase does.
func registryRoot(c echo.Context) string {
	root := apiRoot(c)
	u, err := url.Parse(root)
	if err != nil || u.Host == "" {
		return root
	}
	return u.Scheme + "://" + u.Host
}

// registryRefuse answers a /v2 request the guard refused, as a registry
// does: 401 UNAUTHORIZED with the token challenge when credentials are
// missing, malformed or invalid (a client that sent something the
// registry cannot use gets the chance to fetch a token), 403 DENIED when
// the token lacks the read scope.
func (s *Server) registryRefuse(c echo.Context, e *auth.Error) error {
	w := c.Response()
	realm := registryRoot(c) + RegistryTokenPath
	scope := oci.ScopeOf(c.Request().URL.Path)
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized:
		code := ""
		if e.Code == auth.CodeInvalidToken {
			code = e.Code
		}
		w.Header().Set("WWW-Authenticate", oci.Challenge(realm, RegistryService, scope, code))
		oci.WriteError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", e.Description)
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", oci.Challenge(realm, RegistryService, scope, auth.CodeInsufficientScope))
		oci.WriteError(w, http.StatusForbidden, "DENIED", "requested access to the resource is denied", e.Description)
	default:
		// The issuer's keys or the introspection endpoint are away (503).
		oci.WriteError(w, e.Status, "UNAVAILABLE", e.Description, nil)
	}
	return nil
}

// tokenRefusal is why a token request is refused: the status, and the
// codes of the two forms of the endpoint (the distribution spec's for
// GET, RFC 6749's for POST).
type tokenRefusal struct {
	status           int
	code, oauthCode  string
	message          string
	basicChallenge   bool
	logAsServerError bool
}

func (r *tokenRefusal) Error() string { return r.message }

func unauthorized(format string, args ...any) *tokenRefusal {
	return &tokenRefusal{status: http.StatusUnauthorized, code: "UNAUTHORIZED", oauthCode: "invalid_grant",
		message: fmt.Sprintf(format, args...), basicChallenge: true}
}

func badTokenRequest(oauthCode, format string, args ...any) *tokenRefusal {
	return &tokenRefusal{status: http.StatusBadRequest, code: "UNSUPPORTED", oauthCode: oauthCode, message: fmt.Sprintf(format, args...)}
}

// maxRegistryTokenForm bounds the form of a POST token request.
const maxRegistryTokenForm = 16 << 10

// registryToken serves GET and POST /v2/token.
func (s *Server) registryToken(c echo.Context) error {
	req := c.Request()
	post := req.Method == http.MethodPost
	if s.auth.guard == nil {
		oci.WriteError(c.Response(), http.StatusNotFound, "UNSUPPORTED", "authentication is off: the registry needs no token", nil)
		return nil
	}
	var (
		user, pass string
		scopes     []string
		service    string
		refusal    *tokenRefusal
	)
	if post {
		user, pass, scopes, service, refusal = registryTokenForm(c)
	} else {
		q := req.URL.Query()
		scopes, service = q["scope"], q.Get("service")
		var ok bool
		if user, pass, ok = req.BasicAuth(); !ok {
			refusal = unauthorized("the token endpoint needs Basic credentials: an API access token as the password, or OAuth 2.0 client credentials")
		}
	}
	var granted []oci.Scope
	if refusal == nil {
		granted, refusal = checkTokenRequest(scopes, service)
	}
	var token string
	var p *auth.Principal
	if refusal == nil {
		token, p, refusal = s.registryCredentials(req.Context(), user, pass)
	}
	if refusal != nil {
		return s.refuseToken(c, post, refusal)
	}
	now := time.Now()
	expiresIn := 60 // the spec's lifetime when none is said
	if !p.Expiry.IsZero() {
		expiresIn = int(p.Expiry.Sub(now) / time.Second)
	}
	grantedList := make([]string, len(granted))
	for i, g := range granted {
		grantedList[i] = g.String()
	}
	body := map[string]any{
		"access_token": token, "token_type": "Bearer",
		"expires_in": expiresIn, "issued_at": now.UTC().Format(time.RFC3339),
		"scope": strings.Join(grantedList, " "),
	}
	if !post {
		// Docker's first form names it token; access_token is its OAuth 2.0 alias.
		body["token"] = token
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, body)
}

// registryTokenForm reads a POST token request (the OAuth 2.0 form of
// the token spec): grant_type password with username and password.
// refresh_token is refused: this endpoint issues no refresh tokens, so a
// client holds none to send.
func registryTokenForm(c echo.Context) (user, pass string, scopes []string, service string, refusal *tokenRefusal) {
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return "", "", nil, "", badTokenRequest("invalid_request", "the request must be application/x-www-form-urlencoded")
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxRegistryTokenForm)
	if err := req.ParseForm(); err != nil {
		return "", "", nil, "", badTokenRequest("invalid_request", "the form cannot be read")
	}
	form := req.PostForm
	switch gt := form.Get("grant_type"); gt {
	case "password":
	case "refresh_token":
		return "", "", nil, "", badTokenRequest("unsupported_grant_type", "this token endpoint issues no refresh tokens: use grant_type password")
	default:
		return "", "", nil, "", badTokenRequest("unsupported_grant_type", "grant_type must be password")
	}
	if form.Get("username") == "" && form.Get("password") == "" {
		return "", "", nil, "", unauthorized("the token endpoint needs username and password: an API access token as the password, or OAuth 2.0 client credentials")
	}
	return form.Get("username"), form.Get("password"), form["scope"], form.Get("service"), nil
}

// checkTokenRequest checks the service and the scopes asked for, and
// returns what is granted of them.
func checkTokenRequest(scopes []string, service string) ([]oci.Scope, *tokenRefusal) {
	if service != "" && service != RegistryService {
		return nil, badTokenRequest("invalid_request", "this token endpoint serves the service %s, not %s", RegistryService, service)
	}
	asked, err := oci.ParseScopes(scopes)
	if err != nil {
		return nil, badTokenRequest("invalid_scope", "%v", err)
	}
	return oci.Grant(asked), nil
}

// refuseToken answers a refused token request, and logs why (never the
// credentials).
func (s *Server) refuseToken(c echo.Context, post bool, r *tokenRefusal) error {
	if r.logAsServerError {
		s.log.Error("registry token request failed", "error", r.message)
	} else {
		s.log.Info("registry token request refused", "status", r.status, "reason", r.message)
	}
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	if r.basicChallenge {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+RegistryService+`"`)
	}
	if post {
		return c.JSON(r.status, map[string]string{"error": r.oauthCode, "error_description": r.message})
	}
	oci.WriteError(w, r.status, r.code, r.message, nil)
	return nil
}

// registryCredentials turns the Basic credentials of a token request into
// an API access token with the read scope (see the top of this file).
func (s *Server) registryCredentials(ctx context.Context, user, pass string) (string, *auth.Principal, *tokenRefusal) {
	if pass == "" {
		return "", nil, unauthorized("the password is empty: it is an API access token or an OAuth 2.0 client secret")
	}
	token := pass
	switch {
	case auth.IsJWT(pass):
	case s.auth.server != nil:
		issued, _, err := s.auth.server.Issue(ctx, user, pass, []string{s.cfg.Auth.Scopes.Read})
		switch {
		case errors.Is(err, authserver.ErrInvalidClient):
			return "", nil, unauthorized("the credentials are neither an access token nor a client of the authorization server")
		case errors.Is(err, authserver.ErrScope):
			return "", nil, denied()
		case err != nil:
			return "", nil, &tokenRefusal{status: http.StatusInternalServerError, code: "UNKNOWN", oauthCode: "server_error",
				message: "the token cannot be issued: " + err.Error(), logAsServerError: true}
		}
		token = issued
	case s.cfg.Auth.Issuer != "":
		issued, refusal := s.exchangeClientCredentials(ctx, user, pass)
		switch {
		case refusal == nil:
			token = issued
		case refusal.status == http.StatusUnauthorized && s.cfg.Auth.IntrospectionURL != "":
			// Not client credentials: the password may be an opaque
			// access token of that issuer.
		default:
			return "", nil, refusal
		}
	case s.cfg.Auth.IntrospectionURL == "":
		return "", nil, unauthorized("the password is not an access token")
	}
	p, err := s.auth.guard.Validator.Validate(ctx, token)
	if err != nil {
		var e *auth.Error
		if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
			return "", nil, &tokenRefusal{status: e.Status, code: "UNAVAILABLE", oauthCode: "temporarily_unavailable", message: e.Description}
		}
		if errors.As(err, &e) {
			return "", nil, unauthorized("the access token is refused: %s", e.Description)
		}
		return "", nil, unauthorized("the access token is refused")
	}
	if !p.Has(s.cfg.Auth.Scopes.Read) {
		return "", nil, denied()
	}
	return token, p, nil
}

func denied() *tokenRefusal {
	return &tokenRefusal{status: http.StatusForbidden, code: "DENIED", oauthCode: "invalid_scope",
		message: "the credentials do not carry the read scope this registry needs"}
}

// issuerTokenEndpoint is the token_endpoint of --auth-issuer, discovered
// once.
type issuerTokenEndpoint struct {
	mu  sync.Mutex
	url string
}

// exchangeClientCredentials asks the external issuer for an access token
// with the read scope (and the configured audience), authenticating as
// the client user with secret pass.
func (s *Server) exchangeClientCredentials(ctx context.Context, user, pass string) (string, *tokenRefusal) {
	endpoint, err := s.issuerTokenURL(ctx)
	if err != nil {
		return "", &tokenRefusal{status: http.StatusServiceUnavailable, code: "UNAVAILABLE", oauthCode: "temporarily_unavailable",
			message: "the authorization server's token endpoint is not known: " + err.Error()}
	}
	if user == "" {
		return "", unauthorized("the user name is empty: with a client secret as the password it is the client id")
	}
	src, err := tokensource.New(tokensource.Config{
		TokenURL: endpoint, ClientID: user, ClientSecret: pass,
		Scopes: []string{s.cfg.Auth.Scopes.Read}, Audience: s.cfg.Auth.Audience, HTTPClient: authClient(),
	})
	if err != nil {
		return "", unauthorized("the credentials cannot be exchanged: %v", err)
	}
	tok, err := src.Token(ctx)
	var te *tokensource.Error
	switch {
	case err == nil:
		return tok.AccessToken, nil
	case errors.As(err, &te) && (te.Code == "invalid_scope" || te.Code == "unauthorized_client"):
		return "", denied()
	case errors.As(err, &te) && te.StatusCode >= 400 && te.StatusCode < 500:
		return "", unauthorized("the authorization server refused the credentials (%s)", te.Code)
	}
	return "", &tokenRefusal{status: http.StatusServiceUnavailable, code: "UNAVAILABLE", oauthCode: "temporarily_unavailable",
		message: "the authorization server's token endpoint failed: " + err.Error(), logAsServerError: true}
}

func (s *Server) issuerTokenURL(ctx context.Context) (string, error) {
	t := &s.auth.issuerToken
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.url != "" {
		return t.url, nil
	}
	doc, err := auth.Discover(ctx, authClient(), s.cfg.Auth.Issuer)
	if err != nil {
		return "", err
	}
	if doc.TokenEndpoint == "" {
		return "", errors.New("the discovery document has no token_endpoint")
	}
	t.url = doc.TokenEndpoint
	return t.url, nil
}
