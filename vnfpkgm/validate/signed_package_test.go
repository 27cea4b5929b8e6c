package validate_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// TestSignedPackage (security option 2): a zip of the CSAR, its .cms over
// the CSAR's bytes and the .cert is detected by content, its signature
// verified, and the CSAR inside checked as usual; each broken layout or
// signature has its own code.
func TestSignedPackage(t *testing.T) {
	p, store, trusted := trustedPKI(t)
	inner := compatZip(t)
	cert, _ := os.ReadFile(p.Cert(signtest.RSA))
	chain, _ := os.ReadFile(p.Chain)
	certFile := append(append([]byte{}, cert...), chain...)
	cms := p.Sign(inner, signtest.RSA, signtest.Options{NoCerts: true})
	good := signtest.SignedPackage(t, "gateway", inner, cms, certFile, false)

	t.Run("verifies", func(t *testing.T) {
		// Even with signatures required, the CSAR's own manifest needs no
		// signature: the package's covers it.
		rep := validateBytes(t, good, validate.Signatures{Trust: store, Policy: sign.PolicyRequired})
		if !rep.Valid || rep.PackageSecurityOption != validate.SecurityOption2 || rep.SigningCertificate != string(cert) || rep.VnfProvider != "Acme" {
			t.Fatalf("valid=%v option=%q provider=%q cert=%q\n%s", rep.Valid, rep.PackageSecurityOption, rep.VnfProvider, rep.SigningCertificate, render(rep.Problems))
		}
		if findProblem(rep, csar.SeverityWarning, csar.CodeSignatureMissing) != nil {
			t.Fatalf("the signed package is called unsigned:\n%s", render(rep.Problems))
		}
	})
	t.Run("described and opened as its CSAR", func(t *testing.T) {
		rep, err := validate.Describe(context.Background(), bytes.NewReader(good), int64(len(good)), validate.Options{})
		if err != nil || rep.VnfProvider != "Acme" || rep.PackageSecurityOption != validate.SecurityOption2 {
			t.Fatalf("describe: %v %+v", err, rep)
		}
		a, err := validate.OpenCSAR(context.Background(), bytes.NewReader(good), int64(len(good)), csar.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Stat(a, "gateway.mf"); err != nil {
			t.Fatalf("OpenCSAR does not open the inner CSAR: %v", err)
		}
	})

	changed := append([]byte{}, inner...)
	changed[len(changed)/2] ^= 1
	bad := []struct {
		name, code, file string
		pkg              []byte
	}{
		{"csar changed after signing", csar.CodeSignatureContentMismatch, "gateway.cms", signtest.SignedPackage(t, "gateway", changed, cms, certFile, false)},
		{"signature truncated", csar.CodeSignatureMalformed, "gateway.cms", signtest.SignedPackage(t, "gateway", inner, cms[:len(cms)/2], certFile, false)},
		{"untrusted signer", csar.CodeSignatureUntrusted, "gateway.cms", signtest.SignedPackage(t, "gateway", inner, p.Sign(inner, signtest.Untrusted, signtest.Options{}), certFile, false)},
		{"no .cms", csar.CodeSignedPackageCMSMissing, "", signtest.SignedPackage(t, "gateway", inner, nil, certFile, false)},
		{"no .cert", csar.CodeSignedPackageCertMissing, "", signtest.SignedPackage(t, "gateway", inner, cms, nil, false)},
		{"compressed csar", csar.CodeSignedPackageCompressed, "gateway.csar", signtest.SignedPackage(t, "gateway", inner, cms, certFile, true)},
		{"a stray member", csar.CodeSignedPackageLayout, "notes.txt", signtest.RewriteZip(t, good, nil, "notes.txt", []byte("hi"))},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			rep := validateBytes(t, c.pkg, trusted)
			pr := findProblem(rep, csar.SeverityError, c.code)
			if rep.Valid || pr == nil || pr.File != c.file || rep.PackageSecurityOption != validate.SecurityOption2 {
				t.Fatalf("valid=%v option=%q, want an error %s in %q:\n%s", rep.Valid, rep.PackageSecurityOption, c.code, c.file, render(rep.Problems))
			}
		})
	}
}
