package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
)

// authOptions are how the CLI authenticates to a secured server and
// checks its certificate. Each has a VNFPKGM_* variable; an option given
// wins over it.
type authOptions struct {
	token            string // a bearer token as is
	clientID         string // client credentials grant ...
	clientSecretFile string
	tokenURL         string // ... at this token endpoint (default: the server's /oauth2/token)
	scopes           string
	cacert           string // CA bundle the server's certificate must chain to
	cert, key        string // client certificate (mutual TLS)
	insecure         bool   // no server certificate verification
}

// authFlags lists the options, their variables and their help.
var authFlags = []struct{ name, env, help string }{
	{"token", "VNFPKGM_TOKEN", "bearer `TOKEN` sent with every request"},
	{"client-id", "VNFPKGM_CLIENT_ID", "OAuth 2.0 client `ID`: a token is obtained with the client credentials grant and cached under the user's cache directory"},
	{"client-secret-file", "VNFPKGM_CLIENT_SECRET_FILE", "`FILE` holding the client secret"},
	{"token-url", "VNFPKGM_TOKEN_URL", "token endpoint `URL` (default: the server's /oauth2/token)"},
	{"scopes", "VNFPKGM_SCOPES", "`SCOPES` to ask for, space- or comma-separated (default: all the client may have)"},
	{"cacert", "VNFPKGM_CACERT", "CA certificates (PEM `FILE`) the server's certificate must chain to"},
	{"cert", "VNFPKGM_CERT", "client certificate (PEM `FILE`) for mutual TLS"},
	{"key", "VNFPKGM_KEY", "private key (PEM `FILE`) of --cert"},
	{"insecure", "VNFPKGM_INSECURE", "do not verify the server's certificate (a warning is printed)"},
}

func (o *authOptions) field(name string) *string {
	switch name {
	case "token":
		return &o.token
	case "client-id":
		return &o.clientID
	case "client-secret-file":
		return &o.clientSecretFile
	case "token-url":
		return &o.tokenURL
	case "scopes":
		return &o.scopes
	case "cacert":
		return &o.cacert
	case "cert":
		return &o.cert
	case "key":
		return &o.key
	}
	return nil
}

// fromEnv reads the VNFPKGM_* variables.
func (o *authOptions) fromEnv(getenv func(string) string) {
	for _, f := range authFlags {
		v := getenv(f.env)
		if v == "" {
			continue
		}
		if p := o.field(f.name); p != nil {
			*p = v
		} else if f.name == "insecure" {
			o.insecure, _ = strconv.ParseBool(v)
		}
	}
}

// register adds the options to a command's flag set.
func (o *authOptions) register(fs *flag.FlagSet) {
	for _, f := range authFlags {
		if p := o.field(f.name); p != nil {
			fs.StringVar(p, f.name, *p, f.help+" ($"+f.env+")")
		} else {
			fs.BoolVar(&o.insecure, f.name, o.insecure, f.help+" ($"+f.env+")")
		}
	}
}

// isAuthOption reports whether a global option (before the command) is
// one of these.
func isAuthOption(name string) bool {
	for _, f := range authFlags {
		if f.name == name {
			return true
		}
	}
	return false
}

// takeGlobal consumes the option at args[0] (name[=value]) and its value.
func (o *authOptions) takeGlobal(args []string) ([]string, error) {
	name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	if name == "insecure" {
		o.insecure = !hasValue || value == "true"
		return args[1:], nil
	}
	if !hasValue {
		if len(args) < 2 {
			return nil, fmt.Errorf("--%s needs a value", name)
		}
		value, args = args[1], args[1:]
	}
	*o.field(name) = value
	return args[1:], nil
}

// apply makes the API client authenticate and verify as configured.
func (o *authOptions) apply(api *apiClient, endpoint *url.URL, stderr io.Writer) error {
	tr, ok := api.hc.Transport.(*http.Transport)
	if !ok {
		return errors.New("the HTTP transport cannot carry TLS settings")
	}
	tlsCfg, err := o.tlsConfig(stderr)
	if err != nil {
		return &localError{err}
	}
	tr.TLSClientConfig = tlsCfg
	switch {
	case o.token != "" && o.clientID != "":
		return usagef("--token and --client-id exclude each other")
	case o.token != "":
		api.hc.Transport = &bearerTransport{base: tr, token: func(context.Context) (string, error) { return o.token, nil }}
	case o.clientID != "":
		src, err := o.tokenSource(endpoint, tr)
		if err != nil {
			return err
		}
		api.hc.Transport = &bearerTransport{base: tr, token: src.token, refused: src.refused}
	case o.clientSecretFile != "" || o.tokenURL != "":
		return usagef("--client-secret-file and --token-url need --client-id")
	}
	return nil
}

