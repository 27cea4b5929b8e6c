package tosca

import (
	"reflect"
	"testing"
)

const fnTypes = `
tosca_definitions_version: tosca_simple_yaml_1_3
data_types:
  my.Net:
    derived_from: tosca.datatypes.Root
    properties:
      cidr: {type: string}
      pools: {type: list, entry_schema: {type: string}, required: false}
capability_types:
  my.Host:
    derived_from: tosca.capabilities.Container
    properties:
      cores: {type: integer, default: 4}
node_types:
  my.Server:
    derived_from: tosca.nodes.Root
    properties:
      name: {type: string}
      net: {type: my.Net, required: false}
      size: {type: scalar-unit.size, required: false}
      count: {type: integer, required: false}
      label: {type: string, required: false}
    capabilities:
      host: {type: my.Host}
  my.App:
    derived_from: tosca.nodes.Root
    properties:
      text: {type: string, required: false}
      cores: {type: integer, required: false}
      hostname: {type: string, required: false}
      first: {type: string, required: false}
    requirements:
      - host: {capability: my.Host, relationship: tosca.relationships.HostedOn}
topology_template:
  inputs:
    nets:
      type: list
      entry_schema: {type: map, entry_schema: {type: string}}
      default: [{cidr: 10.0.0.0/24}, {cidr: 10.0.1.0/24}]
    disk: {type: string, default: 4 GB}
    later: {type: string}
  node_templates:
`

func TestFunctionsEvaluate(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": fnTypes + `
    srv:
      type: my.Server
      properties:
        name: {concat: [srv-, {get_input: [nets, 1, cidr]}]}
        net:
          cidr: {get_input: [nets, 0, cidr]}
          pools: [{token: ["a,b;c", ",;", 2]}, {join: [[x, {get_property: [SELF, name]}], "-"]}]
        size: {get_input: disk}
        label: {get_input: later}
    app:
      type: my.App
      properties:
        text: {get_property: [srv, net, pools, 1]}
        cores: {get_property: [srv, host, cores]}
        hostname: {get_property: [HOST, name]}
        first: {get_property: [SELF, host, name]}
      requirements:
        - host: srv
`})
	wantNoProblems(t, st)
	srv, app := node(t, st, "srv").Properties, node(t, st, "app").Properties
	if srv["name"].V != "srv-10.0.1.0/24" || srv["size"].V != "4 GB" {
		t.Fatalf("name %v size %v", srv["name"].V, srv["size"].V)
	}
	if want := map[string]any{"cidr": "10.0.0.0/24", "pools": []any{"c", "x-srv-10.0.1.0/24"}}; !reflect.DeepEqual(srv["net"].V, want) {
		t.Fatalf("net %#v", srv["net"].V)
	}
	if srv["label"].Function != "get_input" || srv["label"].V != "later" {
		t.Fatalf("an input without value leaves the function: %+v", srv["label"])
	}
	if app["text"].V != "x-srv-10.0.1.0/24" || app["cores"].V != int64(4) || app["hostname"].V != "srv-10.0.1.0/24" || app["first"].V != "srv-10.0.1.0/24" {
		t.Fatalf("app %v %v %v %v", app["text"].V, app["cores"].V, app["hostname"].V, app["first"].V)
	}
}

func TestFunctionsUnevaluated(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": fnTypes + `
    srv:
      type: my.Server
      properties:
        name: {get_attribute: [SELF, tosca_id]}
        net:
          cidr: {get_operation_output: [SELF, Standard, create, cidr]}
        label: {concat: [a, {get_attribute: [SELF, state]}]}
`})
	wantNoProblems(t, st)
	p := node(t, st, "srv").Properties
	if p["name"].Function != "get_attribute" || !reflect.DeepEqual(p["name"].V, []any{"SELF", "tosca_id"}) {
		t.Fatalf("name %+v", p["name"])
	}
	if want := map[string]any{"get_operation_output": []any{"SELF", "Standard", "create", "cidr"}}; !reflect.DeepEqual(p["net"].V.(map[string]any)["cidr"], want) {
		t.Fatalf("nested unevaluated function: %#v", p["net"].V)
	}
	if p["label"].Function != "concat" {
		t.Fatalf("concat of an attribute stays a function: %+v", p["label"])
	}
}

func TestFunctionsProblems(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": fnTypes + `
    srv:
      type: my.Server
      properties:
        name: {get_input: nope}
        count: {get_input: disk}
        size: {get_inputs: disk}
        label: {get_property: [ghost, name]}
        net: {cidr: {get_property: [SELF]}}
    app:
      type: my.App
      properties:
        text: {get_property: [SELF, nothing]}
        cores: {get_attribute: [SELF, nothing]}
        hostname: {get_property: [SOURCE, name]}
        first: {token: [abc, ",", 3]}
    loop:
      type: my.Server
      properties:
        name: {get_property: [SELF, label]}
        label: {get_property: [SELF, name]}
        count: {get_operation_output: [SELF, Standard, explode, x]}
        net: {cidr: {get_input: [nets, 5, cidr]}}
`})
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeFunctionTarget, 46, 15, `property "name" of node template "srv": get_input: the topology has no input "nope"`},
		{CodeTypeMismatch, 47, 16, `property "count" of node template "srv": "4 GB" is not an integer`},
		{CodeUnknownFunction, 48, 15, "unknown function get_inputs"},
		{CodeFunctionTarget, 49, 16, `get_property: there is no node template "ghost"`},
		{CodeFunctionArgs, 50, 21, "get_property: takes a list"},
		{CodeFunctionTarget, 54, 15, `node template "app" has no property "nothing"`},
		{CodeFunctionTarget, 55, 16, `node template "app" has no attribute "nothing"`},
		{CodeFunctionTarget, 56, 19, "SOURCE is only defined in a relationship"},
		{CodeFunctionTarget, 57, 16, `"abc" has 1 tokens, no token 3`},
		{CodeFunctionCycle, 62, 16, `property "label" of node template "loop": get_property: the property "name" of node template "loop" depends on its own value`},
		{CodeFunctionTarget, 63, 16, `interface "Standard" of node template "loop" has no operation "explode"`},
		{CodeFunctionTarget, 64, 21, "the index 5 is out of range"},
	} {
		wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
	}
}

func TestFunctionsNotAllowedInDefaults(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    properties:
      p: {type: string, default: {get_input: x}}
topology_template:
  inputs:
    sel:
      type: string
      default: {get_input: sel}
`})
	wantProblem(t, st, CodeFunctionContext, "main.yaml", 6, 34, "a default must be a value")
	p := wantProblem(t, st, CodeInputDefault, "main.yaml", 11, 16, `input "sel"`)
	if p.Severity != SeverityWarning || st.Topologies[0].Inputs["sel"].Value != nil {
		t.Fatal(p)
	}
}
