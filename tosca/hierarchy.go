package tosca

import (
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
)

// Phase 4, hierarchy: the real kind of every type, its parent, and
// derivation loops.
//
// The real kind of a type is the kind of the root its derived_from chain
// ends at: Tacker's single-file sample declares data, capability,
// relationship, policy and interface types under node_types, which
// tosca-parser lets through. Such a type is read as its real kind, with a
// warning (tosca-wrong-section). A data type may derive from a primitive
// type (TOSCA 1.3: `derived_from: string`).

var primitiveTypes = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"string": true, "integer": true, "float": true, "boolean": true, "timestamp": true, "null": true,
		"version": true, "range": true, "list": true, "map": true,
		"scalar-unit.size": true, "scalar-unit.time": true, "scalar-unit.frequency": true, "scalar-unit.bitrate": true,
	}
}}

// hierarchy runs phase 4 over the main world.
func (p *processor) hierarchy() {
	p.prepareWorld(p.order)
}

// prepareWorld infers kinds, indexes declarations by kind, checks
// duplicates (main world only) and resolves parents of a set of files.
func (p *processor) prepareWorld(files []*srcFile) {
	main := len(files) > 0 && !files[0].fallback
	var all []*typeDecl
	for _, f := range files {
		all = append(all, f.decls...)
	}
	for _, d := range all {
		p.inferKind(d)
	}
	if main {
		p.global = map[TypeKind]map[string]*typeDecl{}
	}
	for _, f := range files {
		if f.byName == nil {
			continue
		}
		f.kinds = map[TypeKind]map[string]*typeDecl{}
		for _, d := range f.decls {
			m := f.kinds[d.kind]
			if m == nil {
				m = map[string]*typeDecl{}
				f.kinds[d.kind] = m
			}
			if prev := m[d.raw.name]; prev != nil {
				if !sameNode(prev.raw.body, d.raw.body) {
					p.errorf(CodeDuplicateType, d.raw.pos, "%s %s is defined twice in this file; the first is at %s",
						kindNoun(d.kind), d.raw.name, fmtPos(prev.raw.pos))
				}
				continue
			}
			m[d.raw.name] = d
			if main {
				g := p.global[d.kind]
				if g == nil {
					g = map[string]*typeDecl{}
					p.global[d.kind] = g
				}
				if g[d.raw.name] == nil {
					g[d.raw.name] = d
				}
			}
		}
	}
	if main {
		p.checkDuplicates()
	}
	for _, d := range all {
		p.resolveParent(d)
	}
	p.detectLoops(all)
}

// inferKind returns the real kind of d: the kind of its parent, or its
// section for a root type.
func (p *processor) inferKind(d *typeDecl) TypeKind {
	switch d.kindState {
	case 2:
		return d.kind
	case 1:
		return d.raw.section // a derivation loop; reported by detectLoops
	}
	d.kindState = 1
	kind := d.raw.section
	if parent := d.raw.derived; parent != "" {
		if primitiveTypes.Get()[parent] {
			kind = KindData
		} else if pd := p.inferLookup(d.file, d.raw.section, parent, d.parentPos()); pd != nil && pd != d {
			kind = p.inferKind(pd)
		}
	}
	d.kind, d.kindState = kind, 2
	d.t.Kind = kind
	if kind != d.raw.section {
		p.warnf(CodeWrongSection, d.raw.pos,
			"%s is declared under %s but derives from a %s; it is read as a %s (tosca-parser accepts this, TOSCA does not: move it to %s)",
			d.raw.name, d.raw.section, kindNoun(kind), kindNoun(kind), kind)
	}
	return kind
}

func (d *typeDecl) parentPos() Position {
	if d.raw.derivedNode != nil {
		return posOf(d.file.name, d.raw.derivedNode)
	}
	return d.raw.pos
}

// resolveParent links d to its parent declaration.
func (p *processor) resolveParent(d *typeDecl) {
	name := d.raw.derived
	if name == "" {
		return
	}
	at := d.parentPos()
	if primitiveTypes.Get()[name] {
		if d.kind != KindData {
			p.errorf(CodeWrongKind, at, "%s %s derives from the primitive type %s; only data types can", kindNoun(d.kind), d.raw.name, name)
			return
		}
		d.primitive = name
		return
	}
	pd := p.lookup(d.file, d.kind, name, at)
	if pd == nil {
		if other := p.lookup(d.file, "", name, at); other != nil {
			p.errorf(CodeWrongKind, at, "%s %s derives from %s, which is a %s", kindNoun(d.kind), d.raw.name, name, kindNoun(other.kind))
			return
		}
		p.errorf(CodeUnknownType, at, "%s %s derives from %s, which is not defined", kindNoun(d.kind), d.raw.name, name)
		return
	}
	if pd == d {
		p.errorf(CodeDerivationLoop, at, "%s %s derives from itself", kindNoun(d.kind), d.raw.name)
		return
	}
	d.parent = pd
	d.t.Parent = pd.t
}

// detectLoops breaks derivation loops (A derives from B derives from A),
// reporting each once at the declaration that closes it.
func (p *processor) detectLoops(all []*typeDecl) {
	const (
		white = iota
		gray
		black
	)
	for _, d := range all {
		if d.color != white {
			continue
		}
		var path []*typeDecl
		x := d
		for x != nil && x.color == white {
			x.color = gray
			path = append(path, x)
			x = x.parent
		}
		if x != nil && x.color == gray {
			var names []string
			start := 0
			for i, y := range path {
				if y == x {
					start = i
				}
			}
			for _, y := range path[start:] {
				names = append(names, y.raw.name)
			}
			names = append(names, x.raw.name)
			last := path[len(path)-1]
			p.errorf(CodeDerivationLoop, last.parentPos(), "derivation loop: %s", strings.Join(names, " -> "))
			last.parent = nil
			last.t.Parent = nil
		}
		for _, y := range path {
			y.color = black
		}
	}
	// Every IsA walks the chain: a hostile chain of thousands of types
	// would make each check slow. No real profile comes near the bound.
	depth := make(map[*typeDecl]int, len(all))
	var depthOf func(d *typeDecl) int
	depthOf = func(d *typeDecl) int {
		n := 0
		var chain []*typeDecl
		for x := d; x != nil; x = x.parent {
			if k, ok := depth[x]; ok {
				n = k
				break
			}
			chain = append(chain, x)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			n++
			if n > maxDerivationDepth {
				y := chain[i]
				p.errorf(CodeDerivationLoop, y.parentPos(), "%s derives through more than %d ancestors", y.raw.name, maxDerivationDepth)
				y.parent, y.t.Parent = nil, nil
				n = 1
			}
			depth[chain[i]] = n
		}
		return n
	}
	for _, d := range all {
		depthOf(d)
	}
}

// maxDerivationDepth bounds derivation chains.
const maxDerivationDepth = 64

// resolveType finds a type of a kind by name from file f, reporting an
// unknown name or a type of another kind at at. what names the reference
// for the message ("the type of property x").
func (p *processor) resolveType(f *srcFile, kind TypeKind, name string, at Position, what string) *Type {
	d := p.lookup(f, kind, name, at)
	if d == nil {
		if other := p.lookup(f, "", name, at); other != nil {
			p.errorf(CodeWrongKind, at, "%s: %s is a %s, not a %s", what, name, kindNoun(other.kind), kindNoun(kind))
			return nil
		}
		p.errorf(CodeUnknownType, at, "%s: %s %s is not defined", what, kindNoun(kind), name)
		return nil
	}
	p.build(d)
	return d.t
}
