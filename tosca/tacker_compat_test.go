package tosca

import (
	"strings"
	"testing"
)

// Packages built here reproduce, with their own YAML, the patterns of
// OpenStack Tacker's sample packages that tosca-parser accepts only
// because it never checks them (issue 14): each is accepted with a
// warning that names the laxity, and the neighbouring strict rules stay.

const (
	compatTop   = "Definitions/top.yaml"
	compatTypes = "Definitions/types.yaml"
	compatSmall = "Definitions/df_small.yaml"
	compatLarge = "Definitions/df_large.yaml"
)

// compatTypesYAML is a VNF node type whose flavour_id admits only
// "small", with one requirement for an external virtual link.
const compatTypesYAML = `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  acme.Firewall:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: {type: string, default: 0f5e8a56-3c1d-4b7e-9a40-6d1f0c2b7e11}
      descriptor_version: {type: string, default: '2.1'}
      provider: {type: string, default: Acme, constraints: [valid_values: [Acme]]}
      product_name: {type: string, default: Firewall}
      software_version: {type: string, default: '2.1'}
      vnfm_info: {type: list, entry_schema: {type: string}, default: [any]}
      flavour_id:
        type: string
        constraints: [valid_values: [small]]
        default: small
      flavour_description: {type: string, default: ""}
    requirements:
      - uplink:
          capability: tosca.capabilities.nfv.VirtualLinkable
          occurrences: [0, 1]
`

// compatFlavour is a flavour file of acme.Firewall: mappings is the body
// of its substitution_mappings, nodes extra node templates.
func compatFlavour(mappings, nodes string) string {
	return `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
topology_template:
  substitution_mappings:
    node_type: acme.Firewall
` + mappings + `
  node_templates:
    fw:
      type: acme.Firewall
    port:
      type: tosca.nodes.nfv.VduCp
      properties:
        layer_protocols: [ipv4]
        order: 0
` + nodes
}

// compatPackage is a two-flavour VNFD: top.yaml declares the VNF and
// imports both flavour files.
func compatPackage(top, small, large string) map[string]string {
	if top == "" {
		top = `
tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - types.yaml
  - df_small.yaml
  - df_large.yaml
topology_template:
  node_templates:
    fw:
      type: acme.Firewall
`
	}
	return map[string]string{compatTop: top, compatTypes: compatTypesYAML, compatSmall: small, compatLarge: large}
}

func processCompat(files map[string]string) *ServiceTemplate {
	return Process(pkg(files), compatTop, Options{})
}

// wantWarning is wantProblem for a problem that must be a warning.
func wantWarning(t *testing.T, st *ServiceTemplate, code, file string, line, col int, fragments ...string) {
	t.Helper()
	if p := wantProblem(t, st, code, file, line, col, fragments...); p.Severity != SeverityWarning {
		t.Fatalf("%s is an error, want a warning", p)
	}
}

const smallMappings = `    properties:
      flavour_id: small
    requirements:
      uplink: [port, virtual_link]`

func TestTackerEmptyRequirementMapping(t *testing.T) {
	large := compatFlavour(`    properties:
      flavour_id: small
    requirements:
      uplink: []`, "")
	st := processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
	wantClean(t, st)
	wantWarning(t, st, CodeLenientEmptyMapping, compatLarge, 10, 15, `"uplink" is an empty list`, "taken as not mapped", "tosca-parser")
	for _, topo := range st.Topologies {
		if topo.File == compatLarge {
			if m, ok := topo.Substitution.Requirements["uplink"]; ok {
				t.Fatalf("an empty mapping is not mapped, got %v", m)
			}
		}
	}

	// A capability written the same way is read the same way.
	large = compatFlavour(`    properties:
      flavour_id: small
    capabilities:
      virtual_linkable: []`, "")
	st = processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
	wantClean(t, st)
	wantWarning(t, st, CodeLenientEmptyMapping, compatLarge, 10, 25, `capability mapping "virtual_linkable" is an empty list`)

	// Only the empty list is lenient: a mapping that is not
	// [node_template, requirement] stays an error.
	for _, bad := range []string{"[port]", "[port, virtual_link, extra]", "port", "{}"} {
		large := compatFlavour(`    requirements:
      uplink: `+bad, "")
		st := processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
		wantProblem(t, st, CodeSyntax, compatLarge, 8, 15, `the requirement mapping "uplink" must be [node_template, requirement]`)
		if countCode(st, CodeLenientEmptyMapping) != 0 {
			t.Fatalf("%s: reported as an empty mapping:\n%s", bad, dump(st.Problems))
		}
	}
}

func TestTackerMappingToMissingTemplate(t *testing.T) {
	// The requirement names a connection point that no topology defines
	// (Tacker's free5gc samples do this); tosca-parser never checks it.
	small := compatFlavour(`    properties:
      flavour_id: small
    requirements:
      uplink: [ext_cp, virtual_link]`, "")
	st := processCompat(compatPackage("", small, compatFlavour(smallMappings, "")))
	wantClean(t, st)
	wantWarning(t, st, CodeLenientMappingTarget, compatSmall, 10, 16, `"uplink" is mapped to "ext_cp"`, "not a node template of this topology", "tosca-parser")

	// A capability mapping to a missing template stays an error: no
	// sample needs it.
	small = compatFlavour(`    properties:
      flavour_id: small
    capabilities:
      virtual_linkable: [ext_vl, virtual_linkable]`, "")
	st = processCompat(compatPackage("", small, compatFlavour(smallMappings, "")))
	wantProblem(t, st, CodeUnknownTemplate, compatSmall, 10, 26, `capability "virtual_linkable" is mapped to "ext_vl", which is not a node template`)
	if countCode(st, CodeLenientMappingTarget) != 0 {
		t.Fatalf("a capability mapping reported as lenient:\n%s", dump(st.Problems))
	}
}

