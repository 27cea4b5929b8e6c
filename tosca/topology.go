package tosca

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// Phase 7, topology: every topology_template of the service template (the
// entry's first, then those of imported files in import order: SOL 001
// multi-file VNFDs keep one per deployment flavour) with its inputs, node
// templates, relationship templates, groups, policies, substitution
// mappings and outputs, checked against their types.
//
// Choices where TOSCA or practice leave room:
//   - a requirement without target is legal (SOL 001 flavours leave
//     virtual_link requirements open for substitution mappings); a
//     requirement assigned fewer times than its occurrences' minimum is a
//     warning unless substitution_mappings maps it;
//   - a short-form artifact (`name: path`) gets the artifact type whose
//     file_ext lists its extension, else tosca.artifacts.File;
//   - an interface of a template lists the operations the template assigns
//     and those its type implements; operations only declared by the
//     interface type are left out;
//   - group properties are checked, but a missing required one is a
//     warning: tosca-parser does not check group properties and a Tacker
//     sample leaves PlacementGroup.description out;
//   - substitution_mappings naming a requirement or capability the node
//     type or the mapped template does not have is a warning (tosca-parser
//     does not check them; a Tacker sample maps names that exist nowhere);
//     a mapped node template that does not exist is an error;
//   - a function as an input default is not TOSCA (defaults are values); a
//     Tacker sample writes `default: {get_input: selected_flavour}`: the
//     default is dropped with a warning.

type topoCtx struct {
	file   *srcFile
	t      *Topology
	dc     decoder
	raw    map[string]*yaml.Node // node templates as written
	rels   map[string]*entity    // relationship templates
	groups map[string]*Group
	mapped map[[2]string]bool // (node template, requirement) mapped by substitution_mappings
}

var topologyKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"description": true, "inputs": true, "node_templates": true, "relationship_templates": true,
		"groups": true, "policies": true, "outputs": true, "substitution_mappings": true, "workflows": true,
	}
}}

// topologies processes every topology template (phase 7).
func (p *processor) topologies() {
	for _, f := range p.order {
		if f.pf.root != nil && f.pf.topology != nil {
			p.topology(f)
		}
	}
}

func (p *processor) topology(f *srcFile) {
	n := f.pf.topology
	t := &Topology{
		File: f.name, Pos: posOf(f.name, n),
		Inputs: map[string]*Input{}, NodeTemplates: map[string]*NodeTemplate{}, Outputs: map[string]*Value{},
	}
	p.st.Topologies = append(p.st.Topologies, t)
	tc := &topoCtx{
		file: f, t: t, raw: map[string]*yaml.Node{}, rels: map[string]*entity{}, groups: map[string]*Group{},
		mapped: map[[2]string]bool{},
		dc:     decoder{file: f.name, v13: f.pf.version == "tosca_simple_yaml_1_3", pl: &p.pl},
	}
	sec := map[string]*yaml.Node{}
	for k, v := range entries(n) {
		if !topologyKeys.Get()[k.Value] {
			p.errorf(CodeUnknownKeyname, posOf(f.name, k), "unknown keyname %q in topology_template", k.Value)
			continue
		}
		sec[k.Value] = v
	}
	t.Description = tc.dc.str(sec["description"], "description")
	p.inputs(tc, sec["inputs"])
	count := mapLen(sec["node_templates"]) + mapLen(sec["groups"]) + len(items(sec["policies"]))
	if count > p.lim.MaxTemplates {
		p.errorf(CodeTooManyTemplates, t.Pos, "the topology has %d node templates, groups and policies, more than the limit of %d; they are not processed", count, p.lim.MaxTemplates)
		return
	}
	p.scanMapped(tc, sec["substitution_mappings"])
	p.nodeShells(tc, sec["node_templates"])
	p.relationshipTemplates(tc, sec["relationship_templates"])
	for _, name := range t.NodeOrder {
		p.fillNode(tc, t.NodeTemplates[name], tc.raw[name])
	}
	p.groups(tc, sec["groups"])
	p.policies(tc, sec["policies"])
	p.substitution(tc, sec["substitution_mappings"])
	p.outputs(tc, sec["outputs"])
}

func (tc *topoCtx) at(n *yaml.Node) Position { return posOf(tc.file.name, n) }

// inputs reads the topology's parameter definitions and their values.
func (p *processor) inputs(tc *topoCtx, n *yaml.Node) {
	if !tc.dc.mappingOrNull(n, "inputs") {
		return
	}
	for k, v := range entries(n) {
		raw := tc.dc.propDef(k, v, true)
		if raw == nil {
			continue
		}
		what := "input " + strconv.Quote(k.Value)
		def := raw.def
		if raw.value != nil {
			def = raw.value
		}
		if _, isFn := functionName(deref(def)); isFn {
			p.warnf(CodeInputDefault, tc.at(def),
				"%s: a function is not a default value (TOSCA wants a value); the default is ignored, tosca-parser accepts it", what)
			raw.def, raw.value = nil, nil
		}
		pd := p.propertyDef(tc.file, raw, nil, "the topology", modeParameter)
		if info := p.defaults[pd]; info != nil {
			info.owner = "the default of " + what
		}
		in := &Input{Def: pd}
		if dv := p.defaultOf(pd); dv != nil {
			in.Value = &Value{V: copyPlain(dv.V), Type: dv.Type, Pos: dv.Pos}
		}
		tc.t.Inputs[k.Value] = in
	}
}

