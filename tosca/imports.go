package tosca

import (
	"errors"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
)

// Phase 2, imports: the entry file, the normative types its
// tosca_definitions_version implies, and every file reachable through
// imports, each read once, in depth-first import order.
//
// Where an import points:
//   - a URL (http, https, ...) goes to the ImportResolver, never to the
//     network; an unresolved URL is an error naming it;
//   - a relative path in a package file is joined with the importing
//     file's directory and must stay inside the package;
//   - a relative path in a file that came from the resolver (an embedded
//     profile or a URL) is joined with that file's name or URL and goes
//     to the resolver again;
//   - a package import that is missing and whose base name is one of the
//     SOL 001 files falls back, with a warning, to the embedded SOL 001
//     profile: the newest embedded version whose tosca_definitions_version
//     equals the importing file's, or the newest one if none does.

// srcFile is one file of the service template in this Process call.
type srcFile struct {
	name      string
	pf        *parsedFile
	inPackage bool
	fallback  bool // part of the embedded SOL 001 types used for undeclared names
	loading   bool // on the import stack (loop detection)
	imports   []fileImport
	decls     []*typeDecl
	byName    map[string]*typeDecl              // declarations by name, any section
	kinds     map[TypeKind]map[string]*typeDecl // declarations by real kind (after phase 4)
	memo      map[scopeKey]*typeDecl
	visit     int // scope-search generation mark
}

type fileImport struct {
	file   *srcFile
	prefix string
}

// readAll runs phases 1 and 2. It returns false when the entry cannot be
// processed at all.
func (p *processor) readAll(entry string) bool {
	// "./Definitions/x.yaml" and "/Definitions/x.yaml" name the same file.
	if clean := path.Clean(strings.TrimPrefix(entry, "/")); clean != ".." && !strings.HasPrefix(clean, "../") {
		entry = clean
	}
	if !fs.ValidPath(entry) || entry == "." {
		p.errorf(CodeFileUnreadable, Position{File: entry}, "the entry %q is not a valid path inside the package", entry)
		return false
	}
	data, ok := p.readPackageFile(entry, Position{File: entry})
	if !ok {
		return false
	}
	f := p.register(entry, data, true, false)
	p.entry = f
	pf := f.pf
	if pf.root == nil {
		return false
	}
	p.st.DefinitionsVersion = pf.version
	p.st.Metadata = copyStringMap(pf.metadata)
	p.st.Description = pf.description
	if pf.version == "" {
		return false // reported by the grammar
	}
	name, ndata, ok := p.norm.Normative(pf.version)
	if !ok {
		return false // reported by checkVersion
	}
	p.normative = p.registerEmbedded(name, ndata, false)
	p.loadImports(f, nil)
	return !p.budget.over
}

// register parses a file and records it. Files of the fallback world (the
// embedded SOL 001 types undeclared names are borrowed from) are not part
// of the service template: not in its read order, not in Files.
func (p *processor) register(name string, data []byte, inPackage, fallback bool) *srcFile {
	p.fileCount++
	f := &srcFile{name: name, inPackage: inPackage, fallback: fallback, pf: p.parse(name, data)}
	p.files[name] = f
	p.pl.merge(f.pf.problems)
	if inPackage {
		p.st.Files = append(p.st.Files, name)
	}
	if !fallback {
		p.order = append(p.order, f)
	}
	p.checkVersion(f)
	return f
}

// registerEmbedded records a file that came from the resolver.
func (p *processor) registerEmbedded(name string, data []byte, fallback bool) *srcFile {
	if f := p.files[name]; f != nil {
		return f
	}
	return p.register(name, data, false, fallback)
}

func (p *processor) checkVersion(f *srcFile) {
	pf := f.pf
	if pf.root == nil || pf.version == "" {
		return
	}
	known, seen := p.versions[pf.version]
	if !seen {
		_, _, known = p.norm.Normative(pf.version)
		if p.versions == nil {
			p.versions = map[string]bool{}
		}
		p.versions[pf.version] = known
	}
	if !known {
		p.errorf(CodeDefinitionsVers, posOf(f.name, pf.versionNode),
			"unknown tosca_definitions_version %q; this processor reads tosca_simple_yaml_1_2 and tosca_simple_yaml_1_3", pf.version)
	}
}

