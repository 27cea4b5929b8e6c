package csar_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

const goodMeta = "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: vendor\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: vnfd.mf\n"

func pkg(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// problemsAt renders problems as "code@file:line" for compact assertions.
func problemsAt(ps []csar.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s@%s:%d", p.Severity, p.Code, p.File, p.Line))
	}
	return out
}

func requireProblem(t *testing.T, ps []csar.Problem, want string) {
	t.Helper()
	for _, s := range problemsAt(ps) {
		if s == want {
			return
		}
	}
	t.Fatalf("want problem %q, got:\n%s", want, strings.Join(problemsAt(ps), "\n"))
}

func verify(files map[string]string) *csar.Package {
	return csar.Verify(context.Background(), pkg(files), csar.Options{})
}

func TestManifestChecks(t *testing.T) {
	script := "#!/bin/sh\necho hi\n"
	base := map[string]string{
		"TOSCA-Metadata/TOSCA.meta": goodMeta,
		"Definitions/vnfd.yaml":     "tosca_definitions_version: tosca_simple_yaml_1_2\n",
		"Scripts/install.sh":        script,
	}
	with := func(manifest string) map[string]string {
		m := map[string]string{"vnfd.mf": manifest}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	meta := "metadata:\nvnf_provider_id: Acme\nvnf_product_name: vFW\nvnf_release_date_time: 2024-01-01T00:00:00+00:00\nvnf_package_version: 1.0\n\n"
	good := meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex(script) + "\n\nSource: Definitions/vnfd.yaml\nAlgorithm: sha3_256\nHash: " + strings.Repeat("0", 64) + "\n"

	t.Run("good entry verifies, wrong sha3 does not", func(t *testing.T) {
		p := verify(with(good))
		requireProblem(t, p.Problems, "error manifest-hash-mismatch@vnfd.mf:13")
		for _, pr := range p.Problems {
			if pr.Code == csar.CodeManifestHashMismatch && strings.Contains(pr.Message, "install.sh") {
				t.Fatalf("install.sh has the right hash: %v", pr)
			}
		}
	})
	cases := []struct{ name, manifest, want string }{
		{"missing source file", meta + "Source: Scripts/absent.sh\nAlgorithm: SHA-256\nHash: " + sha256hex("") + "\n", "error manifest-source-not-found@vnfd.mf:7"},
		{"block without Source", meta + "Algorithm: SHA-256\nHash: " + sha256hex("") + "\n", "error manifest-source-missing@vnfd.mf:7"},
		{"missing Algorithm", meta + "Source: Scripts/install.sh\nHash: " + sha256hex(script) + "\n", "error manifest-algorithm-missing@vnfd.mf:7"},
		{"empty Algorithm", meta + "Source: Scripts/install.sh\nAlgorithm:\nHash: " + sha256hex(script) + "\n", "error manifest-algorithm-empty@vnfd.mf:8"},
		{"unknown Algorithm", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-255\nHash: " + sha256hex(script) + "\n", "error manifest-algorithm-unknown@vnfd.mf:8"},
		{"missing Hash", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\n", "error manifest-hash-missing@vnfd.mf:7"},
		{"short Hash", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: abcd\n", "error manifest-hash-malformed@vnfd.mf:9"},
		{"wrong Hash", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex("other") + "\n", "error manifest-hash-mismatch@vnfd.mf:9"},
		{"upper-case hash matches", meta + "Source: Scripts/install.sh\nAlgorithm: sha256\nHash: " + strings.ToUpper(sha256hex(script)) + "\n", ""},
		{"source leaving the package", meta + "Source: ../etc/passwd\nAlgorithm: SHA-256\nHash: " + sha256hex("") + "\n", "error manifest-source-invalid@vnfd.mf:7"},
		{"duplicate source", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex(script) + "\n\nSource: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex(script) + "\n", "error manifest-source-duplicate@vnfd.mf:11"},
		{"external artifact is not fetched", meta + "Source: https://example.invalid/img.qcow2\nAlgorithm: SHA-256\nHash: " + sha256hex("") + "\n", "warning manifest-external-artifact@vnfd.mf:7"},
		{"no metadata", "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex(script) + "\n", "warning manifest-metadata-missing@vnfd.mf:1"},
		{"unterminated signature", meta + "Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: " + sha256hex(script) + "\n\n-----BEGIN CMS-----\nMIIB\n", "error manifest-signature-syntax@vnfd.mf:11"},
		{"non-MANO set naming a missing file", meta + "non_mano_artifact_sets:\n  prv.test:\n    Source: Files/none.yaml\n", "error manifest-non-mano-source-unlisted@vnfd.mf:8"},
		{"garbage line", meta + "this line has no colon\n", "error manifest-syntax@vnfd.mf:7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := verify(with(c.manifest))
			if c.want == "" {
				if p.HasErrors() {
					t.Fatalf("want no error, got %v", problemsAt(p.Problems))
				}
				return
			}
			requireProblem(t, p.Problems, c.want)
		})
	}
}

func TestManifestParsesEverySection(t *testing.T) {
	text := "metadata:\n  vnf_provider_id: Acme\n  vnf_product_name: vFW\n  vnf_release_date_time: 2024-01-01T00:00:00Z\n  vnf_package_version: 1.0\n  vnfd_id: abc\n\n" +
		"Source: Files/a.bin\nAlgorithm: SHA-512\nHash: aa\nSignature: Files/a.bin.sig.cms\nCertificate: Files/a.cert\n\n" +
		"Source: https://host.invalid/b.qcow2\nAlgorithm: SHA-256\nHash: bb\n\n" +
		"non_mano_artifact_sets:\n  onap_ves_events:\n    Source: Files/ves.yaml\n    Source: Files/ves2.yaml\n  onap_pm_dictionary:\n    Source: Files/pm.yaml\n\n" +
		"-----BEGIN CMS-----\nMIIBabc\n-----END CMS-----\n"
	m, problems := csar.ParseManifest([]byte(text), "x.mf")
	for _, p := range problems {
		if p.Severity == csar.SeverityError {
			t.Fatalf("unexpected error %v", p)
		}
	}
	if got := m.Metadata["vnfd_id"].Value; got != "abc" {
		t.Fatalf("metadata vnfd_id = %q", got)
	}
	if len(m.Entries) != 2 || m.Entries[0].Signature != "Files/a.bin.sig.cms" || !m.Entries[1].External || m.Entries[0].External {
		t.Fatalf("entries: %+v", m.Entries)
	}
	if len(m.NonManoSets) != 2 || m.NonManoSets[0].ID != "onap_ves_events" || len(m.NonManoSets[0].Sources) != 2 || m.NonManoSets[1].Sources[0] != "Files/pm.yaml" {
		t.Fatalf("non-MANO sets: %+v", m.NonManoSets)
	}
	if !strings.HasPrefix(string(m.Signature), "-----BEGIN CMS-----\nMIIBabc") || !strings.HasSuffix(string(m.Signature), "-----END CMS-----\n") {
		t.Fatalf("signature kept as %q", m.Signature)
	}
}

func TestMetaChecks(t *testing.T) {
	vnfd := "tosca_definitions_version: tosca_simple_yaml_1_2\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no Entry-Definitions", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\n"}, "error meta-entry-definitions-missing@TOSCA-Metadata/TOSCA.meta:1"},
		{"Entry-Definitions absent from the package", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: Definitions/none.yaml\n"}, "error meta-entry-definitions-not-found@TOSCA-Metadata/TOSCA.meta:4"},
		{"no ETSI-Entry-Manifest", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: d.yaml\n", "d.yaml": vnfd}, "warning meta-entry-manifest-missing@TOSCA-Metadata/TOSCA.meta:1"},
		{"manifest not .mf", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: d.yaml\nETSI-Entry-Manifest: d.txt\n", "d.yaml": vnfd, "d.txt": ""}, "error meta-entry-manifest-extension@TOSCA-Metadata/TOSCA.meta:5"},
		{"manifest missing", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: d.yaml\nETSI-Entry-Manifest: d.mf\n", "d.yaml": vnfd}, "error meta-entry-manifest-not-found@TOSCA-Metadata/TOSCA.meta:5"},
		{"Created-by accepted with a warning", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: x\nEntry-Definitions: d.yaml\n", "d.yaml": vnfd}, "warning meta-key-case@TOSCA-Metadata/TOSCA.meta:3"},
		{"missing CSAR-Version", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCreated-By: x\nEntry-Definitions: d.yaml\n", "d.yaml": vnfd}, "error meta-key-missing@TOSCA-Metadata/TOSCA.meta:1"},
		{"file block hash mismatch", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: d.yaml\n\nName: d.yaml\nContent-Type: text/yaml\nAlgorithm: SHA-256\nHash: " + sha256hex("not it") + "\n", "d.yaml": vnfd}, "error meta-file-block-hash-mismatch@TOSCA-Metadata/TOSCA.meta:9"},
		{"file block naming a missing file", map[string]string{"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: d.yaml\n\nName: Files/none\nContent-Type: x\n", "d.yaml": vnfd}, "error meta-file-block-not-found@TOSCA-Metadata/TOSCA.meta:6"},
		{"TOSCA-Metadata without TOSCA.meta", map[string]string{"TOSCA-Metadata/other.txt": "", "d.yaml": vnfd}, "error meta-key-missing@TOSCA-Metadata/TOSCA.meta:0"},
		// Packages without TOSCA-Metadata.
		{"no root yaml", map[string]string{"Files/a.yaml": vnfd}, "error root-yaml-missing@:0"},
		{"two root yamls", map[string]string{"a.yaml": vnfd, "b.yaml": vnfd}, "error root-yaml-multiple@:0"},
		{"root yaml without metadata", map[string]string{"a.yaml": vnfd}, "error root-yaml-metadata-missing@a.yaml:1"},
		{"root manifest of another name", map[string]string{"a.yaml": vnfd + "metadata:\n  template_name: a\n  template_author: b\n  template_version: 1.0\n", "b.mf": "Source: a.yaml\nAlgorithm: SHA-256\nHash: " + sha256hex("") + "\n"}, "error root-manifest-name-mismatch@b.mf:0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireProblem(t, verify(c.files).Problems, c.want)
		})
	}
}

func TestRootPackageWithMatchingManifestIsValid(t *testing.T) {
	yaml := "tosca_definitions_version: tosca_simple_yaml_1_2\nmetadata:\n  template_name: a\n  template_author: b\n  template_version: 1.0\n"
	p := verify(map[string]string{
		"vnfd.yaml": yaml,
		"vnfd.mf":   "metadata:\nvnf_provider_id: A\nvnf_product_name: B\nvnf_release_date_time: 2024-01-01T00:00:00Z\nvnf_package_version: 1\n\nSource: vnfd.yaml\nAlgorithm: SHA-256\nHash: " + sha256hex(yaml) + "\n",
	})
	if p.HasErrors() || len(p.Problems) != 0 || p.EntryDefinitions != "vnfd.yaml" || p.ManifestPath != "vnfd.mf" {
		t.Fatalf("entry %q manifest %q problems %v", p.EntryDefinitions, p.ManifestPath, problemsAt(p.Problems))
	}
}

// FuzzParseMeta and FuzzParseManifest: no input may panic the parsers,
// and every problem they report is located in the file they were given.
func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(goodMeta))
	f.Add([]byte("TOSCA-Meta-File-Version: 1.0\r\nCreated-by: x\r\n\r\nName: a\r\nAlgorithm: SHA-256\r\nHash: 00\r\n"))
	f.Add([]byte(":\n\n\n:x\nkey:"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, problems := csar.ParseMeta(data, "TOSCA.meta")
		if m == nil {
			t.Fatal("nil Meta")
		}
		for _, p := range problems {
			if p.File != "TOSCA.meta" || p.Code == "" {
				t.Fatalf("problem without file or code: %+v", p)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("metadata:\nvnf_provider_id: A\n\nSource: a\nAlgorithm: SHA-256\nHash: 00\n\nnon_mano_artifact_sets:\n  s:\n    Source: b\n-----BEGIN CMS-----\nx\n-----END CMS-----\n"))
	f.Add([]byte("Source:\nAlgorithm:\nHash:\n\n\nSource: https://x/y\n"))
	f.Add([]byte("-----BEGIN CMS-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, problems := csar.ParseManifest(data, "m.mf")
		if m == nil {
			t.Fatal("nil Manifest")
		}
		if len(m.Signature) > len(data)+1 {
			t.Fatalf("signature (%d bytes) larger than the input (%d)", len(m.Signature), len(data))
		}
		for _, p := range problems {
			if p.File != "m.mf" || p.Code == "" {
				t.Fatalf("problem without file or code: %+v", p)
			}
		}
	})
}
