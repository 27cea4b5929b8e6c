package tosca

import (
	"reflect"
	"strings"
	"testing"
)

const typesFile = `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.Node:
    derived_from: tosca.nodes.Root
`

func TestImportForms(t *testing.T) {
	st := process(t, map[string]string{
		"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - defs/a.yaml
  - file: ./defs/b.yaml
  - file: defs/c.yaml
    namespace_prefix: c
    namespace_uri: http://example.com/c
`,
		"defs/a.yaml": typesFile,
		"defs/b.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports: [ a.yaml, ./a.yaml ]
node_types:
  my.B:
    derived_from: my.Node
`,
		"defs/c.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.C:
    derived_from: tosca.nodes.Root
`,
	})
	wantNoProblems(t, st)
	if want := []string{"main.yaml", "defs/a.yaml", "defs/b.yaml", "defs/c.yaml"}; !reflect.DeepEqual(st.Files, want) {
		t.Fatalf("files %v, want %v (a.yaml read once)", st.Files, want)
	}
	if st.Type(KindNode, "my.B").Parent != st.Type(KindNode, "my.Node") {
		t.Fatal("my.B does not derive from my.Node")
	}
}

func TestImportProblems(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		code  string
		file  string
		line  int
		col   int
		frag  string
	}{
		{"missing", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - nope.yaml\n"},
			CodeImportMissing, "main.yaml", 3, 5, `"nope.yaml"`},
		{"outside", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - ../x.yaml\n"},
			CodeImportOutside, "main.yaml", 3, 5, "leaves the package"},
		{"outside nested", map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [d/a.yaml]\n",
			"d/a.yaml":  "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [../../x.yaml]\n"},
			CodeImportOutside, "d/a.yaml", 2, 11, "leaves the package"},
		{"absolute", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - /etc/passwd\n"},
			CodeImportOutside, "main.yaml", 3, 5, "not a relative path"},
		{"url", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - https://example.com/types.yaml\n"},
			CodeImportUnresolved, "main.yaml", 3, 5, "https://example.com/types.yaml"},
		{"loop", map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [b.yaml]\n",
			"b.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml]\n"},
			CodeImportLoop, "b.yaml", 2, 11, "main.yaml -> a.yaml -> b.yaml -> a.yaml"},
		{"unknown repository", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - file: x.yaml\n    repository: nope\n"},
			CodeImportRepository, "main.yaml", 3, 11, `"nope"`},
		{"version of import", map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_2_0\n"},
			CodeDefinitionsVers, "a.yaml", 1, 28, "tosca_simple_yaml_2_0"},
		{"no file", map[string]string{"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - repository: x\n"},
			CodeMissingKeyname, "main.yaml", 3, 5, "needs a file"},
		{"broken import", map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types: [\n"},
			CodeYAMLSyntax, "a.yaml", 2, 0, "did not find expected node content"},
		{"too many files", map[string]string{
			"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml, b.yaml, c.yaml]\n",
			"a.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\n",
			"b.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\n",
			"c.yaml":    "tosca_definitions_version: tosca_simple_yaml_1_2\n"},
			CodeTooManyFiles, "main.yaml", 2, 27, "more than 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := Process(pkg(c.files), "main.yaml", Options{Limits: Limits{MaxFiles: 4}})
			wantProblem(t, st, c.code, c.file, c.line, c.col, c.frag)
		})
	}
}

func TestImportURLThroughResolver(t *testing.T) {
	res := mapResolver{
		"https://example.com/t/types.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports: [ sub/more.yaml ]
node_types:
  ex.A:
    derived_from: ex.B
`,
		"https://example.com/t/sub/more.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  ex.B:
    derived_from: tosca.nodes.Root
`,
	}
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
repositories:
  ex: https://example.com/t
imports:
  - file: types.yaml
    repository: ex
topology_template:
  node_templates:
    a: {type: ex.A}
`}, Options{Resolver: res})
	wantNoProblems(t, st)
	if !reflect.DeepEqual(st.Files, []string{"main.yaml"}) {
		t.Fatalf("resolver files are not package files: %v", st.Files)
	}
	if !reflect.DeepEqual(st.RepositoriesReferenced, []string{"https://example.com/t"}) {
		t.Fatalf("repositories %v", st.RepositoriesReferenced)
	}
	if node(t, st, "a").Type.Parent.Name != "ex.B" {
		t.Fatal("relative import inside a resolved file not followed")
	}
}

