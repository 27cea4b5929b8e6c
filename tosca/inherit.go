package tosca

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Phase 5, inheritance and refinement: each type's definitions merged with
// those of its ancestors, parents first.
//
// Refinement rules (TOSCA 1.3 section 3.6, applied to 1.2 files too):
//   - a property, attribute or parameter redefined by a child refines the
//     parent's: a new type must be the same or derived from the parent's
//     (a data type derived from the parent's primitive counts); keynames the
//     child leaves out (required, default, description, status, schemas)
//     keep the parent's; constraints add up: the parent's apply, then the
//     child's;
//   - entry_schema and key_schema given by the child replace the parent's.
//     SOL 001 v2.6.1 constrains vnfm_info entries with a pattern that
//     every VNF type of Tacker's samples replaces by valid_values [Tacker];
//     accumulating both would reject every one of them, and TOSCA 1.2 has
//     no refinement at all (a redefinition overrides);
//   - `required` defaults to true for properties and parameters;
//   - capabilities, requirements and interfaces of the same name refine the
//     parent's (a new type must derive from the parent's); requirements
//     keep the parent's order, new ones follow;
//   - members, targets, valid_source_types, valid_target_types, mime_type
//     and file_ext given by a child replace the parent's.

// propMode says which kind of definition a merge builds.
type propMode uint8

const (
	modeProperty propMode = iota
	modeAttribute
	modeParameter
)

// defaultInfo is where a definition's default is written; defaults are
// checked in phase 6, once every type is built.
type defaultInfo struct {
	node  *yaml.Node
	file  *srcFile
	owner string
	state uint8
	// inherited is the parent's definition when the default is inherited:
	// it was checked there, and is kept only if the refined constraints
	// accept it. The normative types need this: tosca.nodes.Abstract.Storage
	// defaults size to 0 MB and BlockStorage refines it to >= 1 MB, so a
	// BlockStorage has no usable default size.
	inherited *PropertyDef
}

// inheritance builds every type of the main world (phase 5).
func (p *processor) inheritance() {
	for _, f := range p.order {
		for _, d := range f.decls {
			p.build(d)
		}
	}
}