// loadImports reads f's imports depth-first.
func (p *processor) loadImports(f *srcFile, stack []string) {
	f.loading = true
	stack = append(stack, f.name)
	defer func() { f.loading = false }()
	for _, imp := range f.pf.imports {
		if p.budget.over {
			return // reported once, by the file that did not fit
		}
		name, data, inPackage, ok := p.locate(f, imp)
		if !ok {
			continue
		}
		if g := p.files[name]; g != nil {
			if g.loading {
				p.errorf(CodeImportLoop, imp.pos, "import loop: %s -> %s", strings.Join(stack, " -> "), name)
				continue
			}
			f.imports = append(f.imports, fileImport{file: g, prefix: imp.prefix})
			continue
		}
		if p.fileCount >= p.lim.MaxFiles {
			if !p.tooMany {
				p.tooMany = true
				p.errorf(CodeTooManyFiles, imp.pos, "more than %d files are imported; the rest are not read", p.lim.MaxFiles)
			}
			continue
		}
		g := p.register(name, data, inPackage, f.fallback)
		f.imports = append(f.imports, fileImport{file: g, prefix: imp.prefix})
		if g.pf.root != nil {
			p.loadImports(g, stack)
		}
	}
}

// locate finds the file an import names and reads it (unless it was read
// already: data is then nil).
func (p *processor) locate(f *srcFile, imp rawImport) (name string, data []byte, inPackage, ok bool) {
	ref := imp.file
	if imp.repository != "" {
		repo, known := f.pf.repos[imp.repository]
		if !known {
			p.errorf(CodeImportRepository, imp.pos, "import of %q names the repository %q, which this file does not define", imp.file, imp.repository)
			return "", nil, false, false
		}
		ref = joinURL(repo.url, imp.file)
		p.addRepositoryReferenced(repo.url)
	}
	switch {
	case isURL(ref):
		return p.resolve(ref, imp.pos)
	case !f.inPackage:
		// A relative import inside a file that came from the resolver.
		if isURL(f.name) {
			base, err1 := url.Parse(f.name)
			rel, err2 := url.Parse(ref)
			if err1 != nil || err2 != nil {
				p.errorf(CodeImportUnresolved, imp.pos, "cannot join the import %q with %q", ref, f.name)
				return "", nil, false, false
			}
			return p.resolve(base.ResolveReference(rel).String(), imp.pos)
		}
		return p.resolve(path.Join(path.Dir(f.name), ref), imp.pos)
	}
	if strings.HasPrefix(ref, "/") || strings.Contains(ref, `\`) {
		p.errorf(CodeImportOutside, imp.pos, "the import %q is not a relative path inside the package", ref)
		return "", nil, false, false
	}
	target := path.Join(path.Dir(f.name), ref)
	if target == ".." || strings.HasPrefix(target, "../") {
		p.errorf(CodeImportOutside, imp.pos, "the import %q leaves the package", ref)
		return "", nil, false, false
	}
	if p.files[target] != nil {
		return target, nil, true, true
	}
	data, found := p.readPackageFileOpt(target, imp.pos)
	if found {
		return target, data, true, data != nil
	}
	if base := path.Base(target); base == sol001Common || base == sol001VNFD {
		if name, data, version, ok := p.sol001File(f.pf.version, base); ok {
			p.warnf(CodeImportFallback, imp.pos,
				"%q is not in the package; the embedded ETSI SOL 001 v%s %s is used instead (the newest embedded version for %s)",
				target, version, base, f.pf.version)
			if p.files[name] != nil {
				return name, nil, false, true
			}
			return name, data, false, true
		}
	}
	p.errorf(CodeImportMissing, imp.pos, "the imported file %q is not in the package", target)
	return "", nil, false, false
}

// resolve asks the resolver for a file outside the package.
func (p *processor) resolve(ref string, at Position) (string, []byte, bool, bool) {
	name, data, ok := p.resolver.Resolve(ref)
	if !ok {
		p.errorf(CodeImportUnresolved, at, "the import %q cannot be resolved: it is not in the package and no embedded profile provides it (URLs are never fetched)", ref)
		return "", nil, false, false
	}
	if p.files[name] != nil {
		return name, nil, false, true
	}
	if int64(len(data)) > p.lim.MaxFileSize {
		p.errorf(CodeFileTooLarge, at, "%q has %d bytes, more than the limit of %d", name, len(data), p.lim.MaxFileSize)
		return "", nil, false, false
	}
	return name, data, false, true
}

// readPackageFile reads a file of the package, reporting every failure.
func (p *processor) readPackageFile(name string, at Position) ([]byte, bool) {
	data, found := p.readPackageFileOpt(name, at)
	if !found {
		p.errorf(CodeFileUnreadable, at, "%q is not in the package", name)
		return nil, false
	}
	return data, data != nil
}

// readPackageFileOpt reads a file of the package; found is false when it
// does not exist (not reported), data is nil on any other failure
// (reported).
func (p *processor) readPackageFileOpt(name string, at Position) (data []byte, found bool) {
	info, err := fs.Stat(p.fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			return nil, false
		}
		p.errorf(CodeFileUnreadable, at, "%q cannot be read: %s", name, plainError(err))
		return nil, true
	}
	if info.IsDir() {
		p.errorf(CodeFileUnreadable, at, "%q is a directory, not a file", name)
		return nil, true
	}
	if info.Size() > p.lim.MaxFileSize {
		p.errorf(CodeFileTooLarge, at, "%q has %d bytes, more than the limit of %d", name, info.Size(), p.lim.MaxFileSize)
		return nil, true
	}
	if !p.admitBytes(name, info.Size()) {
		return nil, true
	}
	data, err = fs.ReadFile(p.fsys, name)
	if err != nil {
		p.errorf(CodeFileUnreadable, at, "%q cannot be read: %s", name, plainError(err))
		return nil, true
	}
	if int64(len(data)) > p.lim.MaxFileSize {
		p.errorf(CodeFileTooLarge, at, "%q has more than %d bytes", name, p.lim.MaxFileSize)
		return nil, true
	}
	return data, true
}

// plainError keeps the last part of an error chain ("open x: file does not
// exist" -> "file does not exist").
func plainError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func joinURL(base, file string) string {
	if isURL(file) {
		return file
	}
	if u, err := url.Parse(base); err == nil {
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if r, err := url.Parse(file); err == nil {
			return u.ResolveReference(r).String()
		}
	}
	return strings.TrimSuffix(base, "/") + "/" + file
}

func (p *processor) addRepositoryReferenced(u string) {
	for _, r := range p.st.RepositoriesReferenced {
		if r == u {
			return
		}
	}
	p.st.RepositoriesReferenced = append(p.st.RepositoriesReferenced, u)
}

var definitionsVersionRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^tosca_definitions_version:[ \t]*['"]?([A-Za-z0-9_.]+)`)
}}

// sol001File picks the embedded SOL 001 file for a missing import: the
// newest version whose tosca_definitions_version equals the importing
// file's, else the newest.
func (p *processor) sol001File(defVersion, base string) (name string, data []byte, version string, ok bool) {
	if p.sol001Pick == nil {
		p.sol001Pick = map[string]string{}
	}
	v, picked := p.sol001Pick[defVersion]
	if !picked {
		versions := p.sol.SOL001Versions()
		for i := len(versions) - 1; i >= 0 && v == ""; i-- {
			_, d, ok := p.sol.SOL001(versions[i], sol001VNFD)
			if !ok {
				_, d, ok = p.sol.SOL001(versions[i], sol001Common)
			}
			if m := definitionsVersionRE.Get().FindSubmatch(d); ok && m != nil && string(m[1]) == defVersion {
				v = versions[i]
			}
		}
		if v == "" && len(versions) > 0 {
			v = versions[len(versions)-1]
		}
		p.sol001Pick[defVersion] = v
	}
	if v == "" {
		return "", nil, "", false
	}
	name, data, ok = p.sol.SOL001(v, base)
	return name, data, v, ok
}
