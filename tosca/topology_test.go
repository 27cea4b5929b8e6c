package tosca

import (
	"reflect"
	"strings"
	"testing"
)

const topoTypes = `
tosca_definitions_version: tosca_simple_yaml_1_2
capability_types:
  my.Linkable:
    derived_from: tosca.capabilities.Node
    properties:
      mtu: {type: integer, required: true}
  my.Bindable:
    derived_from: tosca.capabilities.Node
node_types:
  my.Link:
    derived_from: tosca.nodes.Root
    capabilities:
      link: {type: my.Linkable}
  my.Server:
    derived_from: tosca.nodes.Root
    capabilities:
      bind: {type: my.Bindable}
  my.Port:
    derived_from: tosca.nodes.Root
    properties:
      label: {type: string, required: false}
    requirements:
      - link: {capability: my.Linkable, node: my.Link, occurrences: [0, 1]}
      - bind: {capability: my.Bindable, relationship: tosca.relationships.DependsOn}
group_types:
  my.Group:
    derived_from: tosca.groups.Root
    properties:
      label: {type: string}
    members: [my.Server]
policy_types:
  my.Policy:
    derived_from: tosca.policies.Root
    targets: [my.Server, my.Group]
topology_template:
`

func TestTopologyRequirements(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": topoTypes + `
  node_templates:
    net: {type: my.Link, capabilities: {link: {properties: {mtu: 1500}}}}
    srv: {type: my.Server}
    p1:
      type: my.Port
      requirements:
        - link: net
        - bind: {node: srv, capability: bind, relationship: tosca.relationships.DependsOn}
    p2:
      type: my.Port
      requirements:
        - bind: srv
        - link:
`})
	wantNoProblems(t, st)
	got := node(t, st, "p1").Requirements
	want := []*RequirementAssignment{
		{Name: "link", Node: "net", Capability: "link", Pos: Position{"main.yaml", 43, 11}},
		{Name: "bind", Node: "srv", Capability: "bind", Relationship: "tosca.relationships.DependsOn", Pos: Position{"main.yaml", 44, 11}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v %+v", got[0], got[1])
	}
	if r := node(t, st, "p2").Requirements; len(r) != 2 || r[1].Node != "" {
		t.Fatalf("an open requirement is kept without target: %+v", r)
	}
}

func TestTopologyRequirementProblems(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": topoTypes + `
  node_templates:
    net: {type: my.Link, capabilities: {link: {properties: {mtu: 1500}}}}
    srv: {type: my.Server}
    p1:
      type: my.Port
      requirements:
        - link: srv
        - bind: nowhere
        - bind: net
        - wire: srv
    p2:
      type: my.Port
      requirements:
        - link: net
        - link: net
    p3:
      type: my.Port
`})
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeRequirementTarget, 43, 17, `requirement "link" of node template "p1": the target must be a my.Link, and "srv" is a my.Server`},
		{CodeUnknownTemplate, 44, 17, `there is no node template "nowhere" in this topology`},
		{CodeRequirementTarget, 45, 17, `"net" (my.Link) has no capability my.Bindable`},
		{CodeUnknownRequirement, 46, 11, `"wire" is not a requirement of my.Port`},
		{CodeOccurrences, 51, 11, `the requirement "link" is assigned 2 times, more than its maximum of 1`},
		{CodeOccurrences, 52, 5, `node template "p3": the requirement "bind" is assigned 0 times, fewer than its minimum of 1`},
	} {
		wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
	}
}

func TestTopologyCapabilities(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": topoTypes + `
  node_templates:
    a:
      type: my.Link
      capabilities:
        link:
          properties:
            mtu: big
        links: {}
    b:
      type: my.Link
      capabilities:
        link: {properties: {}}
    c:
      type: my.Link
`})
	wantProblem(t, st, CodeTypeMismatch, "main.yaml", 43, 18, `property "mtu" of capability "link" of node template "a": "big" is not an integer`)
	wantProblem(t, st, CodeUnknownCapability, "main.yaml", 44, 9, `"links" is not a capability of my.Link`)
	wantProblem(t, st, CodeMissingProperty, "main.yaml", 48, 9, `capability "link" of node template "b": the required property "mtu" of my.Linkable is missing`)
	p := wantProblem(t, st, CodeMissingProperty, "main.yaml", 49, 5, `capability "link" of node template "c"`, "does not assign the capability")
	if p.Severity != SeverityWarning {
		t.Fatal(p)
	}
	if ca := node(t, st, "c").Capabilities["feature"]; ca == nil || ca.Type.Name != "tosca.capabilities.Node" {
		t.Fatal("unassigned capabilities are listed")
	}
}

func TestTopologyGroupsAndPolicies(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": topoTypes + `
  node_templates:
    net: {type: my.Link, capabilities: {link: {properties: {mtu: 1500}}}}
    srv: {type: my.Server}
  groups:
    g1:
      type: my.Group
      properties: {label: x}
      members: [srv]
    g2:
      type: my.Group
      members: [net, ghost]
  policies:
    - p1: {type: my.Policy, targets: [srv, g1]}
    - p2:
        type: my.Policy
        targets: [net, ghost]
    - p3: {type: my.Nope}
`})
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeLenientGroup, 45, 5, `group "g2": the required property "label" of my.Group is missing`},
		{CodeInvalidTarget, 47, 17, `group "g2": the member "net" is a my.Link, which my.Group does not accept (valid: my.Server)`},
		{CodeUnknownTemplate, 47, 22, `the member "ghost" is not a node template of this topology`},
		{CodeInvalidTarget, 52, 19, `policy "p2": the target "net" is a my.Link`},
		{CodeUnknownTemplate, 52, 24, `the target "ghost" is not a node template or group of this topology`},
		{CodeUnknownType, 53, 18, "policy type my.Nope is not defined"},
	} {
		wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
	}
	topo := st.Topologies[0]
	if len(topo.Groups) != 2 || !reflect.DeepEqual(topo.Groups[0].Members, []string{"srv"}) || topo.Groups[0].Properties["label"].V != "x" {
		t.Fatalf("groups %+v", topo.Groups[0])
	}
	if len(topo.Policies) != 3 || !reflect.DeepEqual(topo.Policies[0].Targets, []string{"srv", "g1"}) {
		t.Fatalf("policies %+v", topo.Policies[0])
	}
	if st.HasErrors() && countCode(st, CodeLenientGroup) != 1 {
		t.Fatal("group property leniency")
	}
}

func TestTopologyArtifacts(t *testing.T) {
	fsys := pkg(map[string]string{
		"Definitions/main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
repositories:
  images: https://images.example.com/
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    artifacts:
      base: {type: tosca.artifacts.File, file: base.txt}
topology_template:
  node_templates:
    n:
      type: my.N
      artifacts:
        script: ../Scripts/install.sh
        data: ../Files/data.bin
        image:
          type: tosca.artifacts.Deployment.Image.VM
          file: ../Files/disk.qcow2
          checksum: abc
          checksum_algorithm: SHA-256
          deploy_path: /var/lib/x
        remote: {type: tosca.artifacts.File, file: "https://example.com/x.bin"}
        repo: {type: tosca.artifacts.File, file: vm.img, repository: images}
        gone: {type: tosca.artifacts.File, file: missing.txt}
        out: ../../etc/passwd
        notype: {file: base.txt}
`,
		"Definitions/base.txt": "x",
		"Scripts/install.sh":   "#!/bin/sh",
		"Files/data.bin":       "x",
		"Files/disk.qcow2":     "x",
	})
	st := Process(fsys, "Definitions/main.yaml", Options{})
	const f = "Definitions/main.yaml"
	wantProblem(t, st, CodeArtifactMissing, f, 24, 50, `"missing.txt"`, "Definitions/missing.txt")
	wantProblem(t, st, CodeArtifactOutside, f, 25, 14, `"../../etc/passwd"`)
	wantProblem(t, st, CodeMissingKeyname, f, 26, 17, `artifact "notype" of node template "n" has no type`)
	arts := node(t, st, "n").Artifacts
	for name, want := range map[string][2]string{
		"base":   {"tosca.artifacts.File", "Definitions/base.txt"},
		"script": {"tosca.artifacts.Implementation.Bash", "Scripts/install.sh"},
		"data":   {"tosca.artifacts.File", "Files/data.bin"},
		"image":  {"tosca.artifacts.Deployment.Image.VM", "Files/disk.qcow2"},
		"remote": {"tosca.artifacts.File", "https://example.com/x.bin"},
		"repo":   {"tosca.artifacts.File", "https://images.example.com/vm.img"},
	} {
		a := arts[name]
		if a == nil || a.Type == nil || a.Type.Name != want[0] || a.ResolvedFile != want[1] {
			t.Errorf("%s: %+v, want %v", name, a, want)
		}
	}
	if img := arts["image"]; img.Checksum != "abc" || img.ChecksumAlgo != "SHA-256" || img.DeployPath != "/var/lib/x" || img.File != "../Files/disk.qcow2" {
		t.Errorf("image: %+v", img)
	}
	if !reflect.DeepEqual(st.RepositoriesReferenced, []string{"https://images.example.com/"}) {
		t.Error(st.RepositoriesReferenced)
	}
}