// build fills d's Type; parents and referenced types are built on demand.
func (p *processor) build(d *typeDecl) {
	if d.state != 0 {
		return
	}
	d.state = 1
	defer func() { d.state = 2 }()
	if d.parent != nil {
		p.build(d.parent)
	}
	b := d.raw.decoded(d.kind)
	p.pl.merge(b.problems)
	t, f := d.t, d.file
	var par *Type
	if d.parent != nil {
		par = d.parent.t
	}
	t.Description = b.description
	t.Metadata = copyStringMap(b.metadata)
	owner := t.Name
	if par != nil {
		t.Properties = p.mergeProps(f, par.Properties, b.props, owner, modeProperty)
		t.Attributes = p.mergeProps(f, par.Attributes, b.attrs, owner, modeAttribute)
	} else {
		t.Properties = p.mergeProps(f, nil, b.props, owner, modeProperty)
		t.Attributes = p.mergeProps(f, nil, b.attrs, owner, modeAttribute)
	}
	switch d.kind {
	case KindData:
		if par != nil {
			t.Constraints = append(t.Constraints, par.Constraints...)
			t.KeySchema, t.EntrySchema = par.KeySchema, par.EntrySchema
		}
		cat := p.category("", t)
		t.Constraints = append(t.Constraints, p.constraints(f, b.constraints, cat, "")...)
		if b.keySchema != nil {
			t.KeySchema = p.schema(f, b.keySchema)
		}
		if b.entrySchema != nil {
			t.EntrySchema = p.schema(f, b.entrySchema)
		}
	case KindArtifact:
		if par != nil {
			t.MimeType, t.FileExt = par.MimeType, par.FileExt
		}
		if b.mimeType != "" {
			t.MimeType = b.mimeType
		}
		if b.hasFileExt {
			t.FileExt = b.fileExt
		}
	case KindCapability:
		if par != nil {
			t.ValidSources = par.ValidSources
		}
		if b.hasSources {
			t.ValidSources = p.typeNames(f, b.validSources, "valid_source_types of "+owner, KindNode)
		}
	case KindInterface:
		p.buildInterfaceType(d, b, par)
	case KindRelationship:
		if par != nil {
			t.ValidTargets = par.ValidTargets
			t.Interfaces = par.Interfaces
		}
		if b.hasTargets {
			t.ValidTargets = p.typeNames(f, b.targets, "valid_target_types of "+owner, KindCapability, KindNode)
		}
		t.Interfaces = p.mergeInterfaces(f, t.Interfaces, b.ifaces, owner)
	case KindNode, KindGroup:
		if par != nil {
			t.Capabilities, t.Requirements, t.Interfaces, t.Artifacts = par.Capabilities, par.Requirements, par.Interfaces, par.Artifacts
			t.Targets = par.Targets
		}
		t.Capabilities = p.mergeCapabilities(f, t.Capabilities, b.caps, owner)
		t.Requirements = p.mergeRequirements(f, t.Requirements, b.reqs, owner)
		t.Interfaces = p.mergeInterfaces(f, t.Interfaces, b.ifaces, owner)
		if len(b.artifacts) > 0 {
			arts := make(map[string]*ArtifactTemplate, len(t.Artifacts)+len(b.artifacts))
			for k, v := range t.Artifacts {
				arts[k] = v
			}
			for _, ra := range b.artifacts {
				arts[ra.name] = p.artifact(f, ra, "artifact "+ra.name+" of "+owner, nil)
			}
			t.Artifacts = arts
		}
		if d.kind == KindGroup && b.hasTargets {
			t.Targets = p.typeNames(f, b.targets, "members of "+owner, KindNode, KindGroup)
		}
	case KindPolicy:
		if par != nil {
			t.Targets = par.Targets
		}
		if b.hasTargets {
			t.Targets = p.typeNames(f, b.targets, "targets of "+owner, KindNode, KindGroup)
		}
	}
	if m := p.st.Types[d.kind]; m == nil {
		p.st.Types[d.kind] = map[string]*Type{t.Name: t}
	} else if m[t.Name] == nil {
		m[t.Name] = t
	}
	p.building = append(p.building, d)
}

// typeNames resolves a list of type names (of the first kind that knows
// each) to full names.
func (p *processor) typeNames(f *srcFile, names []rawName, what string, kinds ...TypeKind) []string {
	out := make([]string, 0, len(names))
next:
	for _, n := range names {
		for _, k := range kinds {
			if d := p.lookupStrict(f, k, n.name); d != nil {
				out = append(out, d.raw.name)
				continue next
			}
		}
		for _, k := range kinds {
			if d := p.lookup(f, k, n.name, n.pos); d != nil {
				out = append(out, d.raw.name)
				continue next
			}
		}
		nouns := make([]string, len(kinds))
		for i, k := range kinds {
			nouns[i] = kindNoun(k)
		}
		p.errorf(CodeUnknownType, n.pos, "%s: %s is not a known %s", what, n.name, strings.Join(nouns, " or "))
	}
	return out
}

// mergeProps merges definitions (raws) into a copy of the parent's map.
// With nothing to add the parent's map is shared: types are read-only
// once built.
func (p *processor) mergeProps(f *srcFile, parent map[string]*PropertyDef, raws []*rawPropDef, owner string, mode propMode) map[string]*PropertyDef {
	if len(raws) == 0 {
		return parent
	}
	out := make(map[string]*PropertyDef, len(parent)+len(raws))
	for k, v := range parent {
		out[k] = v
	}
	for _, r := range raws {
		out[r.name] = p.propertyDef(f, r, parent[r.name], owner, mode)
	}
	return out
}

func modeNoun(mode propMode) string {
	switch mode {
	case modeAttribute:
		return "attribute"
	case modeParameter:
		return "parameter"
	}
	return "property"
}

