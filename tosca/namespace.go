package tosca

import (
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
)

// Phase 3, namespaces. Types are keyed by their full name. A name is
// looked up from the file that uses it, in this order:
//
//  1. the file's own declarations;
//  2. with a prefix ("p:Name"), the files imported with namespace_prefix p;
//  3. the files it imports without prefix, transitively;
//  4. the normative types of the entry's tosca_definitions_version, by
//     full name (tosca.nodes.Compute) or short name (Compute,
//     tosca:Compute), as the TOSCA specification allows;
//  5. any other file of the service template: tosca-parser has a flat
//     namespace and Tacker ships a SOL 001 file that uses types of a file
//     it does not import; accepted with a warning;
//  6. for a SOL 001 name (tosca.<kind>.nfv.*, ...) nobody declares, the
//     embedded SOL 001 profile: tosca-parser does not check the types of
//     unused definitions and Tacker's single-file sample relies on that;
//     accepted with a warning.
//
// Two different definitions of one name visible in one namespace are an
// error naming both; the same definition read from two copies of a file
// is not.

// typeDecl is one type declaration in this Process call.
type typeDecl struct {
	raw       *rawDecl
	file      *srcFile
	kind      TypeKind // real kind (phase 4)
	kindState uint8    // 0 new, 1 inferring, 2 known
	parent    *typeDecl
	primitive string // data types derived from a primitive type
	color     uint8  // derivation loop detection
	state     uint8  // build state: 0 new, 1 building, 2 built
	t         *Type
}

type scopeKey struct {
	kind   TypeKind // "" for any kind
	name   string
	strict bool // without the lenient steps 5 and 6
}

// kindPrefix is the namespace of normative type names of each kind.
var kindPrefix = &lazy.Value[map[TypeKind]string]{Build: func() map[TypeKind]string {
	return map[TypeKind]string{
		KindData: "tosca.datatypes.", KindArtifact: "tosca.artifacts.", KindCapability: "tosca.capabilities.",
		KindInterface: "tosca.interfaces.", KindRelationship: "tosca.relationships.", KindNode: "tosca.nodes.",
		KindGroup: "tosca.groups.", KindPolicy: "tosca.policies.",
	}
}}

// namespaces declares the types of every file read (phase 3).
func (p *processor) namespaces() {
	for _, f := range p.order {
		p.declare(f)
	}
	p.normShort = map[TypeKind]map[string]*typeDecl{}
	if p.normative == nil {
		return
	}
	// The specification names normative types by their full name minus
	// tosca.<kind>. (Endpoint.Admin) and, where unambiguous, by the last
	// segment (tosca.interfaces.node.lifecycle.Standard is Standard).
	lastCount := map[scopeKey]int{}
	for _, d := range p.normative.decls {
		k, prefix := d.raw.section, kindPrefix.Get()[d.raw.section]
		if !strings.HasPrefix(d.raw.name, prefix) {
			continue
		}
		if p.normShort[k] == nil {
			p.normShort[k] = map[string]*typeDecl{}
		}
		short := d.raw.name[len(prefix):]
		p.normShort[k][short] = d
		lastCount[scopeKey{kind: k, name: short[strings.LastIndexByte(short, '.')+1:]}]++
	}
	for _, d := range p.normative.decls {
		k, prefix := d.raw.section, kindPrefix.Get()[d.raw.section]
		if !strings.HasPrefix(d.raw.name, prefix) {
			continue
		}
		short := d.raw.name[len(prefix):]
		last := short[strings.LastIndexByte(short, '.')+1:]
		if _, taken := p.normShort[k][last]; !taken && lastCount[scopeKey{kind: k, name: last}] == 1 {
			p.normShort[k][last] = d
		}
	}
}

// declare creates the declarations of a file.
func (p *processor) declare(f *srcFile) {
	if f.byName != nil || f.pf.root == nil {
		return
	}
	f.byName = make(map[string]*typeDecl, len(f.pf.decls))
	f.decls = make([]*typeDecl, 0, len(f.pf.decls))
	for _, rd := range f.pf.decls {
		d := &typeDecl{raw: rd, file: f, kind: rd.section}
		d.t = &Type{Name: rd.name, Pos: rd.pos, Kind: rd.section}
		p.declOf[d.t] = d
		f.decls = append(f.decls, d)
		if f.byName[rd.name] == nil {
			f.byName[rd.name] = d
		}
	}
}

// own returns a declaration of f itself. Before phase 4 has found the
// real kinds, a kind matches the section a type is declared in.
func (f *srcFile) own(kind TypeKind, name string) *typeDecl {
	if kind == "" {
		return f.byName[name]
	}
	if f.kinds == nil {
		if d := f.byName[name]; d != nil && d.raw.section == kind {
			return d
		}
		return nil
	}
	return f.kinds[kind][name]
}

