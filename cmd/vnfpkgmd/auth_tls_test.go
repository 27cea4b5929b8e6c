package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vnfpkgm test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for subject: a server
// certificate for 127.0.0.1, or a client certificate.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, serial int64, server bool) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSServer starts vnfpkgmd serving HTTPS and waits until a client
// trusting ca gets its health.
func startTLSServer(t *testing.T, ca *testCA, extra ...string) *server {
	t.Helper()
	addr := freePort(t)
	s := &server{t: t, base: "https://" + addr, dir: t.TempDir(), log: &bytes.Buffer{}}
	s.cmd = exec.Command(binary, append([]string{"--listen", addr, "--data-dir", s.dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	client := httpsClient(ca, nil)
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

func httpsClient(ca *testCA, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: ca.pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
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
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	c, k := ca.issue(t, pkix.Name{CommonName: "vnfpkgm first"}, 10, true)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	writeFile(t, caFile, ca.pem)
	clients := filepath.Join(dir, "clients.yaml")
	if err := authserver.AddClient(clients, authserver.Client{ID: "vnfm", Subject: "CN=vnfm,O=Example", Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	s := startTLSServer(t, ca, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", caFile, "--clients-file", clients)

	mapped := clientCert(t, ca, pkix.Name{CommonName: "vnfm", Organization: []string{"Example"}}, 20)
	unmapped := clientCert(t, ca, pkix.Name{CommonName: "stranger"}, 21)
	withCert := httpsClient(ca, &mapped)
	get(t, withCert, s.base+pkgs, 200)
	get(t, httpsClient(ca, nil), s.base+pkgs, 401)
	get(t, httpsClient(ca, &unmapped), s.base+pkgs, 401)
	get(t, withCert, s.base+"/vim/v1/vims", 403)
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + s.base[len("https://"):] + pkgs); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served")
		}
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(s.base + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// SIGHUP: new connections get the new certificate, the open one stays.
	c2, k2 := ca.issue(t, pkix.Name{CommonName: "vnfpkgm second"}, 11, true)
	writeFile(t, certFile, c2)
	writeFile(t, keyFile, k2)
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

func clientCert(t *testing.T, ca *testCA, subject pkix.Name, serial int64) tls.Certificate {
	c, k := ca.issue(t, subject, serial, false)
	cert, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// servedCN is the common name of the certificate a new connection gets.
func servedCN(t *testing.T, base string, ca *testCA) string {
	conn, err := tls.Dial("tcp", base[len("https://"):], &tls.Config{RootCAs: ca.pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}
