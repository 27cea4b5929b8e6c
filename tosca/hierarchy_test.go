package tosca

import "testing"

func TestHierarchyProblems(t *testing.T) {
	cases := []struct {
		name, body, code string
		line, col        int
		frag             string
	}{
		{"unknown parent", "node_types:\n  my.N:\n    derived_from: my.Nope\n", CodeUnknownType, 4, 19, "my.Nope"},
		{"loop", "node_types:\n  my.A:\n    derived_from: my.B\n  my.B:\n    derived_from: my.A\n", CodeDerivationLoop, 6, 19, "my.A -> my.B -> my.A"},
		{"self", "node_types:\n  my.A:\n    derived_from: my.A\n", CodeDerivationLoop, 4, 19, "itself"},
		{"node type under data_types", "data_types:\n  my.D:\n    derived_from: tosca.nodes.Root\n", CodeWrongSection, 3, 3, "read as a node type"},
		{"primitive parent under node_types", "node_types:\n  my.N:\n    derived_from: string\n", CodeWrongSection, 3, 3, "read as a data type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\n" + c.body})
			wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
		})
	}
}

func TestHierarchyWrongSection(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.Data:
    derived_from: tosca.datatypes.Root
    properties:
      size: {type: scalar-unit.size}
  my.Policy:
    derived_from: tosca.policies.Root
    targets: [my.Node]
  my.Iface:
    derived_from: tosca.interfaces.Root
    start:
      description: an operation in 1.2 style
  my.Node:
    derived_from: tosca.nodes.Root
    properties:
      d: {type: my.Data}
    interfaces:
      I: {type: my.Iface}
topology_template:
  node_templates:
    n:
      type: my.Node
      properties:
        d: {size: 2 GB}
  policies:
    - p: {type: my.Policy, targets: [n]}
`})
	wantClean(t, st)
	for _, c := range []struct {
		line int
		kind TypeKind
		name string
	}{{3, KindData, "my.Data"}, {7, KindPolicy, "my.Policy"}, {10, KindInterface, "my.Iface"}} {
		p := wantProblem(t, st, CodeWrongSection, "main.yaml", c.line, 3, c.name, string(c.kind))
		if p.Severity != SeverityWarning {
			t.Fatal(p)
		}
		if typ := st.Type(c.kind, c.name); typ == nil || typ.Kind != c.kind {
			t.Fatalf("%s not read as %s", c.name, c.kind)
		}
	}
	if countCode(st, CodeWrongSection) != 3 {
		t.Fatalf("only the misplaced types warn:\n%s", dump(st.Problems))
	}
	if st.Type(KindInterface, "my.Iface").Interfaces["my.Iface"].Operations["start"] == nil {
		t.Fatal("operations of the misplaced interface type lost")
	}
}

func TestHierarchyDataDerivedFromPrimitive(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_3
data_types:
  my.Port:
    derived_from: integer
    constraints:
      - in_range: [1, 65535]
  my.HighPort:
    derived_from: my.Port
    constraints:
      - greater_or_equal: 1024
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    properties:
      p: {type: my.HighPort}
      q: {type: my.Port, required: false}
topology_template:
  node_templates:
    ok: {type: my.N, properties: {p: 8080}}
    low:
      type: my.N
      properties:
        p: 80
    huge:
      type: my.N
      properties:
        p: 70000
        q: abc
`})
	wantProblem(t, st, CodeConstraint, "main.yaml", 23, 12, `property "p" of node template "low"`, "80 is not greater or equal 1024")
	wantProblem(t, st, CodeConstraint, "main.yaml", 27, 12, "70000 is not in the range [1 65535]")
	wantProblem(t, st, CodeTypeMismatch, "main.yaml", 28, 12, `"abc" is not an integer`)
	if v := node(t, st, "ok").Properties["p"].V; v != int64(8080) {
		t.Fatalf("p = %#v", v)
	}
}
