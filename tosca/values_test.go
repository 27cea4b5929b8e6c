package tosca

import (
	"reflect"
	"testing"
)

const valueTypes = `
tosca_definitions_version: tosca_simple_yaml_1_3
data_types:
  my.Inner:
    derived_from: tosca.datatypes.Root
    properties:
      algo: {type: string, constraints: [{valid_values: [a, b]}]}
      n: {type: integer, default: 3}
      opt: {type: string, required: false}
  my.Outer:
    derived_from: tosca.datatypes.Root
    properties:
      inner: {type: my.Inner}
      items: {type: list, entry_schema: {type: my.Inner}, required: false}
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    properties:
      s: {type: string, required: false}
      i: {type: integer, required: false}
      f: {type: float, required: false}
      b: {type: boolean, required: false}
      ts: {type: timestamp, required: false}
      nl: {type: "null", required: false}
      v: {type: version, required: false}
      r: {type: range, required: false}
      size: {type: scalar-unit.size, required: false}
      dur: {type: scalar-unit.time, required: false}
      freq: {type: scalar-unit.frequency, required: false}
      rate: {type: scalar-unit.bitrate, required: false}
      l: {type: list, entry_schema: {type: integer}, required: false}
      m:
        type: map
        required: false
        key_schema: {type: string, constraints: [{max_length: 3}]}
        entry_schema: {type: string}
      o: {type: my.Outer, required: false}
topology_template:
  node_templates:
`