// propertyDef builds one definition, refining prev when the parent has one.
func (p *processor) propertyDef(f *srcFile, r *rawPropDef, prev *PropertyDef, owner string, mode propMode) *PropertyDef {
	pd := &PropertyDef{Name: r.name, Pos: r.pos, Required: mode != modeAttribute}
	what := modeNoun(mode) + " " + quote(r.name) + " of " + owner
	if prev != nil {
		*pd = *prev
		pd.Pos = r.pos
		pd.Constraints = append([]*Constraint(nil), prev.Constraints...)
		if p.defaults[prev] != nil || prev.Default != nil {
			p.defaults[pd] = &defaultInfo{inherited: prev}
		}
	}
	switch {
	case r.typeName != "":
		name, dt, known := p.valueType(f, r.typeName, r.typePos, "the type of "+what)
		if prev != nil && known && !p.compatible(prev, name, dt) {
			p.errorf(CodeRefinement, r.typePos, "%s: the type %s does not refine %s, the type the parent defines", what, name, prev.Type)
		}
		pd.Type, pd.DataType = name, dt
	case prev == nil && mode != modeParameter:
		p.errorf(CodeMissingKeyname, r.pos, "%s has no type", what)
	}
	if r.hasDesc {
		pd.Description = r.description
	}
	if r.required >= 0 && mode != modeAttribute {
		pd.Required = r.required == 1
	}
	if r.status != "" {
		pd.Status = r.status
	}
	if r.entry != nil {
		pd.EntrySchema = p.schema(f, r.entry)
	}
	if r.key != nil {
		pd.KeySchema = p.schema(f, r.key)
	}
	if len(r.constraints) > 0 {
		pd.Constraints = append(pd.Constraints, p.constraints(f, r.constraints, p.category(pd.Type, pd.DataType), pd.Type)...)
	}
	if r.def != nil || r.value != nil {
		n := r.def
		if r.value != nil {
			n = r.value
		}
		pd.Default = nil
		p.defaults[pd] = &defaultInfo{node: n, file: f, owner: "the default of " + what}
	}
	return pd
}

// valueType resolves the type of a property, parameter or schema: a
// primitive or a data type. known is false when the name is unknown
// (reported).
func (p *processor) valueType(f *srcFile, name string, at Position, what string) (string, *Type, bool) {
	if primitiveTypes.Get()[name] {
		return name, nil, true
	}
	t := p.resolveType(f, KindData, name, at, what)
	if t == nil {
		return name, nil, false
	}
	return t.Name, t, true
}

// compatible reports whether a refinement's type refines the parent's.
func (p *processor) compatible(prev *PropertyDef, name string, dt *Type) bool {
	if prev.Type == "" || prev.Type == name {
		return true
	}
	if prev.DataType != nil {
		return dt != nil && dt.IsA(prev.DataType.Name)
	}
	// The parent's type is a primitive: a data type derived from it refines it.
	return dt != nil && p.primitiveBase(dt) == prev.Type
}

// primitiveBase is the primitive type a data type derives from, "" for a
// complex data type.
func (p *processor) primitiveBase(t *Type) string {
	for x, i := t, 0; x != nil && i < 64; x, i = x.Parent, i+1 {
		if d := p.declOf[x]; d != nil && d.primitive != "" {
			return d.primitive
		}
	}
	return ""
}

// schema builds an entry_schema or key_schema.
func (p *processor) schema(f *srcFile, r *rawSchema) *Schema {
	s := &Schema{Type: r.typeName, Pos: r.pos}
	name, dt, _ := p.valueType(f, r.typeName, r.typePos, "the type of a schema")
	s.Type, s.DataType = name, dt
	s.Constraints = p.constraints(f, r.constraints, p.category(s.Type, s.DataType), s.Type)
	if r.entry != nil {
		s.EntrySchema = p.schema(f, r.entry)
	}
	if r.key != nil {
		s.KeySchema = p.schema(f, r.key)
	}
	return s
}

