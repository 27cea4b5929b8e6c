package vnfpkgm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// tlsMaterial is what a TLS handshake uses, replaced as a whole on reload.
type tlsMaterial struct {
	cert      *tls.Certificate
	clientCAs *x509.CertPool // mutual TLS; nil: no client certificates asked for
}

// tlsState serves the current certificate; SIGHUP loads the files again.
type tlsState struct {
	cfg     AuthConfig
	current atomic.Pointer[tlsMaterial]
}

// scheme is the scheme clients reach the server with.
func (a AuthConfig) scheme() string {
	if a.TLSCert != "" {
		return "https"
	}
	return "http"
}

func loadTLS(a AuthConfig) (*tlsMaterial, error) {
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("tls-cert/tls-key: %w", err)
	}
	m := &tlsMaterial{cert: &cert}
	if a.TLSClientCA != "" {
		pem, err := os.ReadFile(a.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls-client-ca: %w", err)
		}
		m.clientCAs = x509.NewCertPool()
		if !m.clientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-client-ca %s holds no PEM certificate", a.TLSClientCA)
		}
	}
	return m, nil
}

// config is the handshake's configuration: TLS 1.2 at least, Go's cipher
// suites, and a client certificate verified against the client CAs when
// the client offers one (clients without one may still use a token).
func (t *tlsState) config(*tls.ClientHelloInfo) (*tls.Config, error) {
	m := t.current.Load()
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*m.cert}, NextProtos: []string{"h2", "http/1.1"}}
	if m.clientCAs != nil {
		c.ClientCAs, c.ClientAuth = m.clientCAs, tls.VerifyClientCertIfGiven
	}
	return c, nil
}

// secureListener wraps ln in TLS when a certificate is configured, and
// reloads the certificate (and client CAs) on SIGHUP until ctx ends:
// connections already open keep theirs, new ones get the new one. A reload
// that fails keeps the previous material and says why.
func (s *Server) secureListener(ctx context.Context, ln net.Listener) (net.Listener, error) {
	a := s.cfg.Auth
	if a.TLSCert == "" {
		return ln, nil
	}
	t := &tlsState{cfg: a}
	m, err := loadTLS(a)
	if err != nil {
		return nil, err
	}
	t.current.Store(m)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			m, err := loadTLS(a)
			if err != nil {
				s.log.Error("TLS reload failed; the previous certificate stays", "error", err)
				continue
			}
			t.current.Store(m)
			s.log.Info("TLS certificate reloaded", "cert", a.TLSCert)
		}
	}()
	return tls.NewListener(ln, &tls.Config{GetConfigForClient: t.config}), nil
}
