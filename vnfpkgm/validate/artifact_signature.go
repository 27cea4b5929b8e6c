package validate

import (
	"context"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
)

// checkArtifactSignatures verifies the per-artifact signatures of
// security option 1: a manifest entry's Signature names a detached CMS
// over the artifact's bytes, its Certificate (else the package's
// certificate file, else the CMS) the signer. The artifact's digest comes
// from the digest pass (outcomes: the manifest's own hash of the artifact,
// computed while the package streamed in or in the one read of the file)
// when the algorithms agree; only otherwise is the artifact read again.
func (rep *Report) checkArtifactSignatures(ctx context.Context, fsys fs.FS, pkg *csar.Package, outcomes []csar.DigestOutcome, opts Signatures) {
	m := pkg.Manifest
	if m == nil || opts.policy() == sign.PolicyIgnore {
		return
	}
	for _, e := range m.Entries {
		if e.Signature == "" || e.External || e.Source == "" {
			continue
		}
		src, ok := localPath(fsys, e.Source)
		if !ok {
			continue // reported by the manifest checks
		}
		rep.checkArtifactSignature(ctx, fsys, pkg, e, src, outcomes, opts)
	}
}

func (rep *Report) checkArtifactSignature(ctx context.Context, fsys fs.FS, pkg *csar.Package, e csar.ManifestEntry, src string, outcomes []csar.DigestOutcome, opts Signatures) {
	what := "the signature of " + src
	sigPath, ok := localPath(fsys, e.Signature)
	if !ok {
		rep.problem(csar.SeverityError, csar.CodeArtifactSignatureNotFound, pkg.ManifestPath, e.Line, "the Signature %s of %s is not in the package", e.Signature, src)
		return
	}
	v := opts.verification()
	certFile := pkg.CertificatePath
	if e.Certificate != "" {
		if certFile, ok = localPath(fsys, e.Certificate); !ok {
			rep.problem(csar.SeverityError, csar.CodeArtifactSignatureNotFound, pkg.ManifestPath, e.Line, "the Certificate %s of %s is not in the package", e.Certificate, src)
			return
		}
	}
	if certFile != "" {
		certs, ok := rep.packageCertificates(fsys, certFile)
		if !ok {
			return
		}
		v.Certificates = certs
	}
	data, err := readSmall(fsys, sigPath)
	if err != nil {
		rep.problem(csar.SeverityError, csar.CodeReadError, sigPath, 0, "the signature file cannot be read: %v", err)
		return
	}
	sig, err := sign.ParseCMS(data)
	if err == nil {
		if d, known := digestOf(outcomes, src, sig.HashName()); known {
			_, err = sig.VerifyDigest(d, v)
		} else {
			rep.SignatureReads++
			err = verifyFile(ctx, fsys, src, sig, v)
		}
	}
	if err != nil {
		rep.signatureFailure(err, pkg.ManifestPath, e.Line, what)
	}
}

func verifyFile(ctx context.Context, fsys fs.FS, name string, sig *sign.Signature, v sign.Verification) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = verifyStream(ctx, f, sig, v)
	return err
}

// digestOf finds the digest of a file computed by the digest pass with
// the named algorithm.
func digestOf(outcomes []csar.DigestOutcome, file, alg string) ([]byte, bool) {
	want, ok := digest.Lookup(alg)
	if !ok {
		return nil, false
	}
	for _, o := range outcomes {
		if o.Check.Path != file || o.Computed == "" || o.Err != nil {
			continue
		}
		if got, ok := digest.Lookup(o.Check.Algorithm); ok && got == want {
			if d, err := hex.DecodeString(o.Computed); err == nil {
				return d, true
			}
		}
	}
	return nil, false
}

// localPath resolves a manifest reference to a regular file of the package.
func localPath(fsys fs.FS, ref string) (string, bool) {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.Contains(ref, `\`) {
		return "", false
	}
	name := path.Clean(ref)
	if !fs.ValidPath(name) || name == "." {
		return "", false
	}
	st, err := fs.Stat(fsys, name)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	return name, true
}
