package main_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// TestSignedPackageOnboarding: with --trust-store, a manifest signed by
// openssl onboards with packageSecurityOption OPTION_1 and the signer's
// certificate; a manifest changed after signing ends in ERROR with the
// signature problem; under --signatures required an unsigned package is
// refused.
func TestSignedPackageOnboarding(t *testing.T) {
	p := signtest.New(t)
	s := startServer(t, "", "--trust-store", p.Root, "--crl-file", p.CRL)
	plain := testPkg{vnfdID: newVnfdID(60), files: []pkgFile{{name: "Scripts/run.sh", data: []byte("#!/bin/sh\n")}}}.build(t)
	signed := p.SignManifest(plain.zip, "manifest.mf", signtest.ECDSA, signtest.Options{}, nil)

	_, info := s.onboardBytes(t, signed, `{}`)
	cert, _ := os.ReadFile(p.Cert(signtest.ECDSA))
	if info["packageSecurityOption"] != "OPTION_1" || info["signingCertificate"] != string(cert) {
		t.Fatalf("packageSecurityOption %v, signingCertificate %v", info["packageSecurityOption"], info["signingCertificate"])
	}

	// Option 2: the signed zip onboards as its CSAR; package_content is
	// the signed zip as uploaded, the manifest that of the CSAR inside.
	inner := testPkg{vnfdID: newVnfdID(64)}.build(t)
	rsaCert, _ := os.ReadFile(p.Cert(signtest.RSA))
	chain, _ := os.ReadFile(p.Chain)
	outer := signtest.SignedPackage(t, "vnf", inner.zip, p.Sign(inner.zip, signtest.RSA, signtest.Options{NoCerts: true}), append(append([]byte{}, rsaCert...), chain...), false)
	id2, info2 := s.onboardBytes(t, outer, `{}`)
	if info2["packageSecurityOption"] != "OPTION_2" || info2["vnfdId"] != newVnfdID(64) || info2["signingCertificate"] != string(rsaCert) {
		t.Fatalf("option 2: %v %v", info2["packageSecurityOption"], info2["vnfdId"])
	}
	if r := s.do("GET", pkgs+"/"+id2+"/package_content", nil); r.status != 200 || !bytes.Equal(r.body, outer) {
		t.Fatalf("package_content: %d, %d bytes, want the %d bytes uploaded", r.status, len(r.body), len(outer))
	}
	if r := s.do("GET", pkgs+"/"+id2+"/manifest", nil, "Accept", "text/plain"); r.status != 200 || !bytes.Equal(r.body, inner.manifest) {
		t.Fatalf("manifest of the inner CSAR: %d %s", r.status, r.body)
	}

	// Signed with the signing library (as vnfpkgm sign does): manifest and
	// artifact signatures; include_signatures returns them.
	signer, err := sign.LoadSigner(p.Key(signtest.RSA), p.Cert(signtest.RSA), p.Chain)
	if err != nil {
		t.Fatal(err)
	}
	script := []byte("#!/bin/sh\necho signed\n")
	unsigned := testPkg{vnfdID: newVnfdID(65), files: []pkgFile{{name: "Scripts/run.sh", data: script}}}.build(t)
	var withArtifacts bytes.Buffer
	if err := signer.SignOption1(context.Background(), bytes.NewReader(unsigned.zip), int64(len(unsigned.zip)), &withArtifacts, sign.PackageSigning{Artifacts: true}); err != nil {
		t.Fatal(err)
	}
	id3, _ := s.onboardBytes(t, withArtifacts.Bytes(), `{}`)
	art := pkgs + "/" + id3 + "/artifacts"
	if r := s.do("GET", art+"/Scripts/run.sh", nil); r.status != 200 || !bytes.Equal(r.body, script) {
		t.Fatalf("artifact: %d %q", r.status, r.body)
	}
	r := s.do("GET", art+"/Scripts/run.sh?include_signatures", nil)
	expectStatus(t, r, 200)
	if got := zipEntries(t, r.body); len(got) != 2 || !bytes.Equal(got["Scripts/run.sh"], script) || !bytes.Contains(got["Scripts/run.sh.cms"], []byte("-----BEGIN CMS-----")) {
		t.Fatalf("artifact with signatures: %v", entryNames(got))
	}
	r = s.do("GET", art+"?include_signatures", nil)
	expectStatus(t, r, 200)
	if got := zipEntries(t, r.body); got["Scripts/run.sh.cms"] == nil {
		t.Fatalf("artifacts with signatures: %v", entryNames(got))
	}
	r = s.do("GET", art, nil)
	expectStatus(t, r, 200)
	if got := zipEntries(t, r.body); got["Scripts/run.sh.cms"] != nil {
		t.Fatalf("artifacts without signatures: %v", entryNames(got))
	}

	for _, c := range []struct {
		name, code string
		pkg        []byte
	}{
		{"changed after signing", csar.CodeSignatureContentMismatch, p.SignManifest(testPkg{vnfdID: newVnfdID(61)}.build(t).zip, "manifest.mf", signtest.RSA, signtest.Options{},
			func(b []byte) []byte { return bytes.Replace(b, []byte("Test VNF"), []byte("Test VNG"), 1) })},
		{"revoked signer", csar.CodeSignatureRevoked, p.SignManifest(testPkg{vnfdID: newVnfdID(62)}.build(t).zip, "manifest.mf", signtest.Revoked, signtest.Options{}, nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := s.createWith(t, `{}`)
			s.uploadBytes(t, id, c.pkg, "application/zip")
			info := s.waitState(t, id)
			details, _ := info["onboardingFailureDetails"].(map[string]any)
			if info["onboardingState"] != "ERROR" || !strings.Contains(jsonText(t, details), `"code":"`+c.code+`"`) {
				t.Fatalf("state %v, failure %v", info["onboardingState"], details)
			}
		})
	}

	strict := startServer(t, "", "--signatures", "required", "--trust-store", p.Root)
	id := strict.createWith(t, `{}`)
	strict.uploadBytes(t, id, testPkg{vnfdID: newVnfdID(63)}.build(t).zip, "application/zip")
	if info := strict.waitState(t, id); info["onboardingState"] != "ERROR" || !strings.Contains(jsonText(t, info["onboardingFailureDetails"]), csar.CodeSignatureMissing) {
		t.Fatalf("unsigned under required: %v %v", info["onboardingState"], info["onboardingFailureDetails"])
	}
	if code, _, stderr := runBinary(t, "--signatures", "maybe"); code == 0 || !strings.Contains(stderr, "required, verify or ignore") {
		t.Fatalf("--signatures maybe: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runBinary(t, "--trust-store", t.TempDir()); code == 0 || !strings.Contains(stderr, "no certificate") {
		t.Fatalf("empty trust store: exit %d, %s", code, stderr)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSignedPackageMemory: `vnfpkgm validate --trust-store` checks a
// signed package (option 2) holding a 128 MiB image, whose signature
// covers all of it, in bounded memory: the CSAR is hashed while it is
// read in place, never held.
func TestSignedPackageMemory(t *testing.T) {
	p := signtest.New(t)
	cli := cliBinary(t)
	dir := t.TempDir()
	inner := filepath.Join(dir, "vnf.csar")
	writeRandomPackageLaid(t, inner, 128<<20, 7, "0c4b2b4e-5161-4000-8000-000000000001", true)
	cms := p.SignFile(inner, signtest.RSA, signtest.Options{MD: "sha512"})
	cert, _ := os.ReadFile(p.Cert(signtest.RSA))
	outer := filepath.Join(dir, "signed.zip")
	writeSignedZip(t, inner, outer, cms, cert)
	peak, code, out := testenv.RunMeasured(t, exec.Command(cli, "validate", "--trust-store", p.Root, outer))
	if code != 0 || !strings.Contains(string(out), "OPTION_2") {
		t.Fatalf("validate exits %d: %s", code, out)
	}
	t.Logf("validate of a 128 MiB signed package: peak RSS %.1f MiB", float64(peak)/(1<<20))
	if peak >= memoryCeiling {
		t.Errorf("validate peak RSS %.1f MiB, want < %d MiB", float64(peak)/(1<<20), memoryCeiling>>20)
	}
}

// writeSignedZip writes the option 2 zip of the CSAR file in (stored),
// streaming it.
func writeSignedZip(tb testing.TB, in, out string, cms, cert []byte) {
	tb.Helper()
	src, err := os.Open(in)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		tb.Fatal(err)
	}
	defer dst.Close()
	zw := zip.NewWriter(dst)
	for _, m := range []struct {
		name   string
		method uint16
		r      io.Reader
	}{{"vnf.csar", zip.Store, src}, {"vnf.cms", zip.Deflate, bytes.NewReader(cms)}, {"vnf.cert", zip.Deflate, bytes.NewReader(cert)}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(w, m.r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}
