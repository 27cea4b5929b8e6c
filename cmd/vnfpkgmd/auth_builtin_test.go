package main_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// suiteAuthEnv, when "builtin", runs this test binary's servers with the
// built-in authorization server on (VNFPKGM_CLIENTS_FILE) and gives every
// request of http.DefaultClient a token of that server:
// TestBlackBoxSuiteWithAuth runs the black-box suites that way.
const suiteAuthEnv = "VNFPKGMD_TEST_AUTH"

// suiteClient is the client the suites authenticate as.
var suiteClient struct{ id, secret string }

func init() {
	if os.Getenv(suiteAuthEnv) != "builtin" {
		return
	}
	dir, err := os.MkdirTemp("", "vnfpkgmd-auth-")
	if err != nil {
		panic(err)
	}
	secret, hash, err := authserver.NewSecret()
	if err != nil {
		panic(err)
	}
	file := filepath.Join(dir, "clients.yaml")
	err = authserver.AddClient(file, authserver.Client{ID: "suite", SecretHash: hash,
		Scopes: []string{"vnfpkgm:read", "vnfpkgm:write", "vnfpkgm:admin"}})
	if err != nil {
		panic(err)
	}
	suiteClient.id, suiteClient.secret = "suite", secret
	os.Setenv("VNFPKGM_CLIENTS_FILE", file)
	http.DefaultClient.Transport = &tokenTransport{base: http.DefaultTransport, sources: map[string]*tokensource.Source{}}
}

// tokenTransport adds "Authorization: Bearer" to requests that carry no
// credentials, with a token of the server they go to.
type tokenTransport struct {
	base    http.RoundTripper
	mu      sync.Mutex
	sources map[string]*tokensource.Source
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	public := req.URL.Path == "/healthz" || strings.HasPrefix(req.URL.Path, "/oauth2/") || strings.HasPrefix(req.URL.Path, "/.well-known/")
	if public || req.Header.Get("Authorization") != "" || req.Header.Get("X-Auth-Token") != "" {
		return t.base.RoundTrip(req)
	}
	src, err := t.source(req.URL)
	if err != nil {
		return nil, err
	}
	tok, err := src.Token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return t.base.RoundTrip(req)
}

func (t *tokenTransport) source(u *url.URL) (*tokensource.Source, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.sources[u.Host]; ok {
		return s, nil
	}
	s, err := tokensource.New(tokensource.Config{
		TokenURL: u.Scheme + "://" + u.Host + "/oauth2/token", ClientID: suiteClient.id, ClientSecret: suiteClient.secret,
	})
	if err != nil {
		return nil, err
	}
	t.sources[u.Host] = s
	return s, nil
}

// blackBoxTests lists the tests of the black-box suites (blackbox_test.go
// and conformance_test.go), read from their source so that tests added
// later are included.
func blackBoxTests(t *testing.T) []string {
	var names []string
	for _, file := range []string{"blackbox_test.go", "conformance_test.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") {
				names = append(names, fn.Name.Name)
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found %d black-box tests: the files changed shape", len(names))
	}
	return names
}

// The black-box suites again, with authentication on: every server they
// start runs the built-in authorization server and every request carries
// its token. TestSuiteAuthIsOn runs with them and proves it.
func TestBlackBoxSuiteWithAuth(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("already inside the run with authentication")
	}
	if testing.Short() {
		t.Skip("-short: the suites run once, without authentication")
	}
	names := append(blackBoxTests(t), "TestSuiteAuthIsOn")
	cmd := exec.Command(os.Args[0], "-test.run", "^("+strings.Join(names, "|")+")$", "-test.count=1")
	cmd.Env = append(os.Environ(), suiteAuthEnv+"=builtin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the black-box suites with authentication failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") || strings.Contains(string(out), "SKIP: TestSuiteAuthIsOn") {
		t.Fatalf("the run with authentication did not prove itself:\n%s", out)
	}
}

