package csar

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// Options configure Inspect.
type Options struct {
	// MaxTextSize bounds TOSCA.meta, the manifest and the root YAML read
	// for its metadata. Zero means 8 MiB.
	MaxTextSize int64
}

func (o Options) maxText() int64 {
	if o.MaxTextSize > 0 {
		return o.MaxTextSize
	}
	return 8 << 20
}

// Package is what Inspect learned about a CSAR's structure.
type Package struct {
	Meta             *Meta  // nil when the package has no TOSCA-Metadata directory
	EntryDefinitions string // package path of the main service template ("" when unknown)
	ManifestPath     string // "" when the package has no (readable) manifest
	Manifest         *Manifest
	CertificatePath  string
	Files            []string // every regular file of the package, sorted
	Problems         []Problem
	files            map[string]bool
}

// HasFile reports whether a package path names a regular file.
func (p *Package) HasFile(name string) bool { return p.files[name] }

// HasErrors reports whether any problem is an error.
func (p *Package) HasErrors() bool { return hasErrors(p.Problems) }

func hasErrors(ps []Problem) bool {
	for _, x := range ps {
		if x.Severity == SeverityError {
			return true
		}
	}
	return false
}

func (p *Package) add(sev Severity, code, file string, line, col int, format string, args ...any) {
	p.Problems = append(p.Problems, problemAt(sev, code, file, line, col, format, args...))
}

// Inspect reads a package's structure: TOSCA.meta (or the root YAML of a
// package without one), the manifest and what they point at. It hashes
// nothing; DigestChecks lists the digests to verify.
func Inspect(fsys fs.FS, opts Options) *Package {
	p := &Package{files: map[string]bool{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			p.files[name] = true
			p.Files = append(p.Files, name)
		}
		return nil
	})
	if err != nil {
		p.add(SeverityError, CodeReadError, "", 0, 0, "the package cannot be listed: %v", err)
		return p
	}
	sort.Strings(p.Files)

	if p.hasMetaDir() {
		p.inspectMeta(fsys, opts)
	} else {
		p.inspectRoot(fsys, opts)
	}
	if p.ManifestPath != "" {
		p.inspectManifest(fsys, opts)
	}
	SortProblems(p.Problems)
	return p
}

func (p *Package) hasMetaDir() bool {
	for _, f := range p.Files {
		if strings.HasPrefix(f, "TOSCA-Metadata/") {
			return true
		}
	}
	return false
}

func (p *Package) inspectMeta(fsys fs.FS, opts Options) {
	if !p.files[MetaPath] {
		p.add(SeverityError, CodeMetaKeyMissing, MetaPath, 0, 0, "the package has a TOSCA-Metadata directory but no TOSCA-Metadata/TOSCA.meta")
		return
	}
	data, tooLarge, err := readBounded(fsys, MetaPath, opts.maxText())
	switch {
	case err != nil:
		p.add(SeverityError, CodeReadError, MetaPath, 0, 0, "TOSCA.meta cannot be read: %v", err)
		return
	case tooLarge:
		p.add(SeverityError, CodeMetaTooLarge, MetaPath, 0, 0, "TOSCA.meta is larger than %d bytes", opts.maxText())
		return
	}
	meta, problems := ParseMeta(data, MetaPath)
	p.Meta = meta
	p.Problems = append(p.Problems, problems...)

	if v, ok := meta.Values[KeyEntryDefinitions]; ok && v.Value != "" {
		if name, ok := p.packagePath(v.Value); !ok || !p.files[name] {
			p.add(SeverityError, CodeEntryDefinitionsNotFound, MetaPath, v.Line, v.Column, "Entry-Definitions names %s, which is not in the package", v.Value)
		} else {
			p.EntryDefinitions = name
		}
	}
	if v, ok := meta.Values[KeyEntryManifest]; !ok {
		p.add(SeverityWarning, CodeEntryManifestMissing, MetaPath, 1, 1, "TOSCA.meta has no ETSI-Entry-Manifest: the package has no manifest, so no file is checked against a hash")
	} else {
		name, valid := p.packagePath(v.Value)
		if !strings.HasSuffix(v.Value, ".mf") {
			p.add(SeverityError, CodeEntryManifestExtension, MetaPath, v.Line, v.Column, "ETSI-Entry-Manifest names %q; a manifest file name must end in .mf", v.Value)
		}
		switch {
		case !valid || !p.files[name]:
			p.add(SeverityError, CodeEntryManifestNotFound, MetaPath, v.Line, v.Column, "ETSI-Entry-Manifest names %s, which is not in the package", v.Value)
		case strings.HasSuffix(v.Value, ".mf"):
			p.ManifestPath = name
		}
	}
	for _, key := range []string{KeyEntryChangeLog, KeyEntryLicenses, KeyEntryCertificate, KeyEntryTests, KeyOtherDefinitions} {
		v, ok := meta.Values[key]
		if !ok || v.Value == "" {
			continue
		}
		// Licenses and Tests may name a directory; the others name files.
		for _, ref := range strings.Fields(v.Value) {
			name, valid := p.packagePath(ref)
			if !valid || !(p.files[name] || p.hasDir(name)) {
				p.add(SeverityError, CodeMetaEntryNotFound, MetaPath, v.Line, v.Column, "%s names %s, which is not in the package", key, ref)
			} else if key == KeyEntryCertificate {
				p.CertificatePath = name
			}
		}
	}
	for _, fb := range meta.Files {
		if fb.External {
			p.inspectExternalMetaBlock(fb)
			continue
		}
		name, valid := p.packagePath(fb.Name)
		if !valid || !(p.files[name] || p.hasDir(name)) {
			p.add(SeverityError, CodeMetaFileBlockNotFound, MetaPath, fb.Line, 1, "the file block names %s, which is not in the package", fb.Name)
		}
	}
}

