package vnfd

import (
	"sort"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// Full names of the SOL 001 types Extract recognises (and, through
// Type.IsA, every type derived from them).
const (
	TypeVNF                  = "tosca.nodes.nfv.VNF"
	TypeVduCompute           = "tosca.nodes.nfv.Vdu.Compute"
	TypeVirtualBlockStorage  = "tosca.nodes.nfv.Vdu.VirtualBlockStorage"
	TypeVirtualObjectStorage = "tosca.nodes.nfv.Vdu.VirtualObjectStorage"
	TypeVirtualFileStorage   = "tosca.nodes.nfv.Vdu.VirtualFileStorage"
	TypeVduCp                = "tosca.nodes.nfv.VduCp"
	TypeVnfExtCp             = "tosca.nodes.nfv.VnfExtCp"
	TypeVnfVirtualLink       = "tosca.nodes.nfv.VnfVirtualLink"
	TypeSwImage              = "tosca.artifacts.nfv.SwImage"
	TypePlacementGroup       = "tosca.groups.nfv.PlacementGroup"
	TypeVnflcm               = "tosca.interfaces.nfv.Vnflcm"

	TypeInstantiationLevels                   = "tosca.policies.nfv.InstantiationLevels"
	TypeVduInstantiationLevels                = "tosca.policies.nfv.VduInstantiationLevels"
	TypeVirtualLinkInstantiationLevels        = "tosca.policies.nfv.VirtualLinkInstantiationLevels"
	TypeScalingAspects                        = "tosca.policies.nfv.ScalingAspects"
	TypeVduInitialDelta                       = "tosca.policies.nfv.VduInitialDelta"
	TypeVduScalingAspectDeltas                = "tosca.policies.nfv.VduScalingAspectDeltas"
	TypeVirtualLinkBitrateInitialDelta        = "tosca.policies.nfv.VirtualLinkBitrateInitialDelta"
	TypeVirtualLinkBitrateScalingAspectDeltas = "tosca.policies.nfv.VirtualLinkBitrateScalingAspectDeltas"
	TypeAffinityRule                          = "tosca.policies.nfv.AffinityRule"
	TypeAntiAffinityRule                      = "tosca.policies.nfv.AntiAffinityRule"
)

type extractor struct {
	st       *tosca.ServiceTemplate
	problems []tosca.Problem
	// images without a SwImage artifact, checked once every flavour is read.
	orphanImages []*SwImage
	// checksums (lower-case hash) of the images that have an artifact.
	deliveredHashes map[string]bool
}

// Extract reads the VNFD from a processed service template.
//
// It returns the VNFD it could build (never nil; partial when problems
// were found) and the problems it found itself, ordered by position. The
// processor's problems stay in st.Problems: a caller deciding whether a
// package is valid looks at both. Extract does not repeat what tosca.Process
// reports (unknown templates, policy targets outside the policy type's
// targets, constraint violations), and never panics on a template that
// failed processing.
func Extract(st *tosca.ServiceTemplate) (*VNFD, []tosca.Problem) {
	x := &extractor{st: st, deliveredHashes: map[string]bool{}}
	if st == nil {
		x.errorf(CodeNoVNFNode, tosca.Position{}, "no service template")
		return &VNFD{}, x.problems
	}
	v := &VNFD{Description: st.Description, Flavours: []*Flavour{}}

	entry := x.entryTopology()
	entryPos := tosca.Position{File: st.Entry, Line: 1, Column: 1}
	if entry != nil {
		entryPos = firstPos(entry.Pos, entryPos)
	}

	// The VNF node template of the entry topology.
	var vnfNode *tosca.NodeTemplate
	if entry != nil {
		vnfNode = vnfNodeOf(entry)
	}

	// The flavour topologies: those whose substitution_mappings substitute
	// a VNF node type, in processing order (entry first, then imports).
	type candidate struct {
		topo *tosca.Topology
		typ  *tosca.Type
	}
	var cands []candidate
	for _, t := range st.Topologies {
		if t == nil || t.Substitution == nil {
			continue
		}
		typ := t.Substitution.Type
		if typ == nil && t.Substitution.NodeType != "" {
			typ = st.Type(tosca.KindNode, t.Substitution.NodeType)
		}
		if typ.IsA(TypeVNF) {
			cands = append(cands, candidate{t, typ})
		}
	}

	// The VNF node type: the entry node template's, else the first
	// flavour's substituted type.
	var vnfType *tosca.Type
	switch {
	case vnfNode != nil:
		vnfType = vnfNode.Type
		v.Node = vnfNode.Name
		v.Pos = vnfNode.Pos
	case len(cands) > 0:
		vnfType = cands[0].typ
		v.Pos = cands[0].topo.Substitution.Pos
	}
	if vnfType != nil {
		v.NodeType = vnfType.Name
	}
	if vnfNode == nil && vnfType == nil {
		x.errorf(CodeNoVNFNode, entryPos,
			"the VNFD has no VNF node: no node template of %s and no substitution_mappings node type derives from %s",
			entryPos.File, TypeVNF)
	}

	// Flavours.
	var flavourNodes []*tosca.NodeTemplate
	if len(cands) == 0 && entry != nil && vnfNode != nil {
		// A VNFD without substitution (Tacker's single-file samples
		// before SOL 001 v2.6.1): the entry topology is the one flavour.
		f := x.flavour(entry, nil, vnfType)
		v.Flavours = append(v.Flavours, f)
		flavourNodes = append(flavourNodes, vnfNodeOf(entry))
	}
	for _, c := range cands {
		if v.NodeType != "" && c.typ != nil && c.typ.Name != v.NodeType &&
			!c.typ.IsA(v.NodeType) && (vnfType == nil || !vnfType.IsA(c.typ.Name)) {
			x.errorf(CodeFlavourNodeType, firstPos(c.topo.Substitution.Pos, c.topo.Pos),
				"the flavour in %s substitutes %s, not the VNF node type %s", c.topo.File, c.typ.Name, v.NodeType)
		}
		f := x.flavour(c.topo, c.topo.Substitution, c.typ)
		v.Flavours = append(v.Flavours, f)
		flavourNodes = append(flavourNodes, vnfNodeOf(c.topo))
	}
	// Topologies that are not flavours still get the per-node image checks.
	for _, t := range st.Topologies {
		if t == nil || isFlavourTopology(t, v.Flavours) {
			continue
		}
		for _, n := range orderedNodes(t) {
			x.nodeImage(n)
		}
	}
	if len(v.Flavours) == 0 {
		x.errorf(CodeNoFlavour, entryPos,
			"the VNFD has no deployment flavour: no topology template has substitution_mappings for a node type derived from %s", TypeVNF)
	}
	x.checkFlavourIDs(v.Flavours)
	x.checkOrphanImages()

	// VNF identity: the entry node template's value (which carries the
	// type's default when the template leaves it out), else the type's
	// default, else the type's single valid value, else a flavour's VNF
	// node template. Tacker does the same for descriptor_id given by an
	// unresolved get_input.
	x.vnfHeader(v, vnfNode, vnfType, flavourNodes)

	switch {
	case vnfNode != nil:
		v.Interfaces = lcmInterfaces(vnfNode.Interfaces)
	case vnfType != nil:
		v.Interfaces = lcmInterfaces(implementedInterfaces(vnfType.Interfaces))
	}
	sort.SliceStable(x.problems, func(i, j int) bool {
		a, b := x.problems[i], x.problems[j]
		return before(tosca.Position{File: a.File, Line: a.Line, Column: a.Column},
			tosca.Position{File: b.File, Line: b.Line, Column: b.Column})
	})
	return v, x.problems
}

// entryTopology returns the entry file's topology, nil if it has none.
func (x *extractor) entryTopology() *tosca.Topology {
	if len(x.st.Topologies) == 0 || x.st.Topologies[0] == nil {
		return nil
	}
	t := x.st.Topologies[0]
	if x.st.Entry == "" || t.File == "" || t.File == x.st.Entry {
		return t
	}
	return nil
}

func isFlavourTopology(t *tosca.Topology, fs []*Flavour) bool {
	for _, f := range fs {
		if f.topo == t {
			return true
		}
	}
	return false
}

// vnfNodeOf returns the first node template (in file order) whose type
// derives from tosca.nodes.nfv.VNF.
func vnfNodeOf(t *tosca.Topology) *tosca.NodeTemplate {
	for _, n := range orderedNodes(t) {
		if n.Type.IsA(TypeVNF) {
			return n
		}
	}
	return nil
}

// orderedNodes returns a topology's node templates in file order; names
// missing from NodeOrder follow, sorted.
func orderedNodes(t *tosca.Topology) []*tosca.NodeTemplate {
	if t == nil {
		return nil
	}
	out := make([]*tosca.NodeTemplate, 0, len(t.NodeTemplates))
	seen := make(map[string]bool, len(t.NodeTemplates))
	for _, name := range t.NodeOrder {
		n := t.NodeTemplates[name]
		if n == nil || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, n)
	}
	for _, name := range sortedKeys(t.NodeTemplates) {
		if n := t.NodeTemplates[name]; n != nil && !seen[name] {
			out = append(out, n)
		}
	}
	return out
}