func TestTopologyInterfaces(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
interface_types:
  my.Lcm:
    derived_from: tosca.interfaces.Root
    instantiate:
      inputs:
        mode: {type: string, constraints: [{valid_values: [fast, slow]}]}
    terminate: {}
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    interfaces:
      Lcm:
        type: my.Lcm
        terminate: scripts/term.sh
topology_template:
  inputs:
    speed: {type: string, default: fast}
  node_templates:
    n:
      type: my.N
      interfaces:
        Lcm:
          instantiate:
            implementation: {primary: scripts/inst.sh, dependencies: [lib.sh]}
            inputs:
              mode: {get_input: speed}
              extra: [1, {get_input: speed}]
        Standard:
          create: []
    bad:
      type: my.N
      interfaces:
        Lcm:
          heal: x.sh
          instantiate:
            inputs: {mode: medium}
        Nope: {}
`})
	lcm := node(t, st, "n").Interfaces["Lcm"]
	inst := lcm.Operations["instantiate"]
	if inst.Implementation != "scripts/inst.sh" || !reflect.DeepEqual(inst.Dependencies, []string{"lib.sh"}) || inst.Inputs["mode"].V != "fast" {
		t.Fatalf("instantiate: %+v %+v", inst, inst.Inputs["mode"])
	}
	if !reflect.DeepEqual(inst.Inputs["extra"].V, []any{int64(1), "fast"}) {
		t.Fatalf("functions inside untyped inputs: %#v", inst.Inputs["extra"].V)
	}
	if lcm.Operations["terminate"].Implementation != "scripts/term.sh" || lcm.Type.Name != "my.Lcm" {
		t.Fatalf("the type's implementation is kept: %+v", lcm.Operations)
	}
	if std := node(t, st, "n").Interfaces["Standard"]; std == nil || std.Operations["create"] == nil || std.Operations["create"].Implementation != "" {
		t.Fatalf("Standard: %+v", std)
	}
	p := wantProblem(t, st, CodeEmptyOperation, "main.yaml", 30, 19, `operation "create"`, "empty list")
	if p.Severity != SeverityWarning {
		t.Fatal(p)
	}
	wantProblem(t, st, CodeUnknownOperation, "main.yaml", 35, 11, `interface "Lcm" of node template "bad": "heal" is not an operation of the interface (my.Lcm)`)
	wantProblem(t, st, CodeConstraint, "main.yaml", 37, 28, `input "mode" of operation "instantiate"`, `"medium" is not one of the valid values [fast slow]`)
	wantProblem(t, st, CodeUnknownInterface, "main.yaml", 38, 9, `"Nope" is not an interface of my.N`)
}

func TestTopologyInputsOutputs(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  inputs:
    count: {type: integer, default: 3, constraints: [{less_than: 10}]}
    name: {type: string}
    bad: {type: integer, default: many}
    fixed: {type: string, value: v}
  node_templates:
    n: {type: tosca.nodes.Compute}
  outputs:
    ip: {value: {get_attribute: [n, private_address]}}
    total: {value: {get_input: count}, type: integer}
    wrong: {value: {get_input: name}, type: integer}
    novalue: {description: x}
    badtype: {value: text, type: integer}
`})
	topo := st.Topologies[0]
	if in := topo.Inputs["count"]; in.Value.V != int64(3) || !in.Def.Required || in.Def.Type != "integer" {
		t.Fatalf("count: %+v %+v", in.Def, in.Value)
	}
	if topo.Inputs["name"].Value != nil || topo.Inputs["fixed"].Value.V != "v" {
		t.Fatal("input values")
	}
	wantProblem(t, st, CodeTypeMismatch, "main.yaml", 6, 35, `the default of input "bad": "many" is not an integer`)
	if o := topo.Outputs["ip"]; o.Function != "get_attribute" || !reflect.DeepEqual(o.V, []any{"n", "private_address"}) {
		t.Fatalf("ip: %+v", o)
	}
	if o := topo.Outputs["total"]; o.V != int64(3) || o.Type != "integer" {
		t.Fatalf("total: %+v", o)
	}
	if o := topo.Outputs["wrong"]; o.Function != "get_input" {
		t.Fatalf("an input without value stays a function: %+v", o)
	}
	wantProblem(t, st, CodeMissingKeyname, "main.yaml", 14, 5, `output "novalue" has no value`)
	wantProblem(t, st, CodeTypeMismatch, "main.yaml", 15, 22, `output "badtype": "text" is not an integer`)
}

