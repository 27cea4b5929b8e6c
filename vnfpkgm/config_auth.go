package vnfpkgm

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
)

// AuthConfig is the security of the API: who may call it (OAuth 2.0
// bearer tokens from an external issuer or the built-in authorization
// server, client certificates) and over what (TLS).
type AuthConfig struct {
	Issuer   string // OIDC discovery, and the iss every JWT must carry
	JWKSURL  string // keys of the issuer when discovery is not used
	Audience string // aud every token must carry (empty: not checked)
	// Introspection of opaque tokens (RFC 7662).
	IntrospectionURL              string
	IntrospectionClientID         string
	IntrospectionClientSecretFile string
	Scopes                        auth.Scopes
	ClockSkew                     time.Duration
	JWKSTTL                       time.Duration // keys are fetched again after this
	JWKSMinRefresh                time.Duration // an unknown kid refetches at most this often
	IntrospectionCacheSize        int
	// ClientsFile turns the built-in authorization server on.
	ClientsFile string
	// The built-in server's token lifetime, signing-key rotation and the
	// file whose key seals the signing keys in the database.
	TokenTTL, KeyRotation time.Duration
	SealFile              string
	// InsecureNoAuth lets the server listen beyond loopback without
	// authentication.
	InsecureNoAuth bool
	// OCIPublic serves the /v2 pull API without a token when authentication
	// is on: for VIMs whose image pulls carry no registry credentials
	// (Cloud Hypervisor's dataplane, Flintlock, KubeVim's registry source).
	OCIPublic       bool
	TLSCert, TLSKey string
	TLSClientCA     string // mutual TLS: CA bundle of accepted client certificates
}

func defaultAuthConfig() AuthConfig {
	return AuthConfig{
		Scopes:                 auth.DefaultScopes,
		ClockSkew:              time.Minute,
		JWKSTTL:                time.Hour,
		JWKSMinRefresh:         10 * time.Second,
		IntrospectionCacheSize: 10000,
		TokenTTL:               15 * time.Minute,
		KeyRotation:            24 * time.Hour,
	}
}

func (a *AuthConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&a.Issuer, "auth-issuer", a.Issuer, "OAuth 2.0 issuer URL: its keys are found by OIDC discovery and every JWT access token must name it")
	fs.StringVar(&a.JWKSURL, "auth-jwks-url", a.JWKSURL, "JWKS URL of the issuer's keys, instead of discovery (needs --auth-issuer)")
	fs.StringVar(&a.Audience, "auth-audience", a.Audience, "audience every access token must name")
	fs.StringVar(&a.IntrospectionURL, "auth-introspection-url", a.IntrospectionURL, "RFC 7662 introspection endpoint for opaque access tokens")
	fs.StringVar(&a.IntrospectionClientID, "auth-introspection-client-id", a.IntrospectionClientID, "client id the server introspects tokens as")
	fs.StringVar(&a.IntrospectionClientSecretFile, "auth-introspection-client-secret-file", a.IntrospectionClientSecretFile, "file holding that client's secret")
	fs.StringVar(&a.Scopes.Read, "auth-scope-read", a.Scopes.Read, "scope needed by every GET and HEAD")
	fs.StringVar(&a.Scopes.Write, "auth-scope-write", a.Scopes.Write, "scope needed to create, upload, change and delete packages and subscriptions")
	fs.StringVar(&a.Scopes.Admin, "auth-scope-admin", a.Scopes.Admin, "scope needed by the VIM API (VIM credentials, compute)")
	fs.DurationVar(&a.ClockSkew, "auth-clock-skew", a.ClockSkew, "clock difference tolerated on exp, nbf and iat")
	fs.DurationVar(&a.JWKSTTL, "auth-jwks-ttl", a.JWKSTTL, "the issuer's keys are fetched again after this")
	fs.DurationVar(&a.JWKSMinRefresh, "auth-jwks-min-refresh", a.JWKSMinRefresh, "a token signed by an unknown key refetches the keys at most this often")
	fs.IntVar(&a.IntrospectionCacheSize, "auth-introspection-cache-size", a.IntrospectionCacheSize, "introspection answers kept at most (each until its token expires)")
	fs.StringVar(&a.ClientsFile, "clients-file", a.ClientsFile, "clients of the built-in authorization server (turns it on; see `vnfpkgmd client add`)")
	fs.DurationVar(&a.TokenTTL, "auth-token-ttl", a.TokenTTL, "built-in authorization server: lifetime of the access tokens it issues")
	fs.DurationVar(&a.KeyRotation, "auth-key-rotation", a.KeyRotation, "built-in authorization server: a signing key signs this long, then the next one is made")
	fs.StringVar(&a.SealFile, "auth-seal-file", a.SealFile, "built-in authorization server: 32-byte key sealing the signing keys in the database, the same for every replica (default DATA_DIR/auth-seal.key, made when absent)")
	fs.BoolVar(&a.OCIPublic, "oci-public", a.OCIPublic, "serve the read-only /v2 registry (software images) without a token when authentication is on, for VIMs that pull without credentials (default: the read scope, through the registry token flow)")
	fs.BoolVar(&a.InsecureNoAuth, "insecure-no-auth", a.InsecureNoAuth, "serve without authentication on an address beyond loopback")
	fs.StringVar(&a.TLSCert, "tls-cert", a.TLSCert, "serve HTTPS with this certificate chain (PEM; reloaded on SIGHUP)")
	fs.StringVar(&a.TLSKey, "tls-key", a.TLSKey, "private key of --tls-cert (PEM)")
	fs.StringVar(&a.TLSClientCA, "tls-client-ca", a.TLSClientCA, "mutual TLS: CA certificates (PEM) of accepted client certificates, mapped to scopes by subject in --clients-file")
}

