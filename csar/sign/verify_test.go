package sign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
)

func trust(t *testing.T, p *signtest.PKI, crl bool) *sign.TrustStore {
	t.Helper()
	ts, err := sign.LoadTrustStore(p.Root)
	if err != nil {
		t.Fatal(err)
	}
	if crl {
		if err := ts.AddCRLFile(p.CRL); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

func certs(t *testing.T, file string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sign.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verify parses cms and verifies it over content; "" when it verifies,
// else the problem code.
func verify(t *testing.T, cms, content []byte, v sign.Verification) string {
	t.Helper()
	s, err := sign.ParseCMS(cms)
	if err == nil {
		_, err = s.VerifyContent(bytes.NewReader(content), v)
	}
	if err == nil {
		return ""
	}
	var f *sign.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v is no *sign.Failure", err)
	}
	return f.Code
}

// TestVerifyOpenSSLSignatures checks signatures made by openssl cms
// -sign against a trust store: each failure cause has its own code.
func TestVerifyOpenSSLSignatures(t *testing.T) {
	// One PKI for every check: openssl's RSA key generation is slow.
	p := signtest.New(t)
	t.Run("revoked without the CRL", func(t *testing.T) { revokedWithoutCRL(t, p) })
	t.Run("sign detached both ways", func(t *testing.T) { signDetachedBothWays(t, p) })
	t.Run("trust store directory", func(t *testing.T) { trustStoreDirectory(t, p) })
	content := []byte("metadata:\n  vnf_provider_id: Test\n\nSource: a\nAlgorithm: SHA-256\nHash: 00\n")
	ts := trust(t, p, true)
	v := sign.Verification{Trust: ts, Now: time.Now()}
	changed := append([]byte{}, content...)
	changed[3] ^= 1
	rsaCMS := p.Sign(content, signtest.RSA, signtest.Options{})
	truncated := []byte(string(rsaCMS[:len(rsaCMS)/2]) + "\n-----END CMS-----\n")

	withCert := v
	withCert.Certificates = certs(t, p.Cert(signtest.RSA))
	withCert.Certificates = append(withCert.Certificates, certs(t, p.Chain)...)

	cases := []struct {
		name    string
		cms     []byte
		content []byte
		v       sign.Verification
		want    string
	}{
		{"rsa sha256", rsaCMS, content, v, ""},
		{"rsa sha384 der", p.Sign(content, signtest.RSA, signtest.Options{MD: "sha384", DER: true}), content, v, ""},
		{"rsa sha512 pss", p.Sign(content, signtest.RSA, signtest.Options{MD: "sha512", PSS: true}), content, v, ""},
		{"rsa no signed attributes", p.Sign(content, signtest.RSA, signtest.Options{NoAttr: true}), content, v, ""},
		{"ecdsa sha256", p.Sign(content, signtest.ECDSA, signtest.Options{}), content, v, ""},
		{"ecdsa sha384 no attributes", p.Sign(content, signtest.ECDSA, signtest.Options{MD: "sha384", NoAttr: true}), content, v, ""},
		{"certificate from the package", p.Sign(content, signtest.RSA, signtest.Options{NoCerts: true}), content, withCert, ""},
		{"content changed by one byte", rsaCMS, changed, v, csar.CodeSignatureContentMismatch},
		{"no attributes, content changed", p.Sign(content, signtest.RSA, signtest.Options{NoAttr: true}), changed, v, csar.CodeSignatureInvalid},
		{"cms over other bytes", p.Sign([]byte("other bytes\n"), signtest.RSA, signtest.Options{}), content, v, csar.CodeSignatureContentMismatch},
		{"truncated cms", truncated, content, v, csar.CodeSignatureMalformed},
		{"not a cms", []byte("-----BEGIN CMS-----\nMIIBdGVzdA==\n-----END CMS-----\n"), content, v, csar.CodeSignatureMalformed},
		{"certificate missing", p.Sign(content, signtest.RSA, signtest.Options{NoCerts: true}), content, v, csar.CodeSignatureCertificateMissing},
		{"untrusted ca", p.Sign(content, signtest.Untrusted, signtest.Options{}), content, v, csar.CodeSignatureUntrusted},
		{"no trust store", rsaCMS, content, sign.Verification{Now: time.Now()}, csar.CodeSignatureUntrusted},
		{"expired", p.Sign(content, signtest.Expired, signtest.Options{}), content, v, csar.CodeSignatureExpired},
		{"server certificate", p.Sign(content, signtest.ServerEKU, signtest.Options{}), content, v, csar.CodeSignatureKeyUsage},
		{"revoked", p.Sign(content, signtest.Revoked, signtest.Options{}), content, v, csar.CodeSignatureRevoked},
		{"sha1", p.Sign(content, signtest.RSA, signtest.Options{MD: "sha1"}), content, v, csar.CodeSignatureDigestNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := verify(t, c.cms, c.content, c.v); got != c.want {
				t.Fatalf("verdict %q, want %q", got, c.want)
			}
		})
	}
}

// revokedWithoutCRL shows the CRL is what refuses the revoked signer.
func revokedWithoutCRL(t *testing.T, p *signtest.PKI) {
	content := []byte("x\n")
	v := sign.Verification{Trust: trust(t, p, false), Now: time.Now()}
	if got := verify(t, p.Sign(content, signtest.Revoked, signtest.Options{}), content, v); got != "" {
		t.Fatalf("without the CRL: %q", got)
	}
}

// signDetachedBothWays: what SignDetached makes, openssl cms -verify
// accepts, and this package verifies, for RSA and ECDSA.
func signDetachedBothWays(t *testing.T, p *signtest.PKI) {
	content := []byte("Source: Definitions/vnfd.yaml\nAlgorithm: SHA-256\nHash: 00\n")
	for _, name := range []string{signtest.RSA, signtest.ECDSA} {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
			s, err := sign.LoadSigner(p.Key(name), p.Cert(name), p.Chain)
			if err != nil {
				t.Fatal(err)
			}
			s.Hash = h
			cms, err := s.SignDetached(content)
			if err != nil {
				t.Fatal(err)
			}
			if ok, out := p.Verify(content, cms); !ok {
				t.Fatalf("%s %s: openssl refuses: %s", name, h, out)
			}
			if got := verify(t, cms, content, sign.Verification{Trust: trust(t, p, false), Now: time.Now()}); got != "" {
				t.Fatalf("%s %s: %s", name, h, got)
			}
			if ok, _ := p.Verify(append([]byte("!"), content...), cms); ok {
				t.Fatal("openssl accepts changed content: the check proves nothing")
			}
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"required", "Verify", "ignore"} {
		if _, err := sign.ParsePolicy(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sign.ParsePolicy("maybe"); err == nil || !strings.Contains(err.Error(), "required, verify or ignore") {
		t.Fatalf("err = %v", err)
	}
}

func trustStoreDirectory(t *testing.T, p *signtest.PKI) {
	dir := t.TempDir()
	for _, f := range []string{p.Root, p.Chain} {
		data, _ := os.ReadFile(f)
		os.WriteFile(dir+"/"+strings.ReplaceAll(f[strings.LastIndex(f, "/")+1:], ".crt", ".pem"), data, 0o600)
	}
	ts, err := sign.LoadTrustStore(dir)
	if err != nil || ts.Len() != 2 {
		t.Fatalf("store %v, err %v", ts, err)
	}
	if _, err := sign.LoadTrustStore(t.TempDir()); err == nil {
		t.Fatal("an empty trust store loads")
	}
}
