package validate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// signedCompat is compatZip with its manifest signed by openssl as
// signer; withCert also names signer's certificate and chain by
// ETSI-Entry-Certificate. tamper edits the manifest after signing.
func signedCompat(t *testing.T, p *signtest.PKI, signer string, o signtest.Options, withCert bool, tamper func([]byte) []byte) []byte {
	t.Helper()
	pkg := p.SignManifest(compatZip(t), "gateway.mf", signer, o, tamper)
	if !withCert {
		return pkg
	}
	cert, _ := os.ReadFile(p.Cert(signer))
	chain, _ := os.ReadFile(p.Chain)
	return signtest.RewriteZip(t, pkg, func(name string, data []byte) []byte {
		if name == csar.MetaPath {
			return append(data, "ETSI-Entry-Certificate: gateway.cert\n"...)
		}
		return data
	}, "gateway.cert", append(cert, chain...))
}

// trustedPKI makes a test PKI (openssl) and the trust store of its root.
func trustedPKI(t *testing.T) (*signtest.PKI, *sign.TrustStore, validate.Signatures) {
	t.Helper()
	p := signtest.New(t)
	store, err := sign.LoadTrustStore(p.Root)
	if err != nil {
		t.Fatal(err)
	}
	return p, store, validate.Signatures{Trust: store}
}

func validateBytes(t *testing.T, b []byte, s validate.Signatures) *validate.Report {
	t.Helper()
	rep, err := validate.Package(context.Background(), bytes.NewReader(b), int64(len(b)), validate.Options{Signatures: s})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findProblem(rep *validate.Report, sev csar.Severity, code string) *csar.Problem {
	for i, p := range rep.Problems {
		if p.Severity == sev && p.Code == code {
			return &rep.Problems[i]
		}
	}
	return nil
}

// TestManifestSignature (security option 1): openssl-signed manifests
// verify against the trust store, with the certificate in the CMS or in
// the package; each failure is an error at the manifest's CMS line with
// the code of its cause; the policy decides about unsigned packages.
func TestManifestSignature(t *testing.T) {
	p, store, trusted := trustedPKI(t)
	rsaCert, _ := os.ReadFile(p.Cert(signtest.RSA))
	oneByte := func(b []byte) []byte {
		return bytes.Replace(b, []byte("Gateway"), []byte("Gatewax"), 1)
	}

	ok := []struct {
		name string
		pkg  []byte
		cert []byte
	}{
		{"rsa, certificate in the cms", signedCompat(t, p, signtest.RSA, signtest.Options{}, false, nil), rsaCert},
		{"ecdsa sha384", signedCompat(t, p, signtest.ECDSA, signtest.Options{MD: "sha384"}, false, nil), nil},
		{"certificate from ETSI-Entry-Certificate", signedCompat(t, p, signtest.RSA, signtest.Options{NoCerts: true}, true, nil), rsaCert},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			rep := validateBytes(t, c.pkg, trusted)
			if !rep.Valid || rep.PackageSecurityOption != validate.SecurityOption1 || !strings.Contains(rep.SigningCertificate, "BEGIN CERTIFICATE") {
				t.Fatalf("valid=%v option=%q cert=%q\n%s", rep.Valid, rep.PackageSecurityOption, rep.SigningCertificate, render(rep.Problems))
			}
			if c.cert != nil && rep.SigningCertificate != string(c.cert) {
				t.Fatalf("signingCertificate is not the signer's:\n%s", rep.SigningCertificate)
			}
		})
	}

	bad := []struct {
		name string
		pkg  []byte
		s    validate.Signatures
		code string
	}{
		{"manifest changed by one byte", signedCompat(t, p, signtest.RSA, signtest.Options{}, false, oneByte), trusted, csar.CodeSignatureContentMismatch},
		{"untrusted signer", signedCompat(t, p, signtest.Untrusted, signtest.Options{}, false, nil), trusted, csar.CodeSignatureUntrusted},
		{"no trust store", signedCompat(t, p, signtest.RSA, signtest.Options{}, false, nil), validate.Signatures{}, csar.CodeSignatureUntrusted},
		{"expired signer", signedCompat(t, p, signtest.Expired, signtest.Options{}, false, nil), trusted, csar.CodeSignatureExpired},
		{"certificate missing", signedCompat(t, p, signtest.RSA, signtest.Options{NoCerts: true}, false, nil), trusted, csar.CodeSignatureCertificateMissing},
		{"unsigned, signatures required", compatZip(t), validate.Signatures{Policy: sign.PolicyRequired, Trust: store}, csar.CodeSignatureMissing},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			rep := validateBytes(t, c.pkg, c.s)
			pr := findProblem(rep, csar.SeverityError, c.code)
			if rep.Valid || pr == nil || pr.File != "gateway.mf" {
				t.Fatalf("valid=%v, want an error %s in gateway.mf:\n%s", rep.Valid, c.code, render(rep.Problems))
			}
			if c.code != csar.CodeSignatureMissing && pr.Line == 0 {
				t.Fatalf("the problem has no line: %v", pr)
			}
		})
	}

	t.Run("unsigned under verify: a warning", func(t *testing.T) {
		rep := validateBytes(t, compatZip(t), trusted)
		if !rep.Valid || findProblem(rep, csar.SeverityWarning, csar.CodeSignatureMissing) == nil || rep.PackageSecurityOption != "" {
			t.Fatalf("valid=%v option=%q\n%s", rep.Valid, rep.PackageSecurityOption, render(rep.Problems))
		}
	})
	t.Run("ignore: a bad signature is not checked", func(t *testing.T) {
		rep := validateBytes(t, signedCompat(t, p, signtest.RSA, signtest.Options{}, false, oneByte), validate.Signatures{Policy: sign.PolicyIgnore})
		if !rep.Valid || rep.PackageSecurityOption != validate.SecurityOption1 || rep.SigningCertificate != "" {
			t.Fatalf("valid=%v option=%q\n%s", rep.Valid, rep.PackageSecurityOption, render(rep.Problems))
		}
	})
}

// TestRootCertificate: in a package without TOSCA-Metadata the signer's
// certificate may be the root .cert sharing the manifest's base name.
func TestRootCertificate(t *testing.T) {
	p, _, trusted := trustedPKI(t)
	data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "single-file-no-meta.zip"))
	if err != nil {
		t.Fatal(err)
	}
	signed := p.SignManifest(data, "vnfd_helloworld_single.mf", signtest.ECDSA, signtest.Options{NoCerts: true}, nil)
	if rep := validateBytes(t, signed, trusted); findProblem(rep, csar.SeverityError, csar.CodeSignatureCertificateMissing) == nil {
		t.Fatalf("without the .cert the certificate must be missing:\n%s", render(rep.Problems))
	}
	cert, _ := os.ReadFile(p.Cert(signtest.ECDSA))
	chain, _ := os.ReadFile(p.Chain)
	withCert := signtest.RewriteZip(t, signed, nil, "vnfd_helloworld_single.cert", append(cert, chain...))
	rep := validateBytes(t, withCert, trusted)
	if !rep.Valid || rep.PackageSecurityOption != validate.SecurityOption1 || rep.SigningCertificate != string(cert) {
		t.Fatalf("valid=%v option=%q\n%s", rep.Valid, rep.PackageSecurityOption, render(rep.Problems))
	}
}
