package tosca

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// allocatedNodes counts the nodes yaml.v3 builds for data (aliases once,
// the document node not counted): what scanNodes predicts.
func allocatedNodes(t testing.TB, data []byte) int {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("yaml: %v\n%s", err, data)
	}
	var count func(n *yaml.Node) int
	count = func(n *yaml.Node) int {
		c := 1
		for _, k := range n.Content {
			c += count(k)
		}
		return c
	}
	if len(doc.Content) == 0 {
		return 0
	}
	return count(doc.Content[0])
}

func checkScan(t *testing.T, what string, data []byte) {
	t.Helper()
	if got, want := scanNodes(data), allocatedNodes(t, data); got != want {
		t.Errorf("%s: scanNodes = %d, yaml.v3 builds %d nodes", what, got, want)
	}
}

func TestScanNodesProfiles(t *testing.T) {
	for _, name := range profiles.Names() {
		_, data, _ := profiles.Resolve(name)
		checkScan(t, name, data)
	}
}

func TestScanNodesCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".yaml") && !strings.HasSuffix(f.Name, ".yml") {
				continue
			}
			data, err := fs.ReadFile(zr, f.Name)
			if err != nil {
				t.Fatal(err)
			}
			checkScan(t, filepath.Base(z)+":"+f.Name, data)
		}
		zr.Close()
	}
}

func TestScanNodesSyntax(t *testing.T) {
	cases := []string{
		"a: 1\n",
		"a:\n",
		"a:\nb: 2\n",
		"- a\n- b\n-\n- - c\n  - d\n",
		"- a: 1\n  b: 2\n- c: [1, 2, {x: y}]\n",
		"a: [1, 2,\n  3]\nb: {c: d, e}\n",
		"a: [x: 1, y]\n",
		"a: 'it''s: here'\nb: \"q\\\" # not a comment\"\n",
		"a: \"multi\n  line: not a key\"\nb: 1\n",
		"a: |\n  - text\n  k: v\n\n  more\nb: >-\n  folded: x\n",
		"a: plain text\n  continued -- no key\n  - nor an entry\nb: 1\n",
		"k: v # comment: here\n# - comment\n",
		"anchors: &a {x: 1}\nuse: *a\nmerged:\n  <<: *a\n  y: 2\n",
		"tagged: !!str 1\nt2: !custom\n  k: v\n",
		"---\na: 1\n",
		"--- [a, b]\n",
		"? complex\n: value\n",
		"'quoted key': 1\n\"dq\": {\"a\":1, \"b\": [2]}\n",
		"url: http://example.com:80/x\nlist: [http://a:1, 'b']\n",
		"- [a, b]\n- {c: d}\n- 'e'\n",
		"k: [\n  a,\n  b, # comment\n  c\n]\n",
		"k: [a,]\n",
		"description: >\n  text: with colon\n  - and dash\nnext: 1\n",
		"plain",
		"- key: value\n  other: x\n- key2: |\n    block\n  after: y\n",
		"a:\n- x\n- y\nb: z\n",
		"a: 1\r\nb: [x, y]\r\n",
		"a: 'x'   # c\nb: 2\n",
		"a: {b: [c, {d: e}], f: g}\n",
	}
	for _, c := range cases {
		checkScan(t, fmt.Sprintf("%q", c), []byte(c))
	}
}

// TestScanNodesGenerated compares with yaml.v3 on random documents written
// by yaml.v3 itself, block and flow style, with scalars full of YAML
// indicators.
func TestScanNodesGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "key: value", "- dash", "# hash", "it's", `say "hi"`, "x,y", "[z]", "{w}", "multi\nline\ntext", "  lead", "trail  ", "?", ":", "-", "&a", "*b", "!t", "|", ">", "true", "1.5", "", "null", "http://h:1/p", "tab\tin"}
	var gen func(depth int) any
	gen = func(depth int) any {
		switch n := r.IntN(6); {
		case depth > 4 || n < 2:
			return words[r.IntN(len(words))]
		case n < 4:
			m := map[string]any{}
			for i := r.IntN(5); i >= 0; i-- {
				m[words[r.IntN(len(words))]+fmt.Sprint(i)] = gen(depth + 1)
			}
			return m
		default:
			var l []any
			for i := r.IntN(5); i >= 0; i-- {
				l = append(l, gen(depth+1))
			}
			return l
		}
	}
	for i := 0; i < 500; i++ {
		v := gen(0)
		data, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		checkScan(t, fmt.Sprintf("generated %d", i), data)
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			t.Fatal(err)
		}
		setFlow(&n, r)
		if data, err = yaml.Marshal(&n); err != nil {
			t.Fatal(err)
		}
		checkScan(t, fmt.Sprintf("generated flow %d", i), data)
	}
}

// setFlow turns some collections into flow style.
func setFlow(n *yaml.Node, r *rand.Rand) {
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && r.IntN(3) == 0 {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c, r)
	}
}

// TestScanNodesLongLines: one long line of nested entries, or of a flow
// list, is scanned in linear time (a quadratic scan of an 8 MB line would
// not finish) and counted exactly.
func TestScanNodesLongLines(t *testing.T) {
	nested := strings.Repeat("- ", 200_000) + "x\n"
	if got, want := scanNodes([]byte(nested)), 200_001; got != want {
		t.Errorf("nested entries: %d, want %d", got, want)
	}
	flow := "[" + strings.Repeat("a,", 2_000_000) + "a]\n"
	if got, want := scanNodes([]byte(flow)), 2_000_002; got != want {
		t.Errorf("flow list: %d, want %d", got, want)
	}
}