// lookup finds the declaration a name refers to from file f (kind "" for
// any kind). at is where the name is written, for the warnings of the
// lenient steps 5 and 6.
func (p *processor) lookup(f *srcFile, kind TypeKind, name string, at Position) *typeDecl {
	return p.find(f, kind, name, at, false)
}

// lookupStrict is lookup without the lenient steps: for probing several
// kinds before settling for a lenient answer.
func (p *processor) lookupStrict(f *srcFile, kind TypeKind, name string) *typeDecl {
	return p.find(f, kind, name, Position{}, true)
}

func (p *processor) find(f *srcFile, kind TypeKind, name string, at Position, strict bool) *typeDecl {
	if f == nil || name == "" {
		return nil
	}
	key := scopeKey{kind, name, strict}
	if d, ok := f.memo[key]; ok {
		return d
	}
	d := p.lookupUncached(f, kind, name, at, strict)
	if f.memo == nil {
		f.memo = map[scopeKey]*typeDecl{}
	}
	f.memo[key] = d
	return d
}

func (p *processor) lookupUncached(f *srcFile, kind TypeKind, name string, at Position, strict bool) *typeDecl {
	p.gen++
	if d := p.scopeWalk(f, kind, name, p.gen); d != nil {
		return d
	}
	if d := p.normativeLookup(kind, name); d != nil {
		return d
	}
	if f.fallback || strict {
		return nil
	}
	if d := p.globalLookup(kind, name); d != nil && !p.importedWithPrefix(f, d.file) {
		p.warnOnce("undeclared\x00"+f.name+"\x00"+name, CodeUndeclaredImport, at,
			"%s uses %s, which is declared in %s, a file it does not import; accepted because tosca-parser has one flat namespace (import %s)",
			f.name, name, d.file.name, d.file.name)
		return d
	}
	if isSOL001Name(name) {
		if d := p.fallbackLookup(kind, name); d != nil {
			p.warnOnce("sol001\x00"+name, CodeImplicitSOL001, at,
				"%s is not declared by the package; the definition of the embedded %s is used (tosca-parser lets undeclared SOL 001 types through; import the SOL 001 type files)",
				name, d.file.name)
			return d
		}
	}
	return nil
}

// scopeWalk searches f, its prefixed imports (for a prefixed name) and its
// unprefixed imports, transitively, each file once per search.
func (p *processor) scopeWalk(f *srcFile, kind TypeKind, name string, gen int) *typeDecl {
	if f.visit == gen {
		return nil
	}
	f.visit = gen
	if d := f.own(kind, name); d != nil {
		return d
	}
	if i := strings.IndexByte(name, ':'); i > 0 {
		prefix, rest := name[:i], name[i+1:]
		for _, imp := range f.imports {
			if imp.prefix == prefix {
				p.gen++
				if d := p.scopeWalk(imp.file, kind, rest, p.gen); d != nil {
					return d
				}
			}
		}
	}
	for _, imp := range f.imports {
		if imp.prefix != "" {
			continue
		}
		if d := p.scopeWalk(imp.file, kind, name, gen); d != nil {
			return d
		}
	}
	return nil
}

// normativeLookup finds a normative type by full or short name.
func (p *processor) normativeLookup(kind TypeKind, name string) *typeDecl {
	n := p.normative
	if n == nil {
		return nil
	}
	name = strings.TrimPrefix(name, "tosca:")
	if d := n.own(kind, name); d != nil {
		return d
	}
	if kind != "" {
		return p.normShort[kind][name]
	}
	for _, k := range typeSections {
		if d := p.normShort[k][name]; d != nil {
			return d
		}
	}
	return nil
}

// importedWithPrefix reports whether f imports target through an import
// with a namespace_prefix: its types then need the prefix, and the flat
// namespace leniency does not apply.
func (p *processor) importedWithPrefix(f, target *srcFile) bool {
	p.gen++
	gen := p.gen
	var walk func(g *srcFile, prefixed bool) bool
	walk = func(g *srcFile, prefixed bool) bool {
		if g == target {
			return prefixed
		}
		if g.visit == gen {
			return false
		}
		g.visit = gen
		for _, imp := range g.imports {
			if walk(imp.file, prefixed || imp.prefix != "") {
				return true
			}
		}
		return false
	}
	return walk(f, false)
}

// inferLookup finds the parent of a type while kinds are being inferred:
// a declaration in the same section first, then one of any kind. Nothing
// is memoized: kind-specific answers change once the kinds are known.
func (p *processor) inferLookup(f *srcFile, section TypeKind, name string, at Position) *typeDecl {
	p.gen++
	if d := p.scopeWalk(f, section, name, p.gen); d != nil {
		return d
	}
	if d := p.normativeLookup(section, name); d != nil {
		return d
	}
	return p.lookup(f, "", name, at)
}

