package csar

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
)

// SignedPackage is the layout of a SOL 004 security option 2 package: a
// zip holding the CSAR (.csar or .zip), its detached CMS signature (.cms)
// and the signing certificate (.cert), with one base name.
type SignedPackage struct {
	CSAR, CMS, Cert string // member names; CMS or Cert "" when missing
	Problems        []Problem
}

// zipMagic starts every zip (a local file header).
var zipMagic = []byte("PK\x03\x04")

// DetectSignedPackage tells a signed package from a CSAR by its content:
// an archive with no TOSCA-Metadata, no YAML and no manifest, whose one
// .csar or .zip member is itself a zip. nil means a plain CSAR.
func DetectSignedPackage(a *Archive) *SignedPackage {
	var candidates, others []string
	for _, e := range a.Files() {
		if e.IsDir() {
			continue
		}
		name := e.Path
		switch ext := strings.ToLower(path.Ext(name)); {
		case strings.HasPrefix(name, "TOSCA-Metadata/"), ext == ".yaml", ext == ".yml", ext == ".mf":
			return nil
		case (ext == ".csar" || ext == ".zip") && a.startsWithZip(name):
			candidates = append(candidates, name)
		default:
			others = append(others, name)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sp := &SignedPackage{CSAR: candidates[0]}
	add := func(code, file, format string, args ...any) {
		sp.Problems = append(sp.Problems, problemAt(SeverityError, code, file, 0, 0, format, args...))
	}
	if len(candidates) > 1 {
		add(CodeSignedPackageLayout, "", "the signed package holds %d CSARs (%s): exactly one is allowed", len(candidates), strings.Join(candidates, ", "))
		return sp
	}
	base := strings.TrimSuffix(sp.CSAR, path.Ext(sp.CSAR))
	for _, o := range others {
		switch o {
		case base + ".cms":
			sp.CMS = o
		case base + ".cert":
			sp.Cert = o
		default:
			add(CodeSignedPackageLayout, o, "the signed package holds %s besides the CSAR %s, its .cms and .cert", o, sp.CSAR)
		}
	}
	if sp.CMS == "" {
		add(CodeSignedPackageCMSMissing, "", "the signed package holds the CSAR %s but no signature %s.cms", sp.CSAR, base)
	}
	if sp.Cert == "" {
		add(CodeSignedPackageCertMissing, "", "the signed package holds the CSAR %s but no certificate %s.cert", sp.CSAR, base)
	}
	if e, ok := a.Lookup(sp.CSAR); ok && e.zipFile != nil && e.zipFile.Method != zip.Store {
		add(CodeSignedPackageCompressed, sp.CSAR, "the CSAR %s inside the signed package is compressed: store it uncompressed (zip -0; a CSAR is compressed already), so that it is read in place", sp.CSAR)
	}
	return sp
}

func (a *Archive) startsWithZip(name string) bool {
	f, err := a.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(zipMagic))
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, zipMagic)
}

// Member returns a member stored uncompressed as a reader over the
// archive's own bytes, so that a package inside a package is read in
// place, never copied.
func (a *Archive) Member(name string) (*io.SectionReader, bool) {
	f, err := a.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	rf, ok := f.(*randomFile)
	if !ok {
		return nil, false
	}
	return io.NewSectionReader(rf.section, 0, rf.section.Size()), true
}
