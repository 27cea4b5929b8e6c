package vnfpkgm

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
)

// authState is what the server needs to authenticate requests: the guard
// (nil when authentication is off).
type authState struct {
	guard *auth.Guard
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
	s.auth.guard = &auth.Guard{Validator: v, Policy: auth.DefaultPolicy(a.Scopes), Realm: "vnfpkgm"}
	s.log.Info("authentication is on", "issuer", a.Issuer, "audience", a.Audience,
		"introspection", a.IntrospectionURL != "", "scopes", strings.Join([]string{a.Scopes.Read, a.Scopes.Write, a.Scopes.Admin}, " "))
	return nil
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