// mergeCapabilities merges capability definitions of a node or group type.
func (p *processor) mergeCapabilities(f *srcFile, parent map[string]*CapabilityDef, raws []*rawCapDef, owner string) map[string]*CapabilityDef {
	if len(raws) == 0 {
		return parent
	}
	out := make(map[string]*CapabilityDef, len(parent)+len(raws))
	for k, v := range parent {
		out[k] = v
	}
	for _, r := range raws {
		what := "capability " + quote(r.name) + " of " + owner
		prev := parent[r.name]
		cd := &CapabilityDef{Name: r.name, Pos: r.pos, Occurrences: [2]int{1, -1}}
		if prev != nil {
			*cd = *prev
			cd.Pos = r.pos
		}
		if r.typeName != "" {
			ct := p.resolveType(f, KindCapability, r.typeName, r.typePos, "the type of "+what)
			if prev != nil && prev.Type != nil && ct != nil && !ct.IsA(prev.Type.Name) {
				p.errorf(CodeRefinement, r.typePos, "%s: the type %s does not refine %s, the type the parent defines", what, ct.Name, prev.Type.Name)
			}
			if ct != nil && (prev == nil || prev.Type != ct) {
				cd.Properties, cd.Attributes, cd.ValidSourceTypes = ct.Properties, ct.Attributes, ct.ValidSources
			}
			cd.Type = ct
		} else if prev == nil {
			p.errorf(CodeMissingKeyname, r.pos, "%s has no type", what)
		}
		cd.Properties = p.mergeProps(f, cd.Properties, r.props, what, modeProperty)
		cd.Attributes = p.mergeProps(f, cd.Attributes, r.attrs, what, modeAttribute)
		if r.hasSources {
			cd.ValidSourceTypes = p.typeNames(f, r.validSources, "valid_source_types of "+what, KindNode)
		}
		if r.occ != nil {
			cd.Occurrences = [2]int{r.occ.lo, r.occ.hi}
		}
		out[r.name] = cd
	}
	return out
}

// mergeRequirements merges requirement definitions, keeping order.
func (p *processor) mergeRequirements(f *srcFile, parent []*RequirementDef, raws []*rawReqDef, owner string) []*RequirementDef {
	if len(raws) == 0 {
		return parent
	}
	out := append([]*RequirementDef(nil), parent...)
	index := make(map[string]int, len(out)+len(raws))
	for i, x := range out {
		index[x.Name] = i
	}
	for _, r := range raws {
		what := "requirement " + quote(r.name) + " of " + owner
		idx, ok := index[r.name]
		if !ok {
			idx = -1
		}
		rd := &RequirementDef{Name: r.name, Pos: r.pos, Occurrences: [2]int{1, 1}}
		if idx >= 0 {
			*rd = *out[idx]
			rd.Pos = r.pos
		}
		if r.node != "" {
			if d := p.lookup(f, KindNode, r.node, r.nodePos); d != nil {
				rd.Node = d.raw.name
			} else {
				p.resolveType(f, KindNode, r.node, r.nodePos, "the node of "+what) // reports
			}
		}
		if r.capability != "" {
			if d := p.lookup(f, KindCapability, r.capability, r.capPos); d != nil {
				rd.Capability = d.raw.name
			} else if nt := p.nodeType(f, rd.Node, r.nodePos); nt != nil && nt.Capabilities[r.capability] != nil {
				// TOSCA 1.3: the name of a capability of the target node type.
				rd.Capability = r.capability
			} else {
				p.resolveType(f, KindCapability, r.capability, r.capPos, "the capability of "+what) // reports
			}
		} else if idx < 0 {
			p.errorf(CodeMissingKeyname, r.pos, "%s has no capability", what)
		}
		if r.relationship != "" {
			if t := p.resolveType(f, KindRelationship, r.relationship, r.relPos, "the relationship of "+what); t != nil {
				rd.Relationship = t.Name
			}
		}
		if r.occ != nil {
			rd.Occurrences = [2]int{r.occ.lo, r.occ.hi}
		}
		if idx >= 0 {
			out[idx] = rd
		} else {
			index[r.name] = len(out)
			out = append(out, rd)
		}
	}
	return out
}