// globalLookup finds a declaration anywhere in the main world.
func (p *processor) globalLookup(kind TypeKind, name string) *typeDecl {
	if kind != "" {
		return p.global[kind][name]
	}
	for _, f := range p.order {
		if d := f.byName[name]; d != nil {
			return d
		}
	}
	return nil
}

// isSOL001Name reports whether a name is in the namespace of the ETSI NFV
// types (tosca.nodes.nfv.VNF, tosca.artifacts.Implementation.nfv.Mistral).
func isSOL001Name(name string) bool {
	return strings.HasPrefix(name, "tosca.") && strings.Contains(name, ".nfv.")
}

// fallbackLookup finds a name in the embedded SOL 001 types, loading them
// the first time.
func (p *processor) fallbackLookup(kind TypeKind, name string) *typeDecl {
	if !p.fbLoaded {
		p.fbLoaded = true
		p.loadFallback()
	}
	if p.fallback == nil {
		return nil
	}
	p.gen++
	return p.scopeWalk(p.fallback, kind, name, p.gen)
}

// loadFallback reads the embedded SOL 001 VNFD types (which import the
// common types) as a world of their own: they are not part of the service
// template's namespace, only single names are borrowed from them.
func (p *processor) loadFallback() {
	if p.entry == nil {
		return
	}
	name, data, _, ok := p.sol001File(p.entry.pf.version, sol001VNFD)
	if !ok {
		return
	}
	if g := p.files[name]; g != nil {
		return // already part of the service template: nothing to borrow
	}
	f := p.registerEmbedded(name, data, true)
	if f.pf.root == nil {
		return
	}
	p.loadImports(f, nil)
	var world []*srcFile
	for _, g := range p.files {
		if g.fallback {
			world = append(world, g)
		}
	}
	for _, g := range world {
		p.declare(g)
	}
	p.prepareWorld(world)
	p.fallback = f
}

// checkDuplicates walks the namespace of the entry (prefixes accumulate
// along import chains) and reports two different definitions of one name.
func (p *processor) checkDuplicates() {
	if p.entry == nil {
		return
	}
	ns := map[scopeKey]*typeDecl{}
	reported := map[[2]*typeDecl]bool{}
	type visit struct {
		f      *srcFile
		prefix string
	}
	seen := map[visit]bool{}
	var walk func(f *srcFile, prefix string)
	walk = func(f *srcFile, prefix string) {
		if seen[visit{f, prefix}] {
			return
		}
		seen[visit{f, prefix}] = true
		for _, d := range f.decls {
			key := scopeKey{kind: d.kind, name: prefix + d.raw.name}
			prev := ns[key]
			if prev == nil {
				ns[key] = d
				continue
			}
			if prev == d || reported[[2]*typeDecl{prev, d}] || sameNode(prev.raw.body, d.raw.body) {
				continue
			}
			reported[[2]*typeDecl{prev, d}] = true
			if p.packageAndProfile(prev.file, d.file) {
				// A package shipping its own copy of a SOL 001 file next to
				// a file that imports the official one by URL (the ETSI
				// vnfd types import the common types that way) gets two
				// wordings of the same standard.
				p.warnf(CodeDuplicateType, d.raw.pos, "%s %s is defined both here and at %s (one from the package, one from an embedded profile) and the two differ; each file uses the definition it imports",
					kindNoun(d.kind), d.raw.name, fmtPos(prev.raw.pos))
				continue
			}
			p.errorf(CodeDuplicateType, d.raw.pos, "%s %s is defined again with a different definition; the first is at %s",
				kindNoun(d.kind), d.raw.name, fmtPos(prev.raw.pos))
		}
		for _, imp := range f.imports {
			pre := prefix
			if imp.prefix != "" {
				pre += imp.prefix + ":"
			}
			walk(imp.file, pre)
		}
	}
	if p.normative != nil {
		walk(p.normative, "")
	}
	walk(p.entry, "")
}

// packageAndProfile reports whether one file is the package's and the
// other an embedded profile other than the normative types.
func (p *processor) packageAndProfile(a, b *srcFile) bool {
	if a == p.normative || b == p.normative {
		return false
	}
	return a.inPackage != b.inPackage
}

func fmtPos(at Position) string {
	s := at.File
	if at.Line > 0 {
		s += ":" + strconv.Itoa(at.Line)
		if at.Column > 0 {
			s += ":" + strconv.Itoa(at.Column)
		}
	}
	return s
}