// Enabled reports whether requests must authenticate.
func (a AuthConfig) Enabled() bool {
	return a.Issuer != "" || a.JWKSURL != "" || a.IntrospectionURL != "" || a.ClientsFile != "" || a.TLSClientCA != ""
}

func (c Config) validateAuth() error {
	a := c.Auth
	for _, u := range []struct{ flag, v string }{
		{"auth-issuer", a.Issuer}, {"auth-jwks-url", a.JWKSURL}, {"auth-introspection-url", a.IntrospectionURL},
	} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s %q: want an absolute http or https URL", u.flag, u.v)
		}
	}
	switch {
	case a.JWKSURL != "" && a.Issuer == "":
		return errors.New("auth-jwks-url needs auth-issuer: every token's iss is checked against it")
	case a.ClientsFile != "" && a.Issuer != "":
		return errors.New("clients-file (the built-in authorization server) and auth-issuer (an external one) exclude each other")
	case (a.IntrospectionClientID == "") != (a.IntrospectionClientSecretFile == ""):
		return errors.New("auth-introspection-client-id and auth-introspection-client-secret-file go together")
	case a.IntrospectionClientID != "" && a.IntrospectionURL == "":
		return errors.New("auth-introspection-client-id needs auth-introspection-url")
	case a.Scopes.Read == "" || a.Scopes.Write == "" || a.Scopes.Admin == "":
		return errors.New("auth-scope-read, auth-scope-write and auth-scope-admin must not be empty")
	case a.ClockSkew < 0 || a.JWKSMinRefresh < 0:
		return errors.New("auth-clock-skew and auth-jwks-min-refresh must not be negative")
	case a.JWKSTTL <= 0 || a.TokenTTL <= 0 || a.KeyRotation <= 0:
		return errors.New("auth-jwks-ttl, auth-token-ttl and auth-key-rotation must be positive")
	case a.IntrospectionCacheSize < 1:
		return errors.New("auth-introspection-cache-size must be at least 1")
	case (a.TLSCert == "") != (a.TLSKey == ""):
		return errors.New("tls-cert and tls-key go together")
	case a.TLSClientCA != "" && a.TLSCert == "":
		return errors.New("tls-client-ca (mutual TLS) needs tls-cert and tls-key")
	case a.TLSClientCA != "" && a.ClientsFile == "":
		return errors.New("tls-client-ca needs clients-file, which maps certificate subjects to scopes")
	case a.InsecureNoAuth && a.Enabled():
		return errors.New("insecure-no-auth contradicts the authentication settings given")
	}
	if !a.Enabled() && !a.InsecureNoAuth && !loopbackListen(c.Listen) {
		return fmt.Errorf("listening on %s, beyond loopback, needs authentication (--auth-issuer, --auth-introspection-url or --clients-file); --insecure-no-auth serves without it", c.Listen)
	}
	return nil
}

// loopbackListen reports whether a listen address only accepts
// connections from this machine.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