// scanMapped records which requirements substitution_mappings maps, before
// the templates are checked (an open requirement that is mapped is fine).
func (p *processor) scanMapped(tc *topoCtx, n *yaml.Node) {
	for _, v := range entries(lookupKey(n, "requirements")) {
		if m := lookupKey(v, "mapping"); m != nil {
			v = m
		}
		if its := items(v); len(its) == 2 {
			tc.mapped[[2]string{deref(its[0]).Value, deref(its[1]).Value}] = true
		}
	}
}

// nodeShells creates every node template with its type first, so that
// requirements can refer to any of them.
func (p *processor) nodeShells(tc *topoCtx, n *yaml.Node) {
	if !tc.dc.mappingOrNull(n, "node_templates") {
		return
	}
	for k, v := range entries(n) {
		what := "node template " + strconv.Quote(k.Value)
		nt := &NodeTemplate{Name: k.Value, Pos: tc.at(k)}
		if !isMapping(v) {
			p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
			continue
		}
		if tn := lookupKey(v, "type"); tn == nil {
			p.errorf(CodeMissingKeyname, tc.at(k), "%s has no type", what)
		} else if name := tc.dc.str(tn, "type"); name != "" {
			nt.Type = p.resolveType(tc.file, KindNode, name, tc.at(tn), "the type of "+what)
		}
		if _, dup := tc.t.NodeTemplates[k.Value]; !dup {
			tc.t.NodeOrder = append(tc.t.NodeOrder, k.Value)
		}
		tc.t.NodeTemplates[k.Value] = nt
		tc.raw[k.Value] = deref(v)
	}
}

var nodeTemplateKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"type": true, "description": true, "metadata": true, "directives": true, "properties": true,
		"attributes": true, "requirements": true, "capabilities": true, "interfaces": true,
		"artifacts": true, "node_filter": true, "copy": true,
	}
}}

// fillNode checks a node template against its type.
func (p *processor) fillNode(tc *topoCtx, nt *NodeTemplate, n *yaml.Node) {
	f := tc.file
	what := "node template " + strconv.Quote(nt.Name)
	ent := &entity{what: what, typ: nt.Type, node: nt}
	fc := &fnCtx{topo: tc, self: ent}
	sec := map[string]*yaml.Node{}
	for k, v := range entries(n) {
		if !nodeTemplateKeys.Get()[k.Value] {
			p.errorf(CodeUnknownKeyname, tc.at(k), "unknown keyname %q in %s", k.Value, what)
			continue
		}
		sec[k.Value] = v
	}
	if c := sec["copy"]; c != nil {
		p.errorf(CodeUnsupported, tc.at(c), "%s: copy is not supported by this processor; write the template out", what)
	}
	nt.Description = tc.dc.str(sec["description"], "description")
	for _, d := range tc.dc.nameNodes(sec["directives"], "directives") {
		nt.Directives = append(nt.Directives, d.name)
	}
	if nt.Type == nil {
		// Unknown type (reported): keep what is written, unchecked.
		nt.Properties = plainValues(f, sec["properties"])
		nt.Attributes = plainValues(f, sec["attributes"])
		return
	}
	typeName := nt.Type.Name
	nt.Properties = p.assignWith(f, nt.Type.Properties, sec["properties"], fc, assignSpec{
		what: what, typeName: typeName, at: nt.Pos, missing: SeverityError, missingCode: CodeMissingProperty,
	})
	ent.props, ent.propDefs, ent.attrDefs = nt.Properties, nt.Type.Properties, nt.Type.Attributes
	nt.Attributes = p.assignWith(f, nt.Type.Attributes, sec["attributes"], fc, assignSpec{what: what, typeName: typeName, attrs: true})
	p.capabilities(tc, nt, sec["capabilities"], fc)
	p.templateArtifacts(tc, nt, sec["artifacts"], fc)
	p.templateInterfaces(tc, nt, sec["interfaces"], fc)
	p.requirements(tc, nt, sec["requirements"])
}

// plainValues keeps unchecked values (templates of unknown types).
func plainValues(f *srcFile, n *yaml.Node) map[string]*Value {
	out := map[string]*Value{}
	for k, v := range entries(n) {
		out[k.Value] = &Value{V: plain(v), Pos: posOf(f.name, v)}
	}
	return out
}

