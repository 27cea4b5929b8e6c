package tosca

import (
	"io/fs"

	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxFileSize:  8 << 20,
	MaxFiles:     64,
	MaxNodes:     1_000_000,
	MaxDepth:     100,
	MaxTemplates: 10_000,
	// A Tacker-style package parses ~110 KB and ~6,500 nodes, its SOL 001
	// types and the embedded profiles included (the newest SOL 001 type
	// files are ~200 KB): the budget leaves a margin of 30 or more while
	// keeping the node trees of one call near 40 MB (yaml.v3 needs ~170
	// bytes a node).
	MaxTotalBytes: 8 << 20,
	MaxTotalNodes: 200_000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultLimits.MaxFileSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultLimits.MaxNodes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxTemplates <= 0 {
		l.MaxTemplates = DefaultLimits.MaxTemplates
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultLimits.MaxTotalBytes
	}
	if l.MaxTotalNodes <= 0 {
		l.MaxTotalNodes = DefaultLimits.MaxTotalNodes
	}
	return l
}

// NormativeSource is implemented by an ImportResolver that also supplies the
// normative types of a tosca_definitions_version. Without it the embedded
// profiles (tosca/profiles) supply them.
type NormativeSource interface {
	Normative(definitionsVersion string) (name string, data []byte, ok bool)
}

// SOL001Source is implemented by an ImportResolver that also supplies SOL
// 001 type files by version, for packages that import them without shipping
// them. Without it the embedded profiles supply them.
type SOL001Source interface {
	SOL001(version, baseName string) (name string, data []byte, ok bool)
	SOL001Versions() []string // ascending
}

type embeddedProfiles struct{}

func (embeddedProfiles) Normative(v string) (string, []byte, bool) { return profiles.Normative(v) }
func (embeddedProfiles) SOL001(v, b string) (string, []byte, bool) { return profiles.SOL001(v, b) }
func (embeddedProfiles) SOL001Versions() []string                  { return profiles.SOL001Versions() }

// The SOL 001 file base names that fall back to the embedded profile.
const (
	sol001Common = "etsi_nfv_sol001_common_types.yaml"
	sol001VNFD   = "etsi_nfv_sol001_vnfd_types.yaml"
)

// processor holds the state of one Process call. Phases run in order:
// read and imports (imports.go, read.go), namespace (namespace.go),
// hierarchy (hierarchy.go), inheritance (inherit.go), values and
// constraints (values.go, constraints.go), topology (topology.go) and
// functions (functions.go).
type processor struct {
	fsys     fs.FS
	lim      Limits
	resolver ImportResolver
	norm     NormativeSource
	sol      SOL001Source
	pl       problemList
	st       *ServiceTemplate

	files     map[string]*srcFile
	order     []*srcFile // main world, read order, entry first
	entry     *srcFile
	normative *srcFile
	fileCount int
	tooMany   bool
	budget    budget
	gen       int // scope-search generation (visited marks)

	declOf    map[*Type]*typeDecl
	global    map[TypeKind]map[string]*typeDecl // first declaration of each name, main world
	normShort map[TypeKind]map[string]*typeDecl // normative short names (Compute, tosca:Compute)
	warned    map[string]bool                   // once-only warnings
	fallback  *srcFile                          // embedded SOL 001 types for undeclared names
	fbLoaded  bool
	building  []*typeDecl // types built, for the default checks of phase 6
	checked   int         // building[:checked] had their defaults checked

	sol001Pick map[string]string // definitions version -> chosen SOL 001 version
	versions   map[string]bool   // tosca_definitions_version -> known

	compiled map[*Constraint]*compiledConstraint
	defaults map[*PropertyDef]*defaultInfo
	funcs    []*valueRef // values holding unevaluated functions (phase 8)
	refOf    map[*Value]*valueRef
	reqIndex map[*Type]map[string]*RequirementDef
	capMatch map[capKey]string
}

// Process reads entry (a slash-separated path in fsys) and everything it
// imports, and returns the processed service template with every problem
// found. It never panics and never touches the network: URLs are only
// resolved through opts.Resolver.
func Process(fsys fs.FS, entry string, opts Options) (st *ServiceTemplate) {
	st = &ServiceTemplate{Entry: entry, Types: map[TypeKind]map[string]*Type{}}
	p := &processor{
		fsys:     fsys,
		lim:      opts.Limits.withDefaults(),
		resolver: opts.Resolver,
		st:       st,
		files:    map[string]*srcFile{},
		declOf:   map[*Type]*typeDecl{},
		warned:   map[string]bool{},
		compiled: map[*Constraint]*compiledConstraint{},
		defaults: map[*PropertyDef]*defaultInfo{},
	}
	p.budget.limits = p.lim
	if p.resolver == nil {
		p.resolver = profiles.Resolver{}
	}
	p.norm, p.sol = embeddedProfiles{}, embeddedProfiles{}
	if n, ok := p.resolver.(NormativeSource); ok {
		p.norm = n
	}
	if s, ok := p.resolver.(SOL001Source); ok {
		p.sol = s
	}
	defer func() {
		if r := recover(); r != nil {
			p.pl.errorf(CodeInternal, Position{File: entry}, "internal error of the TOSCA processor, please report it: %v", r)
		}
		p.finish()
	}()
	if fsys == nil {
		p.pl.errorf(CodeFileUnreadable, Position{File: entry}, "no package to read")
		return st
	}
	if !p.readAll(entry) { // phases 1 and 2
		return st
	}
	p.namespaces()  // phase 3
	p.hierarchy()   // phase 4
	p.inheritance() // phase 5
	p.typeValues()  // phase 6 (type-level defaults and constraints)
	p.topologies()  // phase 7
	p.typeValues()  // defaults of types first used by the templates
	p.functions()   // phase 8
	return st
}

// finish fills the parts of the result every phase contributes to.
func (p *processor) finish() {
	rank := map[string]int{}
	for i, f := range p.order {
		if _, ok := rank[f.name]; !ok {
			rank[f.name] = i
		}
	}
	p.st.Problems = p.pl.sorted(rank)
}

func (p *processor) errorf(code string, at Position, format string, args ...any) {
	p.pl.errorf(code, at, format, args...)
}

func (p *processor) warnf(code string, at Position, format string, args ...any) {
	p.pl.warnf(code, at, format, args...)
}

// warnOnce emits a warning once per key.
func (p *processor) warnOnce(key, code string, at Position, format string, args ...any) {
	if p.warned[key] {
		return
	}
	p.warned[key] = true
	p.pl.warnf(code, at, format, args...)
}
