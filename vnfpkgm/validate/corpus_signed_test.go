package validate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// TestCorpusSignedVerdicts signs every corpus package as a vendor would
// (option 1: manifest and artifacts, with `vnfpkgm sign`'s library;
// option 2: the package in a signed zip) and checks that, against the
// trust store, the verdicts and facts of expected.json do not change and
// the valid ones carry their security option.
func TestCorpusSignedVerdicts(t *testing.T) {
	dir, expected := corpusExpectations(t)
	p := signtest.New(t)
	store, err := sign.LoadTrustStore(p.Root)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.LoadSigner(p.Key(signtest.ECDSA), p.Cert(signtest.ECDSA), p.Chain)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, name string, pkg []byte, option string) {
		rep, err := validate.Package(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), validate.Options{Signatures: validate.Signatures{Trust: store}})
		if err != nil {
			t.Fatal(err)
		}
		checkCorpusReport(t, name, rep, expected[name])
		if rep.Valid && rep.PackageSecurityOption != option {
			t.Fatalf("packageSecurityOption %q, want %s", rep.PackageSecurityOption, option)
		}
	}
	signedOption1 := 0
	for name := range expected {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name+"/option1", func(t *testing.T) {
			var out bytes.Buffer
			if err := signer.SignOption1(context.Background(), bytes.NewReader(data), int64(len(data)), &out, sign.PackageSigning{Artifacts: true}); err != nil {
				if strings.Contains(err.Error(), "no readable manifest") {
					t.Skipf("nothing to sign: %v", err)
				}
				t.Fatal(err)
			}
			signedOption1++
			check(t, name, out.Bytes(), validate.SecurityOption1)
		})
		t.Run(name+"/option2", func(t *testing.T) {
			var out bytes.Buffer
			if err := signer.SignOption2(bytes.NewReader(data), int64(len(data)), "vnf", &out, sign.PackageSigning{}); err != nil {
				t.Fatal(err)
			}
			check(t, name, out.Bytes(), validate.SecurityOption2)
		})
	}
	// Option 1 signs a manifest: the two corpus packages without one
	// (practical-two-flavours.zip has none, bad-manifest-extension.zip
	// names a .mf1) cannot have it.
	if signedOption1 != len(expected)-2 {
		t.Fatalf("%d of %d corpus packages were signed with option 1, want all but the 2 without a manifest", signedOption1, len(expected))
	}
}