func (o *authOptions) tlsConfig(stderr io.Writer) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.insecure {
		fmt.Fprintln(stderr, "vnfpkgm: warning: --insecure: the server's certificate is not verified; anyone in the path can read and change the traffic")
		cfg.InsecureSkipVerify = true
	}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", o.cacert)
		}
	}
	if (o.cert == "") != (o.key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// bearerTransport adds the token to every request. When the server
// refuses a token (401), the cached one is dropped, and a request without
// a body is sent once more with a new token.
type bearerTransport struct {
	base    http.RoundTripper
	token   func(context.Context) (string, error)
	refused func(token string)
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(withBearer(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || t.refused == nil {
		return resp, err
	}
	t.refused(tok)
	if req.Body != nil && req.Body != http.NoBody {
		return resp, nil // a streamed body cannot be sent again
	}
	resp.Body.Close()
	if tok, err = t.token(req.Context()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(withBearer(req, tok))
}

func withBearer(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// cachedTokens is a client-credentials token source whose token is also
// kept on disk (0600, under the user's cache directory, one file per token
// endpoint, client and scopes), so that successive commands share it
// until shortly before it expires.
type cachedTokens struct {
	src  *tokensource.Source
	path string // "" when there is no cache directory
}

// diskToken is the file's content.
type diskToken struct {
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry"`
}

// renewMargin is how long before its expiry a cached token is replaced.
const renewMargin = 30 * time.Second

func (o *authOptions) tokenSource(endpoint *url.URL, tr *http.Transport) (*cachedTokens, error) {
	if o.clientSecretFile == "" {
		return nil, usagef("--client-id needs --client-secret-file (or $VNFPKGM_CLIENT_SECRET_FILE)")
	}
	b, err := os.ReadFile(o.clientSecretFile)
	if err != nil {
		return nil, &localError{fmt.Errorf("--client-secret-file: %w", err)}
	}
	secret := strings.TrimRight(string(b), "\r\n")
	tokenURL := o.tokenURL
	if tokenURL == "" {
		tokenURL = endpoint.Scheme + "://" + endpoint.Host + "/oauth2/token"
	}
	scopes := strings.FieldsFunc(o.scopes, func(r rune) bool { return r == ',' || r == ' ' })
	src, err := tokensource.New(tokensource.Config{
		TokenURL: tokenURL, ClientID: o.clientID, ClientSecret: secret, Scopes: scopes,
		HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	})
	if err != nil {
		return nil, usagef("%v", err)
	}
	c := &cachedTokens{src: src}
	if dir, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(tokenURL + "\x00" + o.clientID + "\x00" + strings.Join(scopes, " ")))
		c.path = filepath.Join(dir, "vnfpkgm", "tokens", hex.EncodeToString(sum[:16])+".json")
	}
	return c, nil
}

func (c *cachedTokens) token(ctx context.Context) (string, error) {
	if t, ok := c.load(); ok {
		return t, nil
	}
	tok, err := c.src.Token(ctx)
	if err != nil {
		return "", &failure{"obtaining a token: " + err.Error()}
	}
	c.store(diskToken{AccessToken: tok.AccessToken, Expiry: tok.Expiry})
	return tok.AccessToken, nil
}

func (c *cachedTokens) load() (string, bool) {
	if c.path == "" {
		return "", false
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return "", false
	}
	var t diskToken
	if json.Unmarshal(b, &t) != nil || t.AccessToken == "" || !time.Now().Add(renewMargin).Before(t.Expiry) {
		return "", false
	}
	return t.AccessToken, true
}

// store writes the token file atomically; a cache that cannot be written
// only costs a token request next time.
func (c *cachedTokens) store(t diskToken) {
	if c.path == "" || t.Expiry.IsZero() {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(t)
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".token-*")
	if err != nil {
		return
	}
	defer os.Remove(tmp.Name())
	if tmp.Chmod(0o600) != nil {
		tmp.Close()
		return
	}
	_, werr := tmp.Write(b)
	if tmp.Close() != nil || werr != nil {
		return
	}
	os.Rename(tmp.Name(), c.path)
}

// refused forgets a token the server refused, on disk and in memory.
func (c *cachedTokens) refused(token string) {
	c.src.Invalidate(token)
	if t, ok := c.load(); ok && t == token {
		os.Remove(c.path)
	}
}
