package vnfpkgm

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// authState is what the server needs to authenticate requests: the guard
// (nil when authentication is off).
type authState struct {
	guard *auth.Guard
	// server is the built-in authorization server (nil without
	// --clients-file).
	server *authserver.Server
	// issuerToken is the discovered token endpoint of --auth-issuer,
	// where the registry's token endpoint exchanges client credentials.
	issuerToken issuerTokenEndpoint
}

// authClient fetches the issuer's keys and introspects tokens: addresses
// the operator configured, so not subject to the egress policy of
// client-given URLs.
func authClient() *http.Client { return &http.Client{Timeout: 15 * time.Second} }

// setupAuth builds the guard of the configured authentication, or logs
// that the API is open.
func (s *Server) setupAuth(ctx context.Context) error {
	a := s.cfg.Auth
	if !a.Enabled() {
		s.log.Warn("authentication is off: anyone who can connect may read, change and delete packages and VIMs",
			"listen", s.cfg.Listen, "insecure_no_auth", a.InsecureNoAuth)
		return nil
	}
	v := &auth.Validator{Issuer: a.Issuer, Audience: a.Audience, Skew: a.ClockSkew}
	if a.ClientsFile != "" {
		srv, err := s.builtInAuthServer()
		if err != nil {
			return err
		}
		s.auth.server = srv
		v.Issuer, v.Audience, v.Keys = srv.Issuer, srv.Audience, srv.Keys
	}
	if a.Issuer != "" {
		v.Keys = &auth.RemoteKeys{Issuer: a.Issuer, JWKSURL: a.JWKSURL, Client: authClient(), TTL: a.JWKSTTL, MinRefresh: a.JWKSMinRefresh}
	}
	if a.IntrospectionURL != "" {
		in, err := s.introspector()
		if err != nil {
			return err
		}
		v.Introspector = in
	}
	policy := auth.DefaultPolicy(a.Scopes)
	policy.Rules = append(s.registryRules(), policy.Rules...) // ocitoken.go
	s.auth.guard = &auth.Guard{Validator: v, Policy: policy, Realm: "vnfpkgm"}
	if a.TLSClientCA != "" {
		s.auth.guard.CertPrincipal = s.auth.server.CertificatePrincipal
	}
	s.log.Info("authentication is on", "issuer", v.Issuer, "audience", v.Audience, "built_in_server", a.ClientsFile != "",
		"introspection", a.IntrospectionURL != "", "scopes", strings.Join([]string{a.Scopes.Read, a.Scopes.Write, a.Scopes.Admin}, " "))
	return nil
}

// builtInAudience is the aud of the built-in server's tokens unless
// --auth-audience says otherwise.
const builtInAudience = "vnfpkgm"

// builtInAuthServer opens the clients file and the signing keys.
func (s *Server) builtInAuthServer() (*authserver.Server, error) {
	a := s.cfg.Auth
	issuer, err := s.builtInIssuer()
	if err != nil {
		return nil, err
	}
	clients, err := authserver.OpenClients(a.ClientsFile)
	if err != nil {
		return nil, err
	}
	seal := a.SealFile
	if seal == "" {
		seal = filepath.Join(s.cfg.DataDir, "auth-seal.key")
	}
	ring, err := authserver.NewKeyRing(s.db, seal, a.KeyRotation, a.TokenTTL)
	if err != nil {
		return nil, err
	}
	audience := a.Audience
	if audience == "" {
		audience = builtInAudience
	}
	return &authserver.Server{Issuer: issuer, Audience: audience, TokenTTL: a.TokenTTL, Clients: clients, Keys: ring, Log: s.log}, nil
}

// builtInIssuer is the URL clients reach the server at: --public-url, or
// the listen address.
func (s *Server) builtInIssuer() (string, error) {
	if s.cfg.PublicURL != "" {
		return publicRoot(s.cfg.PublicURL)
	}
	host, _, _ := net.SplitHostPort(s.cfg.Listen)
	if unspecifiedHost(host) {
		return "", fmt.Errorf("the built-in authorization server needs --public-url when listening on every address (%s): it names its issuer with it", s.cfg.Listen)
	}
	return s.cfg.Auth.scheme() + "://" + s.cfg.Listen, nil
}

// authRoutes registers the built-in authorization server's endpoints.
func (s *Server) authRoutes(e *echo.Echo) {
	if s.auth.server != nil {
		s.auth.server.Register(e)
	}
}

func (s *Server) introspector() (*auth.Introspector, error) {
	a := s.cfg.Auth
	in := &auth.Introspector{
		URL: a.IntrospectionURL, Client: authClient(),
		Issuer: a.Issuer, Audience: a.Audience,
		MaxEntries: a.IntrospectionCacheSize, NegativeTTL: 30 * time.Second,
	}
	if a.IntrospectionClientID != "" {
		secret, err := readSecretFile(a.IntrospectionClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth-introspection-client-secret-file: %w", err)
		}
		in.ClientID, in.ClientSecret = a.IntrospectionClientID, secret
	}
	return in, nil
}

// readSecretFile reads a secret kept in a file, without the line end an
// editor adds.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return secret, nil
}

// authenticate is the guard's middleware, or nothing when authentication
// is off.
func (s *Server) authenticate() echo.MiddlewareFunc {
	if s.auth.guard == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return s.auth.guard.Middleware()
}