func TestImportEmbeddedSOL001ByURL(t *testing.T) {
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  node_templates:
    vl:
      type: tosca.nodes.nfv.VnfVirtualLink
      properties:
        connectivity_type: {layer_protocols: [ipv4]}
        vl_profile:
          max_bitrate_requirements: {root: 1000}
          min_bitrate_requirements: {root: 100}
`})
	wantNoProblems(t, st)
	if st.Type(KindData, "tosca.datatypes.nfv.CpProtocolData") == nil {
		t.Fatal("the common types imported by the embedded VNFD types are missing")
	}
}

// fakeSOL001 supplies two SOL 001 versions, one per TOSCA version, to test
// the fallback rule without depending on the embedded files' content.
type fakeSOL001 struct{}

var fakeSOL001Files = map[string]string{
	"2.6.1/etsi_nfv_sol001_common_types.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types:\n  tosca.nodes.nfv.Cp: {derived_from: tosca.nodes.Root}\n",
	"2.6.1/etsi_nfv_sol001_vnfd_types.yaml":   "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [./etsi_nfv_sol001_common_types.yaml]\nnode_types:\n  tosca.nodes.nfv.VduCp: {derived_from: tosca.nodes.nfv.Cp}\n  tosca.nodes.nfv.Old: {derived_from: tosca.nodes.Root}\n",
	"3.3.1/etsi_nfv_sol001_common_types.yaml": "tosca_definitions_version: tosca_simple_yaml_1_3\nnode_types:\n  tosca.nodes.nfv.Cp: {derived_from: tosca.nodes.Root}\n",
	"3.3.1/etsi_nfv_sol001_vnfd_types.yaml":   "tosca_definitions_version: tosca_simple_yaml_1_3\nimports: [./etsi_nfv_sol001_common_types.yaml]\nnode_types:\n  tosca.nodes.nfv.VduCp: {derived_from: tosca.nodes.nfv.Cp}\n  tosca.nodes.nfv.New: {derived_from: tosca.nodes.Root}\n",
}

func (fakeSOL001) Resolve(ref string) (string, []byte, bool) {
	s, ok := fakeSOL001Files[strings.TrimPrefix(ref, "fake/v")]
	return ref, []byte(s), ok
}

func (f fakeSOL001) SOL001(version, base string) (string, []byte, bool) {
	return f.Resolve("fake/v" + version + "/" + base)
}

func (fakeSOL001) SOL001Versions() []string { return []string{"2.6.1", "3.3.1"} }

func TestImportSOL001Fallback(t *testing.T) {
	for _, c := range []struct{ version, sol, node string }{
		{"tosca_simple_yaml_1_2", "2.6.1", "tosca.nodes.nfv.Old"},
		{"tosca_simple_yaml_1_3", "3.3.1", "tosca.nodes.nfv.New"},
	} {
		t.Run(c.version, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: ` + c.version + `
imports:
  - etsi_nfv_sol001_common_types.yaml
  - etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  node_templates:
    cp: {type: tosca.nodes.nfv.VduCp}
    x: {type: ` + c.node + `}
`}, Options{Resolver: fakeSOL001{}})
			wantClean(t, st)
			p := wantProblem(t, st, CodeImportFallback, "main.yaml", 3, 5, "etsi_nfv_sol001_common_types.yaml", "v"+c.sol)
			if p.Severity != SeverityWarning {
				t.Fatal(p)
			}
			wantProblem(t, st, CodeImportFallback, "main.yaml", 4, 5, "etsi_nfv_sol001_vnfd_types.yaml", "v"+c.sol)
			if len(st.Files) != 1 {
				t.Fatalf("embedded files listed as package files: %v", st.Files)
			}
			if got := node(t, st, "cp").Type.Parent.Pos.File; got != "fake/v"+c.sol+"/etsi_nfv_sol001_common_types.yaml" {
				t.Fatalf("Cp from %s", got)
			}
		})
	}
}

// TestEmbeddedProfilesProcess checks that every embedded profile reads
// without problems, as a file importing it sees it.
func TestEmbeddedProfilesProcess(t *testing.T) {
	for _, v := range []string{"tosca_simple_yaml_1_2", "tosca_simple_yaml_1_3"} {
		st := process(t, map[string]string{"main.yaml": "tosca_definitions_version: " + v + "\n"})
		wantNoProblems(t, st)
	}
	for _, version := range (embeddedProfiles{}).SOL001Versions() {
		t.Run(version, func(t *testing.T) {
			st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v` + version + `/etsi_nfv_sol001_vnfd_types.yaml
`})
			wantNoProblems(t, st)
		})
	}
}

func TestImportNamedLegacyForm(t *testing.T) {
	st := process(t, map[string]string{
		"main.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\nimports:\n  - mytypes: a.yaml\n",
		"a.yaml":    typesFile,
	})
	wantClean(t, st)
	wantProblem(t, st, CodeSyntax, "main.yaml", 3, 5, "TOSCA 1.0")
	if st.Type(KindNode, "my.Node") == nil {
		t.Fatal("named import not read")
	}
}

func TestImportMultipleTopologies(t *testing.T) {
	st := process(t, map[string]string{
		"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
imports: [df1.yaml, df2.yaml]
topology_template:
  node_templates:
    top: {type: tosca.nodes.Root}
`,
		"df1.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template:\n  node_templates:\n    one: {type: tosca.nodes.Root}\n",
		"df2.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\ntopology_template:\n  node_templates:\n    two: {type: tosca.nodes.Root}\n",
	})
	wantNoProblems(t, st)
	var files []string
	for _, topo := range st.Topologies {
		files = append(files, topo.File+":"+strings.Join(topo.NodeOrder, ","))
	}
	if want := []string{"main.yaml:top", "df1.yaml:one", "df2.yaml:two"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("topologies %v, want %v", files, want)
	}
}

func TestImportEntrySpelling(t *testing.T) {
	fsys := pkg(map[string]string{"Definitions/a.yaml": "tosca_definitions_version: tosca_simple_yaml_1_2\n"})
	for _, entry := range []string{"Definitions/a.yaml", "./Definitions/a.yaml", "/Definitions/a.yaml"} {
		if st := Process(fsys, entry, Options{}); len(st.Problems) != 0 || len(st.Files) != 1 || st.Files[0] != "Definitions/a.yaml" {
			t.Errorf("%s: %v %v", entry, st.Files, st.Problems)
		}
	}
	st := Process(fsys, "../a.yaml", Options{})
	wantProblem(t, st, CodeFileUnreadable, "../a.yaml", 0, 0, "not a valid path inside the package")
}
