package validate_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign/signtest"
)

// withArtifactSignature adds "Signature: sigName" to the manifest block
// of Scripts/health.sh and the member sigName holding sig (nil: no member).
func withArtifactSignature(t *testing.T, pkg []byte, sigName string, sig []byte, editScript func([]byte) []byte) []byte {
	t.Helper()
	var extra []any
	if sig != nil {
		extra = []any{sigName, sig}
	}
	return signtest.RewriteZip(t, pkg, func(name string, data []byte) []byte {
		switch name {
		case "gateway.mf":
			return bytes.Replace(data, []byte("Source: Scripts/health.sh\n"), []byte("Source: Scripts/health.sh\nSignature: "+sigName+"\n"), 1)
		case "Scripts/health.sh":
			if editScript != nil {
				return editScript(data)
			}
		}
		return data
	}, extra...)
}

// TestArtifactSignatures (security option 1): an artifact's detached CMS
// named by its manifest entry verifies over the artifact's bytes, with
// the digest of the digest pass when the algorithms agree and a read of
// its own when they do not; a changed artifact, a missing signature file
// and an untrusted signer each have their code at the manifest entry.
func TestArtifactSignatures(t *testing.T) {
	p, _, trusted := trustedPKI(t)
	script := []byte(compatFiles["Scripts/health.sh"])
	base := compatZip(t)

	for _, c := range []struct {
		name, code string
		pkg        []byte
	}{
		{"sha256, from the digest pass", "", withArtifactSignature(t, base, "Scripts/health.sh.cms", p.Sign(script, signtest.RSA, signtest.Options{}), nil)},
		{"sha512 ecdsa, read again", "", withArtifactSignature(t, base, "Scripts/health.sh.cms", p.Sign(script, signtest.ECDSA, signtest.Options{MD: "sha512"}), nil)},
		{"artifact changed after signing", csar.CodeSignatureContentMismatch, withArtifactSignature(t, base, "Scripts/health.sh.cms", p.Sign(script, signtest.RSA, signtest.Options{}),
			func(b []byte) []byte { return append([]byte("#"), b...) })},
		{"sha512, artifact changed", csar.CodeSignatureContentMismatch, withArtifactSignature(t, base, "Scripts/health.sh.cms", p.Sign(script, signtest.RSA, signtest.Options{MD: "sha512"}),
			func(b []byte) []byte { return append([]byte("#"), b...) })},
		{"signature file missing", csar.CodeArtifactSignatureNotFound, withArtifactSignature(t, base, "Scripts/health.sh.cms", nil, nil)},
		{"untrusted signer", csar.CodeSignatureUntrusted, withArtifactSignature(t, base, "Scripts/health.sh.cms", p.Sign(script, signtest.Untrusted, signtest.Options{}), nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := validateBytes(t, c.pkg, trusted)
			if c.code == "" {
				if !rep.Valid {
					t.Fatalf("invalid:\n%s", render(rep.Problems))
				}
				// The manifest hashes with SHA-256: a SHA-256 signature
				// takes that digest, a SHA-512 one reads the artifact.
				if want := map[bool]int{true: 0, false: 1}[strings.HasPrefix(c.name, "sha256")]; rep.SignatureReads != want {
					t.Fatalf("%d artifact reads for signatures, want %d", rep.SignatureReads, want)
				}
				return
			}
			pr := findProblem(rep, csar.SeverityError, c.code)
			if rep.Valid || pr == nil || pr.File != "gateway.mf" || pr.Line == 0 {
				t.Fatalf("valid=%v, want an error %s at a line of gateway.mf:\n%s", rep.Valid, c.code, render(rep.Problems))
			}
		})
	}
}
