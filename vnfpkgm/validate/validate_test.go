package validate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// expectation is one entry of ../shared/corpus/expected.json.
type expectation struct {
	Valid               bool              `json:"valid"`
	Why                 string            `json:"why"`
	Lenient             bool              `json:"lenient"`
	VnfdID              string            `json:"vnfdId"`
	VnfProvider         string            `json:"vnfProvider"`
	VnfProductName      string            `json:"vnfProductName"`
	VnfSoftwareVersion  string            `json:"vnfSoftwareVersion"`
	VnfdVersion         string            `json:"vnfdVersion"`
	Flavours            []string          `json:"flavours"`
	AdditionalArtifacts []string          `json:"additionalArtifacts"`
	ImageAlgorithm      map[string]string `json:"imageAlgorithm"`
	SoftwareImages      []struct {
		ID, Name, Version, Algorithm, ImagePath, ContainerFormat, DiskFormat string
	} `json:"softwareImages"`
}

func validateFile(t testing.TB, name string) *validate.Report {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := validate.Package(context.Background(), f, st.Size(), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The problem each invalid corpus package must report: its code and the
// file it must name.
var wantProblem = map[string]struct{ code, file string }{
	"bad-algorithm.zip":           {csar.CodeManifestAlgorithmUnknown, "manifest.mf"},
	"bad-artifact-hash.zip":       {csar.CodeManifestHashMismatch, "manifest.mf"},
	"bad-manifest-extension.zip":  {csar.CodeEntryManifestExtension, "TOSCA-Metadata/TOSCA.meta"},
	"empty-algorithm-value.zip":   {csar.CodeManifestAlgorithmEmpty, "manifest.mf"},
	"missing-algorithm-key.zip":   {csar.CodeManifestAlgorithmMissing, "manifest.mf"},
	"missing-source.zip":          {csar.CodeManifestSourceNotFound, "manifest.mf"},
	"bad-image-checksum.zip":      {validate.CodeImageChecksumMismatch, "Definitions/helloworld3_df_simple.yaml"},
	"image-checksum-blake2b.zip":  {"", "Definitions/helloworld3_df_simple.yaml"},
	"image-checksum-sha3-256.zip": {"", "Definitions/helloworld3_df_simple.yaml"},
}

// TestCorpusVerdictsAndFacts checks every corpus package against
// expected.json: the verdict, a located problem for each invalid one, and
// the VNFD facts of each valid one.
func TestCorpusVerdictsAndFacts(t *testing.T) {
	dir, expected := corpusExpectations(t)
	for name, want := range expected {
		t.Run(name, func(t *testing.T) {
			checkCorpusReport(t, name, validateFile(t, filepath.Join(dir, name)), want)
		})
	}
}

// corpusExpectations reads ../shared/corpus/expected.json.
func corpusExpectations(t *testing.T) (string, map[string]expectation) {
	t.Helper()
	dir := testenv.Corpus(t)
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]expectation
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	return dir, expected
}

// checkCorpusReport checks the report on corpus package name against its
// expectation: the verdict, the located problem of an invalid package,
// the facts of a valid one.
func checkCorpusReport(t *testing.T, name string, rep *validate.Report, want expectation) {
	t.Helper()
	if rep.Valid != want.Valid {
		t.Fatalf("valid = %v, want %v (%s); problems:\n%s", rep.Valid, want.Valid, want.Why, render(rep.Problems))
	}
	if !want.Valid {
		wp, ok := wantProblem[name]
		if !ok {
			t.Fatalf("no expectation written for invalid package %s", name)
		}
		for _, p := range rep.Problems {
			if p.Severity == csar.SeverityError && p.File == wp.file && (wp.code == "" || p.Code == wp.code) && (p.Line > 0 || !strings.HasSuffix(p.File, ".yaml")) {
				return
			}
		}
		t.Fatalf("no error %q located in %s; problems:\n%s", wp.code, wp.file, render(rep.Problems))
	}
	if want.Lenient && !hasWarning(rep.Problems) {
		t.Fatalf("a lenient package must be accepted with warnings, got none")
	}
	checkFacts(t, rep, want)
}

func checkFacts(t *testing.T, rep *validate.Report, want expectation) {
	t.Helper()
	eq := func(what, got, want string) {
		if want != "" && got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	eq("vnfdId", rep.VnfdID, want.VnfdID)
	eq("vnfProvider", rep.VnfProvider, want.VnfProvider)
	eq("vnfProductName", rep.VnfProductName, want.VnfProductName)
	eq("vnfSoftwareVersion", rep.VnfSoftwareVersion, want.VnfSoftwareVersion)
	eq("vnfdVersion", rep.VnfdVersion, want.VnfdVersion)
	if want.Flavours != nil {
		var got []string
		for _, f := range rep.Flavours {
			got = append(got, f.ID)
		}
		sort.Strings(got)
		w := append([]string(nil), want.Flavours...)
		sort.Strings(w)
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("flavours = %v, want %v", got, w)
		}
	}
	if want.AdditionalArtifacts != nil {
		var got []string
		for _, a := range rep.AdditionalArtifacts {
			got = append(got, a.ArtifactPath)
		}
		if strings.Join(got, ",") != strings.Join(want.AdditionalArtifacts, ",") {
			t.Errorf("additionalArtifacts = %v, want %v", got, want.AdditionalArtifacts)
		}
	}
	if want.SoftwareImages != nil {
		if len(rep.SoftwareImages) != len(want.SoftwareImages) {
			t.Fatalf("%d software images, want %d: %+v", len(rep.SoftwareImages), len(want.SoftwareImages), rep.SoftwareImages)
		}
		for i, w := range want.SoftwareImages {
			g := rep.SoftwareImages[i]
			alg := w.Algorithm
			if a, ok := want.ImageAlgorithm[w.ID]; ok {
				alg = a
			}
			eq("image id", g.ID, w.ID)
			eq(w.ID+" name", g.Name, w.Name)
			eq(w.ID+" version", g.Version, w.Version)
			eq(w.ID+" algorithm", strings.ToLower(g.Checksum.Algorithm), strings.ToLower(alg))
			eq(w.ID+" imagePath", g.ImagePath, w.ImagePath)
			eq(w.ID+" containerFormat", g.ContainerFormat, strings.ToUpper(w.ContainerFormat))
			eq(w.ID+" diskFormat", g.DiskFormat, strings.ToUpper(w.DiskFormat))
		}
	}
}

func hasWarning(ps []csar.Problem) bool {
	for _, p := range ps {
		if p.Severity == csar.SeverityWarning {
			return true
		}
	}
	return false
}

func render(ps []csar.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDescribePackageVerifiesNoDigest: Describe gives the facts but
// reads no file for its digest, so a wrong manifest hash goes unnoticed
// (Package reports it).
func TestDescribePackageVerifiesNoDigest(t *testing.T) {
	name := filepath.Join(testenv.Corpus(t), "bad-artifact-hash.zip")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rep, err := validate.Describe(context.Background(), f, st.Size(), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.VnfdID != "5189df9e-7018-11ea-b97a-000c292ec2ea" || len(rep.Flavours) != 1 || len(rep.Flavours[0].VDUs) == 0 {
		t.Fatalf("describe: valid %v, vnfdId %q, flavours %+v, problems:\n%s", rep.Valid, rep.VnfdID, rep.Flavours, render(rep.Problems))
	}
	if full := validateFile(t, name); full.Valid {
		t.Fatal("the full validation must catch the hash")
	}
}
