package main_test

// The registry token flow on /v2 with authentication on: the challenge,
// the token endpoint, and skopeo pulling with --src-creds.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/hydratest"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// tokenClient is a client of the built-in authorization server.
type tokenClient struct{ id, secret string }

// registryWithAuth onboards the sample on a server without
// authentication, then serves the same data with the built-in
// authorization server on, whose clients are nfvo (read and write),
// puller (read) and writer (write, no read). extra flags go to that
// second server.
func registryWithAuth(t *testing.T, extra ...string) (s *server, pkg string, images []ociImage, clients map[string]tokenClient) {
	t.Helper()
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	pkg = samplePackage(t)
	dir := t.TempDir()
	open := startServer(t, dir, "--insecure-no-auth")
	_, info := open.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, open.log)
	}
	images = onboardedImages(t, info)
	// --insecure-no-auth: /v2 is open as before, and there is no token service.
	r := open.do("GET", "/v2/", nil)
	if r.status != 200 || r.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("/v2/ without authentication: %d %v", r.status, r.header)
	}
	registryErr(t, open.do("GET", "/v2/token", nil), 404, "UNSUPPORTED")
	open.stop()

	file := filepath.Join(t.TempDir(), "clients.yaml")
	clients = map[string]tokenClient{}
	for id, scopes := range map[string][]string{
		"nfvo": {"vnfpkgm:read", "vnfpkgm:write"}, "puller": {"vnfpkgm:read"}, "writer": {"vnfpkgm:write"},
	} {
		secret, hash, err := authserver.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := authserver.AddClient(file, authserver.Client{ID: id, SecretHash: hash, Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
		clients[id] = tokenClient{id, secret}
	}
	s = startServer(t, dir, append([]string{"--clients-file", file}, extra...)...)
	return s, pkg, images, clients
}

// apiToken is an access token of the built-in server for c, with scopes.
func apiToken(t *testing.T, s *server, c tokenClient, scopes ...string) string {
	t.Helper()
	src, err := tokensource.New(tokensource.Config{TokenURL: s.base + "/oauth2/token", ClientID: c.id, ClientSecret: c.secret, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// registryErr checks an error answer of the distribution spec's format.
func registryErr(t *testing.T, r response, status int, code string) {
	t.Helper()
	var body struct {
		Errors []struct{ Code, Message, Detail string }
	}
	if r.status != status || json.Unmarshal(r.body, &body) != nil || len(body.Errors) != 1 || body.Errors[0].Code != code ||
		body.Errors[0].Message == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s %s, want %d with the error %s", r.status, r.header.Get("Content-Type"), r.body, status, code)
	}
}

// registryTokenAnswer is the answer of GET or POST /v2/token.
type registryTokenAnswer struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope"`
}

// getToken asks GET /v2/token with Basic user:pass ("" user and pass: no
// credentials) for the scopes.
func getToken(t *testing.T, s *server, user, pass string, scopes ...string) response {
	t.Helper()
	q := url.Values{"service": {"vnfpkgm"}, "scope": scopes}
	var headers []string
	if user != "" || pass != "" {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		headers = []string{"Authorization", req.Header.Get("Authorization")}
	}
	return s.do("GET", "/v2/token?"+q.Encode(), nil, headers...)
}

func tokenAnswer(t *testing.T, r response) registryTokenAnswer {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("token request: %d %s", r.status, r.body)
	}
	var a registryTokenAnswer
	r.json(t, &a)
	return a
}

// The challenge of /v2 and the token endpoint, byte for byte.
func TestOCIRegistryTokenEndpoint(t *testing.T) {
	s, _, images, clients := registryWithAuth(t)
	repo, tag := images[0].repo, images[0].tag
	realm := `Bearer realm="` + s.base + `/v2/token",service="vnfpkgm"`
	manifest := "/v2/" + repo + "/manifests/" + tag

	// The challenge: scope where a repository is addressed, none on the
	// base, the catalog's own; error="invalid_token" when a token was
	// refused; a Basic header (not ours to take) is no credentials.
	for _, c := range []struct {
		method, path, authorization, want string
	}{
		{"GET", "/v2/", "", realm},
		{"GET", "/v2", "", realm},
		{"GET", manifest, "", realm + `,scope="repository:` + repo + `:pull"`},
		{"HEAD", manifest, "", realm + `,scope="repository:` + repo + `:pull"`},
		{"GET", "/v2/" + repo + "/tags/list", "", realm + `,scope="repository:` + repo + `:pull"`},
		{"PUT", manifest, "", realm + `,scope="repository:` + repo + `:pull"`},
		{"GET", "/v2/_catalog", "", realm + `,scope="registry:catalog:*"`},
		{"HEAD", "/v2/token", "", realm}, // the token endpoint is GET and POST only
		{"PUT", "/v2/token", "", realm},
		{"GET", manifest, "Bearer not-a-token", realm + `,scope="repository:` + repo + `:pull",error="invalid_token"`},
		{"GET", manifest, "Basic " + "dXNlcjpwYXNz", realm + `,scope="repository:` + repo + `:pull"`},
	} {
		var headers []string
		if c.authorization != "" {
			headers = []string{"Authorization", c.authorization}
		}
		r := s.do(c.method, c.path, nil, headers...)
		if got := r.header.Get("WWW-Authenticate"); r.status != 401 || got != c.want {
			t.Fatalf("%s %s: %d, WWW-Authenticate %s\nwant 401, %s", c.method, c.path, r.status, got, c.want)
		}
		if r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
			t.Fatalf("%s %s: no Docker-Distribution-API-Version: %v", c.method, c.path, r.header)
		}
		if c.method != "HEAD" {
			registryErr(t, r, 401, "UNAUTHORIZED")
		}
	}

	// Anonymous, wrong or unknown credentials: 401 with a Basic challenge.
	puller, nfvo, writer := clients["puller"], clients["nfvo"], clients["writer"]
	for _, c := range [][2]string{{"", ""}, {puller.id, "wrong"}, {"nobody", puller.secret}, {puller.id, ""}, {"", puller.secret}} {
		r := getToken(t, s, c[0], c[1], "repository:"+repo+":pull")
		registryErr(t, r, 401, "UNAUTHORIZED")
		if r.header.Get("WWW-Authenticate") != `Basic realm="vnfpkgm"` {
			t.Fatalf("token refusal: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
	}

	// Client credentials: a token with the read scope only, even for a
	// client that may write; /v2 takes it, the API's writes do not.
	before := time.Now().Add(-time.Second)
	a := tokenAnswer(t, getToken(t, s, nfvo.id, nfvo.secret, "repository:"+repo+":pull"))
	issued, err := time.Parse(time.RFC3339, a.IssuedAt)
	if a.Token == "" || a.Token != a.AccessToken || a.ExpiresIn < 890 || a.ExpiresIn > 900 || err != nil ||
		issued.Before(before.Truncate(time.Second)) || issued.After(time.Now()) || a.Scope != "repository:"+repo+":pull" {
		t.Fatalf("token answer %+v (issued_at: %v)", a, err)
	}
	auth := []string{"Authorization", "Bearer " + a.Token}
	if r := s.do("GET", manifest, nil, auth...); r.status != 200 {
		t.Fatalf("manifest with the registry token: %d %s", r.status, r.body)
	}
	if r := s.do("GET", "/v2/_catalog", nil, auth...); r.status != 200 || !bytes.Contains(r.body, []byte(repo)) {
		t.Fatalf("catalog with the registry token: %d %s", r.status, r.body)
	}
	expectProblem(t, s.do("POST", pkgs, strings.NewReader(`{}`), append(auth, "Content-Type", "application/json")...), 403)
	// Pulls stay read-only: push is not granted, and a write with the
	// token reaches the registry, which refuses it.
	if a := tokenAnswer(t, getToken(t, s, nfvo.id, nfvo.secret, "repository:"+repo+":push,pull")); a.Scope != "repository:"+repo+":pull" {
		t.Fatalf("push,pull granted as %q", a.Scope)
	}
	if a := tokenAnswer(t, getToken(t, s, nfvo.id, nfvo.secret, "repository:"+repo+":push", "registry:catalog:*")); a.Scope != "registry:catalog:*" {
		t.Fatalf("push and the catalog granted as %q", a.Scope)
	}
	registryErr(t, s.do("PUT", manifest, strings.NewReader("{}"), auth...), 405, "UNSUPPORTED")
	registryErr(t, getToken(t, s, nfvo.id, nfvo.secret, "repository"), 400, "UNSUPPORTED")
	r := s.do("GET", "/v2/token?service=docker.io", nil, "Authorization", "Basic "+basic(nfvo.id, nfvo.secret))
	registryErr(t, r, 400, "UNSUPPORTED")

	// A client without the read scope gets no token.
	registryErr(t, getToken(t, s, writer.id, writer.secret, "repository:"+repo+":pull"), 403, "DENIED")

	// An API access token as the password, whatever the user name: handed
	// back as it is, with its remaining lifetime.
	readToken := apiToken(t, s, puller, "vnfpkgm:read")
	a = tokenAnswer(t, getToken(t, s, "anyone", readToken, "repository:"+repo+":pull"))
	if a.Token != readToken || a.ExpiresIn > 900 || a.ExpiresIn < 880 {
		t.Fatalf("an API token as the password: %+v", a)
	}
	writeToken := apiToken(t, s, writer, "vnfpkgm:write")
	registryErr(t, getToken(t, s, "anyone", writeToken, "repository:"+repo+":pull"), 403, "DENIED")
	// The same token straight on /v2: 403 DENIED, the scope named.
	r = s.do("GET", manifest, nil, "Authorization", "Bearer "+writeToken)
	registryErr(t, r, 403, "DENIED")
	if !strings.HasSuffix(r.header.Get("WWW-Authenticate"), `,error="insufficient_scope"`) {
		t.Fatalf("403 challenge %q", r.header.Get("WWW-Authenticate"))
	}
	registryErr(t, getToken(t, s, "anyone", readToken[:len(readToken)-4]+"AAAA", "repository:"+repo+":pull"), 401, "UNAUTHORIZED")

	// The OAuth 2.0 form (POST, grant_type password).
	post := func(form url.Values) response {
		return s.do("POST", "/v2/token", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	}
	form := url.Values{"grant_type": {"password"}, "service": {"vnfpkgm"}, "client_id": {"test"},
		"username": {puller.id}, "password": {puller.secret}, "scope": {"repository:" + repo + ":pull"}}
	r = post(form)
	a = tokenAnswer(t, r)
	if a.AccessToken == "" || a.Token != "" || a.Scope != "repository:"+repo+":pull" || a.ExpiresIn < 890 {
		t.Fatalf("POST token answer %s", r.body)
	}
	if r := s.do("GET", manifest, nil, "Authorization", "Bearer "+a.AccessToken); r.status != 200 {
		t.Fatalf("manifest with the POST token: %d %s", r.status, r.body)
	}
	oauthErr := func(r response, status int, code string) {
		t.Helper()
		var body map[string]string
		if r.status != status || json.Unmarshal(r.body, &body) != nil || body["error"] != code {
			t.Fatalf("%d %s, want %d %s", r.status, r.body, status, code)
		}
	}
	form.Set("password", "wrong")
	oauthErr(post(form), 401, "invalid_grant")
	oauthErr(post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), 400, "unsupported_grant_type")
	oauthErr(post(url.Values{"grant_type": {"password"}}), 401, "invalid_grant")

	for _, secret := range []string{nfvo.secret, puller.secret, writer.secret, readToken, writeToken, a.AccessToken} {
		if strings.Contains(s.log.String(), secret) {
			t.Fatal("a secret or token is in the server's log")
		}
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// An expired access token is refused by the token endpoint and by /v2.
func TestOCIRegistryTokenExpired(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	file := filepath.Join(t.TempDir(), "clients.yaml")
	secret, hash, err := authserver.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := authserver.AddClient(file, authserver.Client{ID: "puller", SecretHash: hash, Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--clients-file", file, "--auth-token-ttl", "1s", "--auth-clock-skew", "0s")
	puller := tokenClient{"puller", secret}
	tok := apiToken(t, s, puller, "vnfpkgm:read")
	a := tokenAnswer(t, getToken(t, s, "x", tok))
	if a.Token != tok || a.ExpiresIn > 1 {
		t.Fatalf("token answer %+v", a)
	}
	time.Sleep(1100 * time.Millisecond)
	r := getToken(t, s, "x", tok)
	registryErr(t, r, 401, "UNAUTHORIZED")
	if !strings.Contains(string(r.body), "expired") {
		t.Fatalf("the refusal does not say the token expired: %s", r.body)
	}
	r = s.do("GET", "/v2/", nil, "Authorization", "Bearer "+tok)
	registryErr(t, r, 401, "UNAUTHORIZED")
	if r.header.Get("WWW-Authenticate") != `Bearer realm="`+s.base+`/v2/token",service="vnfpkgm",error="invalid_token"` {
		t.Fatalf("challenge for an expired token: %q", r.header.Get("WWW-Authenticate"))
	}
	// The client credentials still give a fresh token.
	if a := tokenAnswer(t, getToken(t, s, puller.id, puller.secret)); a.Token == tok {
		t.Fatal("the expired token was handed back")
	}
}

// skopeoRun runs skopeo and returns its error and stderr.
func skopeoRun(t *testing.T, args ...string) (error, string) {
	t.Helper()
	cmd := exec.Command("skopeo", args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user registries.conf or credentials
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return err, stderr.String()
}

// skopeo pulls with --src-creds from a server with authentication on:
// client credentials, and an API access token as the password; without
// credentials, or with wrong ones, the pull fails on authentication.
func TestOCIPullWithSkopeoAuth(t *testing.T) {
	testenv.Command(t, "skopeo", "skopeo")
	s, pkg, images, clients := registryWithAuth(t)
	host := strings.TrimPrefix(s.base, "http://")
	im := images[0]
	ref := "docker://" + host + "/" + im.repo + ":" + im.tag
	nfvo := clients["nfvo"]
	readToken := apiToken(t, s, clients["puller"], "vnfpkgm:read")
	for _, creds := range []string{nfvo.id + ":" + nfvo.secret, "anyone:" + readToken} {
		dir := t.TempDir()
		err, stderr := skopeoRun(t, "copy", "--src-tls-verify=false", "--src-creds", creds,
			"--dest-oci-accept-uncompressed-layers", "--preserve-digests", ref, "oci:"+dir+":"+im.tag)
		if err != nil {
			t.Fatalf("skopeo copy with credentials: %v\n%s\n%s", err, stderr, s.log)
		}
		_, layer := checkOCILayout(t, dir, im)
		want := zipMember(t, pkg, im.imagePath)
		if got := diskFile(t, layer, path.Base(im.imagePath)); !bytes.Equal(got, want) {
			t.Fatalf("disk/%s in the layer (%d bytes, sha256 %s) is not the package's image (%d bytes, sha256 %s)",
				path.Base(im.imagePath), len(got), sha256Hex(got), len(want), sha256Hex(want))
		}
	}
	if !strings.Contains(s.log.String(), "/v2/token") {
		t.Fatalf("skopeo never asked the token endpoint:\n%s", s.log)
	}
	for _, c := range []struct{ name, creds string }{{"no credentials", ""}, {"wrong secret", nfvo.id + ":wrong"}} {
		args := []string{"copy", "--src-tls-verify=false"}
		if c.creds != "" {
			args = append(args, "--src-creds", c.creds)
		}
		err, stderr := skopeoRun(t, append(args, ref, "oci:"+t.TempDir()+":"+im.tag)...)
		if err == nil {
			t.Fatalf("%s: skopeo copy succeeded", c.name)
		}
		if !strings.Contains(stderr, "unauthorized") && !strings.Contains(stderr, "authentication required") {
			t.Fatalf("%s: skopeo failed, but not on authentication:\n%s", c.name, stderr)
		}
		t.Logf("%s: %s", c.name, strings.TrimSpace(stderr))
	}
	for _, secret := range []string{nfvo.secret, readToken} {
		if strings.Contains(s.log.String(), secret) {
			t.Fatal("a secret or token is in the server's log")
		}
	}
}

// The registry's token endpoint in front of an external authorization
// server (Hydra): client credentials exchanged at its discovered token
// endpoint (JWT access tokens), and, where its tokens are opaque,
// introspected when given as the password.
func TestOCIRegistryTokenWithHydra(t *testing.T) {
	for _, strategy := range []string{"jwt", "opaque"} {
		t.Run(strategy, func(t *testing.T) {
			h := hydratest.Start(t, strategy, time.Hour)
			id, secret := h.CreateClient(t, []string{"vnfpkgm:read", "vnfpkgm:write"}, "vnfpkgm")
			args := []string{"--auth-issuer", h.PublicURL, "--auth-audience", "vnfpkgm"}
			if strategy == "opaque" {
				args = append(args, "--auth-introspection-url", h.IntrospectionURL())
			}
			s := startServer(t, "", args...)
			a := tokenAnswer(t, getToken(t, s, id, secret, "registry:catalog:*"))
			if a.Token == "" || a.ExpiresIn < 3500 || a.Scope != "registry:catalog:*" {
				t.Fatalf("token answer %+v", a)
			}
			if r := s.do("GET", "/v2/_catalog", nil, "Authorization", "Bearer "+a.Token); r.status != 200 {
				t.Fatalf("catalog with the registry token: %d %s", r.status, r.body)
			}
			expectProblem(t, s.do("POST", pkgs, strings.NewReader(`{}`), "Authorization", "Bearer "+a.Token, "Content-Type", "application/json"), 403)
			registryErr(t, getToken(t, s, id, "wrong"), 401, "UNAUTHORIZED")
			// Hydra's own access token as the password.
			tok := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
			if a := tokenAnswer(t, getToken(t, s, "anyone", tok)); a.Token != tok {
				t.Fatalf("Hydra's token as the password: %+v", a)
			}
			if strings.Contains(s.log.String(), secret) || strings.Contains(s.log.String(), tok) {
				t.Fatal("a secret or token is in the server's log")
			}
		})
	}
}

// TestOCIPublicPulls: with --oci-public, a VIM that pulls without
// registry credentials gets the manifest and the layer with no token,
// while writes under /v2 and the package API still need one.
func TestOCIPublicPulls(t *testing.T) {
	s, _, images, _ := registryWithAuth(t, "--oci-public")
	repo, tag := images[0].repo, images[0].tag
	manifest := "/v2/" + repo + "/manifests/" + tag
	r := s.do("GET", manifest, nil, "Accept", "application/vnd.oci.image.manifest.v1+json")
	expectStatus(t, r, 200)
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	r.json(t, &m)
	if len(m.Layers) != 1 {
		t.Fatalf("manifest without a token: %s", r.body)
	}
	expectStatus(t, s.do("HEAD", "/v2/"+repo+"/blobs/"+m.Layers[0].Digest, nil), 200)
	expectStatus(t, s.do("GET", "/v2/"+repo+"/tags/list", nil), 200)
	if r := s.do("PUT", manifest, nil); r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer realm=") {
		t.Fatalf("PUT %s without a token: %d %v", manifest, r.status, r.header)
	}
	if r := s.do("GET", pkgs, nil); r.status != 401 {
		t.Fatalf("GET %s without a token: %d, want 401", pkgs, r.status)
	}
}
