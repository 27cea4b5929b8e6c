package csar_test

import (
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// metaWithBlock is a TOSCA.meta without a manifest whose one file block
// names ref, as Tacker's test_cnf_ext_artifact sample writes it.
func metaWithBlock(ref, alg, hash string) string {
	return "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Acme\nEntry-Definitions: d.yaml\n\n" +
		"Name: " + ref + "\nContent-Type: test-data\nAlgorithm: " + alg + "\nHash: " + hash + "\n"
}

const externalVNFD = "tosca_definitions_version: tosca_simple_yaml_1_2\n"

// A TOSCA.meta file block naming an http(s) URL is accepted with a warning
// that it was not checked; the verifier makes no request (the URLs point
// at a closed port and an unresolvable name), and nothing is hashed for it.
func TestMetaFileBlockExternalArtifact(t *testing.T) {
	for _, ref := range []string{"http://127.0.0.1:9/storage-class-url.yaml", "https://artifacts.invalid/sc.yaml?rev=2"} {
		p := verify(map[string]string{
			"TOSCA-Metadata/TOSCA.meta": metaWithBlock(ref, "SHA-256", sha256hex("elsewhere")),
			"d.yaml":                    externalVNFD,
		})
		requireProblem(t, p.Problems, "warning meta-external-artifact@TOSCA-Metadata/TOSCA.meta:6")
		for _, pr := range p.Problems {
			if pr.Severity == csar.SeverityError {
				t.Errorf("%s: error %s: %s", ref, pr.Code, pr.Message)
			}
			if pr.Code == csar.CodeMetaExternalArtifact && (!strings.Contains(pr.Message, ref) || !strings.Contains(pr.Message, "hash was not checked")) {
				t.Errorf("the warning neither names the URL nor says the hash was not checked: %s", pr.Message)
			}
		}
		if checks := p.DigestChecks(); len(checks) != 0 {
			t.Errorf("%s: digest checks %+v for an artifact outside the package", ref, checks)
		}
	}
}

// What stays an error: a malformed URL, a digest that can never match, and
// a plain path naming a file the package lacks.
func TestMetaFileBlockExternalArtifactErrors(t *testing.T) {
	good := sha256hex("elsewhere")
	cases := []struct{ name, meta, want string }{
		{"no host", metaWithBlock("http:///sc.yaml", "SHA-256", good), "error external-uri-invalid@TOSCA-Metadata/TOSCA.meta:6"},
		{"space in the URL", metaWithBlock("http://example.com/storage class.yaml", "SHA-256", good), "error external-uri-invalid@TOSCA-Metadata/TOSCA.meta:6"},
		{"port not a number", metaWithBlock("http://example.com:80a/sc.yaml", "SHA-256", good), "error external-uri-invalid@TOSCA-Metadata/TOSCA.meta:6"},
		{"unknown algorithm", metaWithBlock("http://example.com/sc.yaml", "SHA-999", good), "error manifest-hash-malformed@TOSCA-Metadata/TOSCA.meta:9"},
		{"hash of the wrong length", metaWithBlock("http://example.com/sc.yaml", "SHA-256", good[:40]), "error manifest-hash-malformed@TOSCA-Metadata/TOSCA.meta:9"},
		{"missing local file", metaWithBlock("Files/storage-class-url.yaml", "SHA-256", good), "error meta-file-block-not-found@TOSCA-Metadata/TOSCA.meta:6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := verify(map[string]string{"TOSCA-Metadata/TOSCA.meta": c.meta, "d.yaml": externalVNFD})
			requireProblem(t, p.Problems, c.want)
		})
	}
}

// The same rules for a manifest entry whose Source is a URI (SOL 004).
func TestManifestExternalArtifact(t *testing.T) {
	meta := goodMeta
	files := func(source, hash string) map[string]string {
		mf := "metadata:\n  vnf_provider_id: Acme\n  vnf_product_name: GW\n  vnf_release_date_time: 2026-01-01T00:00:00+00:00\n  vnf_package_version: '1'\n\n" +
			"Source: Definitions/vnfd.yaml\nAlgorithm: SHA-256\nHash: " + sha256hex(externalVNFD) + "\n\n" +
			"Source: " + source + "\nAlgorithm: SHA-256\nHash: " + hash + "\n"
		return map[string]string{"TOSCA-Metadata/TOSCA.meta": meta, "Definitions/vnfd.yaml": externalVNFD, "vnfd.mf": mf}
	}
	ok := verify(files("https://images.invalid/gw.qcow2", sha256hex("image")))
	requireProblem(t, ok.Problems, "warning manifest-external-artifact@vnfd.mf:11")
	for _, pr := range ok.Problems {
		if pr.Severity == csar.SeverityError {
			t.Errorf("error %s: %s", pr.Code, pr.Message)
		}
	}
	requireProblem(t, verify(files("https://", sha256hex("image"))).Problems, "error external-uri-invalid@vnfd.mf:11")
	requireProblem(t, verify(files("https://images.invalid/gw.qcow2", "xyz")).Problems, "error manifest-hash-malformed@vnfd.mf:13")
}