func (p *processor) capabilities(tc *topoCtx, nt *NodeTemplate, n *yaml.Node, fc *fnCtx) {
	what := "node template " + strconv.Quote(nt.Name)
	nt.Capabilities = make(map[string]*CapabilityAssignment, len(nt.Type.Capabilities))
	if tc.dc.mappingOrNull(n, "capabilities of "+what) {
		for k, v := range entries(n) {
			cd := nt.Type.Capabilities[k.Value]
			if cd == nil {
				p.errorf(CodeUnknownCapability, tc.at(k), "%s: %q is not a capability of %s", what, k.Value, nt.Type.Name)
				continue
			}
			cw := "capability " + strconv.Quote(k.Value) + " of " + what
			ca := &CapabilityAssignment{Name: k.Value, Type: cd.Type, Pos: tc.at(k)}
			var props, attrs *yaml.Node
			if !isNull(v) && !isMapping(v) {
				p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", cw, describeNode(v))
			}
			for fk, fv := range entries(v) {
				switch fk.Value {
				case "properties":
					props = fv
				case "attributes":
					attrs = fv
				case "occurrences", "directives":
				default:
					p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, cw)
				}
			}
			capType := ""
			if cd.Type != nil {
				capType = cd.Type.Name
			}
			ca.Properties = p.assignWith(tc.file, cd.Properties, props, fc, assignSpec{
				what: cw, typeName: capType, at: tc.at(k), missing: SeverityError, missingCode: CodeMissingProperty,
			})
			ca.Attributes = p.assignWith(tc.file, cd.Attributes, attrs, fc, assignSpec{what: cw, typeName: capType, attrs: true})
			nt.Capabilities[k.Value] = ca
		}
	}
	names := make([]string, 0, len(nt.Type.Capabilities))
	for name := range nt.Type.Capabilities {
		if nt.Capabilities[name] == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		cd := nt.Type.Capabilities[name]
		cw := "capability " + strconv.Quote(name) + " of " + what
		capType := ""
		if cd.Type != nil {
			capType = cd.Type.Name
		}
		nt.Capabilities[name] = &CapabilityAssignment{
			Name: name, Type: cd.Type, Pos: nt.Pos,
			Properties: p.assignWith(tc.file, cd.Properties, nil, fc, assignSpec{
				what: cw, typeName: capType, at: nt.Pos, missing: SeverityWarning, missingCode: CodeMissingProperty,
				missingNote: " (the template does not assign the capability)",
			}),
			Attributes: p.assignWith(tc.file, cd.Attributes, nil, fc, assignSpec{what: cw, attrs: true}),
		}
	}
}

func (p *processor) templateArtifacts(tc *topoCtx, nt *NodeTemplate, n *yaml.Node, fc *fnCtx) {
	what := "node template " + strconv.Quote(nt.Name)
	raws := tc.dc.artifacts(n, what)
	if len(raws) == 0 && len(nt.Type.Artifacts) == 0 {
		return
	}
	nt.Artifacts = make(map[string]*ArtifactTemplate, len(nt.Type.Artifacts)+len(raws))
	for k, v := range nt.Type.Artifacts {
		nt.Artifacts[k] = v
	}
	for _, ra := range raws {
		nt.Artifacts[ra.name] = p.artifact(tc.file, ra, "artifact "+strconv.Quote(ra.name)+" of "+what, fc)
	}
}

func (p *processor) templateInterfaces(tc *topoCtx, nt *NodeTemplate, n *yaml.Node, fc *fnCtx) {
	what := "node template " + strconv.Quote(nt.Name)
	nt.Interfaces = map[string]*InterfaceDef{}
	for name, id := range nt.Type.Interfaces {
		if impl := implementedOps(id.Operations); len(impl) > 0 {
			nt.Interfaces[name] = &InterfaceDef{Name: name, Type: id.Type, Inputs: id.Inputs, Operations: impl, Pos: id.Pos}
		}
	}
	if !tc.dc.mappingOrNull(n, "interfaces of "+what) {
		return
	}
	for k, v := range entries(n) {
		id := nt.Type.Interfaces[k.Value]
		if id == nil {
			p.errorf(CodeUnknownInterface, tc.at(k), "%s: %q is not an interface of %s", what, k.Value, nt.Type.Name)
			continue
		}
		p.interfaceAssignment(tc, id, tc.dc.ifaceDef(k, v, what, false), what, fc, nt.Interfaces)
	}
}

// implementedOps keeps the operations that have an implementation.
func implementedOps(ops map[string]*Operation) map[string]*Operation {
	var out map[string]*Operation
	for name, op := range ops {
		if op.Implementation != "" {
			if out == nil {
				out = map[string]*Operation{}
			}
			out[name] = op
		}
	}
	return out
}

