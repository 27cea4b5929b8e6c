package validate

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/csar/sign"
)

// validator is Package or Describe, applied to the CSAR inside a signed
// package.
type validator func(ctx context.Context, r io.ReaderAt, size int64, opts Options) (*Report, error)

// detectSignedPackage tells whether the opened archive (nil when it
// could not be opened: the CSAR checks report why) is a security option 2
// package: a zip whose content (csar.DetectSignedPackage) is a CSAR with
// its .cms and .cert.
func detectSignedPackage(a *csar.Archive, opts Options) *csar.SignedPackage {
	if a == nil || a.Format != csar.FormatZip || opts.Signatures.inner {
		// A signed package inside a signed package is a CSAR to check as such.
		return nil
	}
	return csar.DetectSignedPackage(a)
}

// signedPackage checks a security option 2 package: its layout, the CMS
// signature over the CSAR's bytes (hashed in one streaming read of the
// CSAR, in place inside the package), then the CSAR itself with check.
// done is false when a is no signed package.
func signedPackage(ctx context.Context, a *csar.Archive, opts Options, check validator, verify bool) (rep *Report, done bool, err error) {
	sp := detectSignedPackage(a, opts)
	if sp == nil {
		return nil, false, nil
	}
	outer := &Report{Problems: []csar.Problem{}, PackageSecurityOption: SecurityOption2}
	for _, p := range sp.Problems {
		if p.Code == csar.CodeSignedPackageLayout || p.Code == csar.CodeSignedPackageCompressed || (verify && opts.Signatures.policy() != sign.PolicyIgnore) {
			outer.Problems = append(outer.Problems, p)
		}
	}
	member, ok := a.Member(sp.CSAR)
	if !ok && len(outer.Problems) == 0 {
		outer.problem(csar.SeverityError, csar.CodeSignedPackageCompressed, sp.CSAR, 0, "the CSAR %s inside the signed package cannot be read in place (it is compressed)", sp.CSAR)
	}
	if !ok || structural(outer.Problems) {
		return outer, true, nil
	}
	if verify && sp.CMS != "" && sp.Cert != "" && opts.Signatures.policy() != sign.PolicyIgnore {
		outer.checkPackageSignature(ctx, a, sp, member, opts.Signatures)
	}
	if err := ctx.Err(); err != nil {
		return nil, true, err
	}
	innerOpts := opts
	innerOpts.Precomputed = nil // digests of the upload describe the outer zip's members
	innerOpts.Signatures.inner = true
	rep, err = check(ctx, member, member.Size(), innerOpts)
	if err != nil {
		return nil, true, err
	}
	rep.PackageSecurityOption = SecurityOption2
	rep.SigningCertificate = outer.SigningCertificate
	rep.Problems = append(outer.Problems, rep.Problems...)
	csar.SortProblems(rep.Problems)
	rep.Valid = !hasErrors(rep.Problems)
	return rep, true, nil
}

// structural tells whether the signed package's layout leaves no single
// CSAR to read (a missing .cms or .cert does not: the CSAR is still checked).
func structural(ps []csar.Problem) bool {
	for _, p := range ps {
		if p.Code == csar.CodeSignedPackageLayout || p.Code == csar.CodeSignedPackageCompressed {
			return true
		}
	}
	return false
}

// checkPackageSignature verifies the .cms over the CSAR's bytes, with
// the signer's certificate from the .cert (or the CMS).
func (rep *Report) checkPackageSignature(ctx context.Context, a *csar.Archive, sp *csar.SignedPackage, member *io.SectionReader, opts Signatures) {
	v := opts.verification()
	certs, ok := rep.packageCertificates(a, sp.Cert)
	if !ok {
		return
	}
	v.Certificates = certs
	cms, err := readSmall(a, sp.CMS)
	if err != nil {
		rep.problem(csar.SeverityError, csar.CodeReadError, sp.CMS, 0, "the signature cannot be read: %v", err)
		return
	}
	sig, err := sign.ParseCMS(cms)
	if err == nil {
		cert, verr := verifyStream(ctx, io.NewSectionReader(member, 0, member.Size()), sig, v)
		if verr == nil {
			rep.SigningCertificate = sign.CertificatePEM(cert)
			return
		}
		err = verr
	}
	rep.signatureFailure(err, sp.CMS, 0, "the signature of "+sp.CSAR)
}

// maxSignatureSize bounds a signature or certificate file read into
// memory: a CMS with a chain of certificates is a few kilobytes.
const maxSignatureSize = 1 << 20

func readSmall(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSignatureSize+1))
	if err == nil && len(data) > maxSignatureSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxSignatureSize)
	}
	return data, err
}

// OpenCSAR opens stored package content as the CSAR to read: the content
// itself, or the CSAR inside a signed package (security option 2).
func OpenCSAR(ctx context.Context, r io.ReaderAt, size int64, lim csar.Limits) (*csar.Archive, error) {
	a, err := csar.Open(ctx, r, size, lim)
	if err != nil {
		return nil, err
	}
	sp := detectSignedPackage(a, Options{})
	if sp == nil {
		return a, nil
	}
	member, ok := a.Member(sp.CSAR)
	if !ok {
		return nil, fmt.Errorf("the CSAR %s inside the signed package cannot be read in place", sp.CSAR)
	}
	return csar.Open(ctx, member, member.Size(), lim)
}

// verifyStream hashes r with the signature's digest algorithm (through
// csar/digest, which stops when ctx ends) and verifies the signature.
func verifyStream(ctx context.Context, r io.Reader, sig *sign.Signature, v sign.Verification) (*x509.Certificate, error) {
	res, _, err := digest.Sum(ctx, r, []digest.Want{{Algorithm: sig.HashName()}})
	if err != nil {
		return nil, err
	}
	d, err := hex.DecodeString(res[0].Hex)
	if err != nil {
		return nil, err
	}
	return sig.VerifyDigest(d, v)
}
