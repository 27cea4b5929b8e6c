package main

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testpki"
	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// addClient adds a client to a clients file and returns its secret.
func addClient(t *testing.T, file, id string, scopes ...string) string {
	secret, hash, err := authserver.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := authserver.AddClient(file, authserver.Client{ID: id, SecretHash: hash, Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// The CLI against a server with the built-in authorization server: no
// credentials, --token (option and variable), and the client credentials
// grant with its token cached on disk (0600) and renewed when refused.
func TestCLIAuthentication(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	secret := addClient(t, clients, "nfvo", "vnfpkgm:read", "vnfpkgm:write")
	t.Setenv("VNFPKGM_CLIENTS_FILE", clients) // inherited by the server
	s := startServer(t)
	os.Unsetenv("VNFPKGM_CLIENTS_FILE")

	if r := s.cli(t, "package", "list"); r.code != exitFailed || !strings.Contains(r.stderr, "401") {
		t.Fatalf("without credentials: %s", r)
	}

	src, _ := tokensource.New(tokensource.Config{TokenURL: s.base + "/oauth2/token", ClientID: "nfvo", ClientSecret: secret})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.mustCLI(t, "package", "list", "--token", tok.AccessToken)
	if r := cliAt(t, s.base, "--token", tok.AccessToken, "package", "list"); r.code != 0 {
		t.Fatalf("--token as a global option: %s", r)
	}
	t.Setenv("VNFPKGM_TOKEN", tok.AccessToken)
	s.mustCLI(t, "package", "list")
	os.Unsetenv("VNFPKGM_TOKEN")

	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	s.mustCLI(t, "package", "create", "--client-id", "nfvo", "--client-secret-file", secretFile)
	files, _ := filepath.Glob(filepath.Join(cache, "vnfpkgm", "tokens", "*.json"))
	if len(files) != 1 {
		t.Fatalf("token cache files: %v, want one", files)
	}
	if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
		t.Fatalf("token cache mode %v, want 0600", st.Mode())
	}
	// The cached token serves the next command: a wrong secret now is
	// never sent.
	os.WriteFile(secretFile, []byte("wrong"), 0o600)
	s.mustCLI(t, "package", "list", "--client-id", "nfvo", "--client-secret-file", secretFile)

	// A cached token the server refuses is replaced.
	os.WriteFile(secretFile, []byte(secret), 0o600)
	stale, _ := json.Marshal(map[string]any{"access_token": "revoked-token", "expiry": time.Now().Add(time.Hour)})
	os.WriteFile(files[0], stale, 0o600)
	s.mustCLI(t, "package", "list", "--client-id", "nfvo", "--client-secret-file", secretFile)
	if b, _ := os.ReadFile(files[0]); strings.Contains(string(b), "revoked-token") {
		t.Fatal("the refused token is still cached")
	}
	if r := s.cli(t, "package", "list", "--token", "x", "--client-id", "nfvo"); r.code != exitUsage {
		t.Fatalf("--token with --client-id: %s", r)
	}
}

// The CLI over HTTPS: --cacert, a client certificate (mutual TLS, mapped to
// scopes by the server's clients file), --insecure with its warning.
func TestCLITLS(t *testing.T) {
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	crt, key, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	ca.IssueFiles(t, pkix.Name{CommonName: "vnfpkgmd"}, true, crt, key)
	os.WriteFile(caFile, ca.PEM, 0o600)
	ccrt, ckey := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	ca.IssueFiles(t, pkix.Name{CommonName: "operator", Organization: []string{"Example"}}, false, ccrt, ckey)
	clients := filepath.Join(dir, "clients.yaml")
	if err := authserver.AddClient(clients, authserver.Client{ID: "operator", Subject: "CN=operator,O=Example", Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	base := startTLSServer(t, ca, "--tls-cert", crt, "--tls-key", key, "--tls-client-ca", caFile, "--clients-file", clients)

	if r := cliAt(t, base, "package", "list", "--cacert", caFile, "--cert", ccrt, "--key", ckey); r.code != 0 {
		t.Fatalf("mutual TLS: %s", r)
	}
	if r := cliAt(t, base, "package", "list", "--cert", ccrt, "--key", ckey); r.code != exitUnreachable {
		t.Fatalf("an unknown CA must not be trusted: %s", r)
	}
	r := cliAt(t, base, "package", "list", "--insecure", "--cert", ccrt, "--key", ckey)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: --insecure") {
		t.Fatalf("--insecure: %s", r)
	}
	if r := cliAt(t, base, "package", "list", "--cacert", caFile); r.code != exitFailed || !strings.Contains(r.stderr, "401") {
		t.Fatalf("without a client certificate or token: %s", r)
	}
}

// startTLSServer runs vnfpkgmd over HTTPS and returns its base URL.
func startTLSServer(t *testing.T, ca *testpki.CA, extra ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	log := &syncBuffer{}
	cmd := exec.Command(serverBinary(t), append([]string{"--listen", addr, "--data-dir", t.TempDir()}, extra...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	client := ca.Client(nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "https://" + addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vnfpkgmd did not become healthy over TLS: %v\n%s", err, log)
		}
		time.Sleep(30 * time.Millisecond)
	}
}
