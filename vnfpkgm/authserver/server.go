package authserver

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
)

// Paths of the endpoints.
const (
	TokenPath     = "/oauth2/token"
	JWKSPath      = "/.well-known/jwks.json"
	DiscoveryPath = "/.well-known/openid-configuration"
)

// Server issues access tokens to the clients of a file.
type Server struct {
	Issuer   string // also the base of the endpoints' URLs
	Audience string // aud of every token
	TokenTTL time.Duration
	Clients  *ClientsFile
	Keys     *KeyRing
	Log      *slog.Logger
}

// Register adds the endpoints to e.
func (s *Server) Register(e *echo.Echo) {
	e.POST(TokenPath, s.token)
	e.GET(JWKSPath, s.jwks)
	e.GET(DiscoveryPath, s.discovery)
}

// tokenError is an error response of the token endpoint (RFC 6749 §5.2):
// OAuth clients expect this shape here, not ProblemDetails.
func tokenError(c echo.Context, status int, code, description string) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="vnfpkgm"`)
	}
	return c.JSON(status, map[string]string{"error": code, "error_description": description})
}

// maxTokenRequest bounds the form of a token request.
const maxTokenRequest = 16 << 10

func (s *Server) token(c echo.Context) error {
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the request must be application/x-www-form-urlencoded")
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxTokenRequest)
	if err := req.ParseForm(); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the form cannot be read")
	}
	form := req.PostForm
	id, secret, err := clientCredentials(req, form)
	if err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	if id == "" {
		return tokenError(c, http.StatusUnauthorized, "invalid_client", "client authentication is required (client_secret_basic or client_secret_post)")
	}
	client, ok := s.Clients.Authenticate(id, secret)
	if !ok {
		s.Log.Warn("token request refused: client authentication failed", "client_id", id)
		return tokenError(c, http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		return tokenError(c, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
	}
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		scopes = client.Scopes
	}
	if !client.Allows(scopes) {
		return tokenError(c, http.StatusBadRequest, "invalid_scope", "the client may not have every scope requested")
	}
	if aud := form.Get("audience"); aud != "" && aud != s.Audience {
		return tokenError(c, http.StatusBadRequest, "invalid_target", "this server issues tokens for the audience "+s.Audience+" only")
	}
	signed, err := s.sign(c.Request().Context(), client.ID, scopes)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, map[string]any{
		"access_token": signed, "token_type": "Bearer",
		"expires_in": int(s.TokenTTL.Seconds()), "scope": strings.Join(scopes, " "),
	})
}

// clientCredentials reads client_secret_basic or client_secret_post; a
// request using both is malformed (RFC 6749 §2.3: one method per request).
func clientCredentials(req *http.Request, form url.Values) (id, secret string, err error) {
	bid, bsecret, basic := req.BasicAuth()
	_, posted := form["client_id"]
	switch {
	case basic && (posted || form.Has("client_secret")):
		return "", "", errors.New("the client authenticated twice (Basic and form)")
	case basic:
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
		if id, err = url.QueryUnescape(bid); err != nil {
			return "", "", errors.New("the Basic user is not form-encoded")
		}
		if secret, err = url.QueryUnescape(bsecret); err != nil {
			return "", "", errors.New("the Basic password is not form-encoded")
		}
		return id, secret, nil
	}
	return form.Get("client_id"), form.Get("client_secret"), nil
}

// Errors of Issue.
var (
	ErrInvalidClient = errors.New("client authentication failed")
	ErrScope         = errors.New("the client may not have every scope requested")
)

// Issue is the client credentials grant without HTTP, for the server's
// other token endpoints (the OCI registry's): an access token for the
// client id and secret with scopes (none: the client's own), as the
// token endpoint would issue it, and its lifetime.
func (s *Server) Issue(ctx context.Context, id, secret string, scopes []string) (string, time.Duration, error) {
	client, ok := s.Clients.Authenticate(id, secret)
	if !ok {
		return "", 0, ErrInvalidClient
	}
	if len(scopes) == 0 {
		scopes = client.Scopes
	}
	if !client.Allows(scopes) {
		return "", 0, ErrScope
	}
	signed, err := s.sign(ctx, client.ID, scopes)
	if err != nil {
		return "", 0, err
	}
	return signed, s.TokenTTL, nil
}

// sign makes an RFC 9068 JWT access token.
func (s *Server) sign(ctx context.Context, clientID string, scopes []string) (string, error) {
	key, err := s.Keys.Signer(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer(s.Issuer).Subject(clientID).Audience([]string{s.Audience}).
		IssuedAt(now).NotBefore(now).Expiration(now.Add(s.TokenTTL)).JwtID(uuid.NewString()).
		Claim("client_id", clientID).Claim("scope", strings.Join(scopes, " ")).Build()
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "at+jwt"); err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", err
	}
	return string(signed), nil
}

func (s *Server) jwks(c echo.Context) error {
	set, err := s.Keys.Keys(c.Request().Context())
	if err != nil {
		return err
	}
	if set.Len() == 0 {
		// Publish the key before the first token is asked for, so that
		// a resource server that fetches first finds it.
		if _, err := s.Keys.Signer(c.Request().Context()); err != nil {
			return err
		}
		if set, err = s.Keys.Keys(c.Request().Context()); err != nil {
			return err
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "max-age=60")
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}

func (s *Server) discovery(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                                s.Issuer,
		"token_endpoint":                        s.Issuer + TokenPath,
		"jwks_uri":                              s.Issuer + JWKSPath,
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		// RFC 8414 requires the member; no authorization endpoint here.
		"response_types_supported": []string{},
	})
}

// CertificatePrincipal maps a client certificate to the client whose
// certificate_subject is its subject.
func (s *Server) CertificatePrincipal(cert *x509.Certificate) *auth.Principal {
	client, ok := s.Clients.BySubject(cert.Subject.String())
	if !ok {
		return nil
	}
	p := &auth.Principal{Subject: cert.Subject.String(), ClientID: client.ID, Scopes: map[string]bool{}}
	for _, sc := range client.Scopes {
		p.Scopes[sc] = true
	}
	return p
}