// interfaceAssignment checks an interface assignment of a template against
// the interface definition of its type.
func (p *processor) interfaceAssignment(tc *topoCtx, id *InterfaceDef, ri *rawIfaceDef, owner string, fc *fnCtx, out map[string]*InterfaceDef) {
	iw := "interface " + strconv.Quote(ri.name) + " of " + owner
	res := &InterfaceDef{Name: ri.name, Type: id.Type, Inputs: id.Inputs, Pos: ri.pos, Operations: map[string]*Operation{}}
	if prev := out[ri.name]; prev != nil {
		for k, v := range prev.Operations {
			res.Operations[k] = v
		}
	}
	res.InputValues = p.inputValues(tc, ri.inputVals, id.Inputs, nil, iw, fc)
	for _, ro := range ri.ops {
		def := id.Operations[ro.name]
		if def == nil {
			itype := ""
			if id.Type != nil {
				itype = " (" + id.Type.Name + ")"
			}
			p.errorf(CodeUnknownOperation, ro.pos, "%s: %q is not an operation of the interface%s", iw, ro.name, itype)
			continue
		}
		op := &Operation{Name: ro.name, Pos: ro.pos, Description: def.Description, Implementation: def.Implementation,
			Dependencies: def.Dependencies, InputDefs: def.InputDefs}
		if ro.description != "" {
			op.Description = ro.description
		}
		if ro.impl != "" {
			op.Implementation, op.Dependencies = ro.impl, ro.deps
		}
		op.Inputs = p.inputValues(tc, ro.inputVals, def.InputDefs, id.Inputs, "operation "+strconv.Quote(ro.name)+" of "+iw, fc)
		res.Operations[ro.name] = op
	}
	out[ri.name] = res
}

// inputValues checks operation or interface input values against the
// definitions that exist (values without definition are kept as written,
// functions evaluated).
func (p *processor) inputValues(tc *topoCtx, vals []rawValue, defs, more map[string]*PropertyDef, owner string, fc *fnCtx) map[string]*Value {
	if len(vals) == 0 {
		return nil
	}
	out := make(map[string]*Value, len(vals))
	for _, iv := range vals {
		pd := defs[iv.name]
		if pd == nil {
			pd = more[iv.name]
		}
		var d vdef
		if pd != nil {
			d = pdDef(pd)
		}
		c := &vctx{file: tc.file, fc: fc}
		l := &loc{text: "input " + strconv.Quote(iv.name) + " of " + owner}
		v := &Value{V: p.check(iv.node, d, l, c), Type: d.typeName, Pos: tc.at(iv.node)}
		if c.hasFn {
			p.funcs = append(p.funcs, &valueRef{v: v})
		}
		out[iv.name] = v
	}
	return out
}

// requirements checks the requirement assignments of a node template.
func (p *processor) requirements(tc *topoCtx, nt *NodeTemplate, n *yaml.Node) {
	what := "node template " + strconv.Quote(nt.Name)
	if !isNull(n) && !isSequence(n) {
		p.errorf(CodeSyntax, tc.at(n), "requirements of %s must be a list, not %s", what, describeNode(n))
		return
	}
	counts := map[string]int{}
	lastPos := map[string]Position{}
	for _, it := range items(n) {
		if !isMapping(it) || mapLen(it) != 1 {
			p.errorf(CodeSyntax, tc.at(it), "a requirement of %s must be a mapping with one key (its name), not %s", what, describeNode(it))
			continue
		}
		for k, v := range entries(it) {
			if ra := p.requirement(tc, nt, k, v, what); ra != nil {
				nt.Requirements = append(nt.Requirements, ra)
				counts[ra.Name]++
				lastPos[ra.Name] = ra.Pos
			}
		}
	}
	for _, rd := range nt.Type.Requirements {
		c := counts[rd.Name]
		if hi := rd.Occurrences[1]; hi >= 0 && c > hi {
			p.errorf(CodeOccurrences, lastPos[rd.Name], "%s: the requirement %q is assigned %d times, more than its maximum of %d", what, rd.Name, c, hi)
		}
		if lo := rd.Occurrences[0]; c < lo && !tc.mapped[[2]string{nt.Name, rd.Name}] {
			p.warnf(CodeOccurrences, nt.Pos, "%s: the requirement %q is assigned %d times, fewer than its minimum of %d, and substitution_mappings does not map it", what, rd.Name, c, lo)
		}
	}
}