// vnfHeader fills the VNF's identity.
func (x *extractor) vnfHeader(v *VNFD, node *tosca.NodeTemplate, typ *tosca.Type, flavourNodes []*tosca.NodeTemplate) {
	lookup := func(name string) any {
		if node != nil {
			if d := val(prop(node.Properties, name)); d != nil {
				return d
			}
		}
		if typ != nil {
			if def := typ.Properties[name]; def != nil {
				if d := val(def.Default); d != nil {
					return d
				}
				if d, ok := singleValidValue(def.Constraints); ok {
					return d
				}
			}
		}
		for _, n := range flavourNodes {
			if n == nil {
				continue
			}
			if d := val(prop(n.Properties, name)); d != nil {
				return d
			}
		}
		return nil
	}
	text := func(name string) string {
		s, _ := asString(lookup(name))
		return s
	}
	v.DescriptorID = text("descriptor_id")
	v.DescriptorVersion = text("descriptor_version")
	v.Provider = text("provider")
	v.ProductName = text("product_name")
	v.SoftwareVersion = text("software_version")
	v.ProductInfoName = text("product_info_name")
	v.ProductInfoDescription = text("product_info_description")
	v.VnfmInfo = asStrings(lookup("vnfm_info"))
	v.LocalizationLanguages = asStrings(lookup("localization_languages"))
	v.DefaultLocalizationLanguage = text("default_localization_language")

	if node == nil && typ == nil {
		return // CodeNoVNFNode already reported
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"descriptor_id", v.DescriptorID},
		{"descriptor_version", v.DescriptorVersion},
		{"provider", v.Provider},
		{"product_name", v.ProductName},
		{"software_version", v.SoftwareVersion},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		p := v.Pos
		if typ != nil {
			p = firstPos(p, typ.Pos)
		}
		x.errorf(CodeVNFPropertyMissing, p, "the VNF node has no value for %s", strings.Join(missing, ", "))
	}
}

