package profiles_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles/internal/precompile"
)

func committedForms(t *testing.T) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(profiles.PrecompiledDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tyb") {
			data, err := os.ReadFile(filepath.Join(profiles.PrecompiledDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = data
		}
	}
	return out
}

// TestPrecompiledUpToDate fails when a committed precompiled form is stale
// against the embedded YAML profiles (run go generate ./tosca/profiles),
// or when a form exists for no embedded or published file.
func TestPrecompiledUpToDate(t *testing.T) {
	committed := committedForms(t)
	want, err := precompile.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles.Published {
		name := p.SHA256 + ".tyb"
		if committed[name] == nil {
			t.Errorf("no precompiled form for the published SOL 001 v%s %s (%s): run go generate ./tosca/profiles", p.Version, p.Name, p.SHA256)
		}
		want[name] = committed[name] // checked against its source below, when the corpus is here
	}
	var names []string
	for name := range committed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if want[name] == nil {
			t.Errorf("%s is the form of no embedded or published file: run go generate ./tosca/profiles", name)
		}
	}
	for name, form := range want {
		if !bytes.Equal(committed[name], form) {
			t.Errorf("%s is stale or missing: run go generate ./tosca/profiles", name)
		}
	}
}

// TestPrecompiledPublishedUpToDate checks the forms of the published ETSI
// files against their bytes, found in the interop corpus.
func TestPrecompiledPublishedUpToDate(t *testing.T) {
	forms, missing, err := precompile.FindPublished(testenv.Corpus(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Logf("not in the corpus, not checked: %v", missing)
	}
	committed := committedForms(t)
	for name, form := range forms {
		if !bytes.Equal(committed[name], form) {
			t.Errorf("%s is stale: run go generate ./tosca/profiles", name)
		}
	}
}