func (p *processor) requirement(tc *topoCtx, nt *NodeTemplate, k, v *yaml.Node, what string) *RequirementAssignment {
	rd := p.reqDef(nt.Type, k.Value)
	if rd == nil {
		p.errorf(CodeUnknownRequirement, tc.at(k), "%s: %q is not a requirement of %s", what, k.Value, nt.Type.Name)
		return nil
	}
	rw := "requirement " + strconv.Quote(k.Value) + " of " + what
	ra := &RequirementAssignment{Name: k.Value, Pos: tc.at(k)}
	var relNode *yaml.Node
	targetAt := tc.at(v)
	switch {
	case isNull(v):
	case isScalar(v):
		ra.Node = deref(v).Value
	case isMapping(v):
		for fk, fv := range entries(v) {
			switch fk.Value {
			case "node":
				ra.Node, targetAt = tc.dc.str(fv, "node"), tc.at(fv)
			case "capability":
				ra.Capability = tc.dc.str(fv, "capability")
			case "relationship":
				relNode = fv
			case "node_filter", "occurrences", "description", "metadata":
			default:
				p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, rw)
			}
		}
	default:
		p.errorf(CodeSyntax, tc.at(v), "%s must be a node template name or a mapping, not %s", rw, describeNode(v))
		return nil
	}
	var target *NodeTemplate
	if ra.Node != "" {
		target = tc.t.NodeTemplates[ra.Node]
		switch {
		case target != nil:
			if target.Type != nil && rd.Node != "" && !target.Type.IsA(rd.Node) {
				p.errorf(CodeRequirementTarget, targetAt, "%s: the target must be a %s, and %q is a %s", rw, rd.Node, ra.Node, target.Type.Name)
			}
			want := ra.Capability
			if want == "" {
				want = rd.Capability
			}
			if want != "" && target.Type != nil {
				if name, ok := p.matchCapability(target.Type, want); ok {
					if ra.Capability == "" {
						ra.Capability = name
					}
				} else {
					p.errorf(CodeRequirementTarget, targetAt, "%s: %q (%s) has no capability %s", rw, ra.Node, target.Type.Name, want)
				}
			}
		default:
			if d := p.lookup(tc.file, KindNode, ra.Node, targetAt); d != nil {
				p.build(d) // a node type: an abstract requirement, fulfilled at deployment
				if rd.Node != "" && !d.t.IsA(rd.Node) {
					p.errorf(CodeRequirementTarget, targetAt, "%s: the target must be a %s, and %s is not", rw, rd.Node, ra.Node)
				}
			} else {
				p.errorf(CodeUnknownTemplate, targetAt, "%s: there is no node template %q in this topology", rw, ra.Node)
			}
		}
	}
	ra.Relationship = rd.Relationship
	switch {
	case relNode == nil:
	case isScalar(relNode):
		name := deref(relNode).Value
		if tc.rels[name] != nil {
			ra.Relationship = name
		} else if t := p.resolveType(tc.file, KindRelationship, name, tc.at(relNode), "the relationship of "+rw); t != nil {
			ra.Relationship = t.Name
		}
	case isMapping(relNode):
		var props *yaml.Node
		var relType *Type
		for fk, fv := range entries(relNode) {
			switch fk.Value {
			case "type":
				relType = p.resolveType(tc.file, KindRelationship, tc.dc.str(fv, "type"), tc.at(fv), "the relationship of "+rw)
			case "properties":
				props = fv
			case "interfaces", "attributes":
			default:
				p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in the relationship of %s", fk.Value, rw)
			}
		}
		if relType == nil && rd.Relationship != "" {
			relType = p.st.Types[KindRelationship][rd.Relationship]
		}
		if relType != nil {
			ra.Relationship = relType.Name
			relWhat := "the relationship of " + rw
			ent := &entity{what: relWhat, typ: relType, propDefs: relType.Properties, attrDefs: relType.Attributes}
			rfc := &fnCtx{topo: tc, self: ent, source: nt, target: target}
			ent.props = p.assignWith(tc.file, relType.Properties, props, rfc, assignSpec{
				what: relWhat, typeName: relType.Name, at: tc.at(relNode), missing: SeverityError, missingCode: CodeMissingProperty,
			})
		}
	default:
		p.errorf(CodeSyntax, tc.at(relNode), "the relationship of %s must be a name or a mapping", rw)
	}
	return ra
}

// matchCapability finds a capability of a node type by name, or the first
// (by name) whose type is or derives from want. Answers are kept per type.
func (p *processor) matchCapability(t *Type, want string) (string, bool) {
	if t.Capabilities[want] != nil {
		return want, true
	}
	key := capKey{t, want}
	if name, ok := p.capMatch[key]; ok {
		return name, name != ""
	}
	best := ""
	for name, cd := range t.Capabilities {
		if cd.Type != nil && cd.Type.IsA(want) && (best == "" || name < best) {
			best = name
		}
	}
	if p.capMatch == nil {
		p.capMatch = map[capKey]string{}
	}
	p.capMatch[key] = best
	return best, best != ""
}

type capKey struct {
	t    *Type
	want string
}

// relationshipTemplates reads relationship_templates (used by name from
// requirement assignments).
func (p *processor) relationshipTemplates(tc *topoCtx, n *yaml.Node) {
	if !tc.dc.mappingOrNull(n, "relationship_templates") {
		return
	}
	for k, v := range entries(n) {
		what := "relationship template " + strconv.Quote(k.Value)
		ent := &entity{what: what}
		tc.rels[k.Value] = ent
		if !isMapping(v) {
			p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
			continue
		}
		var props *yaml.Node
		for fk, fv := range entries(v) {
			switch fk.Value {
			case "type":
				ent.typ = p.resolveType(tc.file, KindRelationship, tc.dc.str(fv, "type"), tc.at(fv), "the type of "+what)
			case "properties":
				props = fv
			case "description", "metadata", "attributes", "interfaces", "copy":
			default:
				p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, what)
			}
		}
		if ent.typ == nil {
			if lookupKey(v, "type") == nil {
				p.errorf(CodeMissingKeyname, tc.at(k), "%s has no type", what)
			}
			continue
		}
		ent.propDefs, ent.attrDefs = ent.typ.Properties, ent.typ.Attributes
		ent.props = p.assignWith(tc.file, ent.typ.Properties, props, &fnCtx{topo: tc, self: ent}, assignSpec{
			what: what, typeName: ent.typ.Name, at: tc.at(k), missing: SeverityError, missingCode: CodeMissingProperty,
		})
	}
}

// groups reads the topology's groups.
func (p *processor) groups(tc *topoCtx, n *yaml.Node) {
	if !tc.dc.mappingOrNull(n, "groups") {
		return
	}
	for k, v := range entries(n) {
		what := "group " + strconv.Quote(k.Value)
		g := &Group{Name: k.Value, Pos: tc.at(k)}
		tc.groups[k.Value] = g
		tc.t.Groups = append(tc.t.Groups, g)
		if !isMapping(v) {
			p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
			continue
		}
		var props, members *yaml.Node
		for fk, fv := range entries(v) {
			switch fk.Value {
			case "type":
				g.Type = p.resolveType(tc.file, KindGroup, tc.dc.str(fv, "type"), tc.at(fv), "the type of "+what)
			case "properties":
				props = fv
			case "members":
				members = fv
			case "description", "metadata", "attributes", "interfaces":
			default:
				p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, what)
			}
		}
		if g.Type == nil {
			if lookupKey(v, "type") == nil {
				p.errorf(CodeMissingKeyname, tc.at(k), "%s has no type", what)
			}
			continue
		}
		ent := &entity{what: what, typ: g.Type, propDefs: g.Type.Properties, attrDefs: g.Type.Attributes}
		g.Properties = p.assignWith(tc.file, g.Type.Properties, props, &fnCtx{topo: tc, self: ent}, assignSpec{
			what: what, typeName: g.Type.Name, at: tc.at(k), missing: SeverityWarning, missingCode: CodeLenientGroup,
			missingNote: "; accepted because tosca-parser does not check group properties",
		})
		ent.props = g.Properties
		for _, m := range tc.dc.nameNodes(members, "members of "+what) {
			g.Members = append(g.Members, m.name)
			p.checkTarget(tc, what, g.Type, m, "member", false)
		}
	}
}

// checkTarget checks a group member or a policy target: it must be a node
// template (or, for policies, a group) of the topology whose type is one of
// the valid ones.
func (p *processor) checkTarget(tc *topoCtx, what string, t *Type, ref rawName, noun string, groupsOK bool) {
	var typ *Type
	if nt := tc.t.NodeTemplates[ref.name]; nt != nil {
		typ = nt.Type
	} else if g := tc.groups[ref.name]; g != nil && groupsOK {
		typ = g.Type
	} else {
		kinds := "node template"
		if groupsOK {
			kinds = "node template or group"
		}
		p.errorf(CodeUnknownTemplate, ref.pos, "%s: the %s %q is not a %s of this topology", what, noun, ref.name, kinds)
		return
	}
	if typ == nil || len(t.Targets) == 0 {
		return
	}
	for _, valid := range t.Targets {
		if typ.IsA(valid) {
			return
		}
	}
	p.errorf(CodeInvalidTarget, ref.pos, "%s: the %s %q is a %s, which %s does not accept (valid: %s)",
		what, noun, ref.name, typ.Name, t.Name, strings.Join(t.Targets, ", "))
}

// policies reads the topology's policies: a list of single-key mappings.
func (p *processor) policies(tc *topoCtx, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if !isSequence(n) {
		p.errorf(CodeSyntax, tc.at(n), "policies must be a list, not %s", describeNode(n))
		return
	}
	for _, it := range items(n) {
		if !isMapping(it) || mapLen(it) != 1 {
			p.errorf(CodeSyntax, tc.at(it), "a policy must be a mapping with one key (its name), not %s", describeNode(it))
			continue
		}
		for k, v := range entries(it) {
			p.policy(tc, k, v)
		}
	}
}

func (p *processor) policy(tc *topoCtx, k, v *yaml.Node) {
	what := "policy " + strconv.Quote(k.Value)
	pol := &Policy{Name: k.Value, Pos: tc.at(k)}
	tc.t.Policies = append(tc.t.Policies, pol)
	if !isMapping(v) {
		p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
		return
	}
	var props, targets *yaml.Node
	for fk, fv := range entries(v) {
		switch fk.Value {
		case "type":
			pol.Type = p.resolveType(tc.file, KindPolicy, tc.dc.str(fv, "type"), tc.at(fv), "the type of "+what)
		case "properties":
			props = fv
		case "targets":
			targets = fv
		case "description", "metadata", "triggers":
		default:
			p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, what)
		}
	}
	if pol.Type == nil {
		if lookupKey(v, "type") == nil {
			p.errorf(CodeMissingKeyname, tc.at(k), "%s has no type", what)
		}
		return
	}
	ent := &entity{what: what, typ: pol.Type, propDefs: pol.Type.Properties}
	pol.Properties = p.assignWith(tc.file, pol.Type.Properties, props, &fnCtx{topo: tc, self: ent}, assignSpec{
		what: what, typeName: pol.Type.Name, at: tc.at(k), missing: SeverityError, missingCode: CodeMissingProperty,
	})
	ent.props = pol.Properties
	for _, t := range tc.dc.nameNodes(targets, "targets of "+what) {
		pol.Targets = append(pol.Targets, t.name)
		p.checkTarget(tc, what, pol.Type, t, "target", true)
	}
}

