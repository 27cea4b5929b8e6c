package tosca

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// corpusPackage opens a package of the shared interop corpus as an fs.FS
// and finds its entry definition.
func corpusPackage(t testing.TB, name string) (fs.FS, string) {
	t.Helper()
	dir := testenv.Corpus(t)
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return zr, entryOf(t, zr)
}

// entryOf reads Entry-Definitions from TOSCA-Metadata/TOSCA.meta, or picks
// the only YAML file at the root of a package without it.
func entryOf(t testing.TB, fsys fs.FS) string {
	t.Helper()
	if meta, err := fs.ReadFile(fsys, "TOSCA-Metadata/TOSCA.meta"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(meta))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), "Entry-Definitions") {
				return strings.TrimSpace(v)
			}
		}
		t.Fatal("TOSCA.meta has no Entry-Definitions")
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, e := range entries {
		if !e.IsDir() && (path.Ext(e.Name()) == ".yaml" || path.Ext(e.Name()) == ".yml") {
			roots = append(roots, e.Name())
		}
	}
	if len(roots) != 1 {
		t.Fatalf("expected one YAML file at the root, found %v", roots)
	}
	return roots[0]
}

func errorsOf(st *ServiceTemplate) []Problem {
	var out []Problem
	for _, p := range st.Problems {
		if p.Severity == SeverityError {
			out = append(out, p)
		}
	}
	return out
}

func TestCorpusValid(t *testing.T) {
	for _, name := range []string{
		"helloworld3-multi.zip", "image-checksum-sha-256.zip", "image-checksum-sha-384.zip",
		"practical-two-flavours.zip", "single-file-no-meta.zip", "bad-image-checksum.zip",
	} {
		t.Run(name, func(t *testing.T) {
			fsys, entry := corpusPackage(t, name)
			st := Process(fsys, entry, Options{})
			for _, p := range st.Problems {
				t.Log(p)
			}
			if errs := errorsOf(st); len(errs) > 0 {
				t.Fatalf("%d errors, first: %v", len(errs), errs[0])
			}
		})
	}
}

func TestCorpusChecksumAlgorithm(t *testing.T) {
	for name, algo := range map[string]string{"image-checksum-blake2b.zip": "blake2b", "image-checksum-sha3-256.zip": "sha3_256"} {
		t.Run(name, func(t *testing.T) {
			fsys, entry := corpusPackage(t, name)
			st := Process(fsys, entry, Options{})
			errs := errorsOf(st)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %v", st.Problems)
			}
			e := errs[0]
			want := `property "algorithm" of tosca.datatypes.nfv.ChecksumData: "` + algo + `" is not one of the valid values [sha-224 sha-256 sha-384 sha-512]`
			if e.Code != CodeConstraint || e.File != "Definitions/helloworld3_df_simple.yaml" || e.Line != 87 || e.Message != want {
				t.Fatalf("got %v\nwant Definitions/helloworld3_df_simple.yaml:87: %s", e, want)
			}
		})
	}
}

// TestCorpusExpected checks every package the corpus says is valid, and
// that TOSCA finds the problem of those whose problem is TOSCA's.
func TestCorpusExpected(t *testing.T) {
	dir := testenv.Corpus(t)
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Valid    bool     `json:"valid"`
		Why      string   `json:"why"`
		Flavours []string `json:"flavours"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	for name, exp := range expected {
		t.Run(name, func(t *testing.T) {
			fsys, entry := corpusPackage(t, name)
			st := Process(fsys, entry, Options{})
			toscaProblem := strings.Contains(exp.Why, "valid_values")
			if (exp.Valid || !toscaProblem) && st.HasErrors() {
				t.Fatalf("unexpected errors: %v", errorsOf(st))
			}
			if toscaProblem && !st.HasErrors() {
				t.Fatalf("expected a TOSCA error (%s)", exp.Why)
			}
			if exp.Valid {
				var got []string
				for _, topo := range st.Topologies {
					if sm := topo.Substitution; sm != nil {
						if v := sm.Properties["flavour_id"]; v != nil {
							got = append(got, v.V.(string))
						}
					}
				}
				if strings.Join(got, ",") != strings.Join(exp.Flavours, ",") {
					t.Errorf("flavours %v, want %v", got, exp.Flavours)
				}
			}
		})
	}
}