// nodeType finds a node type by name, nil when unknown (not reported).
func (p *processor) nodeType(f *srcFile, name string, at Position) *Type {
	if name == "" {
		return nil
	}
	d := p.lookup(f, KindNode, name, at)
	if d == nil {
		return nil
	}
	p.build(d)
	return d.t
}

// buildInterfaceType fills an interface type: its inputs and operations,
// held as the single entry of its Interfaces map, under its own name.
func (p *processor) buildInterfaceType(d *typeDecl, b *rawBody, par *Type) {
	t := d.t
	var base *InterfaceDef
	if par != nil {
		base = par.Interfaces[par.Name]
	}
	id := &InterfaceDef{Name: t.Name, Type: t, Pos: t.Pos}
	var baseInputs map[string]*PropertyDef
	var baseOps map[string]*Operation
	if base != nil {
		baseInputs, baseOps = base.Inputs, base.Operations
	}
	id.Inputs = p.mergeProps(d.file, baseInputs, b.inputs, "interface type "+t.Name, modeParameter)
	id.Operations = p.mergeOperations(d.file, baseOps, b.ops, "interface type "+t.Name, true)
	t.Interfaces = map[string]*InterfaceDef{t.Name: id}
}

// mergeOperations merges operation definitions into a copy of base.
func (p *processor) mergeOperations(f *srcFile, base map[string]*Operation, raws []*rawOpDef, owner string, inType bool) map[string]*Operation {
	if len(raws) == 0 {
		return base
	}
	out := make(map[string]*Operation, len(base)+len(raws))
	for k, v := range base {
		out[k] = v
	}
	for _, r := range raws {
		prev := base[r.name]
		op := &Operation{Name: r.name, Pos: r.pos}
		if prev != nil {
			*op = *prev
			op.Pos = r.pos
		}
		if r.description != "" {
			op.Description = r.description
		}
		if r.impl != "" {
			op.Implementation, op.Dependencies = r.impl, r.deps
		}
		var prevDefs map[string]*PropertyDef
		if prev != nil {
			prevDefs = prev.InputDefs
		}
		op.InputDefs = p.mergeProps(f, prevDefs, r.inputDefs, "operation "+quote(r.name)+" of "+owner, modeParameter)
		if inType && len(r.inputVals) > 0 {
			vals := make(map[string]*Value, len(op.Inputs)+len(r.inputVals))
			for k, v := range op.Inputs {
				vals[k] = v
			}
			for _, iv := range r.inputVals {
				vals[iv.name] = &Value{V: plain(iv.node), Pos: posOf(f.name, iv.node)}
			}
			op.Inputs = vals
		}
		out[r.name] = op
	}
	return out
}

// mergeInterfaces merges interface definitions of a node, relationship or
// group type.
func (p *processor) mergeInterfaces(f *srcFile, parent map[string]*InterfaceDef, raws []*rawIfaceDef, owner string) map[string]*InterfaceDef {
	if len(raws) == 0 {
		return parent
	}
	out := make(map[string]*InterfaceDef, len(parent)+len(raws))
	for k, v := range parent {
		out[k] = v
	}
	for _, r := range raws {
		what := "interface " + quote(r.name) + " of " + owner
		prev := parent[r.name]
		id := &InterfaceDef{Name: r.name, Pos: r.pos}
		if prev != nil {
			*id = *prev
			id.Pos = r.pos
		}
		if r.typeName != "" {
			it := p.resolveType(f, KindInterface, r.typeName, r.typePos, "the type of "+what)
			if prev != nil && prev.Type != nil && it != nil && !it.IsA(prev.Type.Name) {
				p.errorf(CodeRefinement, r.typePos, "%s: the type %s does not refine %s, the type the parent defines", what, it.Name, prev.Type.Name)
			}
			if it != nil && (prev == nil || prev.Type != it) {
				if td := it.Interfaces[it.Name]; td != nil {
					id.Inputs, id.Operations = td.Inputs, td.Operations
				}
			}
			id.Type = it
		} else if prev == nil {
			p.errorf(CodeMissingKeyname, r.pos, "%s has no type", what)
		}
		id.Inputs = p.mergeProps(f, id.Inputs, r.inputDefs, what, modeParameter)
		id.Operations = p.mergeOperations(f, id.Operations, r.ops, what, true)
		if len(r.inputVals) > 0 {
			vals := make(map[string]*Value, len(r.inputVals))
			for _, iv := range r.inputVals {
				vals[iv.name] = &Value{V: plain(iv.node), Pos: posOf(f.name, iv.node)}
			}
			id.InputValues = vals
		}
		out[r.name] = id
	}
	return out
}