// singleValidValue returns the operand of a valid_values (or equal)
// constraint that admits exactly one value.
func singleValidValue(cs []*tosca.Constraint) (any, bool) {
	for _, c := range cs {
		if c == nil {
			continue
		}
		switch c.Operator {
		case "valid_values":
			args := c.Args
			if len(args) == 1 {
				if l, ok := args[0].([]any); ok {
					args = l
				}
			}
			if len(args) == 1 && args[0] != nil {
				return args[0], true
			}
		case "equal":
			if len(c.Args) == 1 && c.Args[0] != nil {
				return c.Args[0], true
			}
		}
	}
	return nil, false
}

// lcmInterfaces returns the LCM interfaces among a node's interfaces,
// sorted by name, operations in file order.
func lcmInterfaces(ifs map[string]*tosca.InterfaceDef) []*LcmInterface {
	var out []*LcmInterface
	for _, name := range sortedKeys(ifs) {
		d := ifs[name]
		if d == nil || !(d.Type.IsA(TypeVnflcm) || (d.Type == nil && name == "Vnflcm")) {
			continue
		}
		li := &LcmInterface{Name: name, Pos: d.Pos, Operations: []*LcmOperation{}}
		if d.Type != nil {
			li.Type = d.Type.Name
		}
		for _, opName := range sortedKeys(d.Operations) {
			op := d.Operations[opName]
			if op == nil {
				continue
			}
			li.Operations = append(li.Operations, &LcmOperation{
				Name:           opName,
				Implementation: op.Implementation,
				Dependencies:   append([]string(nil), op.Dependencies...),
				Pos:            op.Pos,
			})
		}
		sort.SliceStable(li.Operations, func(i, j int) bool {
			return before(li.Operations[i].Pos, li.Operations[j].Pos)
		})
		out = append(out, li)
	}
	return out
}

