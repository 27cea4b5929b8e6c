// Package hydratest runs ORY Hydra v2 (a real OAuth 2.0 authorization
// server) for tests: in memory, on free ports of 127.0.0.1, stopped when
// the test ends. .ci/run builds the binary into
// $HOME/.cache/vnfpkgm-tools/hydra (recipe: ../shared/recipes/hydra.md);
// VNFPKGM_HYDRA names another one.
package hydratest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// Hydra is a running Hydra.
type Hydra struct {
	PublicURL string // issuer, token endpoint, JWKS
	AdminURL  string // clients, keys, introspection
	log       *bytes.Buffer
}

// Binary returns the path of the hydra binary, or skips (fails under CI).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VNFPKGM_HYDRA"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "vnfpkgm-tools", "hydra")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("hydra"); err == nil {
		return p
	}
	testenv.Missing(t, "ORY Hydra v2.3.0", "build it as ../shared/recipes/hydra.md says into $HOME/.cache/vnfpkgm-tools/hydra (.ci/run does), or set VNFPKGM_HYDRA")
	return ""
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// Start runs Hydra with the access-token strategy "jwt" or "opaque" and
// the given access-token lifetime.
func Start(t testing.TB, strategy string, ttl time.Duration) *Hydra {
	t.Helper()
	bin := Binary(t)
	pub, adm := freePort(t), freePort(t)
	secret := make([]byte, 24)
	rand.Read(secret)
	h := &Hydra{PublicURL: "http://127.0.0.1:" + pub, AdminURL: "http://127.0.0.1:" + adm, log: &bytes.Buffer{}}
	cmd := exec.Command(bin, "serve", "all", "--dev")
	cmd.Env = append(os.Environ(),
		"DSN=memory", "SECRETS_SYSTEM="+hex.EncodeToString(secret),
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+pub,
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+adm,
		"URLS_SELF_ISSUER="+h.PublicURL, "STRATEGIES_ACCESS_TOKEN="+strategy,
		"TTL_ACCESS_TOKEN="+ttl.String(), "LOG_LEVEL=warn", "SQA_OPT_OUT=true")
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(h.AdminURL + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hydra did not become ready: %v\n%s", err, h.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *Hydra) call(t testing.TB, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("hydra %s %s: %s: %s", req.Method, req.URL.Path, resp.Status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("hydra %s: %v: %s", req.URL.Path, err, body)
		}
	}
}

func (h *Hydra) admin(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.AdminURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	h.call(t, req, want, out)
}

// CreateClient registers a client-credentials client allowed scopes and
// audience, and returns its id and secret.
func (h *Hydra) CreateClient(t testing.TB, scopes []string, audience string) (id, secret string) {
	t.Helper()
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	h.admin(t, "POST", "/admin/clients", map[string]any{
		"grant_types": []string{"client_credentials"}, "scope": strings.Join(scopes, " "),
		"audience": []string{audience}, "token_endpoint_auth_method": "client_secret_basic",
	}, http.StatusCreated, &c)
	return c.ID, c.Secret
}

// TokenURL is the token endpoint.
func (h *Hydra) TokenURL() string { return h.PublicURL + "/oauth2/token" }

// Token obtains an access token with the client credentials grant.
func (h *Hydra) Token(t testing.TB, id, secret string, scopes []string, audience string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}
	if audience != "" {
		form.Set("audience", audience)
	}
	req, _ := http.NewRequest("POST", h.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	h.call(t, req, http.StatusOK, &tok)
	return tok.AccessToken
}

// Revoke revokes a token (RFC 7009); introspection then calls it inactive.
func (h *Hydra) Revoke(t testing.TB, id, secret, token string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.PublicURL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	h.call(t, req, http.StatusOK, nil)
}

// RotateKeys adds a new access-token signing key, which signs the tokens
// issued from now on. ES256: an RSA key takes Hydra seconds to generate.
func (h *Hydra) RotateKeys(t testing.TB) {
	t.Helper()
	h.admin(t, "POST", "/admin/keys/hydra.jwt.access-token", map[string]string{"alg": "ES256", "use": "sig", "kid": fmt.Sprintf("rotated-%d", time.Now().UnixNano())}, http.StatusCreated, nil)
}

// IntrospectionURL is the admin port's RFC 7662 endpoint.
func (h *Hydra) IntrospectionURL() string { return h.AdminURL + "/admin/oauth2/introspect" }
