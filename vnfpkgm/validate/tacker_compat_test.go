package validate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/tosca"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// A whole package of our own with the four patterns of Tacker's samples
// that tosca-parser lets through (issue 14): it is valid, each laxity is a
// warning, and the management driver named by a VNFM host path is neither
// verified nor an additional artifact of the package.

var compatFiles = map[string]string{
	"Definitions/types.yaml": `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  acme.Gateway:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: {type: string, default: 3b9d6f10-8e2a-4c57-a1d4-0f6e7c8b9a21}
      descriptor_version: {type: string, default: '1.4'}
      provider: {type: string, default: Acme}
      product_name: {type: string, default: Gateway}
      software_version: {type: string, default: '1.4'}
      vnfm_info: {type: list, entry_schema: {type: string}, default: [any]}
      flavour_id: {type: string, constraints: [valid_values: [basic]], default: basic}
      flavour_description: {type: string, default: ""}
    requirements:
      - north: {capability: tosca.capabilities.nfv.VirtualLinkable, occurrences: [0, 1]}
      - south: {capability: tosca.capabilities.nfv.VirtualLinkable, occurrences: [0, 1]}
`,
	"Definitions/top.yaml": `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
  - df_premium.yaml
topology_template:
  node_templates:
    gw:
      type: acme.Gateway
`,
	"Definitions/df_premium.yaml": `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
topology_template:
  substitution_mappings:
    node_type: acme.Gateway
    properties:
      flavour_id: premium
    requirements:
      north: []
      south: [south_cp, virtual_link]
  node_templates:
    gw:
      type: acme.Gateway
      interfaces:
        Vnflcm:
          instantiate_end: {implementation: mgmt}
      artifacts:
        mgmt:
          type: tosca.artifacts.Implementation.Python
          file: /opt/vnfm/drivers/gateway_mgmt.py
        health:
          type: tosca.artifacts.Implementation.Bash
          file: ../Scripts/health.sh
    gwvdu:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: gwvdu
        description: gateway
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 1}
        sw_image_data:
          name: gateway-os
          version: '1.4'
          checksum: {algorithm: sha-256, hash: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824}
          container_format: bare
          disk_format: raw
          min_disk: 1 GB
          size: 1 GB
      capabilities:
        virtual_compute:
          properties:
            virtual_memory: {virtual_mem_size: 256 MB}
            virtual_cpu: {num_virtual_cpu: 1}
      artifacts:
        os: {type: tosca.artifacts.nfv.SwImage, file: ../Files/gateway.img}
`,
	"Files/gateway.img": "hello",
	"Scripts/health.sh": "#!/bin/sh\nexit 0\n",
	"TOSCA-Metadata/TOSCA.meta": "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Acme\n" +
		"Entry-Definitions: Definitions/top.yaml\nETSI-Entry-Manifest: gateway.mf\n",
}

// compatZip zips compatFiles with a manifest hashing every file.
func compatZip(t *testing.T) []byte {
	t.Helper()
	mf := "metadata:\n  vnf_provider_id: Acme\n  vnf_product_name: Gateway\n" +
		"  vnf_release_date_time: 2026-01-01T00:00:00+00:00\n  vnf_package_version: '1.4'\n"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, content string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"Definitions/types.yaml", "Definitions/top.yaml", "Definitions/df_premium.yaml", "Files/gateway.img", "Scripts/health.sh"} {
		sum := sha256.Sum256([]byte(compatFiles[name]))
		mf += "\nSource: " + name + "\nAlgorithm: SHA-256\nHash: " + hex.EncodeToString(sum[:]) + "\n"
		add(name, compatFiles[name])
	}
	add("TOSCA-Metadata/TOSCA.meta", compatFiles["TOSCA-Metadata/TOSCA.meta"])
	add("gateway.mf", mf)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTackerLaxitiesPackage(t *testing.T) {
	b := compatZip(t)
	rep, err := validate.Package(context.Background(), bytes.NewReader(b), int64(len(b)), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid {
		t.Fatalf("invalid:\n%s", render(rep.Problems))
	}
	warned := map[string]bool{}
	for _, p := range rep.Problems {
		if p.Severity == csar.SeverityWarning {
			warned[p.Code] = true
		}
	}
	for _, code := range []string{tosca.CodeLenientEmptyMapping, tosca.CodeLenientMappingTarget, tosca.CodeLenientFlavourID, tosca.CodeLenientHostArtifact} {
		if !warned[code] {
			t.Errorf("no warning %s:\n%s", code, render(rep.Problems))
		}
	}
	if len(rep.Flavours) != 1 || rep.Flavours[0].ID != "premium" {
		t.Errorf("flavours %+v", rep.Flavours)
	}
	if len(rep.SoftwareImages) != 1 || rep.SoftwareImages[0].ImagePath != "Files/gateway.img" {
		t.Errorf("software images %+v", rep.SoftwareImages)
	}
	// The script in the package is an additional artifact; the driver on
	// the VNFM host is not (nothing of the package backs it).
	var paths []string
	for _, a := range rep.AdditionalArtifacts {
		paths = append(paths, a.ArtifactPath+a.ArtifactURI)
	}
	if got := strings.Join(paths, " "); got != "Scripts/health.sh" {
		t.Errorf("additional artifacts %q, want only Scripts/health.sh", got)
	}
}
