package vnfd

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// Seeds for FuzzProcessExtract: single-file VNFDs that import the SOL 001
// types from forge.etsi.org (resolved by the embedded profiles).
var fuzzSeeds = []string{
	// A complete flavour with an image, storage, links and policies.
	`tosca_definitions_version: tosca_simple_yaml_1_3
description: fuzz seed
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  acme.VNF:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: { type: string, default: d-1 }
      descriptor_version: { type: string, default: '1' }
      provider: { type: string, constraints: [ valid_values: [ acme ] ] }
      product_name: { type: string, default: p }
      software_version: { type: string, default: '2' }
      vnfm_info: { type: list, entry_schema: { type: string }, default: [ x ] }
      flavour_id: { type: string, default: small }
    requirements:
      - ext: { capability: tosca.capabilities.nfv.VirtualLinkable }
topology_template:
  substitution_mappings:
    node_type: acme.VNF
    properties: { flavour_id: small }
    requirements:
      ext: [ CP, virtual_link ]
  node_templates:
    VNF:
      type: acme.VNF
      properties: { flavour_description: tiny }
      interfaces:
        Vnflcm:
          instantiate: []
    VM:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: vm
        description: a vm
        vdu_profile: { min_number_of_instances: 1, max_number_of_instances: 2 }
        sw_image_data:
          name: img
          version: '1'
          checksum: { algorithm: sha-256, hash: 00ff }
          container_format: bare
          disk_format: qcow2
          min_disk: 1 GB
          size: 1 GB
      artifacts:
        image:
          type: tosca.artifacts.nfv.SwImage
          file: img.qcow2
      capabilities:
        virtual_compute:
          properties:
            virtual_memory: { virtual_mem_size: 1 GiB }
            virtual_cpu: { num_virtual_cpu: 2 }
            virtual_local_storage: [ { size_of_storage: 2 GB } ]
      requirements:
        - virtual_storage: Disk
    Disk:
      type: tosca.nodes.nfv.Vdu.VirtualBlockStorage
      properties:
        virtual_block_storage_data: { size_of_storage: 10 GB }
    CP:
      type: tosca.nodes.nfv.VduCp
      properties: { layer_protocols: [ ipv4 ], order: 0 }
      requirements:
        - virtual_binding: VM
        - virtual_link: VL
    VL:
      type: tosca.nodes.nfv.VnfVirtualLink
      properties:
        connectivity_type: { layer_protocols: [ ipv4 ] }
        vl_profile:
          max_bitrate_requirements: { root: 10 }
          min_bitrate_requirements: { root: 1 }
  groups:
    G:
      type: tosca.groups.nfv.PlacementGroup
      members: [ VM ]
  policies:
    - aspects:
        type: tosca.policies.nfv.ScalingAspects
        properties:
          aspects:
            a: { name: a, description: a, max_scale_level: 1, step_deltas: [ d ] }
    - levels:
        type: tosca.policies.nfv.InstantiationLevels
        properties:
          levels:
            l1: { description: one, scale_info: { a: { scale_level: 0 } } }
          default_level: l1
    - vm_levels:
        type: tosca.policies.nfv.VduInstantiationLevels
        properties:
          levels: { l1: { number_of_instances: 1 } }
        targets: [ VM ]
    - vm_deltas:
        type: tosca.policies.nfv.VduScalingAspectDeltas
        properties:
          aspect: a
          deltas: { d: { number_of_instances: 1 } }
        targets: [ VM ]
    - anti:
        type: tosca.policies.nfv.AntiAffinityRule
        properties: { scope: nfvi_node }
        targets: [ G ]
`,
	// Broken references: unknown levels, aspects, targets, two images.
	`tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  node_templates:
    VNF:
      type: tosca.nodes.nfv.VNF
      properties:
        flavour_id: f
        descriptor_id: x
        descriptor_version: '1'
        provider: p
        product_name: n
        software_version: '1'
        vnfm_info: [ v ]
        flavour_description: ''
    VM:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: vm
        description: vm
        vdu_profile: { min_number_of_instances: 3, max_number_of_instances: 1 }
      artifacts:
        a: { type: tosca.artifacts.nfv.SwImage, file: a.img }
        b: { type: tosca.artifacts.nfv.SwImage, file: b.img }
  policies:
    - lv:
        type: tosca.policies.nfv.VduInstantiationLevels
        properties: { levels: { nope: { number_of_instances: 1 } } }
        targets: [ VNF ]
`,
	// Not a VNFD at all.
	"tosca_definitions_version: tosca_simple_yaml_1_3\ntopology_template:\n  node_templates: {}\n",
	"",
	"{",
}

// fuzzTimeout bounds one Process+Extract run of the fuzz target.
const fuzzTimeout = 10 * time.Second

// FuzzProcessExtract runs the YAML-to-model pipeline on a single-file
// template: Process then Extract must never panic, whatever the input.
func FuzzProcessExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	// The corpus's VNFD files, when the corpus is there.
	if dir := corpusDirQuiet(); dir != "" {
		for _, name := range []string{"single-file-no-meta.zip", "helloworld3-multi.zip", "practical-two-flavours.zip"} {
			addZipYAML(f, filepath.Join(dir, name))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		fsys := fstest.MapFS{
			"Definitions/vnfd.yaml": {Data: []byte(doc)},
			"Definitions/img.qcow2": {Data: []byte("image")},
		}
		// A watchdog turns a hang into a failure that names the phase
		// (the fuzzer would otherwise stall without saving the input).
		var (
			phase atomic.Value
			st    *tosca.ServiceTemplate
			d     *VNFD
			probs []tosca.Problem
			done  = make(chan struct{})
		)
		phase.Store("tosca.Process")
		go func() {
			defer close(done)
			st = tosca.Process(fsys, "Definitions/vnfd.yaml", tosca.Options{})
			if st == nil {
				return
			}
			phase.Store("Extract")
			d, probs = Extract(st)
		}()
		select {
		case <-done:
		case <-time.After(fuzzTimeout):
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%s did not return within %s; goroutines:\n%s", phase.Load(), fuzzTimeout, buf)
		}
		if st == nil {
			t.Fatal("Process returned nil")
		}
		if d == nil {
			t.Fatal("Extract returned nil")
		}
		for _, p := range probs {
			if p.Code == "" || p.Message == "" || (p.Severity != tosca.SeverityError && p.Severity != tosca.SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		_ = d.SoftwareImages()
		if _, err := json.Marshal(d); err != nil {
			t.Fatal(err)
		}
	})
}

// corpusDirQuiet is corpusDir without skipping: "" when absent.
func corpusDirQuiet() string {
	if dir := os.Getenv("VNFPKGM_CORPUS"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for root := wd; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return filepath.Join(root, "..", "shared", "corpus")
		}
		parent := filepath.Dir(root)
		if parent == root {
			return ""
		}
		root = parent
	}
}

// addZipYAML adds every YAML file of a zip (other than the SOL 001 type
// files, which the profiles provide) as a seed; nothing when it is absent.
func addZipYAML(f *testing.F, file string) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".yaml") || strings.Contains(zf.Name, "etsi_nfv_sol001") || zf.UncompressedSize64 > 1<<20 {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err == nil {
			f.Add(string(b))
		}
	}
}
