package tosca

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// pkg builds a package from file contents. Leading tabs of YAML are not
// allowed, so tests write their files with spaces; a leading newline is
// dropped so files can start on the line after the opening backquote.
func pkg(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(strings.TrimPrefix(content, "\n"))}
	}
	return fsys
}

// process runs Process on an in-memory package whose entry is "main.yaml".
func process(t *testing.T, files map[string]string, opts ...Options) *ServiceTemplate {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return Process(pkg(files), "main.yaml", o)
}

// wantProblem fails unless st has a problem with code at file:line:col
// (0: any line or column) whose message contains every fragment.
func wantProblem(t *testing.T, st *ServiceTemplate, code, file string, line, col int, fragments ...string) Problem {
	t.Helper()
	for _, p := range st.Problems {
		if p.Code != code || p.File != file || (line != 0 && p.Line != line) || (col != 0 && p.Column != col) {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(p.Message, f) {
				ok = false
			}
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no problem %s at %s:%d:%d containing %q; problems:\n%s", code, file, line, col, fragments, dump(st.Problems))
	return Problem{}
}

// wantClean fails when st has any error.
func wantClean(t *testing.T, st *ServiceTemplate) {
	t.Helper()
	if st.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", dump(st.Problems))
	}
}

// wantNoProblems fails when st has any problem, warnings included.
func wantNoProblems(t *testing.T, st *ServiceTemplate) {
	t.Helper()
	if len(st.Problems) > 0 {
		t.Fatalf("unexpected problems:\n%s", dump(st.Problems))
	}
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&b, "  ", p.String())
	}
	return b.String()
}

// countCode counts problems with a code.
func countCode(st *ServiceTemplate, code string) int {
	n := 0
	for _, p := range st.Problems {
		if p.Code == code {
			n++
		}
	}
	return n
}

// node returns a node template of the first topology that has it.
func node(t *testing.T, st *ServiceTemplate, name string) *NodeTemplate {
	t.Helper()
	for _, topo := range st.Topologies {
		if nt := topo.NodeTemplates[name]; nt != nil {
			return nt
		}
	}
	t.Fatalf("no node template %q", name)
	return nil
}

// mapResolver resolves URLs and names from a map, for import tests.
type mapResolver map[string]string

func (m mapResolver) Resolve(ref string) (string, []byte, bool) {
	if s, ok := m[ref]; ok {
		return ref, []byte(strings.TrimPrefix(s, "\n")), true
	}
	return "", nil, false
}

const v12 = "tosca_simple_yaml_1_2\n"
const v13 = "tosca_simple_yaml_1_3\n"