// artifact builds an artifact definition (type) or template. Its file is
// resolved relative to the declaring file; a package file must exist. A
// short-form artifact (`name: path`) gets the artifact type whose file_ext
// lists the file's extension (the most derived one; by name on a tie),
// else tosca.artifacts.File.
func (p *processor) artifact(f *srcFile, r *rawArtifact, what string, fc *fnCtx) *ArtifactTemplate {
	a := &ArtifactTemplate{
		Name: r.name, File: r.file, Repository: r.repository, DeployPath: r.deployPath,
		Checksum: r.checksum, ChecksumAlgo: r.checksumAlgo, Description: r.description, Pos: r.pos,
	}
	switch {
	case r.typeName != "":
		a.Type = p.resolveType(f, KindArtifact, r.typeName, r.typePos, "the type of "+what)
	case r.short:
		a.Type = p.artifactTypeFor(r.file)
	}
	at := r.filePos
	switch {
	case r.file == "":
	case r.repository != "":
		repo, ok := f.pf.repos[r.repository]
		if !ok {
			p.errorf(CodeImportRepository, at, "%s names the repository %q, which this file does not define", what, r.repository)
			break
		}
		a.ResolvedFile = joinURL(repo.url, r.file)
		p.addRepositoryReferenced(repo.url)
	case isURL(r.file):
		a.ResolvedFile = r.file
	case !f.inPackage:
		a.ResolvedFile = path.Join(path.Dir(f.name), r.file)
	case strings.HasPrefix(r.file, "/"):
		// Tacker's samples name management-driver scripts installed on
		// the VNFM host (/opt/stack/tacker/...); tosca-parser accepts the
		// path when that host has the file. Nothing in the package backs
		// it, so it is left unresolved: not read, verified nor listed.
		p.warnf(CodeLenientHostArtifact, at, "the file %q of %s is an absolute path: a file on the VNFM host, not in the package; it is not verified (accepted because tosca-parser accepts a path that exists on its own host)", r.file, what)
	default:
		rp := path.Join(path.Dir(f.name), r.file)
		if rp == ".." || strings.HasPrefix(rp, "../") {
			p.errorf(CodeArtifactOutside, at, "the file %q of %s is outside the package", r.file, what)
			break
		}
		a.ResolvedFile = rp
		if info, err := fs.Stat(p.fsys, rp); err != nil || info.IsDir() {
			p.errorf(CodeArtifactMissing, at, "the file %q of %s is not in the package (%s)", r.file, what, rp)
		}
	}
	if r.props != nil && a.Type != nil {
		a.Properties = p.assign(f, a.Type.Properties, r.props, what, fc, false)
	}
	return a
}

// artifactTypeFor picks the artifact type of a short-form artifact.
func (p *processor) artifactTypeFor(file string) *Type {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(file), "."))
	var best *Type
	depth := func(t *Type) int {
		n := 0
		for x := t; x != nil; x = x.Parent {
			n++
		}
		return n
	}
	if ext != "" {
		var cands []*typeDecl
		for _, d := range p.global[KindArtifact] {
			cands = append(cands, d)
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].raw.name < cands[j].raw.name })
		for _, d := range cands {
			p.build(d)
			for _, e := range d.t.FileExt {
				if strings.EqualFold(strings.TrimPrefix(e, "."), ext) && (best == nil || depth(d.t) > depth(best)) {
					best = d.t
				}
			}
		}
	}
	if best != nil {
		return best
	}
	if d := p.normativeLookup(KindArtifact, "tosca.artifacts.File"); d != nil {
		p.build(d)
		return d.t
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }
