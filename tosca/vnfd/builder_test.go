package vnfd

import (
	"testing"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// Helpers that build processed service templates by hand, the way
// tosca.Process would, so the extraction is tested without the processor.

const (
	topFile    = "Definitions/top.yaml"
	typesFile  = "Definitions/types.yaml"
	simpleFile = "Definitions/df_simple.yaml"
	otherFile  = "Definitions/df_other.yaml"
	profile    = "etsi_nfv_sol001_vnfd_types.yaml"
)

func at(file string, line, col int) tosca.Position {
	return tosca.Position{File: file, Line: line, Column: col}
}

// types is a minimal SOL 001 type system.
type types struct {
	all map[tosca.TypeKind]map[string]*tosca.Type
}

func newTypes() *types {
	ts := &types{all: map[tosca.TypeKind]map[string]*tosca.Type{}}
	nodeRoot := ts.add(tosca.KindNode, "tosca.nodes.Root", "")
	_ = nodeRoot
	ts.add(tosca.KindNode, TypeVNF, "tosca.nodes.Root")
	ts.add(tosca.KindNode, TypeVduCompute, "tosca.nodes.Root")
	ts.add(tosca.KindNode, TypeVirtualBlockStorage, "tosca.nodes.Root")
	ts.add(tosca.KindNode, TypeVirtualObjectStorage, "tosca.nodes.Root")
	ts.add(tosca.KindNode, TypeVirtualFileStorage, "tosca.nodes.Root")
	ts.add(tosca.KindNode, "tosca.nodes.nfv.Cp", "tosca.nodes.Root")
	ts.add(tosca.KindNode, TypeVduCp, "tosca.nodes.nfv.Cp")
	ts.add(tosca.KindNode, TypeVnfExtCp, "tosca.nodes.nfv.Cp")
	ts.add(tosca.KindNode, TypeVnfVirtualLink, "tosca.nodes.Root")
	ts.add(tosca.KindArtifact, "tosca.artifacts.Root", "")
	ts.add(tosca.KindArtifact, "tosca.artifacts.Deployment", "tosca.artifacts.Root")
	ts.add(tosca.KindArtifact, "tosca.artifacts.Deployment.Image", "tosca.artifacts.Deployment")
	ts.add(tosca.KindArtifact, "tosca.artifacts.Deployment.Image.VM", "tosca.artifacts.Deployment.Image")
	ts.add(tosca.KindArtifact, TypeSwImage, "tosca.artifacts.Deployment.Image")
	ts.add(tosca.KindArtifact, "tosca.artifacts.Implementation.Bash", "tosca.artifacts.Root")
	ts.add(tosca.KindInterface, "tosca.interfaces.Root", "")
	ts.add(tosca.KindInterface, TypeVnflcm, "tosca.interfaces.Root")
	ts.add(tosca.KindGroup, "tosca.groups.Root", "")
	ts.add(tosca.KindGroup, TypePlacementGroup, "tosca.groups.Root")
	ts.add(tosca.KindPolicy, "tosca.policies.Root", "")
	ts.add(tosca.KindPolicy, "tosca.policies.Placement", "tosca.policies.Root")
	for _, n := range []string{
		TypeInstantiationLevels, TypeVduInstantiationLevels, TypeVirtualLinkInstantiationLevels,
		TypeScalingAspects, TypeVduInitialDelta, TypeVduScalingAspectDeltas,
		TypeVirtualLinkBitrateInitialDelta, TypeVirtualLinkBitrateScalingAspectDeltas,
	} {
		ts.add(tosca.KindPolicy, n, "tosca.policies.Root")
	}
	ts.add(tosca.KindPolicy, TypeAffinityRule, "tosca.policies.Placement")
	ts.add(tosca.KindPolicy, TypeAntiAffinityRule, "tosca.policies.Placement")
	return ts
}

func (ts *types) add(kind tosca.TypeKind, name, parent string) *tosca.Type {
	t := &tosca.Type{Kind: kind, Name: name, Pos: at(profile, 1, 3), Properties: map[string]*tosca.PropertyDef{}}
	if parent != "" {
		t.Parent = ts.all[kind][parent]
		if t.Parent == nil {
			panic("unknown parent " + parent)
		}
	}
	if ts.all[kind] == nil {
		ts.all[kind] = map[string]*tosca.Type{}
	}
	ts.all[kind][name] = t
	return t
}

func (ts *types) node(name string) *tosca.Type     { return ts.get(tosca.KindNode, name) }
func (ts *types) policy(name string) *tosca.Type   { return ts.get(tosca.KindPolicy, name) }
func (ts *types) artifact(name string) *tosca.Type { return ts.get(tosca.KindArtifact, name) }
func (ts *types) get(kind tosca.TypeKind, name string) *tosca.Type {
	t := ts.all[kind][name]
	if t == nil {
		panic("unknown type " + name)
	}
	return t
}

// vnfType declares company.provider.VNF the way Tacker's samples do:
// default plus a single valid value for every identity property.
func (ts *types) vnfType() *tosca.Type {
	t := ts.add(tosca.KindNode, "company.provider.VNF", TypeVNF)
	t.Pos = at(typesFile, 9, 3)
	line := 11
	def := func(name string, v any, valid bool) {
		d := &tosca.PropertyDef{Name: name, Type: "string", Pos: at(typesFile, line, 7)}
		if v != nil {
			d.Default = &tosca.Value{V: v, Pos: at(typesFile, line+3, 18)}
		}
		if valid {
			d.Constraints = []*tosca.Constraint{{Operator: "valid_values", Args: []any{[]any{v}}, Pos: at(typesFile, line+2, 24)}}
		}
		t.Properties[name] = d
		line += 4
	}
	def("descriptor_id", "5189df9e-7018-11ea-b97a-000c292ec2ea", true)
	def("descriptor_version", "1.0", true)
	def("provider", "DemoLabs", true)
	def("product_name", "Demo VNF", true)
	def("software_version", "1.0", true)
	def("flavour_id", "simple", true)
	def("flavour_description", "", false)
	t.Properties["vnfm_info"] = &tosca.PropertyDef{Name: "vnfm_info", Type: "list",
		Default: &tosca.Value{V: []any{"Tacker"}, Pos: at(typesFile, 40, 18)}}
	t.Interfaces = map[string]*tosca.InterfaceDef{
		"Vnflcm": {Name: "Vnflcm", Type: ts.get(tosca.KindInterface, TypeVnflcm), Pos: at(typesFile, 50, 7),
			Operations: map[string]*tosca.Operation{}},
	}
	return t
}

func v(x any, p tosca.Position) *tosca.Value { return &tosca.Value{V: x, Pos: p} }

// topo builds a topology from node templates given in file order.
func topo(file string, nodes ...*tosca.NodeTemplate) *tosca.Topology {
	t := &tosca.Topology{File: file, NodeTemplates: map[string]*tosca.NodeTemplate{}, Pos: at(file, 9, 1)}
	for _, n := range nodes {
		t.NodeTemplates[n.Name] = n
		t.NodeOrder = append(t.NodeOrder, n.Name)
	}
	return t
}

// vnfNode is a VNF node template with properties (defaults of the type
// applied for the names not given, with the default's position).
func vnfNode(typ *tosca.Type, name string, p tosca.Position, props map[string]*tosca.Value) *tosca.NodeTemplate {
	n := &tosca.NodeTemplate{Name: name, Type: typ, Pos: p, Properties: map[string]*tosca.Value{}}
	for k, d := range typ.Properties {
		if d.Default != nil {
			n.Properties[k] = d.Default
		}
	}
	for k, x := range props {
		n.Properties[k] = x
	}
	return n
}

func node(name string, typ *tosca.Type, p tosca.Position) *tosca.NodeTemplate {
	return &tosca.NodeTemplate{Name: name, Type: typ, Pos: p, Properties: map[string]*tosca.Value{}}
}

func swImageData(name, algo, hash string, p tosca.Position) *tosca.Value {
	return v(map[string]any{
		"name":             name,
		"version":          "0.5.2",
		"checksum":         map[string]any{"algorithm": algo, "hash": hash},
		"container_format": "bare",
		"disk_format":      "qcow2",
		"min_disk":         "4 GB",
		"min_ram":          "512 MiB",
		"size":             "4 GB",
	}, p)
}

func swArtifact(ts *types, name, resolved string, p tosca.Position) *tosca.ArtifactTemplate {
	return &tosca.ArtifactTemplate{Name: name, Type: ts.artifact(TypeSwImage), File: "../" + resolved, ResolvedFile: resolved, Pos: p}
}

func policy(name string, typ *tosca.Type, p tosca.Position, targets []string, props map[string]*tosca.Value) *tosca.Policy {
	return &tosca.Policy{Name: name, Type: typ, Pos: p, Targets: targets, Properties: props}
}

const hash512 = "2e45ec98e7ea7317e85b63cd0780eda19fc0bcdbfdbdcdb2a9cd88f295c03b8ecbf6bccc80a3be944ca10cfc02f3d3682e7f0fdbaa21f5e9586ffa1d9448a8de"

// helloworld builds the service template of Tacker's helloworld3 sample
// (multi-file: a top file with the VNF node, one flavour file) as the
// processor would hand it over. Positions follow the sample's layout.
func helloworld() (*tosca.ServiceTemplate, *types) {
	ts := newTypes()
	vt := ts.vnfType()

	top := topo(topFile, vnfNode(vt, "VNF", at(topFile, 18, 5), map[string]*tosca.Value{
		"flavour_id":         v(nil, at(topFile, 21, 21)), // get_input without a default
		"descriptor_id":      v("5189df9e-7018-11ea-b97a-000c292ec2ea", at(topFile, 22, 24)),
		"provider":           v("DemoLabs", at(topFile, 23, 19)),
		"product_name":       v("Demo VNF", at(topFile, 24, 23)),
		"software_version":   v("1.0", at(topFile, 25, 27)),
		"descriptor_version": v("1.0", at(topFile, 26, 29)),
		"vnfm_info":          v([]any{"Tacker"}, at(topFile, 28, 11)),
	}))

	fvnf := vnfNode(vt, "VNF", at(simpleFile, 40, 5), map[string]*tosca.Value{
		"flavour_description": v("A simple flavour", at(simpleFile, 43, 30)),
	})
	fvnf.Interfaces = map[string]*tosca.InterfaceDef{
		"Vnflcm": {Name: "Vnflcm", Type: ts.get(tosca.KindInterface, TypeVnflcm), Pos: at(simpleFile, 45, 9),
			Operations: map[string]*tosca.Operation{
				"instantiate":       {Name: "instantiate", Pos: at(simpleFile, 48, 11)},
				"instantiate_start": {Name: "instantiate_start", Implementation: "install", Dependencies: []string{"util"}, Pos: at(simpleFile, 49, 11)},
				"terminate":         {Name: "terminate", Pos: at(simpleFile, 51, 11)},
				"instantiate_end":   {Name: "instantiate_end", Pos: at(simpleFile, 50, 11)},
			}},
		"Other": {Name: "Other", Pos: at(simpleFile, 60, 9)},
	}

	vdu1 := node("VDU1", ts.node(TypeVduCompute), at(simpleFile, 80, 5))
	vdu1.Properties["name"] = v("VDU1", at(simpleFile, 83, 15))
	vdu1.Properties["description"] = v("VDU1 compute node", at(simpleFile, 84, 22))
	vdu1.Properties["vdu_profile"] = v(map[string]any{"min_number_of_instances": int64(1), "max_number_of_instances": int64(1)}, at(simpleFile, 86, 11))
	vdu1.Properties["sw_image_data"] = swImageData("Demo software of VDU1", "sha-512", hash512, at(simpleFile, 89, 11))
	vdu1.Artifacts = map[string]*tosca.ArtifactTemplate{
		"sw_image": swArtifact(ts, "sw_image", "Files/images/cirros-0.5.2-x86_64-disk.img", at(simpleFile, 101, 9)),
	}
	vdu1.Capabilities = map[string]*tosca.CapabilityAssignment{
		"virtual_compute": {Name: "virtual_compute", Pos: at(simpleFile, 106, 9), Properties: map[string]*tosca.Value{
			"virtual_memory":        v(map[string]any{"virtual_mem_size": "512 MB"}, at(simpleFile, 109, 15)),
			"virtual_cpu":           v(map[string]any{"num_virtual_cpu": int64(2), "cpu_architecture": "x86_64"}, at(simpleFile, 111, 15)),
			"virtual_local_storage": v([]any{map[string]any{"size_of_storage": "1 GiB"}}, at(simpleFile, 113, 15)),
		}},
	}

	vdu2 := node("VDU2", ts.node(TypeVduCompute), at(simpleFile, 116, 5))
	vdu2.Properties["name"] = v("VDU2", at(simpleFile, 119, 15))
	vdu2.Properties["vdu_profile"] = v(map[string]any{"min_number_of_instances": int64(1), "max_number_of_instances": int64(3)}, at(simpleFile, 122, 11))
	vdu2.Requirements = []*tosca.RequirementAssignment{{Name: "virtual_storage", Node: "VirtualStorage", Pos: at(simpleFile, 136, 11)}}

	vs := node("VirtualStorage", ts.node(TypeVirtualBlockStorage), at(simpleFile, 138, 5))
	vs.Properties["virtual_block_storage_data"] = v(map[string]any{"size_of_storage": "30 GB", "rdma_enabled": true}, at(simpleFile, 141, 11))
	vs.Properties["sw_image_data"] = swImageData("DemoVirtualStorage", "sha-512", hash512, at(simpleFile, 144, 11))
	vs.Artifacts = map[string]*tosca.ArtifactTemplate{
		"sw_image": swArtifact(ts, "sw_image", "Files/images/cirros-0.5.2-x86_64-disk.img", at(simpleFile, 156, 9)),
	}

	cp1 := node("CP1", ts.node(TypeVduCp), at(simpleFile, 160, 5))
	cp1.Properties["layer_protocols"] = v([]any{"ipv4"}, at(simpleFile, 163, 26))
	cp1.Properties["order"] = v(int64(0), at(simpleFile, 164, 16))
	cp1.Properties["vnic_type"] = v("direct-physical", at(simpleFile, 165, 20))
	cp1.Requirements = []*tosca.RequirementAssignment{{Name: "virtual_binding", Node: "VDU1"}}
	cp2 := node("CP2", ts.node(TypeVduCp), at(simpleFile, 170, 5))
	cp2.Properties["layer_protocols"] = v([]any{"ipv4"}, at(simpleFile, 173, 26))
	cp2.Properties["order"] = v(int64(1), at(simpleFile, 174, 16))
	cp2.Requirements = []*tosca.RequirementAssignment{{Name: "virtual_binding", Node: "VDU1"}, {Name: "virtual_link", Node: "internalVL2"}}

	vl := node("internalVL2", ts.node(TypeVnfVirtualLink), at(simpleFile, 190, 5))
	vl.Properties["connectivity_type"] = v(map[string]any{"layer_protocols": []any{"ipv4"}}, at(simpleFile, 193, 11))
	vl.Properties["description"] = v("Internal Virtual link in the VNF", at(simpleFile, 195, 22))
	vl.Properties["vl_profile"] = v(map[string]any{
		"max_bitrate_requirements": map[string]any{"root": int64(1048576), "leaf": int64(1048576)},
		"min_bitrate_requirements": map[string]any{"root": int64(1048576), "leaf": int64(1048576)},
		"virtual_link_protocol_data": []any{map[string]any{
			"associated_layer_protocol": "ipv4",
			"l3_protocol_data":          map[string]any{"ip_version": "ipv4", "cidr": "11.11.0.0/24", "dhcp_enabled": true},
		}},
	}, at(simpleFile, 197, 11))

	df := topo(simpleFile, fvnf, vdu1, vdu2, vs, cp1, cp2, vl)
	df.Substitution = &tosca.SubstitutionMappings{
		NodeType: vt.Name, Type: vt, Pos: at(simpleFile, 31, 5),
		Properties:   map[string]*tosca.Value{"flavour_id": v("simple", at(simpleFile, 34, 19))},
		Requirements: map[string][]string{"virtual_link_external": {"CP1", "virtual_link"}},
	}
	levels := map[string]any{
		"instantiation_level_1": map[string]any{"description": "Smallest size", "scale_info": map[string]any{"worker_instance": map[string]any{"scale_level": int64(0)}}},
		"instantiation_level_2": map[string]any{"description": "Largest size", "scale_info": map[string]any{"worker_instance": map[string]any{"scale_level": int64(2)}}},
	}
	df.Policies = []*tosca.Policy{
		policy("scaling_aspects", ts.policy(TypeScalingAspects), at(simpleFile, 215, 7), nil, map[string]*tosca.Value{
			"aspects": v(map[string]any{"worker_instance": map[string]any{
				"name": "worker_instance_aspect", "description": "worker_instance scaling aspect",
				"max_scale_level": int64(2), "step_deltas": []any{"delta_1"},
			}}, at(simpleFile, 218, 11)),
		}),
		policy("VDU2_initial_delta", ts.policy(TypeVduInitialDelta), at(simpleFile, 226, 7), []string{"VDU2"}, map[string]*tosca.Value{
			"initial_delta": v(map[string]any{"number_of_instances": int64(1)}, at(simpleFile, 229, 11)),
		}),
		policy("VDU2_scaling_aspect_deltas", ts.policy(TypeVduScalingAspectDeltas), at(simpleFile, 233, 7), []string{"VDU2"}, map[string]*tosca.Value{
			"aspect": v("worker_instance", at(simpleFile, 236, 19)),
			"deltas": v(map[string]any{"delta_1": map[string]any{"number_of_instances": int64(1)}}, at(simpleFile, 238, 13)),
		}),
		policy("instantiation_levels", ts.policy(TypeInstantiationLevels), at(simpleFile, 242, 7), nil, map[string]*tosca.Value{
			"levels":        v(levels, at(simpleFile, 246, 13)),
			"default_level": v("instantiation_level_1", at(simpleFile, 255, 26)),
		}),
		policy("VDU1_instantiation_levels", ts.policy(TypeVduInstantiationLevels), at(simpleFile, 257, 7), []string{"VDU1"}, map[string]*tosca.Value{
			"levels": v(map[string]any{
				"instantiation_level_1": map[string]any{"number_of_instances": int64(1)},
				"instantiation_level_2": map[string]any{"number_of_instances": int64(3)},
			}, at(simpleFile, 260, 11)),
		}),
		policy("VDU2_instantiation_levels", ts.policy(TypeVduInstantiationLevels), at(simpleFile, 267, 7), []string{"VDU2"}, map[string]*tosca.Value{
			"levels": v(map[string]any{
				"instantiation_level_1": map[string]any{"number_of_instances": int64(1)},
				"instantiation_level_2": map[string]any{"number_of_instances": int64(1)},
			}, at(simpleFile, 270, 11)),
		}),
		policy("internalVL2_instantiation_levels", ts.policy(TypeVirtualLinkInstantiationLevels), at(simpleFile, 277, 7), []string{"internalVL2"}, map[string]*tosca.Value{
			"levels": v(map[string]any{
				"instantiation_level_1": map[string]any{"bitrate_requirements": map[string]any{"root": int64(1048576), "leaf": int64(1048576)}},
				"instantiation_level_2": map[string]any{"bitrate_requirements": map[string]any{"root": int64(2097152)}},
			}, at(simpleFile, 280, 11)),
		}),
	}

	st := &tosca.ServiceTemplate{
		Entry:              topFile,
		DefinitionsVersion: "tosca_simple_yaml_1_2",
		Description:        "Demo VNF",
		Files:              []string{topFile, typesFile, simpleFile},
		Types:              ts.all,
		Topologies:         []*tosca.Topology{top, df},
	}
	return st, ts
}

// flavourTopo returns the topology of the st's flavour file.
func flavourTopo(st *tosca.ServiceTemplate, file string) *tosca.Topology {
	for _, t := range st.Topologies {
		if t.File == file {
			return t
		}
	}
	panic("no topology " + file)
}

func findProblems(probs []tosca.Problem, code string) []tosca.Problem {
	var out []tosca.Problem
	for _, p := range probs {
		if p.Code == code {
			out = append(out, p)
		}
	}
	return out
}

// wantProblem requires exactly one problem with the code, severity and position.
func wantProblem(t *testing.T, probs []tosca.Problem, code string, sev tosca.Severity, p tosca.Position) tosca.Problem {
	t.Helper()
	got := findProblems(probs, code)
	if len(got) != 1 {
		t.Fatalf("want one %s problem, got %d; all problems: %+v", code, len(got), probs)
	}
	g := got[0]
	if g.Severity != sev || g.File != p.File || g.Line != p.Line || g.Column != p.Column {
		t.Errorf("%s: got %s at %s:%d:%d, want %s at %s:%d:%d (%s)", code, g.Severity, g.File, g.Line, g.Column,
			sev, p.File, p.Line, p.Column, g.Message)
	}
	if g.Message == "" {
		t.Errorf("%s: empty message", code)
	}
	return g
}

func wantNoErrors(t *testing.T, probs []tosca.Problem) {
	t.Helper()
	for _, p := range probs {
		if p.Severity == tosca.SeverityError {
			t.Errorf("unexpected error %s at %s:%d:%d: %s", p.Code, p.File, p.Line, p.Column, p.Message)
		}
	}
}