func TestTopologySubstitution(t *testing.T) {
	base := topoTypes + `
  inputs:
    flavour: {type: string, default: small}
  node_templates:
    srv: {type: my.Server}
    port: {type: my.Port, requirements: [{bind: srv}]}
  substitution_mappings:
`
	st := process(t, map[string]string{"main.yaml": base + `
    node_type: my.Port
    properties:
      label: [flavour]
    requirements:
      link: [port, link]
      bind: {mapping: [port, bind]}
    capabilities:
      feature: [srv, feature]
`})
	wantNoProblems(t, st)
	sm := st.Topologies[0].Substitution
	if sm.Type.Name != "my.Port" || !reflect.DeepEqual(sm.Requirements["link"], []string{"port", "link"}) ||
		!reflect.DeepEqual(sm.Requirements["bind"], []string{"port", "bind"}) || !reflect.DeepEqual(sm.Capabilities["feature"], []string{"srv", "feature"}) {
		t.Fatalf("%+v", sm)
	}
	if v := sm.Properties["label"]; v.Function != "get_input" || !reflect.DeepEqual(v.V, []any{"flavour"}) {
		t.Fatalf("1.2 property mapping: %+v", v)
	}

	st = process(t, map[string]string{"main.yaml": base + `
    node_type: my.Nope
`})
	wantProblem(t, st, CodeUnknownType, "main.yaml", 44, 16, "node type my.Nope is not defined")

	st = process(t, map[string]string{"main.yaml": base + `
    node_type: my.Port
    properties:
      colour: red
    requirements:
      wire: [port, link]
      link: [ghost, link]
      bind: [port, plug]
    capabilities:
      feature: [ghost, feature]
`})
	wantProblem(t, st, CodeUnknownProperty, "main.yaml", 46, 7, `"colour" is not a property of my.Port`)
	p := wantProblem(t, st, CodeLenientSubstitute, "main.yaml", 48, 7, `"wire" is not a requirement of my.Port`)
	if p.Severity != SeverityWarning {
		t.Fatal(p)
	}
	// A requirement mapped to a template the topology lacks is one of
	// Tacker's laxities (a warning); a capability mapping stays strict.
	if p := wantProblem(t, st, CodeLenientMappingTarget, "main.yaml", 49, 14, `"link" is mapped to "ghost", which is not a node template`); p.Severity != SeverityWarning {
		t.Fatal(p)
	}
	wantProblem(t, st, CodeUnknownTemplate, "main.yaml", 52, 17, `capability "feature" is mapped to "ghost", which is not a node template`)
	wantProblem(t, st, CodeLenientSubstitute, "main.yaml", 50, 20, `"plug" is not a requirement of node template "port" (my.Port)`)
}