// typeSOL001VNF is the SOL 001 VNF node type. A flavour's
// substitution_mappings give its flavour_id; Tacker's samples add flavours
// in files of their own without adding their ids to the valid_values of
// the VNF node type's flavour_id, which tosca-parser never compares (it
// checks the properties of node templates, not of substitution_mappings).
// Such a flavour_id is a warning (CodeLenientFlavourID); a node
// template's flavour_id outside valid_values stays an error.
const typeSOL001VNF = "tosca.nodes.nfv.VNF"

// substitution reads substitution_mappings.
func (p *processor) substitution(tc *topoCtx, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if !isMapping(n) {
		p.errorf(CodeSyntax, tc.at(n), "substitution_mappings must be a mapping, not %s", describeNode(n))
		return
	}
	sm := &SubstitutionMappings{Pos: tc.at(n), Properties: map[string]*Value{}, Requirements: map[string][]string{}, Capabilities: map[string][]string{}}
	tc.t.Substitution = sm
	sec := map[string]*yaml.Node{}
	for k, v := range entries(n) {
		switch k.Value {
		case "node_type", "properties", "attributes", "requirements", "capabilities", "interfaces", "substitution_filter":
			sec[k.Value] = v
		default:
			p.errorf(CodeUnknownKeyname, tc.at(k), "unknown keyname %q in substitution_mappings", k.Value)
		}
	}
	nodeType := sec["node_type"]
	if nodeType == nil {
		p.errorf(CodeMissingKeyname, sm.Pos, "substitution_mappings has no node_type")
		return
	}
	sm.NodeType = tc.dc.str(nodeType, "node_type")
	sm.Type = p.resolveType(tc.file, KindNode, sm.NodeType, tc.at(nodeType), "the node_type of substitution_mappings")
	if sm.Type == nil {
		return
	}
	sm.NodeType = sm.Type.Name
	fc := &fnCtx{topo: tc}
	if tc.dc.mappingOrNull(sec["properties"], "properties of substitution_mappings") {
		for k, v := range entries(sec["properties"]) {
			pd := sm.Type.Properties[k.Value]
			if pd == nil {
				p.errorf(CodeUnknownProperty, tc.at(k), "substitution_mappings: %q is not a property of %s", k.Value, sm.Type.Name)
				continue
			}
			// TOSCA 1.2 maps a property to an input: [ input_name ].
			if its := items(v); len(its) == 1 && isString(its[0]) && p.category(pd.Type, pd.DataType) != catList {
				name := deref(its[0]).Value
				if tc.t.Inputs[name] == nil {
					p.errorf(CodeUnknownTemplate, tc.at(its[0]), "substitution_mappings: property %q is mapped to the input %q, which the topology does not have", k.Value, name)
				}
				sm.Properties[k.Value] = &Value{V: []any{name}, Type: pd.Type, Pos: tc.at(v), Function: "get_input"}
				continue
			}
			c := &vctx{file: tc.file, fc: fc}
			if k.Value == "flavour_id" && sm.Type.IsA(typeSOL001VNF) {
				c.flavourID = true
			}
			l := &loc{text: "property " + strconv.Quote(k.Value) + " of substitution_mappings"}
			val := &Value{V: p.check(v, pdDef(pd), l, c), Type: pd.Type, Pos: tc.at(v)}
			if c.hasFn {
				p.funcs = append(p.funcs, &valueRef{v: val})
			}
			sm.Properties[k.Value] = val
		}
	}
	p.mappings(tc, sm, sec["requirements"], true)
	p.mappings(tc, sm, sec["capabilities"], false)
}

