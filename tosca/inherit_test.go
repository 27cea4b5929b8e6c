package tosca

import (
	"reflect"
	"testing"
)

const inheritTypes = `
tosca_definitions_version: tosca_simple_yaml_1_2
data_types:
  my.Base:
    derived_from: tosca.datatypes.Root
  my.Sub:
    derived_from: my.Base
node_types:
  my.Parent:
    derived_from: tosca.nodes.Root
    properties:
      size:
        type: integer
        required: false
        default: 5
        constraints: [{greater_or_equal: 0}]
      name: {type: string}
      data: {type: my.Base, required: false}
      tags:
        type: list
        required: false
        entry_schema: {type: string, constraints: [{pattern: "[a-z]+"}]}
    attributes:
      state2: {type: string, default: new}
    capabilities:
      link: {type: tosca.capabilities.Node}
    requirements:
      - first: {capability: tosca.capabilities.Node}
      - second: {capability: tosca.capabilities.Node, occurrences: [0, 1]}
    interfaces:
      Standard: {type: tosca.interfaces.node.lifecycle.Standard}
  my.Child:
    derived_from: my.Parent
    properties:
      size:
        type: integer
        default: 7
        constraints: [{less_than: 10}]
      data: {type: my.Sub}
      tags:
        type: list
        entry_schema: {type: string, constraints: [{valid_values: [a, b]}]}
    capabilities:
      link: {type: tosca.capabilities.network.Bindable}
    requirements:
      - second: {capability: tosca.capabilities.Node, occurrences: [0, 3]}
      - third: {capability: tosca.capabilities.Node, occurrences: [0, 1]}
    interfaces:
      Standard:
        create: scripts/create.sh
`

func TestInheritanceMerge(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": inheritTypes, "scripts/create.sh": "#!/bin/sh\n"})
	wantNoProblems(t, st)
	child := st.Type(KindNode, "my.Child")
	size := child.Properties["size"]
	if size.Required || size.Default.V != int64(7) || len(size.Constraints) != 2 {
		t.Fatalf("size not refined (required kept false, default 7, constraints added): %+v", size)
	}
	if name := child.Properties["name"]; !name.Required || name.Type != "string" {
		t.Fatalf("name: required defaults to true, inherited: %+v", name)
	}
	if child.Properties["data"].DataType.Name != "my.Sub" {
		t.Fatal("data type not narrowed")
	}
	if c := child.Properties["tags"].EntrySchema.Constraints; len(c) != 1 || c[0].Operator != "valid_values" {
		t.Fatalf("entry_schema should be replaced: %+v", c)
	}
	if child.Properties["tosca_id"] != nil || child.Attributes["tosca_id"] == nil || child.Attributes["state2"].Default.V != "new" {
		t.Fatal("attributes not inherited")
	}
	if child.Capabilities["link"].Type.Name != "tosca.capabilities.network.Bindable" || child.Capabilities["feature"] == nil {
		t.Fatal("capabilities not merged")
	}
	var reqs []string
	for _, r := range child.Requirements {
		reqs = append(reqs, r.Name)
	}
	if want := []string{"dependency", "first", "second", "third"}; !reflect.DeepEqual(reqs, want) {
		t.Fatalf("requirements %v, want %v", reqs, want)
	}
	if child.Requirements[2].Occurrences != [2]int{0, 3} || child.Requirements[1].Occurrences != [2]int{1, 1} {
		t.Fatalf("occurrences: %+v %+v", child.Requirements[1], child.Requirements[2])
	}
	std := child.Interfaces["Standard"]
	if std.Operations["create"].Implementation != "scripts/create.sh" || std.Operations["start"] == nil {
		t.Fatalf("interface operations: %+v", std.Operations)
	}
	if !child.IsA("tosca.nodes.Root") || child.IsA("tosca.nodes.Compute") {
		t.Fatal("IsA")
	}
}

