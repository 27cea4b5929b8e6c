package tosca

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReadBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_2\nlol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "lol%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	st := process(t, map[string]string{"main.yaml": b.String()})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	wantProblem(t, st, CodeTooManyNodes, "main.yaml", 7, 47)
	if len(st.Problems) != 1 {
		t.Fatalf("the file should not be processed further: %s", dump(st.Problems))
	}
}

func TestReadLimits(t *testing.T) {
	deep := "tosca_definitions_version: tosca_simple_yaml_1_2\nmetadata: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n"
	st := process(t, map[string]string{"main.yaml": deep})
	wantProblem(t, st, CodeTooDeep, "main.yaml", 2, 0)
	// Deeper than yaml.v3's own limit (10,000), which stops the parser.
	deeper := "tosca_definitions_version: tosca_simple_yaml_1_2\nmetadata: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"
	st = process(t, map[string]string{"main.yaml": deeper})
	wantProblem(t, st, CodeTooDeep, "main.yaml", 2, 0, "deeper than the limit of 100")

	st = process(t, map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\ndescription: " + strings.Repeat("x", 2000) + "\n"},
		Options{Limits: Limits{MaxFileSize: 1000}})
	wantProblem(t, st, CodeFileTooLarge, "main.yaml", 0, 0)

	st = process(t, map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nmetadata: {a: b, c: d, e: f}\n"},
		Options{Limits: Limits{MaxNodes: 5}})
	wantProblem(t, st, CodeTooManyNodes, "main.yaml", 2, 12)

	// An alias expanding past the depth limit.
	alias := "tosca_definitions_version: tosca_simple_yaml_1_2\ndsl_definitions: &d [[[[[[1]]]]]]\nmetadata:\n  x: [[[[[*d]]]]]\n"
	st = process(t, map[string]string{"main.yaml": alias}, Options{Limits: Limits{MaxDepth: 10}})
	wantProblem(t, st, CodeTooDeep, "main.yaml", 4, 0, "alias")
}

func TestReadShape(t *testing.T) {
	cases := []struct {
		name, content, code string
		line, col           int
	}{
		{"multi", "tosca_definitions_version: tosca_simple_yaml_1_2\n---\ntosca_definitions_version: tosca_simple_yaml_1_2\n", CodeMultiDocument, 2, 1},
		{"list root", "- a\n- b\n", CodeNotMapping, 1, 1},
		{"scalar root", "hello\n", CodeNotMapping, 1, 1},
		{"empty", "", CodeEmptyFile, 0, 0},
		{"comment only", "# nothing\n", CodeEmptyFile, 0, 0},
		{"syntax", "tosca_definitions_version: tosca_simple_yaml_1_2\ndescription: [unclosed\nmetadata: x\n", CodeYAMLSyntax, 2, 0},
		{"mapping value", "tosca_definitions_version: tosca_simple_yaml_1_2\ndescription: a: b\n", CodeYAMLSyntax, 2, 0},
		{"unknown alias", "tosca_definitions_version: tosca_simple_yaml_1_2\ndescription: *nope\n", CodeYAMLSyntax, 2, 14},
		{"tab", "tosca_definitions_version: tosca_simple_yaml_1_2\nmetadata:\n\tx: y\n", CodeYAMLSyntax, 3, 0},
		{"no version", "description: x\n", CodeDefinitionsVers, 1, 1},
		{"unknown version", "tosca_definitions_version: tosca_simple_yaml_9_9\n", CodeDefinitionsVers, 1, 28},
		{"unknown keyname", "tosca_definitions_version: tosca_simple_yaml_1_2\nfoo: bar\n", CodeUnknownKeyname, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": c.content})
			wantProblem(t, st, c.code, "main.yaml", c.line, c.col)
		})
	}
}

