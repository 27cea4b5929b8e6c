package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

func zipMember(t *testing.T, file, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, _ := f.Open()
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s has no member %s", file, name)
	return nil
}

// TestSignAndValidate: `vnfpkgm sign` output (options 1 and 2, RSA and
// ECDSA) is accepted by openssl cms -verify and by `vnfpkgm validate
// --trust-store`; without the trust store, or with the package changed,
// validate refuses it.
func TestSignAndValidate(t *testing.T) {
	p := signtest.New(t)
	src := filepath.Join(testenv.Corpus(t), "helloworld3-multi.zip")
	dir := t.TempDir()
	for _, signer := range []string{signtest.RSA, signtest.ECDSA} {
		for _, option := range []string{"1", "2"} {
			out := filepath.Join(dir, signer+option+".zip")
			code, stdout, stderr := runCLI("sign", "--key", p.Key(signer), "--cert", p.Cert(signer), "--chain", p.Chain, "--option", option, "--digest", "sha384", "-o", out, src)
			if code != exitOK || !strings.Contains(stdout, "signed") {
				t.Fatalf("sign %s option %s: exit %d\n%s%s", signer, option, code, stdout, stderr)
			}
			// openssl cms -verify accepts what vnfpkgm sign made.
			if option == "1" {
				content, cms, found := csar.ManifestSignedContent(zipMember(t, out, "manifest.mf"))
				if ok, msg := p.Verify(content, cms); !found || !ok {
					t.Fatalf("openssl refuses the manifest signature (found %v): %s", found, msg)
				}
				if ok, msg := p.Verify(zipMember(t, out, "Scripts/install.sh"), zipMember(t, out, "Scripts/install.sh.cms")); !ok {
					t.Fatalf("openssl refuses the artifact signature: %s", msg)
				}
			} else {
				base := strings.TrimSuffix(filepath.Base(src), ".zip")
				if ok, msg := p.Verify(zipMember(t, out, base+".csar"), zipMember(t, out, base+".cms")); !ok {
					t.Fatalf("openssl refuses the package signature: %s", msg)
				}
			}
			code, stdout, stderr = runCLI("validate", "--trust-store", p.Root, out)
			if code != exitOK || !strings.Contains(stdout, "OPTION_"+option) {
				t.Fatalf("validate %s option %s: exit %d\n%s%s", signer, option, code, stdout, stderr)
			}
			if code, stdout, _ = runCLI("validate", out); code != exitInvalid || !strings.Contains(stdout, csar.CodeSignatureUntrusted) {
				t.Fatalf("validate without a trust store: exit %d\n%s", code, stdout)
			}
		}
	}

	// A signed artifact changed afterwards: the manifest hash and the
	// artifact signature both fail.
	signed := filepath.Join(dir, signtest.RSA+"1.zip")
	data, _ := os.ReadFile(signed)
	changed := signtest.RewriteZip(t, data, func(name string, b []byte) []byte {
		if name == "Scripts/install.sh" {
			return append(b, '\n')
		}
		return b
	})
	bad := filepath.Join(dir, "changed.zip")
	os.WriteFile(bad, changed, 0o600)
	if code, stdout, _ := runCLI("validate", "--trust-store", p.Root, bad); code != exitInvalid || !strings.Contains(stdout, csar.CodeSignatureContentMismatch) {
		t.Fatalf("changed artifact: exit %d\n%s", code, stdout)
	}
	if !bytes.Contains(data, []byte("Scripts/install.sh.cms")) {
		t.Fatal("no artifact signature in the signed package")
	}
}
