// Package sign verifies and creates the CMS signatures of SOL 004 VNF
// packages (security option 1: signed manifest and artifacts; option 2:
// signed package), and holds the trust store they are checked against.
//
// CMS parsing and creation use github.com/smallstep/pkcs7 (the maintained
// continuation of go.mozilla.org/pkcs7); the signer check itself is made
// here over the parsed fields, because the library hashes content held in
// memory (a 1 GiB package is hashed while it streams) and knows neither
// RSA-PSS nor the distinct failure causes a package verdict must report.
package sign

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Policy says what onboarding does with package signatures.
type Policy string

const (
	// PolicyRequired: an unsigned package is invalid; a signed one must verify.
	PolicyRequired Policy = "required"
	// PolicyVerify (the default): a signed package must verify; an
	// unsigned one is accepted with a warning.
	PolicyVerify Policy = "verify"
	// PolicyIgnore: signatures are not checked (the package is still
	// recorded as signed).
	PolicyIgnore Policy = "ignore"
)

// ParsePolicy accepts required, verify or ignore.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.ToLower(strings.TrimSpace(s))); p {
	case PolicyRequired, PolicyVerify, PolicyIgnore:
		return p, nil
	}
	return "", fmt.Errorf("signature policy %q: want required, verify or ignore", s)
}

// TrustStore holds the root certificates a signer's chain must lead to
// and the CRLs its certificates are checked against.
type TrustStore struct {
	roots *x509.CertPool
	count int
	crls  []*x509.RevocationList
}

// NewTrustStore trusts the given root certificates.
func NewTrustStore(roots ...*x509.Certificate) *TrustStore {
	t := &TrustStore{roots: x509.NewCertPool()}
	for _, c := range roots {
		t.roots.AddCert(c)
		t.count++
	}
	return t
}

// Len is the number of trusted certificates.
func (t *TrustStore) Len() int { return t.count }

// LoadTrustStore reads trusted certificates from a PEM bundle file or
// from every file of a directory (PEM or DER, one or more certificates
// each). A store without a single certificate is an error: it could only
// refuse every signature.
func LoadTrustStore(path string) (*TrustStore, error) {
	files, err := storeFiles(path)
	if err != nil {
		return nil, err
	}
	t := NewTrustStore()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("trust store: %w", err)
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("trust store %s: %w", f, err)
		}
		for _, c := range certs {
			t.roots.AddCert(c)
			t.count++
		}
	}
	if t.count == 0 {
		return nil, fmt.Errorf("trust store %s holds no certificate", path)
	}
	return t, nil
}

// storeFiles lists the regular files of a directory (sorted, hidden ones
// skipped), or the file itself.
func storeFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// AddCRLFile adds the CRLs of a file (PEM "X509 CRL" blocks or one DER
// CRL). A CRL counts only where its signature verifies with the issuer of
// the certificate being checked.
func (t *TrustStore) AddCRLFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("CRL: %w", err)
	}
	var ders [][]byte
	if bytes.Contains(data, []byte("-----BEGIN")) {
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == "X509 CRL" {
				ders = append(ders, b.Bytes)
			}
		}
	} else {
		ders = [][]byte{data}
	}
	if len(ders) == 0 {
		return fmt.Errorf("CRL file %s holds no X509 CRL block", path)
	}
	for _, der := range ders {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			return fmt.Errorf("CRL file %s: %w", path, err)
		}
		t.crls = append(t.crls, crl)
	}
	return nil
}

// revoked tells whether cert, issued by issuer, is on a CRL of issuer.
func (t *TrustStore) revoked(cert, issuer *x509.Certificate) bool {
	for _, crl := range t.crls {
		if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// ParseCertificates reads every certificate of PEM text (CERTIFICATE
// blocks, other blocks ignored) or of one DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("neither PEM nor a DER certificate: %w", err)
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return out, nil
}

// CertificatePEM encodes a certificate as PEM (VnfPkgInfo.signingCertificate).
func CertificatePEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