func TestInheritanceRefinementProblems(t *testing.T) {
	cases := []struct {
		name, body, code string
		line, col        int
		frag             string
	}{
		{"incompatible property type", `
  my.C:
    derived_from: my.P
    properties:
      p: {type: integer}
`, CodeRefinement, 13, 17, "integer does not refine string"},
		{"incompatible capability", `
  my.C:
    derived_from: my.P
    capabilities:
      c: {type: tosca.capabilities.Attachment}
`, CodeRefinement, 13, 17, "tosca.capabilities.Attachment does not refine tosca.capabilities.Container"},
		{"default breaks added constraint", `
  my.C:
    derived_from: my.P
    properties:
      n: {type: integer, default: 50, constraints: [{less_than: 10}]}
`, CodeConstraint, 13, 35, "50 is not less than 10"},
		{"property without type", `
  my.C:
    derived_from: tosca.nodes.Root
    properties:
      q: {required: false}
`, CodeMissingKeyname, 13, 7, `property "q" of my.C has no type`},
		{"bad status", `
  my.C:
    derived_from: tosca.nodes.Root
    properties:
      q: {type: string, status: gone}
`, CodeStatus, 13, 33, "supported, unsupported"},
		{"unknown property type", `
  my.C:
    derived_from: tosca.nodes.Root
    properties:
      q: {type: my.Nope}
`, CodeUnknownType, 13, 17, "data type my.Nope is not defined"},
		{"unknown keyname", `
  my.C:
    derived_from: tosca.nodes.Root
    propertes: {}
`, CodeUnknownKeyname, 12, 5, `"propertes"`},
		{"requirement without capability", `
  my.C:
    derived_from: tosca.nodes.Root
    requirements:
      - r: {node: tosca.nodes.Root}
`, CodeMissingKeyname, 13, 9, "has no capability"},
		{"interface without type", `
  my.C:
    derived_from: tosca.nodes.Root
    interfaces:
      I: {}
`, CodeMissingKeyname, 13, 7, "has no type"},
	}
	parent := `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.P:
    derived_from: tosca.nodes.Root
    properties:
      p: {type: string}
      n: {type: integer, default: 5}
    capabilities:
      c: {type: tosca.capabilities.Container}`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": parent + c.body})
			wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
		})
	}
}

func TestInheritanceInterfaceTypes(t *testing.T) {
	for _, c := range []struct{ version, ops string }{
		{"tosca_simple_yaml_1_2", "    start: {description: go}\n    stop: bin/stop.sh\n"},
		{"tosca_simple_yaml_1_3", "    operations:\n      start: {description: go}\n      stop: bin/stop.sh\n"},
	} {
		t.Run(c.version, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": "tosca_definitions_version: " + c.version + `
interface_types:
  my.I:
    derived_from: tosca.interfaces.Root
    inputs:
      level: {type: integer, default: 1}
` + c.ops + `  my.J:
    derived_from: my.I
    inputs:
      level: {type: integer, default: 2}
`})
			wantNoProblems(t, st)
			j := st.Type(KindInterface, "my.J").Interfaces["my.J"]
			if j.Operations["start"].Description != "go" || j.Operations["stop"].Implementation != "bin/stop.sh" || j.Inputs["level"].Default.V != int64(2) {
				t.Fatalf("%+v", j)
			}
		})
	}
}

func TestInheritanceOtherKinds(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
artifact_types:
  my.Script:
    derived_from: tosca.artifacts.Implementation
    mime_type: text/x-script
    file_ext: [scr]
  my.SubScript:
    derived_from: my.Script
capability_types:
  my.Cap:
    derived_from: tosca.capabilities.Root
    valid_source_types: [tosca.nodes.Compute]
relationship_types:
  my.Rel:
    derived_from: tosca.relationships.DependsOn
    valid_target_types: [my.Cap]
group_types:
  my.G:
    derived_from: tosca.groups.Root
    members: [tosca.nodes.Compute]
policy_types:
  my.P:
    derived_from: tosca.policies.Root
    targets: [tosca.nodes.Compute, my.G]
  my.Q:
    derived_from: my.P
`})
	wantNoProblems(t, st)
	if a := st.Type(KindArtifact, "my.SubScript"); a.MimeType != "text/x-script" || !reflect.DeepEqual(a.FileExt, []string{"scr"}) {
		t.Fatalf("artifact type: %+v", a)
	}
	if c := st.Type(KindCapability, "my.Cap"); !reflect.DeepEqual(c.ValidSources, []string{"tosca.nodes.Compute"}) {
		t.Fatal(c.ValidSources)
	}
	if r := st.Type(KindRelationship, "my.Rel"); !reflect.DeepEqual(r.ValidTargets, []string{"my.Cap"}) {
		t.Fatal(r.ValidTargets)
	}
	if g := st.Type(KindGroup, "my.G"); !reflect.DeepEqual(g.Targets, []string{"tosca.nodes.Compute"}) {
		t.Fatal(g.Targets)
	}
	if q := st.Type(KindPolicy, "my.Q"); !reflect.DeepEqual(q.Targets, []string{"tosca.nodes.Compute", "my.G"}) {
		t.Fatal(q.Targets)
	}
}
