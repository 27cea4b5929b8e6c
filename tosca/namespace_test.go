package tosca

import "testing"

func TestNamespaceShortNames(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  my.Server:
    derived_from: Compute
    interfaces:
      Standard: {type: Standard}
  my.Other:
    derived_from: tosca:Compute
topology_template:
  node_templates:
    a: {type: my.Server}
    b: {type: tosca:WebServer}
    c: {type: tosca.nodes.Compute}
`})
	wantClean(t, st)
	wantProblem(t, st, CodeOccurrences, "main.yaml", 12, 5, `"host"`) // a WebServer needs a host
	compute := st.Type(KindNode, "tosca.nodes.Compute")
	if st.Type(KindNode, "my.Server").Parent != compute || st.Type(KindNode, "my.Other").Parent != compute {
		t.Fatal("short names did not resolve to tosca.nodes.Compute")
	}
	if it := st.Type(KindNode, "my.Server").Interfaces["Standard"].Type; it.Name != "tosca.interfaces.node.lifecycle.Standard" {
		t.Fatalf("Standard resolved to %s", it.Name)
	}
	if node(t, st, "b").Type.Name != "tosca.nodes.WebServer" {
		t.Fatal("tosca:WebServer")
	}
}

func TestNamespacePrefix(t *testing.T) {
	st := process(t, map[string]string{
		"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - file: vendor.yaml
    namespace_prefix: v
node_types:
  my.Node:
    derived_from: tosca.nodes.Root
topology_template:
  node_templates:
    a: {type: v:my.Node}
    b: {type: my.Node}
    c: {type: my.Base}
`,
		"vendor.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.Base:
    derived_from: tosca.nodes.Root
  my.Node:
    derived_from: my.Base
    properties:
      vendor: {type: string, default: yes}
`,
	})
	// Inside vendor.yaml my.Base needs no prefix; from main.yaml it does.
	wantProblem(t, st, CodeUnknownType, "main.yaml", 12, 15, "my.Base")
	a, b := node(t, st, "a"), node(t, st, "b")
	if a.Type == b.Type || a.Type.Parent == nil || a.Type.Parent.Name != "my.Base" {
		t.Fatalf("prefixed type not the vendor's: %+v", a.Type)
	}
	if a.Properties["vendor"] == nil || b.Properties["vendor"] != nil {
		t.Fatal("properties of the wrong my.Node")
	}
}

func TestNamespaceDuplicates(t *testing.T) {
	t.Run("different", func(t *testing.T) {
		st := process(t, map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml, b.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n",
			"b.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n    description: other\n",
		})
		wantProblem(t, st, CodeDuplicateType, "b.yaml", 3, 3, "my.N", "a.yaml:3:3")
	})
	t.Run("same content in two files", func(t *testing.T) {
		st := process(t, map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml, copy/a.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n",
			// Same definition, other layout and comments.
			"copy/a.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\n# a copy\nnode_types:\n  my.N: { derived_from: tosca.nodes.Root }\n",
		})
		wantNoProblems(t, st)
	})
	t.Run("package copy and embedded profile", func(t *testing.T) {
		res := mapResolver{"https://example.com/common.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n    description: official wording\n"}
		st := process(t, map[string]string{
			"main.yaml":   "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [common.yaml, vnfd.yaml]\n",
			"common.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n    description: local copy\n",
			"vnfd.yaml":   "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [\"https://example.com/common.yaml\"]\n",
		}, Options{Resolver: res})
		wantClean(t, st)
		p := wantProblem(t, st, CodeDuplicateType, "https://example.com/common.yaml", 3, 3, "embedded profile", "common.yaml:3:3")
		if p.Severity != SeverityWarning {
			t.Fatal(p)
		}
	})
	t.Run("normative redefined", func(t *testing.T) {
		st := process(t, map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  tosca.nodes.Compute:\n    derived_from: tosca.nodes.Root\n"})
		wantProblem(t, st, CodeDuplicateType, "main.yaml", 3, 3, "tosca.nodes.Compute", "tosca-normative-1.2.yaml")
	})
}

func TestNamespaceUndeclaredImport(t *testing.T) {
	st := process(t, map[string]string{
		"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [base.yaml, user.yaml]\n",
		"base.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.Base:\n    derived_from: tosca.nodes.Root\n",
		"user.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  my.User:\n    derived_from: my.Base\n",
	})
	wantClean(t, st)
	p := wantProblem(t, st, CodeUndeclaredImport, "user.yaml", 4, 19, "my.Base", "base.yaml")
	if p.Severity != SeverityWarning {
		t.Fatal(p)
	}
}

func TestNamespaceImplicitSOL001(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
topology_template:
  node_templates:
    cp:
      type: tosca.nodes.nfv.VduCp
`}, Options{Resolver: fakeSOL001{}})
	wantClean(t, st)
	wantProblem(t, st, CodeImplicitSOL001, "main.yaml", 5, 13, "tosca.nodes.nfv.VduCp", "fake/v2.6.1/")
	if st.Type(KindNode, "tosca.nodes.nfv.VduCp") == nil || len(st.Files) != 1 {
		t.Fatal("borrowed type missing from Types, or embedded file in Files")
	}
	// Names outside the SOL 001 namespace are not borrowed.
	st = process(t, map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template:\n  node_templates:\n    a: {type: my.nfv.Thing}\n"},
		Options{Resolver: fakeSOL001{}})
	wantProblem(t, st, CodeUnknownType, "main.yaml", 4, 15, "my.nfv.Thing")
}