// implementedInterfaces keeps the operations of a type's interfaces that
// have an implementation: what a node template of the type carries when it
// assigns none itself (tosca.Process does the same).
func implementedInterfaces(ifs map[string]*tosca.InterfaceDef) map[string]*tosca.InterfaceDef {
	out := map[string]*tosca.InterfaceDef{}
	for name, d := range ifs {
		if d == nil {
			continue
		}
		ops := map[string]*tosca.Operation{}
		for on, op := range d.Operations {
			if op != nil && op.Implementation != "" {
				ops[on] = op
			}
		}
		if len(ops) > 0 {
			c := *d
			c.Operations = ops
			out[name] = &c
		}
	}
	return out
}

// checkFlavourIDs reports flavours without an ID and duplicate IDs.
func (x *extractor) checkFlavourIDs(fs []*Flavour) {
	seen := map[string]*Flavour{}
	for _, f := range fs {
		if f.ID == "" {
			x.errorf(CodeFlavourIDMissing, firstPos(f.idPos, f.Pos),
				"the deployment flavour in %s has no flavour_id (set it in substitution_mappings properties)", f.File)
			continue
		}
		if prev := seen[f.ID]; prev != nil {
			x.errorf(CodeDuplicateFlavourID, firstPos(f.idPos, f.Pos),
				"flavour_id %q is already used by the flavour in %s", f.ID, prev.File)
			continue
		}
		seen[f.ID] = f
	}
}

// SoftwareImages returns every software image of the VNFD, de-duplicated
// by ID (the node template name; the first flavour that has it wins), in
// flavour order, then node order. It includes images described only by
// sw_image_data (InPackage false): SOL 005 softwareImages lists only the
// images with a path in the package or a URI.
func (v *VNFD) SoftwareImages() []*SwImage {
	if v == nil {
		return nil
	}
	var out []*SwImage
	seen := map[string]bool{}
	for _, f := range v.Flavours {
		if f == nil {
			continue
		}
		for _, img := range f.Images {
			if img == nil || seen[img.ID] {
				continue
			}
			seen[img.ID] = true
			out = append(out, img)
		}
	}
	return out
}

// Flavour returns the flavour with the given ID, nil if none.
func (v *VNFD) Flavour(id string) *Flavour {
	if v == nil {
		return nil
	}
	for _, f := range v.Flavours {
		if f != nil && f.ID == id {
			return f
		}
	}
	return nil
}

// VDU returns the flavour's VDU with the given ID, nil if none.
func (f *Flavour) VDU(id string) *VDU {
	if f == nil {
		return nil
	}
	for _, d := range f.VDUs {
		if d.ID == id {
			return d
		}
	}
	return nil
}