func TestValuesGood(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": valueTypes + `
    good:
      type: my.N
      properties:
        s: hello
        i: 0x1F
        f: 1
        b: true
        ts: 2024-01-31T12:00:00Z
        nl: null
        v: 1.0
        r: [1, UNBOUNDED]
        size: 4 GiB
        dur: 30 s
        freq: 2.4 GHz
        rate: 10 Mbps
        l: [1, 2, 0o17]
        m: {abc: x, d: y}
        o:
          inner: {algo: a}
          items:
            - {algo: b, n: 5}
`})
	wantNoProblems(t, st)
	p := node(t, st, "good").Properties
	want := map[string]any{
		"s": "hello", "i": int64(31), "f": float64(1), "b": true, "ts": "2024-01-31T12:00:00Z",
		"v": "1.0", "r": []any{int64(1), "UNBOUNDED"}, "size": "4 GiB", "dur": "30 s", "freq": "2.4 GHz", "rate": "10 Mbps",
		"l": []any{int64(1), int64(2), int64(15)}, "m": map[string]any{"abc": "x", "d": "y"},
		"o": map[string]any{
			"inner": map[string]any{"algo": "a", "n": int64(3)},
			"items": []any{map[string]any{"algo": "b", "n": int64(5)}},
		},
	}
	for k, w := range want {
		if p[k] == nil || !reflect.DeepEqual(p[k].V, w) {
			t.Errorf("%s = %#v, want %#v", k, p[k], w)
		}
	}
	if p["nl"] == nil || p["nl"].V != nil {
		t.Errorf("null is the value of a null property: %#v", p["nl"])
	}
	if p["o"].Type != "my.Outer" || p["size"].Type != "scalar-unit.size" {
		t.Error("Value.Type")
	}
}

func TestValuesBad(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": valueTypes + `
    bad:
      type: my.N
      properties:
        s: 5
        i: 1.5
        f: abc
        b: maybe
        ts: 2024-13-01
        nl: x
        v: 1.x
        r: [5, 1]
        size: 4 GHz
        dur: 30
        freq: 2 Hzz
        rate: 1 Kb
        l: [1, two]
        m: {abcd: x, e: [1]}
        o:
          inner: {algo: c, nn: 1}
          items:
            - {n: 5}
        zz: 1
`})
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeTypeMismatch, 43, 12, `property "s" of node template "bad": the integer 5 is not a string`},
		{CodeTypeMismatch, 44, 12, "the float 1.5 is not an integer"},
		{CodeTypeMismatch, 45, 12, `"abc" is not a float`},
		{CodeTypeMismatch, 46, 12, `"maybe" is not a boolean`},
		{CodeTypeMismatch, 47, 13, `"2024-13-01" is not a timestamp`},
		{CodeTypeMismatch, 48, 13, `"x" is not null`},
		{CodeTypeMismatch, 49, 12, `"1.x" is not a version`},
		{CodeTypeMismatch, 50, 12, "the lower bound 5 is above the upper bound"},
		{CodeTypeMismatch, 51, 15, `unknown unit "GHz"`},
		{CodeTypeMismatch, 52, 14, `expected a number and a unit`},
		{CodeTypeMismatch, 53, 15, `unknown unit "Hzz"`},
		{CodeTypeMismatch, 54, 15, `unknown unit "Kb"`},
		{CodeTypeMismatch, 55, 16, `entry 1 of property "l" of node template "bad": "two" is not an integer`},
		{CodeConstraint, 56, 13, `the key of entry "abcd" of property "m"`},
		{CodeTypeMismatch, 56, 25, `entry "e" of property "m" of node template "bad": a list is not a string`},
		{CodeConstraint, 58, 25, `property "algo" of my.Inner: "c" is not one of the valid values [a b]`},
		{CodeUnknownProperty, 58, 28, `property "inner" of my.Outer: "nn" is not a property of my.Inner`},
		{CodeMissingProperty, 60, 15, `entry 0 of property "items" of my.Outer: the required property "algo" of my.Inner is missing`},
		{CodeUnknownProperty, 61, 9, `node template "bad": "zz" is not a property of my.N`},
	} {
		wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
	}
}

func TestValuesLenient(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": valueTypes + `
    lax:
      type: my.N
      properties:
        i: "42"
        f: "1.5"
        b: yes
        s:
        o:
          inner:
            algo: a
            opt:
`})
	wantClean(t, st)
	for _, c := range []struct {
		code      string
		line, col int
		frag      string
	}{
		{CodeLenientValue, 43, 12, `"42" is a string where an integer is expected`},
		{CodeLenientValue, 44, 12, "a float is expected"},
		{CodeLenientValue, 45, 12, "YAML 1.1 boolean"},
		{CodeNullValue, 46, 11, `the value of property "s" is null`},
		{CodeNullValue, 50, 17, `the value of "opt" is null`},
	} {
		p := wantProblem(t, st, c.code, "main.yaml", c.line, c.col, c.frag)
		if p.Severity != SeverityWarning {
			t.Errorf("not a warning: %v", p)
		}
	}
	p := node(t, st, "lax").Properties
	if p["i"].V != int64(42) || p["f"].V != 1.5 || p["b"].V != true || p["s"] != nil {
		t.Fatalf("%v %v %v %v", p["i"].V, p["f"].V, p["b"].V, p["s"])
	}
}

func TestValuesRequiredAndDefaults(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    properties:
      must: {type: string}
      opt: {type: string, required: false}
      dflt: {type: list, entry_schema: {type: string}, default: [a, b]}
topology_template:
  node_templates:
    one:
      type: my.N
    two:
      type: my.N
      properties: {must: x}
`})
	wantProblem(t, st, CodeMissingProperty, "main.yaml", 11, 5, `node template "one": the required property "must" of my.N is missing`)
	if countCode(st, CodeMissingProperty) != 1 {
		t.Fatalf("only must is missing:\n%s", dump(st.Problems))
	}
	one, two := node(t, st, "one"), node(t, st, "two")
	if !reflect.DeepEqual(two.Properties["dflt"].V, []any{"a", "b"}) || two.Properties["dflt"].Pos.Line != 8 {
		t.Fatalf("default not applied with its position: %+v", two.Properties["dflt"])
	}
	one.Properties["dflt"].V.([]any)[0] = "changed"
	if two.Properties["dflt"].V.([]any)[0] != "a" {
		t.Fatal("templates share a default's list")
	}
}

