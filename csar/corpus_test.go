package csar_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// openFile opens a package file on disk as an Archive.
func openFile(t testing.TB, name string) *csar.Archive {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	a, err := csar.Open(context.Background(), f, st.Size(), csar.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// TestCorpus runs every package of the shared corpus through the CSAR
// checks: each manifest-level negative is invalid with its own code, every
// other package has no CSAR-level error (their problems, if any, are in
// the VNFD and are the TOSCA processor's to find).
func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]json.RawMessage
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	wantCode := map[string]string{
		"bad-algorithm.zip":          csar.CodeManifestAlgorithmUnknown,
		"bad-artifact-hash.zip":      csar.CodeManifestHashMismatch,
		"bad-manifest-extension.zip": csar.CodeEntryManifestExtension,
		"empty-algorithm-value.zip":  csar.CodeManifestAlgorithmEmpty,
		"missing-algorithm-key.zip":  csar.CodeManifestAlgorithmMissing,
		"missing-source.zip":         csar.CodeManifestSourceNotFound,
	}
	// The file and line each negative must point at.
	wantWhere := map[string]string{
		"bad-algorithm.zip":          "manifest.mf:6",
		"bad-artifact-hash.zip":      "manifest.mf:11",
		"bad-manifest-extension.zip": "TOSCA-Metadata/TOSCA.meta:5",
		"empty-algorithm-value.zip":  "manifest.mf:6",
		"missing-algorithm-key.zip":  "manifest.mf:5",
		"missing-source.zip":         "manifest.mf:9",
	}
	seen := 0
	for name := range expected {
		t.Run(name, func(t *testing.T) {
			seen++
			a := openFile(t, filepath.Join(dir, name))
			p := csar.Verify(context.Background(), a, csar.Options{})
			var errs []csar.Problem
			for _, pr := range p.Problems {
				if pr.Severity == csar.SeverityError {
					errs = append(errs, pr)
				}
			}
			code, negative := wantCode[name]
			if !negative {
				if len(errs) > 0 {
					t.Fatalf("want no CSAR-level error, got %v", errs)
				}
				if p.EntryDefinitions == "" {
					t.Fatalf("no entry definitions found")
				}
				return
			}
			var found bool
			for _, e := range errs {
				where := e.File + ":" + strconv.Itoa(e.Line)
				if e.Code == code && where == wantWhere[name] {
					found = true
				}
			}
			if !found {
				t.Fatalf("want an error %s at %s, got %v", code, wantWhere[name], errs)
			}
		})
	}
	if seen != len(expected) {
		t.Fatalf("ran %d of %d packages", seen, len(expected))
	}
}