func TestTopologyNodeTemplateProblems(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
data_types:
  my.D: {derived_from: tosca.datatypes.Root}
topology_template:
  node_templates:
    a: {type: my.D}
    b: {properties: {}}
    c: {type: tosca.nodes.Root, propertys: {}}
    d: {type: tosca.nodes.Root, copy: a}
    e: [1]
    f: {type: tosca.nodes.Root, attributes: {tosca_id: 5, nope: 1}}
`})
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeWrongKind, 6, 15, `the type of node template "a": my.D is a data type, not a node type`},
		{CodeMissingKeyname, 7, 5, `node template "b" has no type`},
		{CodeUnknownKeyname, 8, 33, `unknown keyname "propertys" in node template "c"`},
		{CodeUnsupported, 9, 39, "copy is not supported"},
		{CodeSyntax, 10, 8, `node template "e" must be a mapping`},
		{CodeTypeMismatch, 11, 56, `attribute "tosca_id" of node template "f": the integer 5 is not a string`},
		{CodeUnknownProperty, 11, 59, `"nope" is not an attribute of tosca.nodes.Root`},
	} {
		wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
	}
}

func TestTopologyLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template:\n  node_templates:\n")
	for i := 0; i < 20; i++ {
		b.WriteString("    n" + string(rune('a'+i)) + ": {type: tosca.nodes.Root}\n")
	}
	st := Process(pkg(map[string]string{"main.yaml": b.String()}), "main.yaml", Options{Limits: Limits{MaxTemplates: 10}})
	wantProblem(t, st, CodeTooManyTemplates, "main.yaml", 3, 3, "more than the limit of 10")
	if len(st.Topologies[0].NodeTemplates) != 0 {
		t.Fatal("templates beyond the limit are processed")
	}
}

func TestTopologyRelationships(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
relationship_types:
  my.Rel:
    derived_from: tosca.relationships.ConnectsTo
    properties:
      label: {type: string}
node_types:
  my.Client:
    derived_from: tosca.nodes.Root
    properties:
      name: {type: string, default: cli}
    requirements:
      - server: {capability: tosca.capabilities.Endpoint, relationship: my.Rel}
  my.Server:
    derived_from: tosca.nodes.Root
    properties:
      port: {type: integer, default: 80}
    capabilities:
      ep: {type: tosca.capabilities.Endpoint}
topology_template:
  relationship_templates:
    named:
      type: my.Rel
      properties: {label: fixed}
  node_templates:
    s: {type: my.Server}
    c1:
      type: my.Client
      requirements:
        - server:
            node: s
            relationship:
              type: my.Rel
              properties:
                label: {concat: [{get_property: [SOURCE, name]}, "->", {get_property: [TARGET, port]}]}
    c2:
      type: my.Client
      requirements:
        - server: {node: s, relationship: named}
    c3:
      type: my.Client
      requirements:
        - server:
            node: s
            relationship: {type: my.Rel}
`})
	wantProblem(t, st, CodeMissingProperty, "main.yaml", 45, 27, `the relationship of requirement "server" of node template "c3": the required property "label" of my.Rel is missing`)
	if countCode(st, CodeMissingProperty) != 1 || st.HasErrors() && len(errorsOf(st)) != 1 {
		t.Fatalf("only c3 is wrong:\n%s", dump(st.Problems))
	}
	if r := node(t, st, "c2").Requirements[0]; r.Relationship != "named" {
		t.Fatalf("%+v", r)
	}
}

func TestTopology13Interfaces(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_3
interface_types:
  my.I:
    derived_from: tosca.interfaces.Root
    operations:
      go: {description: start it}
    notifications:
      done: {description: finished}
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    interfaces:
      I:
        type: my.I
        operations:
          go:
            implementation:
              primary: {file: run.sh, type: tosca.artifacts.Implementation.Bash}
              dependencies: [lib.sh]
topology_template:
  node_templates:
    n:
      type: my.N
      interfaces:
        I:
          operations:
            go:
              inputs: {speed: 3}
        Standard:
          start: old-style.sh
`})
	wantClean(t, st)
	wantProblem(t, st, CodeSyntax, "main.yaml", 30, 11, `operation "start" of interface "Standard" is written outside operations:`)
	op := node(t, st, "n").Interfaces["I"].Operations["go"]
	if op.Implementation != "run.sh" || !reflect.DeepEqual(op.Dependencies, []string{"lib.sh"}) || op.Inputs["speed"].V != int64(3) || op.Description != "start it" {
		t.Fatalf("%+v", op)
	}
	if node(t, st, "n").Interfaces["Standard"].Operations["start"].Implementation != "old-style.sh" {
		t.Fatal("1.2-style operation in a 1.3 file")
	}
}