// mappings reads requirement or capability mappings: name: [template,
// name] (TOSCA 1.2 and 1.3) or name: {mapping: [template, name]} (1.3).
func (p *processor) mappings(tc *topoCtx, sm *SubstitutionMappings, n *yaml.Node, reqs bool) {
	noun, out := "capability", sm.Capabilities
	if reqs {
		noun, out = "requirement", sm.Requirements
	}
	if !tc.dc.mappingOrNull(n, noun+" mappings") {
		return
	}
	for k, v := range entries(n) {
		if m := lookupKey(v, "mapping"); m != nil && isMapping(v) {
			v = m
		}
		its := items(v)
		if len(its) == 0 && isSequence(v) {
			// Tacker's samples write `virtual_link_external: []` for
			// "not mapped"; tosca-parser never reads the mapping.
			p.warnf(CodeLenientEmptyMapping, tc.at(v), "substitution_mappings: the %s mapping %q is an empty list, not [node_template, %s]; taken as not mapped (accepted because tosca-parser does not check mappings)", noun, k.Value, noun)
			continue
		}
		if len(its) != 2 || !isScalar(its[0]) || !isScalar(its[1]) {
			p.errorf(CodeSyntax, tc.at(v), "substitution_mappings: the %s mapping %q must be [node_template, %s]", noun, k.Value, noun)
			continue
		}
		tmpl, name := deref(its[0]).Value, deref(its[1]).Value
		out[k.Value] = []string{tmpl, name}
		if reqs {
			if p.reqDef(sm.Type, k.Value) == nil {
				p.warnf(CodeLenientSubstitute, tc.at(k), "substitution_mappings: %q is not a requirement of %s; accepted because tosca-parser does not check it", k.Value, sm.Type.Name)
			}
		} else if sm.Type.Capabilities[k.Value] == nil {
			p.warnf(CodeLenientSubstitute, tc.at(k), "substitution_mappings: %q is not a capability of %s; accepted because tosca-parser does not check it", k.Value, sm.Type.Name)
		}
		nt := tc.t.NodeTemplates[tmpl]
		if nt == nil {
			p.unknownMappingTarget(tc, noun, k.Value, tmpl, its[0])
			continue
		}
		if nt.Type == nil {
			continue
		}
		if reqs && p.reqDef(nt.Type, name) == nil {
			p.warnf(CodeLenientSubstitute, tc.at(its[1]), "substitution_mappings: %q is not a requirement of node template %q (%s); accepted because tosca-parser does not check it", name, tmpl, nt.Type.Name)
		}
		if !reqs && nt.Type.Capabilities[name] == nil {
			p.warnf(CodeLenientSubstitute, tc.at(its[1]), "substitution_mappings: %q is not a capability of node template %q (%s); accepted because tosca-parser does not check it", name, tmpl, nt.Type.Name)
		}
	}
}

// unknownMappingTarget reports a mapping to a node template the topology
// does not define. For a requirement it is a warning: Tacker's samples map
// external connection points (virtual_link_external*) to node templates
// their flavour does not have, and tosca-parser does not check mappings;
// the requirement then exposes nothing. A capability mapping has no such
// precedent and stays an error.
func (p *processor) unknownMappingTarget(tc *topoCtx, noun, name, tmpl string, at *yaml.Node) {
	if noun == "requirement" {
		p.warnf(CodeLenientMappingTarget, tc.at(at), "substitution_mappings: the requirement %q is mapped to %q, which is not a node template of this topology; the requirement exposes nothing (accepted because tosca-parser does not check mappings)", name, tmpl)
		return
	}
	p.errorf(CodeUnknownTemplate, tc.at(at), "substitution_mappings: the %s %q is mapped to %q, which is not a node template of this topology", noun, name, tmpl)
}

// reqDef finds a requirement definition of a type by name, through an
// index built once per type (a hostile type may have thousands).
func (p *processor) reqDef(t *Type, name string) *RequirementDef {
	if len(t.Requirements) < 8 {
		for _, rd := range t.Requirements {
			if rd.Name == name {
				return rd
			}
		}
		return nil
	}
	idx := p.reqIndex[t]
	if idx == nil {
		idx = make(map[string]*RequirementDef, len(t.Requirements))
		for _, rd := range t.Requirements {
			idx[rd.Name] = rd
		}
		if p.reqIndex == nil {
			p.reqIndex = map[*Type]map[string]*RequirementDef{}
		}
		p.reqIndex[t] = idx
	}
	return idx[name]
}

// outputs reads the topology's outputs.
func (p *processor) outputs(tc *topoCtx, n *yaml.Node) {
	if !tc.dc.mappingOrNull(n, "outputs") {
		return
	}
	fc := &fnCtx{topo: tc}
	for k, v := range entries(n) {
		what := "output " + strconv.Quote(k.Value)
		if !isMapping(v) {
			p.errorf(CodeSyntax, tc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
			continue
		}
		var value *yaml.Node
		var d vdef
		for fk, fv := range entries(v) {
			switch fk.Value {
			case "value":
				value = fv
			case "type":
				name := tc.dc.str(fv, "type")
				tn, dt, _ := p.valueType(tc.file, name, tc.at(fv), "the type of "+what)
				d = vdef{typeName: tn, dt: dt}
			case "description", "required", "status", "entry_schema", "key_schema", "constraints", "metadata":
			default:
				p.errorf(CodeUnknownKeyname, tc.at(fk), "unknown keyname %q in %s", fk.Value, what)
			}
		}
		if value == nil {
			p.errorf(CodeMissingKeyname, tc.at(k), "%s has no value", what)
			continue
		}
		c := &vctx{file: tc.file, fc: fc}
		l := &loc{text: what}
		val := &Value{V: p.check(value, d, l, c), Type: d.typeName, Pos: tc.at(value)}
		if c.hasFn {
			p.funcs = append(p.funcs, &valueRef{v: val})
		}
		tc.t.Outputs[k.Value] = val
	}
}