// inspectRoot handles a CSAR without TOSCA-Metadata (SOL 004 option): the
// one YAML file at the root is the entry and its metadata describes the
// package; a manifest at the root must share its base name.
func (p *Package) inspectRoot(fsys fs.FS, opts Options) {
	var yamls, mfs []string
	for _, f := range p.Files {
		if strings.Contains(f, "/") {
			continue
		}
		switch path.Ext(f) {
		case ".yaml", ".yml":
			yamls = append(yamls, f)
		case ".mf":
			mfs = append(mfs, f)
		}
	}
	switch len(yamls) {
	case 0:
		p.add(SeverityError, CodeRootYAMLNone, "", 0, 0, "the package has no TOSCA-Metadata/TOSCA.meta and no YAML file at its root: the main service template is unknown")
	case 1:
		p.EntryDefinitions = yamls[0]
		p.checkRootMetadata(fsys, opts)
	default:
		p.add(SeverityError, CodeRootYAMLMultiple, "", 0, 0, "the package has no TOSCA-Metadata/TOSCA.meta and %d YAML files at its root (%s): exactly one is allowed", len(yamls), strings.Join(yamls, ", "))
	}
	switch len(mfs) {
	case 0:
		p.add(SeverityWarning, CodeRootManifestMissing, "", 0, 0, "the package has no manifest (.mf) at its root, so no file is checked against a hash")
	case 1:
		if p.EntryDefinitions != "" && strings.TrimSuffix(mfs[0], ".mf") != strings.TrimSuffix(p.EntryDefinitions, path.Ext(p.EntryDefinitions)) {
			p.add(SeverityError, CodeRootManifestName, mfs[0], 0, 0, "the manifest %s does not share the base name of the main service template %s", mfs[0], p.EntryDefinitions)
		}
		p.ManifestPath = mfs[0]
	default:
		p.add(SeverityError, CodeRootManifestMultiple, "", 0, 0, "the package has %d manifest files at its root (%s): at most one is allowed", len(mfs), strings.Join(mfs, ", "))
	}
	for _, f := range p.Files {
		if !strings.Contains(f, "/") && (path.Ext(f) == ".cert" || path.Ext(f) == ".crt") && p.ManifestPath != "" &&
			strings.TrimSuffix(f, path.Ext(f)) == strings.TrimSuffix(p.ManifestPath, ".mf") {
			p.CertificatePath = f
		}
	}
}