// TestSuiteAuthIsOn shows, inside the run with authentication, that the
// servers refuse requests without a token and accept the suite's.
func TestSuiteAuthIsOn(t *testing.T) {
	if os.Getenv(suiteAuthEnv) == "" {
		t.Skip("runs inside TestBlackBoxSuiteWithAuth")
	}
	s := startServer(t, "")
	resp, err := http.DefaultTransport.RoundTrip(mustRequest(t, "GET", s.base+pkgs))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request without a token got %d, want 401: authentication is not on", resp.StatusCode)
	}
	expectStatus(t, s.do("GET", pkgs, nil), 200)
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// The built-in authorization server: `vnfpkgmd client add`, the token
// endpoint (both client authentication methods, its errors), discovery
// and JWKS, and replicas sharing the signing key through the database.
func TestBuiltInAuthorizationServer(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	code, stdout, stderr := runBinary(t, "client", "add", "nfvo", "--scopes", "vnfpkgm:read,vnfpkgm:write", "--clients-file", clients)
	if code != 0 {
		t.Fatalf("client add: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("client add printed no secret: %q", stdout)
	}
	secret := m[1]
	if b, _ := os.ReadFile(clients); strings.Contains(string(b), secret) {
		t.Fatal("the clients file holds the secret in clear")
	}
	if code, _, _ := runBinary(t, "client", "add", "nfvo", "--scopes", "x", "--clients-file", clients); code == 0 {
		t.Fatal("a second client nfvo was added")
	}

	dir := t.TempDir()
	s := startServer(t, dir, "--clients-file", clients)
	var doc map[string]any
	s.do("GET", "/.well-known/openid-configuration", nil).json(t, &doc)
	if doc["issuer"] != s.base || doc["token_endpoint"] != s.base+"/oauth2/token" || doc["jwks_uri"] != s.base+"/.well-known/jwks.json" {
		t.Fatalf("discovery document %v", doc)
	}
	var jwks struct{ Keys []map[string]any }
	s.do("GET", "/.well-known/jwks.json", nil).json(t, &jwks)
	if len(jwks.Keys) == 0 || jwks.Keys[0]["d"] != nil {
		t.Fatalf("JWKS %v: want public keys only", jwks)
	}

	for _, style := range []tokensource.AuthStyle{tokensource.ClientSecretBasic, tokensource.ClientSecretPost} {
		src, err := tokensource.New(tokensource.Config{TokenURL: s.base + "/oauth2/token", ClientID: "nfvo", ClientSecret: secret,
			Scopes: []string{"vnfpkgm:read"}, AuthStyle: style})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %d: %v", style, err)
		}
		expectStatus(t, s.do("GET", pkgs, nil, "Authorization", "Bearer "+tok.AccessToken), 200)
		expectProblem(t, s.do("POST", pkgs, strings.NewReader("{}"), "Authorization", "Bearer "+tok.AccessToken, "Content-Type", "application/json"), 403)
	}

	tokenErr := func(form url.Values, user, pass string, status int, code string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.base+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != status || body["error"] != code {
			t.Fatalf("token request: %d %v, want %d %s", resp.StatusCode, body, status, code)
		}
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	tokenErr(cc, "nfvo", "wrong", 401, "invalid_client")
	tokenErr(cc, "nobody", secret, 401, "invalid_client")
	tokenErr(url.Values{"grant_type": {"client_credentials"}, "scope": {"vnfpkgm:admin"}}, "nfvo", secret, 400, "invalid_scope")
	tokenErr(url.Values{"grant_type": {"password"}}, "nfvo", secret, 400, "unsupported_grant_type")
	tokenErr(url.Values{"grant_type": {"client_credentials"}, "client_id": {"nfvo"}, "client_secret": {secret}}, "nfvo", secret, 400, "invalid_request")
	if strings.Contains(s.log.String(), secret) {
		t.Fatal("the client secret is in the server's log")
	}

	// A replica over the same database, behind the same public URL, honours
	// the first one's tokens and signs with the same key.
	b := startServer(t, dir, "--clients-file", clients, "--public-url", s.base)
	src, _ := tokensource.New(tokensource.Config{TokenURL: b.base + "/oauth2/token", ClientID: "nfvo", ClientSecret: secret})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.do("GET", pkgs, nil, "Authorization", "Bearer "+tok.AccessToken), 200)
	var jwksB struct{ Keys []map[string]any }
	b.do("GET", "/.well-known/jwks.json", nil).json(t, &jwksB)
	if len(jwksB.Keys) != len(jwks.Keys) || jwksB.Keys[0]["kid"] != jwks.Keys[0]["kid"] {
		t.Fatalf("replicas publish different keys: %v and %v", jwks.Keys, jwksB.Keys)
	}
}
