package vnfd

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// A VNFD of our own with every laxity of Tacker's samples that tosca
// accepts with a warning (issue 14): the model extracted from it must be
// whole, and the laxities must not leak into it.

const compatTypesYAML = `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  acme.Router:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: {type: string, default: 7c0e2a4b-51d3-4f0c-8b8e-2a9d1e3f4c55}
      descriptor_version: {type: string, default: '3.0'}
      provider: {type: string, default: Acme}
      product_name: {type: string, default: Router}
      software_version: {type: string, default: '3.0'}
      vnfm_info: {type: list, entry_schema: {type: string}, default: [any]}
      flavour_id: {type: string, constraints: [valid_values: [small]], default: small}
      flavour_description: {type: string, default: ""}
    requirements:
      - wan: {capability: tosca.capabilities.nfv.VirtualLinkable, occurrences: [0, 1]}
      - lan: {capability: tosca.capabilities.nfv.VirtualLinkable, occurrences: [0, 1]}
`

// compatFlavourYAML is a flavour whose wan mapping is empty, whose lan
// mapping names a connection point no topology defines, and whose VNF
// node runs a management driver from the VNFM host; image is the file of
// the VDU's SwImage artifact.
func compatFlavourYAML(id, image string) string {
	return `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
topology_template:
  substitution_mappings:
    node_type: acme.Router
    properties:
      flavour_id: ` + id + `
    requirements:
      wan: []
      lan: [lan_cp, virtual_link]
  node_templates:
    vnf:
      type: acme.Router
      interfaces:
        Vnflcm:
          instantiate_end: {implementation: driver}
      artifacts:
        driver:
          type: tosca.artifacts.Implementation.Python
          file: /srv/vnfm/drivers/router.py
    rtr:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: rtr
        description: router
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 2}
        sw_image_data:
          name: router-os
          version: '3.0'
          checksum: {algorithm: sha-256, hash: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824}
          container_format: bare
          disk_format: qcow2
          min_disk: 1 GB
          size: 1 GB
      capabilities:
        virtual_compute:
          properties:
            virtual_memory: {virtual_mem_size: 512 MB}
            virtual_cpu: {num_virtual_cpu: 1}
      artifacts:
        os:
          type: tosca.artifacts.nfv.SwImage
          file: ` + image + `
`
}

func compatVNFD(image string) fstest.MapFS {
	top := `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
  - df_small.yaml
  - df_large.yaml
topology_template:
  node_templates:
    vnf:
      type: acme.Router
`
	return fstest.MapFS{
		"Definitions/top.yaml":      {Data: []byte(top)},
		"Definitions/types.yaml":    {Data: []byte(compatTypesYAML)},
		"Definitions/df_small.yaml": {Data: []byte(compatFlavourYAML("small", "../Files/router.qcow2"))},
		"Definitions/df_large.yaml": {Data: []byte(compatFlavourYAML("large", image))},
		"Files/router.qcow2":        {Data: []byte("hello")},
	}
}

func codesOf(ps []tosca.Problem) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		out[p.Code]++
	}
	return out
}

func TestTackerLaxitiesExtract(t *testing.T) {
	st := tosca.Process(compatVNFD("../Files/router.qcow2"), "Definitions/top.yaml", tosca.Options{})
	v, probs := Extract(st)
	all := append(append([]tosca.Problem(nil), st.Problems...), probs...)
	var dump strings.Builder
	for _, p := range all {
		dump.WriteString("\n  " + p.String())
		if p.Severity == tosca.SeverityError {
			t.Errorf("error: %s", p)
		}
	}
	codes := codesOf(all)
	for code, n := range map[string]int{
		tosca.CodeLenientEmptyMapping:  2, // one per flavour
		tosca.CodeLenientMappingTarget: 2,
		tosca.CodeLenientHostArtifact:  2,
		tosca.CodeLenientFlavourID:     1, // "large" only
	} {
		if codes[code] != n {
			t.Errorf("%d %s, want %d:%s", codes[code], code, n, dump.String())
		}
	}
	if v == nil || len(v.Flavours) != 2 || v.Flavours[0].ID != "large" && v.Flavours[1].ID != "large" {
		t.Fatalf("want flavours small and large, got %+v", v)
	}
	for _, f := range v.Flavours {
		// Neither the empty nor the dangling mapping exposes a CP.
		if len(f.ExtCps) != 0 {
			t.Errorf("flavour %s: ext CPs %+v", f.ID, f.ExtCps)
		}
		if len(f.Images) != 1 || f.Images[0].File != "Files/router.qcow2" {
			t.Errorf("flavour %s: images %+v", f.ID, f.Images)
		}
	}
}

func TestSwImageOnVNFMHost(t *testing.T) {
	// The host-file laxity is for management drivers: a software image
	// must be in the package or at a URI.
	st := tosca.Process(compatVNFD("/var/lib/images/router.qcow2"), "Definitions/top.yaml", tosca.Options{})
	v, probs := Extract(st)
	var found bool
	for _, p := range probs {
		if p.Code == CodeSwImageHostPath {
			found = true
			if p.Severity != tosca.SeverityError || p.File != "Definitions/df_large.yaml" || p.Line != 42 ||
				!strings.Contains(p.Message, `"/var/lib/images/router.qcow2"`) {
				t.Errorf("unexpected %s", p)
			}
		}
	}
	if !found {
		t.Fatalf("no %s in %v", CodeSwImageHostPath, probs)
	}
	for _, f := range v.Flavours {
		for _, img := range f.Images {
			if f.ID == "large" && (img.File != "" || img.URI != "") {
				t.Errorf("a host image became a package image: %+v", img)
			}
		}
	}
}