// checkRootMetadata reads only the top-level metadata keys of the root
// YAML: SOL 004 requires template_name, template_author and
// template_version there when there is no TOSCA.meta.
func (p *Package) checkRootMetadata(fsys fs.FS, opts Options) {
	name := p.EntryDefinitions
	data, tooLarge, err := readBounded(fsys, name, opts.maxText())
	switch {
	case err != nil:
		p.add(SeverityError, CodeReadError, name, 0, 0, "the main service template cannot be read: %v", err)
		return
	case tooLarge:
		p.add(SeverityError, CodeRootYAMLUnreadable, name, 0, 0, "the main service template is larger than %d bytes", opts.maxText())
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.add(SeverityError, CodeRootYAMLUnreadable, name, 0, 0, "the main service template is not valid YAML: %v", err)
		return
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		p.add(SeverityError, CodeRootYAMLUnreadable, name, 1, 1, "the main service template is not a YAML mapping")
		return
	}
	root := doc.Content[0]
	var meta *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "metadata" {
			meta = root.Content[i+1]
		}
	}
	if meta == nil || meta.Kind != yaml.MappingNode {
		p.add(SeverityError, CodeRootYAMLMetadata, name, 1, 1, "a package without TOSCA.meta needs a metadata block with template_name, template_author and template_version in %s", name)
		return
	}
	have := map[string]bool{}
	for i := 0; i+1 < len(meta.Content); i += 2 {
		have[meta.Content[i].Value] = meta.Content[i+1].Value != ""
	}
	for _, k := range []string{"template_name", "template_author", "template_version"} {
		if !have[k] {
			p.add(SeverityError, CodeRootYAMLMetadata, name, meta.Line, meta.Column, "the metadata of %s has no %s (required for a package without TOSCA.meta)", name, k)
		}
	}
}

func (p *Package) inspectManifest(fsys fs.FS, opts Options) {
	name := p.ManifestPath
	data, tooLarge, err := readBounded(fsys, name, opts.maxText())
	switch {
	case err != nil:
		p.add(SeverityError, CodeReadError, name, 0, 0, "the manifest cannot be read: %v", err)
		return
	case tooLarge:
		p.add(SeverityError, CodeManifestTooLarge, name, 0, 0, "the manifest is larger than %d bytes", opts.maxText())
		return
	}
	m, problems := ParseManifest(data, name)
	p.Manifest = m
	p.Problems = append(p.Problems, problems...)

	listed := map[string]bool{}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Source == "" {
			continue
		}
		if e.External {
			p.inspectExternalManifestEntry(e, name)
			continue
		}
		src, valid := p.packagePath(e.Source)
		switch {
		case !valid:
			p.add(SeverityError, CodeManifestSourceInvalid, name, e.Line, 1, "Source %q is not a path inside the package", e.Source)
			continue
		case !p.files[src]:
			p.add(SeverityError, CodeManifestSourceNotFound, name, e.Line, 1, "Source %s is not in the package", e.Source)
			continue
		}
		listed[src] = true
		if e.Algorithm != "" {
			if _, known := digest.Lookup(e.Algorithm); !known {
				p.add(SeverityError, CodeManifestAlgorithmUnknown, name, e.AlgLine, e.AlgColumn, "Algorithm %q of %s is not a known hash algorithm (known: %s)", e.Algorithm, e.Source, strings.Join(digest.Names(), ", "))
			} else if e.Hash != "" {
				if err := digest.Validate(digest.Want{Algorithm: e.Algorithm, Expected: e.Hash}); err != nil {
					p.add(SeverityError, CodeManifestHashMalformed, name, e.HashLine, e.HashColumn, "the Hash of %s is not a %s digest: %v", e.Source, e.Algorithm, err)
				}
			}
		}
		for _, extra := range []string{e.Signature, e.Certificate} {
			if extra != "" {
				if n, ok := p.packagePath(extra); ok {
					listed[n] = true
				}
			}
		}
	}
	for _, set := range m.NonManoSets {
		for _, s := range set.Sources {
			if isURI(s) {
				continue
			}
			if n, ok := p.packagePath(s); !ok || !p.files[n] {
				p.add(SeverityError, CodeManifestNonManoSetUnknown, name, set.Line, 1, "non-MANO artifact set %s lists %s, which is not in the package", set.ID, s)
			}
		}
	}
	// SOL 004 asks the manifest to list every file of the package; Tacker's
	// samples leave the VNFD files out, so this is a warning.
	for _, f := range p.Files {
		if listed[f] || f == name || f == p.CertificatePath || strings.HasPrefix(f, "TOSCA-Metadata/") {
			continue
		}
		p.add(SeverityWarning, CodeManifestFileUnlisted, f, 0, 0, "%s is not listed in the manifest %s, so its integrity is not checked", f, name)
	}
}

// packagePath turns a reference written in TOSCA.meta or the manifest into
// a package path. ok is false for absolute paths and paths leaving the
// package.
func (p *Package) packagePath(ref string) (string, bool) {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.Contains(ref, `\`) {
		return "", false
	}
	clean := path.Clean(ref)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

func (p *Package) hasDir(name string) bool {
	prefix := strings.TrimSuffix(name, "/") + "/"
	i := sort.SearchStrings(p.Files, prefix)
	return i < len(p.Files) && strings.HasPrefix(p.Files[i], prefix)
}
