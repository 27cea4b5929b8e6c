package main_test

// The OCI distribution-spec conformance suite against the /v2 endpoint,
// read-only: the images of the onboarded sample are its preloaded data.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// ociConformanceModule is the suite's version, as .ci/run installs it.
const ociConformanceModule = "github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111"

func ociConformanceTool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VNFPKGM_OCI_CONFORMANCE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "vnfpkgm-tools", "oci-conformance", "conformance")
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, p, "GOBIN=$HOME/.cache/vnfpkgm-tools/oci-conformance go install "+ociConformanceModule)
	}
	return p
}

// TestOCIConformance runs the suite's read-only pull tests (ping, tag
// list, manifests and blobs by tag and digest, HEAD, referrers, missing
// manifests, invalid digests) against the sample's image.
func TestOCIConformance(t *testing.T) {
	tool := ociConformanceTool(t)
	s := startServer(t, "")
	_, info := s.onboard(t, samplePackage(t))
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	im := onboardedImages(t, info)[0]
	r := s.do("GET", "/v2/"+im.repo+"/manifests/"+im.tag, nil)
	expectStatus(t, r, 200)
	var m struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	r.json(t, &m)
	digest := r.header.Get("Docker-Content-Digest")

	cmd := exec.Command(tool)
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+strings.TrimPrefix(s.base, "http://"), "OCI_TLS=disabled",
		"OCI_REPO1="+im.repo, "OCI_REPO2="+im.repo, "OCI_VERSION=1.1",
		"OCI_API_PUSH=false", "OCI_API_BLOBS_DELETE=false", "OCI_API_MANIFESTS_DELETE=false", "OCI_API_TAGS_DELETE=false",
		"OCI_RO_DATA_TAGS="+im.tag, "OCI_RO_DATA_MANIFESTS="+digest,
		"OCI_RO_DATA_BLOBS="+m.Config.Digest+" "+m.Layers[0].Digest, "OCI_RO_DATA_REFERRERS="+digest,
		"OCI_RESULTS_DIR="+t.TempDir())
	// The suite's exit status is not the verdict: after printing its
	// results it fails writing its YAML report when push is off (a nil
	// dereference in ReportResultsYAML of this version). Its summary is.
	out, _ := cmd.CombinedOutput()
	text := string(out)
	if !strings.Contains(text, "OCI Conformance Result: Pass") || regexp.MustCompile(`FAIL\.*:\s+[1-9]`).MatchString(text) {
		t.Fatalf("conformance suite:\n%s", text)
	}
	for _, api := range []string{"Manifest get by digest", "Manifest get by tag", "Manifest head by digest", "Manifest head by tag", "Blob get", "Blob head", "Referrers", "Ping"} {
		if !regexp.MustCompile(regexp.QuoteMeta(api) + `\.+:\s+Pass`).MatchString(text) {
			t.Errorf("the suite did not pass %q:\n%s", api, text)
		}
	}
}
