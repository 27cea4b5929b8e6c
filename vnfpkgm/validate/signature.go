package validate

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
)

// SOL 005 PackageSecurityOption values.
const (
	SecurityOption1 = "OPTION_1" // signed manifest (and artifacts)
	SecurityOption2 = "OPTION_2" // signed package: a zip of the CSAR, its .cms and .cert
)

// Signatures configure the authenticity checks (SOL 004 clause 5).
type Signatures struct {
	// Policy: required, verify (the zero value) or ignore.
	Policy sign.Policy
	// Trust is the trust store; nil trusts no signer.
	Trust *sign.TrustStore
	// Now is when certificates must be valid; zero means the time of the
	// check (onboarding time).
	Now time.Time

	// inner is set for the CSAR inside a signed package: the package's
	// signature covers it, so an unsigned manifest is no finding.
	inner bool
}

func (s Signatures) policy() sign.Policy {
	if s.Policy == "" {
		return sign.PolicyVerify
	}
	return s.Policy
}

func (s Signatures) verification() sign.Verification {
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	return sign.Verification{Trust: s.Trust, Now: now}
}

// checkManifestSignature verifies security option 1's manifest
// signature: the CMS block at the end of the manifest, detached over the
// manifest before it, its signer's certificate from the CMS or from the
// package's certificate file (ETSI-Entry-Certificate, or the root .cert
// of a package without TOSCA-Metadata).
func (rep *Report) checkManifestSignature(fsys fs.FS, pkg *csar.Package, opts Signatures) {
	policy := opts.policy()
	var data []byte
	if pkg.ManifestPath != "" && pkg.Manifest != nil {
		var err error
		if data, err = fs.ReadFile(fsys, pkg.ManifestPath); err != nil {
			rep.problem(csar.SeverityError, csar.CodeReadError, pkg.ManifestPath, 0, "the manifest cannot be read: %v", err)
			return
		}
	}
	content, cms, signed := csar.ManifestSignedContent(data)
	if !signed {
		if !opts.inner {
			rep.unsigned(pkg.ManifestPath, policy)
		}
		return
	}
	rep.PackageSecurityOption = SecurityOption1
	if policy == sign.PolicyIgnore {
		return
	}
	line := pkg.Manifest.SignatureAt
	v := opts.verification()
	if pkg.CertificatePath != "" {
		certs, ok := rep.packageCertificates(fsys, pkg.CertificatePath)
		if !ok {
			return
		}
		v.Certificates = certs
	}
	sig, err := sign.ParseCMS(cms)
	if err == nil {
		cert, verr := sig.VerifyContent(bytes.NewReader(content), v)
		if verr == nil {
			rep.SigningCertificate = sign.CertificatePEM(cert)
			return
		}
		err = verr
	}
	rep.signatureFailure(err, pkg.ManifestPath, line, "the manifest signature")
}

// unsigned reports a package without signature: an error when the policy
// requires one, a warning under verify.
func (rep *Report) unsigned(file string, policy sign.Policy) {
	switch policy {
	case sign.PolicyRequired:
		rep.problem(csar.SeverityError, csar.CodeSignatureMissing, file, 0, "the package is not signed (neither a CMS signature at the end of the manifest nor a signed-package zip) and the signature policy requires one")
	case sign.PolicyVerify:
		rep.problem(csar.SeverityWarning, csar.CodeSignatureMissing, file, 0, "the package is not signed: its origin and integrity are not proven by a signature")
	}
}

// packageCertificates reads a certificate file of the package.
func (rep *Report) packageCertificates(fsys fs.FS, name string) ([]*x509.Certificate, bool) {
	data, err := readSmall(fsys, name)
	if err != nil {
		rep.problem(csar.SeverityError, csar.CodeReadError, name, 0, "the certificate file cannot be read: %v", err)
		return nil, false
	}
	certs, err := sign.ParseCertificates(data)
	if err != nil {
		rep.problem(csar.SeverityError, csar.CodeSignatureCertificateMalformed, name, 0, "the certificate file holds no X.509 certificate: %v", err)
		return nil, false
	}
	return certs, true
}

// signatureFailure records a failed check with the code of its cause.
func (rep *Report) signatureFailure(err error, file string, line int, what string) {
	// A check that could not read what it verifies is no verdict on the
	// signature.
	code := csar.CodeReadError
	var f *sign.Failure
	if errors.As(err, &f) {
		code = f.Code
	}
	rep.problem(csar.SeverityError, code, file, line, "%s does not verify: %v", what, err)
}

func (rep *Report) problem(sev csar.Severity, code, file string, line int, format string, args ...any) {
	col := 0
	if line > 0 {
		col = 1
	}
	rep.Problems = append(rep.Problems, csar.Problem{Severity: sev, Code: code, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}