func TestTackerFlavourIDOutsideValidValues(t *testing.T) {
	// The large flavour lives in its own file; the node type's
	// valid_values were not extended to list it.
	large := compatFlavour(`    properties:
      flavour_id: large
    requirements:
      uplink: [port, virtual_link]`, "")
	st := processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
	wantClean(t, st)
	wantWarning(t, st, CodeLenientFlavourID, compatLarge, 8, 19, `property "flavour_id" of substitution_mappings: "large" is not one of the valid values [small]`, "tosca-parser")
	if countCode(st, CodeConstraint) != 0 {
		t.Fatalf("the flavour_id was also reported as a constraint error:\n%s", dump(st.Problems))
	}

	// tosca-parser checks the properties of node templates: the VNF
	// node template's flavour_id outside valid_values stays an error.
	top := strings.Replace(compatPackage("", "", "")[compatTop], "type: acme.Firewall", "type: acme.Firewall\n      properties: {flavour_id: large}", 1)
	st = processCompat(compatPackage(top, compatFlavour(smallMappings, ""), compatFlavour(smallMappings, "")))
	wantProblem(t, st, CodeConstraint, compatTop, 10, 32, `property "flavour_id" of node template "fw": "large" is not one of the valid values [small]`)

	// Only flavour_id is lenient, and only its valid_values.
	large = compatFlavour(`    properties:
      flavour_id: small
      provider: Other`, "")
	st = processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
	wantProblem(t, st, CodeConstraint, compatLarge, 9, 17, `property "provider" of substitution_mappings: "Other" is not one of the valid values [Acme]`)
	large = compatFlavour(`    properties:
      flavour_id: {name: large}`, "")
	st = processCompat(compatPackage("", compatFlavour(smallMappings, ""), large))
	wantProblem(t, st, CodeTypeMismatch, compatLarge, 8, 19, `flavour_id`)
}

func TestTackerFlavourIDOnlyForVNFTypes(t *testing.T) {
	// A flavour_id property of a type that is no SOL 001 VNF is an
	// ordinary property: its valid_values hold.
	st := process(t, map[string]string{"main.yaml": `
tosca_definitions_version: tosca_simple_yaml_1_2
node_types:
  my.Thing:
    derived_from: tosca.nodes.Root
    properties:
      flavour_id: {type: string, constraints: [valid_values: [small]]}
topology_template:
  substitution_mappings:
    node_type: my.Thing
    properties:
      flavour_id: large
  node_templates:
    t: {type: my.Thing, properties: {flavour_id: small}}
`})
	wantProblem(t, st, CodeConstraint, "main.yaml", 11, 19, `"large" is not one of the valid values [small]`)
	if countCode(st, CodeLenientFlavourID) != 0 {
		t.Fatalf("lenient outside SOL 001:\n%s", dump(st.Problems))
	}
}

func TestTackerHostArtifact(t *testing.T) {
	// A management driver installed on the VNFM host, named by its
	// absolute path, as Tacker's mgmt_driver samples do.
	small := compatFlavour(smallMappings, `
    driver:
      type: tosca.nodes.Root
      artifacts:
        mgmt:
          type: tosca.artifacts.Implementation.Python
          file: /usr/lib/vnfm/drivers/firewall_mgmt.py
`)
	st := processCompat(compatPackage("", small, compatFlavour(smallMappings, "")))
	wantClean(t, st)
	wantWarning(t, st, CodeLenientHostArtifact, compatSmall, 25, 17, `"/usr/lib/vnfm/drivers/firewall_mgmt.py"`, "VNFM host", "not verified", "tosca-parser")
	a := node(t, st, "driver").Artifacts["mgmt"]
	if a == nil || a.ResolvedFile != "" || a.File != "/usr/lib/vnfm/drivers/firewall_mgmt.py" {
		t.Fatalf("a host file is not a package file: %+v", a)
	}

	// A relative path must stay inside the package and name a file of it.
	small = compatFlavour(smallMappings, `
    driver:
      type: tosca.nodes.Root
      artifacts:
        out: {type: tosca.artifacts.Implementation.Python, file: ../../drivers/mgmt.py}
        gone: {type: tosca.artifacts.Implementation.Python, file: ../Scripts/mgmt.py}
`)
	st = processCompat(compatPackage("", small, compatFlavour(smallMappings, "")))
	wantProblem(t, st, CodeArtifactOutside, compatSmall, 23, 66, `"../../drivers/mgmt.py"`, "outside the package")
	wantProblem(t, st, CodeArtifactMissing, compatSmall, 24, 67, `"../Scripts/mgmt.py"`, "Scripts/mgmt.py")
	if countCode(st, CodeLenientHostArtifact) != 0 {
		t.Fatalf("a relative path reported as a host file:\n%s", dump(st.Problems))
	}
}
