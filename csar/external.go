package csar

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// External artifacts: files a package names by URI instead of holding.
//
// SOL 004 lets the manifest list artifacts that are not in the archive:
// an entry's Source is then the artifact's URI, with the Algorithm and
// Hash the artifact must have once fetched. TOSCA.meta file blocks, from
// the TOSCA CSAR format, name files inside the archive; Tacker also
// accepts a URL there (its test_cnf_ext_artifact sample declares a
// storage-class file at http://...), and fetches it at onboarding to
// check its hash.
//
// This verifier never makes a network request: an external artifact is
// accepted with a warning that says its hash was not checked, in the
// manifest (CodeManifestExternalArtifact) as in TOSCA.meta
// (CodeMetaExternalArtifact). A reference that looks like a URI but is not
// a usable one, and a plain path naming a file the package lacks, stay
// errors.
const (
	// CodeMetaExternalArtifact: a TOSCA.meta file block names a URL
	// (Tacker's extension); the artifact is not fetched.
	CodeMetaExternalArtifact = "meta-external-artifact"
	// CodeExternalURIInvalid: a reference written as scheme://... that is
	// not a well-formed absolute URI with a host.
	CodeExternalURIInvalid = "external-uri-invalid"
)

// checkExternalURI tells why ref, written as a URI (isURI), cannot name an
// artifact outside the package; nil when it can. Only its form is
// checked, never its reachability.
func checkExternalURI(ref string) error {
	if strings.IndexFunc(ref, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("it contains white space or a control character")
	}
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Errorf("it does not parse: %v", errors.Unwrap(err))
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("it names no host")
	}
	if p := u.Port(); p != "" && strings.Trim(p, "0123456789") != "" {
		return fmt.Errorf("its port %q is not a number", p)
	}
	return nil
}

// inspectExternalMetaBlock reports a TOSCA.meta file block that names a
// URI: a warning when it is a well-formed one (with its Algorithm and
// Hash checked for form, as nothing else will check them), an error when
// it is not.
func (p *Package) inspectExternalMetaBlock(fb MetaFileBlock) {
	if err := checkExternalURI(fb.Name); err != nil {
		p.add(SeverityError, CodeExternalURIInvalid, MetaPath, fb.Line, 1, "the file block names %q, which is neither a path in the package nor a usable URI: %v", fb.Name, err)
		return
	}
	p.add(SeverityWarning, CodeMetaExternalArtifact, MetaPath, fb.Line, 1, "the file block names %s, an artifact outside the package (TOSCA.meta file blocks name files of the archive; Tacker also accepts a URL): it is not fetched, so its hash was not checked", fb.Name)
	p.checkDeclaredDigestForm(fb.Name, fb.Algorithm, fb.Hash, MetaPath, fb.HashLine, fb.HashColumn)
}

// checkDeclaredDigestForm reports an Algorithm/Hash pair declared for ref
// that no hash could ever match: an unknown algorithm or a hash of the
// wrong form. It is how a digest of an external artifact is checked, since
// the artifact itself is not read.
func (p *Package) checkDeclaredDigestForm(ref, alg, hash, file string, line, col int) {
	if alg == "" || hash == "" {
		return // a missing half is reported where the block is parsed
	}
	if err := digest.Validate(digest.Want{Algorithm: alg, Expected: hash}); err != nil {
		p.add(SeverityError, CodeManifestHashMalformed, file, line, col, "the Hash of %s is not a %s digest: %v", ref, alg, err)
	}
}

// inspectExternalManifestEntry reports a manifest entry whose Source is a
// URI, as SOL 004 allows: a warning when it is well-formed (the artifact
// is not fetched, so only the form of its digest is checked), an error
// when it is not a usable URI.
func (p *Package) inspectExternalManifestEntry(e *ManifestEntry, manifest string) {
	if err := checkExternalURI(e.Source); err != nil {
		p.add(SeverityError, CodeExternalURIInvalid, manifest, e.Line, 1, "Source %q is neither a path in the package nor a usable URI: %v", e.Source, err)
		return
	}
	p.add(SeverityWarning, CodeManifestExternalArtifact, manifest, e.Line, 1, "%s is an external artifact: it is not fetched during validation, so its hash is not verified", e.Source)
	p.checkDeclaredDigestForm(e.Source, e.Algorithm, e.Hash, manifest, e.HashLine, e.HashColumn)
}
