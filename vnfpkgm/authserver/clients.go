// Package authserver is the built-in OAuth 2.0 authorization server of
// the embedded default: the client credentials grant at /oauth2/token for
// the clients of a file (secrets stored as bcrypt hashes), short-lived
// JWT access tokens (RFC 9068) signed by keys shared through the database
// and rotated, and the discovery document and JWKS that let any resource
// server check them.
package authserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// Client is a consumer of the API: a client id with a secret (client
// credentials grant), a client certificate subject (mutual TLS), or both.
type Client struct {
	ID         string   `yaml:"id"`
	SecretHash string   `yaml:"secret_hash,omitempty"` // bcrypt
	Subject    string   `yaml:"certificate_subject,omitempty"`
	Scopes     []string `yaml:"scopes"`
}

type clientsDocument struct {
	Clients []Client `yaml:"clients"`
}

// ClientsFile is the clients of a file, read again whenever the file
// changes (a `vnfpkgmd client add` applies without a restart).
type ClientsFile struct {
	Path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	clients []Client
}

// OpenClients reads a clients file; it must exist and parse.
func OpenClients(path string) (*ClientsFile, error) {
	f := &ClientsFile{Path: path}
	if _, err := f.current(); err != nil {
		return nil, err
	}
	return f, nil
}

// current returns the clients, reading the file again if it changed. A
// file that became unreadable or invalid keeps the last good list: a
// half-written edit must not lock every client out.
func (f *ClientsFile) current() ([]Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.Path)
	if err != nil {
		if f.clients != nil {
			return f.clients, nil
		}
		return nil, fmt.Errorf("clients file: %w", err)
	}
	if f.clients != nil && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return f.clients, nil
	}
	clients, err := readClients(f.Path)
	if err != nil {
		if f.clients != nil {
			return f.clients, nil
		}
		return nil, err
	}
	f.clients, f.modTime, f.size = clients, st.ModTime(), st.Size()
	return clients, nil
}

func readClients(path string) ([]Client, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	var doc clientsDocument
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, c := range doc.Clients {
		switch {
		case c.ID == "":
			return nil, fmt.Errorf("clients file %s: client %d has no id", path, i+1)
		case seen[c.ID]:
			return nil, fmt.Errorf("clients file %s: client %q appears twice", path, c.ID)
		case c.SecretHash == "" && c.Subject == "":
			return nil, fmt.Errorf("clients file %s: client %q has neither secret_hash nor certificate_subject", path, c.ID)
		case c.SecretHash != "" && !isBcrypt(c.SecretHash):
			return nil, fmt.Errorf("clients file %s: client %q: secret_hash is not a bcrypt hash (secrets are never stored in clear)", path, c.ID)
		case len(c.Scopes) == 0:
			return nil, fmt.Errorf("clients file %s: client %q has no scopes", path, c.ID)
		}
		seen[c.ID] = true
	}
	return doc.Clients, nil
}

func isBcrypt(h string) bool {
	_, err := bcrypt.Cost([]byte(h))
	return err == nil
}

// ByID returns the client with id.
func (f *ClientsFile) ByID(id string) (Client, bool) {
	clients, _ := f.current()
	for _, c := range clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

// BySubject returns the client a certificate subject (its RFC 2253
// string, as Go's pkix.Name.String writes it) is mapped to.
func (f *ClientsFile) BySubject(subject string) (Client, bool) {
	clients, _ := f.current()
	for _, c := range clients {
		if c.Subject != "" && subtle.ConstantTimeCompare([]byte(c.Subject), []byte(subject)) == 1 {
			return c, true
		}
	}
	return Client{}, false
}

// hashChecks bounds concurrent bcrypt checks: each costs tens of
// milliseconds of CPU, and a flood of token requests must not take every
// core from the API.
var hashChecks = make(chan struct{}, 2)

// dummyHash is compared against when the client is unknown, so that an
// unknown id takes as long to refuse as a wrong secret.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no client has this secret"), bcrypt.DefaultCost)
	return h
})

// Authenticate checks a client id and secret.
func (f *ClientsFile) Authenticate(id, secret string) (Client, bool) {
	c, found := f.ByID(id)
	hash := []byte(c.SecretHash)
	if !found || c.SecretHash == "" {
		hash = dummyHash()
	}
	hashChecks <- struct{}{}
	err := bcrypt.CompareHashAndPassword(hash, []byte(secret))
	<-hashChecks
	return c, found && c.SecretHash != "" && err == nil
}

// Allows reports whether the client may have every scope of requested.
func (c Client) Allows(requested []string) bool {
	for _, s := range requested {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// NewSecret returns a random client secret (256 bits, base64url) and its
// bcrypt hash.
func NewSecret() (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if err != nil {
		return "", "", err
	}
	return secret, string(h), nil
}

// AddClient adds c to the clients file at path (created if absent, mode
// 0600), refusing an id already there. The file is replaced atomically so
// that a running server never reads half of it.
func AddClient(path string, c Client) error {
	var doc clientsDocument
	if b, err := os.ReadFile(path); err == nil {
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("clients file %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, old := range doc.Clients {
		if old.ID == c.ID {
			return fmt.Errorf("clients file %s already has a client %q", path, c.ID)
		}
	}
	doc.Clients = append(doc.Clients, c)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".clients-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