func TestConstraintOperators(t *testing.T) {
	types := `
tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  my.C:
    derived_from: tosca.nodes.Root
    properties:
      eq: {type: string, required: false, constraints: [{equal: x}]}
      gt: {type: integer, required: false, constraints: [{greater_than: 1}]}
      ge: {type: scalar-unit.size, required: false, constraints: [{greater_or_equal: 1 GB}]}
      lt: {type: float, required: false, constraints: [{less_than: 1.5}]}
      le: {type: version, required: false, constraints: [{less_or_equal: 2.0}]}
      ir: {type: scalar-unit.time, required: false, constraints: [{in_range: [1 s, 1 m]}]}
      iu: {type: integer, required: false, constraints: [{in_range: [1, UNBOUNDED]}]}
      vv: {type: integer, required: false, constraints: [{valid_values: [1, 2]}]}
      ln: {type: string, required: false, constraints: [{length: 3}]}
      mn: {type: list, required: false, constraints: [{min_length: 2}]}
      mx: {type: map, required: false, constraints: [{max_length: 1}]}
      pt: {type: string, required: false, constraints: [{pattern: "[a-z]+"}]}
      ts: {type: timestamp, required: false, constraints: [{greater_than: 2020-01-01}]}
      br: {type: scalar-unit.bitrate, required: false, constraints: [{less_than: 1 Gbps}]}
topology_template:
  node_templates:
`
	good := `
    good:
      type: my.C
      properties: {eq: x, gt: 2, ge: 1024 MiB, lt: 1.4, le: 1.10.3, ir: 59 s, iu: 1000000, vv: 2, ln: abc, mn: [1, 2], mx: {a: 1}, pt: abc, ts: 2021-05-05, br: 100 MBps}
`
	st := process(t, map[string]string{"main.yaml": types + good})
	wantNoProblems(t, st)
	bad := `
    bad:
      type: my.C
      properties:
        eq: y
        gt: 1
        ge: 999 MB
        lt: 1.5
        le: 2.0.1
        ir: 61 s
        iu: 0
        vv: 3
        ln: abcd
        mn: [1]
        mx: {a: 1, b: 2}
        pt: aB
        ts: 2019-12-31
        br: 125 MBps
`
	st = process(t, map[string]string{"main.yaml": types + bad})
	for i, frag := range []string{
		`"y" is not equal to x`, "1 is not greater than 1", `"999 MB" is not greater or equal 1 GB`, "1.5 is not less than 1.5",
		`"2.0.1" is not less or equal 2`, `"61 s" is not in the range [1 s 1 m]`, "0 is not in the range [1 UNBOUNDED]",
		"3 is not one of the valid values [1 2]", `"abcd" has length 4, not 3`, "[1] has length 1, below the minimum length 2",
		"has length 2, above the maximum length 1", `"aB" does not match the pattern "[a-z]+"`,
		`"2019-12-31" is not greater than`, `"125 MBps" is not less than 1 Gbps`,
	} {
		wantProblem(t, st, CodeConstraint, "main.yaml", 26+i, 13, frag)
	}
}

func TestConstraintDefinitions(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_3
data_types:
  my.D:
    derived_from: tosca.datatypes.Root
    properties:
      a: {type: integer, constraints: [{greater_than: abc}]}
      b: {type: string, constraints: [{pattern: "("}]}
      c: {type: string, constraints: [{length: -1}]}
      d: {type: string, constraints: [{near: x}]}
      e: {type: integer, constraints: [{in_range: [5, 1]}]}
      f: {type: string, constraints: [{valid_values: x}]}
      g: {type: boolean, constraints: [{greater_than: true}]}
      h: {type: tosca.datatypes.json, constraints: [{schema: "{}"}]}
      i: {type: integer, constraints: [{in_range: [1]}]}
`})
	for _, c := range []struct {
		line, col int
		frag      string
	}{
		{6, 41, `"abc" is not a number`},
		{7, 40, "not a valid regular expression"},
		{8, 40, "non-negative integer"},
		{9, 40, `unknown constraint operator "near"`},
		{10, 41, "the lower bound is above the upper bound"},
		{11, 54, "valid_values takes a list"},
		{12, 41, "cannot be ordered"},
		{14, 51, "takes a list of two values"},
	} {
		wantProblem(t, st, CodeInvalidConstraint, "main.yaml", c.line, c.col, c.frag)
	}
	p := wantProblem(t, st, CodeInvalidConstraint, "main.yaml", 13, 54, "not evaluated")
	if p.Severity != SeverityWarning {
		t.Fatal(p)
	}
}

func TestValuesRecursiveDataType(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
data_types:
  my.Tree:
    derived_from: tosca.datatypes.Root
    properties:
      name: {type: string}
      children: {type: list, required: false, entry_schema: {type: my.Tree}}
node_types:
  my.N:
    derived_from: tosca.nodes.Root
    properties:
      tree: {type: my.Tree}
topology_template:
  node_templates:
    n:
      type: my.N
      properties:
        tree:
          name: root
          children:
            - name: a
              children: [{name: b}, {children: []}]
`})
	wantProblem(t, st, CodeMissingProperty, "main.yaml", 22, 37, `entry 1 of property "children" of my.Tree: the required property "name" of my.Tree is missing`)
}