func TestReadDuplicateKeys(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
data_types:
  my.Data:
    derived_from: tosca.datatypes.Root
    properties:
      a:
        type: string
        required: false
        required: false
      b:
        type: string
        required: false
        required: true
`})
	p := wantProblem(t, st, CodeDuplicateKey, "main.yaml", 9, 9, "same value")
	if p.Severity != SeverityWarning {
		t.Fatalf("identical repetition should warn: %v", p)
	}
	p = wantProblem(t, st, CodeDuplicateKey, "main.yaml", 13, 9, "different value")
	if p.Severity != SeverityError {
		t.Fatalf("different repetition is an error: %v", p)
	}
}

func TestReadNeverPanics(t *testing.T) {
	inputs := []string{
		"&a [*a]", "*x", "? [a]\n: b", "!!binary xx", "tosca_definitions_version: [1]",
		"tosca_definitions_version: tosca_simple_yaml_1_2\nimports: 5", "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types: [1]",
		"tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template: {node_templates: {a: {type: [x]}}}",
		"tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template: {policies: {a: b}, groups: [1], inputs: [2], outputs: x}",
		"tosca_definitions_version: tosca_simple_yaml_1_2\ndata_types: {x: {derived_from: x, properties: {a: {type: x, default: {get_input: y}}}}}",
		"tosca_definitions_version: tosca_simple_yaml_1_2\n<<: {a: b}\n",
		"\x00\x01\x02", "{", "[", "'", "a: 'b\n", "a: &x b\nc: *y\n",
	}
	for _, in := range inputs {
		st := process(t, map[string]string{"main.yaml": in})
		if !st.HasErrors() {
			t.Errorf("%q: expected errors", in)
		}
		for _, p := range st.Problems {
			if p.Code == CodeInternal {
				t.Errorf("%q: %v", in, p)
			}
		}
	}
}

func TestReadMergeKeys(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
dsl_definitions:
  common: &common
    type: string
    required: false
data_types:
  my.Data:
    derived_from: tosca.datatypes.Root
    properties:
      a:
        <<: *common
        default: x
`})
	wantNoProblems(t, st)
	pd := st.Type(KindData, "my.Data").Properties["a"]
	if pd.Type != "string" || pd.Required || pd.Default == nil || pd.Default.V != "x" {
		t.Fatalf("merge key not applied: %+v", pd)
	}
}

func FuzzProcess(f *testing.F) {
	f.Add("tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template:\n  node_templates:\n    a: {type: tosca.nodes.Compute}\n")
	f.Add("tosca_definitions_version: tosca_simple_yaml_1_3\ndata_types: {d: {derived_from: integer, constraints: [{in_range: [1, 3]}]}}\n")
	f.Add("a: &a [*a, *a]")
	f.Add(inheritTypes)
	f.Add(valueTypes + "    n:\n      type: my.N\n      properties: {o: {inner: {algo: c}}, size: 1 GB, r: [1, 2]}\n")
	f.Add(fnTypes + "    s:\n      type: my.Server\n      properties:\n        name: {concat: [a, {get_input: disk}]}\n        count: {get_property: [SELF, host, cores]}\n")
	f.Add(topoTypes + "  node_templates:\n    p: {type: my.Port, requirements: [{bind: p}]}\n  substitution_mappings: {node_type: my.Port, requirements: {bind: [p, bind]}}\n")
	f.Fuzz(func(t *testing.T, s string) {
		st := Process(pkg(map[string]string{"main.yaml": s}), "main.yaml", Options{Limits: Limits{MaxNodes: 10000}})
		for _, p := range st.Problems {
			if p.Code == CodeInternal {
				t.Fatalf("%q: %v", s, p)
			}
		}
	})
}

func TestHostileInputsStayCheap(t *testing.T) {
	t.Run("many problems", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_2\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&b, "bad%d: x\n", i)
		}
		st := process(t, map[string]string{"main.yaml": b.String()})
		if n := len(st.Problems); n != maxProblems+1 || st.Problems[n-1].Code != CodeTooManyProblems {
			t.Fatalf("%d problems, last %v", n, st.Problems[n-1])
		}
	})
	t.Run("deep derivation", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  t0: {derived_from: tosca.nodes.Root}\n")
		for i := 1; i < 200; i++ {
			fmt.Fprintf(&b, "  t%d: {derived_from: t%d}\n", i, i-1)
		}
		st := process(t, map[string]string{"main.yaml": b.String()})
		wantProblem(t, st, CodeDerivationLoop, "main.yaml", 66, 0, "more than 64 ancestors")
	})
	t.Run("many requirements", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n    requirements:\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&b, "      - r%d: {capability: tosca.capabilities.Node, occurrences: [0, 1]}\n", i)
		}
		b.WriteString("topology_template:\n  node_templates:\n    t: {type: tosca.nodes.Root}\n    n:\n      type: my.N\n      requirements:\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&b, "        - r%d: t\n", i)
		}
		start := time.Now()
		st := process(t, map[string]string{"main.yaml": b.String()})
		wantNoProblems(t, st)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}
