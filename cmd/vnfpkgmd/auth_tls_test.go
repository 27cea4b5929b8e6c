package main_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testpki"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSServer starts vnfpkgmd serving HTTPS and waits until a client
// trusting ca gets its health.
func startTLSServer(t *testing.T, ca *testpki.CA, extra ...string) *server {
	t.Helper()
	addr := freePort(t)
	s := &server{t: t, base: "https://" + addr, dir: t.TempDir(), log: &bytes.Buffer{}}
	s.cmd = exec.Command(binary, append([]string{"--listen", addr, "--data-dir", s.dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	client := ca.Client(nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vnfpkgmd did not become healthy over TLS: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string, want int) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) // so that the connection is kept for reuse
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, want)
	}
}

// HTTPS with mutual TLS: a client certificate whose subject the clients
// file maps to scopes authenticates without a token; the certificate is
// reloaded on SIGHUP while open connections keep working.
func TestTLSAndMutualTLS(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	ca.IssueFiles(t, pkix.Name{CommonName: "vnfpkgm first"}, true, certFile, keyFile)
	writeFile(t, caFile, ca.PEM)
	clients := filepath.Join(dir, "clients.yaml")
	if err := authserver.AddClient(clients, authserver.Client{ID: "vnfm", Subject: "CN=vnfm,O=Example", Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	s := startTLSServer(t, ca, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", caFile, "--clients-file", clients)

	mapped := ca.ClientCert(t, pkix.Name{CommonName: "vnfm", Organization: []string{"Example"}})
	unmapped := ca.ClientCert(t, pkix.Name{CommonName: "stranger"})
	withCert := ca.Client(&mapped)
	get(t, withCert, s.base+pkgs, 200)
	get(t, ca.Client(nil), s.base+pkgs, 401)
	get(t, ca.Client(&unmapped), s.base+pkgs, 401)
	get(t, withCert, s.base+"/vim/v1/vims", 403)
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + s.base[len("https://"):] + pkgs); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served")
		}
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(s.base + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// SIGHUP: new connections get the new certificate, the open one stays.
	ca.IssueFiles(t, pkix.Name{CommonName: "vnfpkgm second"}, true, certFile, keyFile)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for servedCN(t, s.base, ca) != "vnfpkgm second" {
		if time.Now().After(deadline) {
			t.Fatalf("the certificate was not reloaded on SIGHUP:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, _ := http.NewRequest("GET", s.base+pkgs, nil)
	resp, err := withCert.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		t.Fatalf("the connection opened before the reload: %v", err)
	}
	resp.Body.Close()
	if !reused || resp.StatusCode != 200 {
		t.Fatalf("after the reload: status %d, connection reused %v; want 200 on the open connection", resp.StatusCode, reused)
	}
}

// servedCN is the common name of the certificate a new connection gets.
func servedCN(t *testing.T, base string, ca *testpki.CA) string {
	conn, err := tls.Dial("tcp", base[len("https://"):], &tls.Config{RootCAs: ca.Pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}
