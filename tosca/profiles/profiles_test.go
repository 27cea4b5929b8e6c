package profiles

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ---------------------------------------------------------------------------
// Loading profile files into a comparable form.

var sections = []string{
	"data_types", "artifact_types", "capability_types", "interface_types",
	"relationship_types", "node_types", "group_types", "policy_types",
}

var primitives = map[string]bool{
	"string": true, "integer": true, "float": true, "boolean": true,
	"timestamp": true, "null": true, "version": true, "range": true,
	"list": true, "map": true,
	"scalar-unit.size": true, "scalar-unit.time": true,
	"scalar-unit.frequency": true, "scalar-unit.bitrate": true,
}

// typeDef is one type definition and where it came from.
type typeDef struct {
	kind string
	name string
	file string
	def  map[string]any
}

// profileSet is the types of a group of files that are used together.
type profileSet struct {
	label   string
	version string // tosca_definitions_version shared by the files
	sol001  string // SOL 001 version ("2.6.1"), empty for a normative set
	files   []string
	types   map[string]map[string]*typeDef // kind -> name -> def
}

func (s *profileSet) lookup(kind, name string) *typeDef { return s.types[kind][name] }

// parseFile decodes a profile file; yaml.v3 rejects duplicate mapping keys,
// so a type defined twice in one file fails here.
func parseFile(t *testing.T, label string, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if doc == nil {
		t.Fatalf("%s: empty document", label)
	}
	return doc
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	n, data, ok := Resolve(name)
	if !ok || n != name {
		t.Fatalf("Resolve(%q) = %q, ok=%v", name, n, ok)
	}
	return data
}

func buildSet(t *testing.T, label string, names ...string) *profileSet {
	t.Helper()
	set := &profileSet{label: label, files: names, types: map[string]map[string]*typeDef{}}
	for _, name := range names {
		doc := parseFile(t, name, mustRead(t, name))
		v, _ := doc["tosca_definitions_version"].(string)
		if set.version == "" {
			set.version = v
		} else if v != set.version {
			t.Errorf("%s: tosca_definitions_version %q, the set uses %q", name, v, set.version)
		}
		for key := range doc {
			switch key {
			case "tosca_definitions_version", "description", "metadata", "imports":
			default:
				if !contains(sections, key) {
					t.Errorf("%s: unexpected top-level key %q", name, key)
				}
			}
		}
		for _, kind := range sections {
			sec, present := doc[kind]
			if !present {
				continue
			}
			m, ok := sec.(map[string]any)
			if !ok {
				t.Errorf("%s: %s is not a map", name, kind)
				continue
			}
			if set.types[kind] == nil {
				set.types[kind] = map[string]*typeDef{}
			}
			for tn, raw := range m {
				def, _ := raw.(map[string]any)
				if def == nil {
					def = map[string]any{}
				}
				for _, other := range sections {
					if prev := set.types[other][tn]; prev != nil {
						t.Errorf("%s: %s defined twice (%s %s, %s %s)", label, tn, prev.file, other, name, kind)
					}
				}
				set.types[kind][tn] = &typeDef{kind: kind, name: tn, file: name, def: def}
			}
		}
	}
	return set
}

// sets returns every profile set: each normative file alone, and each SOL 001
// version with the normative types of its tosca_definitions_version.
func sets(t *testing.T) []*profileSet {
	t.Helper()
	out := []*profileSet{
		buildSet(t, "normative 1.2", "tosca-normative-1.2.yaml"),
		buildSet(t, "normative 1.3", "tosca-normative-1.3.yaml"),
	}
	for _, v := range SOL001Versions() {
		common, _, ok1 := SOL001(v, CommonTypes)
		vnfd, vdata, ok2 := SOL001(v, VNFDTypes)
		if !ok1 || !ok2 {
			t.Fatalf("SOL001 %s: common ok=%v, vnfd ok=%v", v, ok1, ok2)
		}
		dv, _ := parseFile(t, vnfd, vdata)["tosca_definitions_version"].(string)
		norm, _, ok := Normative(dv)
		if !ok {
			t.Fatalf("%s: no normative profile for %q", vnfd, dv)
		}
		set := buildSet(t, "SOL001 v"+v, norm, common, vnfd)
		set.sol001 = v
		out = append(out, set)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// operations returns the operation definitions of an interface type: under
// "operations" in TOSCA 1.3, the non-keyword keys in TOSCA 1.2.
func operations(def map[string]any, version string) map[string]any {
	if version == "tosca_simple_yaml_1_3" {
		return asMap(def["operations"])
	}
	ops := map[string]any{}
	for k, v := range def {
		switch k {
		case "derived_from", "version", "metadata", "description", "inputs":
		default:
			ops[k] = v
		}
	}
	return ops
}

// ---------------------------------------------------------------------------
// Structure checks.

func TestEveryFileParses(t *testing.T) {
	names := Names()
	want := []string{"tosca-normative-1.2.yaml", "tosca-normative-1.3.yaml"}
	for _, v := range SOL001Versions() {
		want = append(want, "sol001/v"+v+"/"+CommonTypes, "sol001/v"+v+"/"+VNFDTypes)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, name := range names {
		doc := parseFile(t, name, mustRead(t, name))
		v, _ := doc["tosca_definitions_version"].(string)
		if v != "tosca_simple_yaml_1_2" && v != "tosca_simple_yaml_1_3" {
			t.Errorf("%s: tosca_definitions_version %q", name, doc["tosca_definitions_version"])
		}
		// The node tree must parse too (the processor reads positions from it).
		var n yaml.Node
		if err := yaml.Unmarshal(mustRead(t, name), &n); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

var typeKeys = map[string][]string{
	"data_types":         {"constraints", "properties", "key_schema", "entry_schema"},
	"artifact_types":     {"mime_type", "file_ext", "properties"},
	"capability_types":   {"properties", "attributes", "valid_source_types"},
	"interface_types":    {"inputs", "operations", "notifications"},
	"relationship_types": {"properties", "attributes", "interfaces", "valid_target_types"},
	"node_types":         {"properties", "attributes", "requirements", "capabilities", "interfaces", "artifacts"},
	"group_types":        {"properties", "attributes", "members", "interfaces"},
	"policy_types":       {"properties", "targets", "triggers"},
}

var propertyKeys = []string{"type", "description", "required", "default", "status", "constraints", "key_schema", "entry_schema", "metadata"}

var constraintOps = []string{
	"equal", "greater_than", "greater_or_equal", "less_than", "less_or_equal",
	"in_range", "valid_values", "length", "min_length", "max_length", "pattern", "schema",
}

func TestTypeReferences(t *testing.T) {
	for _, set := range sets(t) {
		set := set
		t.Run(set.label, func(t *testing.T) {
			checkSet(t, set)
		})
	}
}

func checkSet(t *testing.T, set *profileSet) {
	isType := func(kind, name string) bool { return set.lookup(kind, name) != nil }
	isDataType := func(name string) bool { return primitives[name] || isType("data_types", name) }

	var checkSchema func(where string, s any)
	checkSchema = func(where string, s any) {
		switch v := s.(type) {
		case string:
			if !isDataType(v) {
				t.Errorf("%s: schema type %q is neither a primitive nor a data type", where, v)
			}
		case map[string]any:
			for k := range v {
				if !contains([]string{"type", "description", "constraints", "entry_schema", "key_schema"}, k) {
					t.Errorf("%s: unexpected schema key %q", where, k)
				}
			}
			ty, _ := v["type"].(string)
			if !isDataType(ty) {
				t.Errorf("%s: schema type %q is neither a primitive nor a data type", where, ty)
			}
			checkConstraints(t, where, v["constraints"])
			if es, ok := v["entry_schema"]; ok {
				checkSchema(where+".entry_schema", es)
			}
			if ks, ok := v["key_schema"]; ok {
				checkSchema(where+".key_schema", ks)
			}
		default:
			t.Errorf("%s: schema is %T", where, s)
		}
	}
	checkProps := func(where string, props any, attributes bool) {
		for pn, raw := range asMap(props) {
			w := where + "." + pn
			p := asMap(raw)
			if p == nil {
				t.Errorf("%s: not a map", w)
				continue
			}
			for k := range p {
				if !contains(propertyKeys, k) || (attributes && (k == "required" || k == "constraints")) {
					t.Errorf("%s: unexpected key %q", w, k)
				}
			}
			ty, _ := p["type"].(string)
			if !isDataType(ty) {
				t.Errorf("%s: type %q is neither a primitive nor a data type", w, p["type"])
			}
			if (ty == "list" || ty == "map") && p["entry_schema"] == nil {
				t.Errorf("%s: %s without entry_schema", w, ty)
			}
			if es, ok := p["entry_schema"]; ok {
				checkSchema(w+".entry_schema", es)
			}
			if ks, ok := p["key_schema"]; ok {
				checkSchema(w+".key_schema", ks)
			}
			if r, ok := p["required"]; ok {
				if _, isBool := r.(bool); !isBool {
					t.Errorf("%s: required is %T", w, r)
				}
			}
			checkConstraints(t, w, p["constraints"])
		}
	}
	checkRefs := func(where, kind string, names any) {
		l, ok := names.([]any)
		if !ok {
			t.Errorf("%s: not a list", where)
			return
		}
		for _, n := range l {
			s := fmt.Sprint(n)
			found := false
			for _, k := range strings.Split(kind, "|") {
				found = found || isType(k, s)
			}
			if !found {
				t.Errorf("%s: %q is not one of the set's %s", where, s, kind)
			}
		}
	}

	for _, kind := range sections {
		for name, td := range set.types[kind] {
			where := td.file + ": " + name
			allowed := append([]string{"derived_from", "version", "metadata", "description"}, typeKeys[kind]...)
			for k := range td.def {
				if kind == "interface_types" && set.version == "tosca_simple_yaml_1_2" {
					if k == "operations" || k == "notifications" {
						t.Errorf("%s: %q is TOSCA 1.3 syntax in a 1.2 profile", where, k)
					}
					continue // other keys are operations
				}
				if !contains(allowed, k) {
					t.Errorf("%s: unexpected key %q", where, k)
				}
			}

			// derived_from: a type of the same kind in the set, a primitive for
			// data types, nothing only for the roots; and no cycles.
			parent, hasParent := td.def["derived_from"]
			if hasParent {
				ps, _ := parent.(string)
				if !isType(kind, ps) && !(kind == "data_types" && primitives[ps]) {
					t.Errorf("%s: derived_from %q is not a %s of the set", where, parent, kind)
				}
			} else if !strings.HasSuffix(name, ".Root") {
				t.Errorf("%s: no derived_from", where)
			}
			seen := map[string]bool{}
			for cur := td; cur != nil; {
				if seen[cur.name] {
					t.Errorf("%s: derivation cycle", where)
					break
				}
				seen[cur.name] = true
				p, _ := cur.def["derived_from"].(string)
				cur = set.lookup(kind, p)
			}

			checkProps(where+" properties", td.def["properties"], false)
			checkProps(where+" attributes", td.def["attributes"], true)
			if kind == "data_types" {
				checkConstraints(t, where, td.def["constraints"])
			}

			if v, ok := td.def["valid_source_types"]; ok {
				checkRefs(where+" valid_source_types", "node_types", v)
			}
			if v, ok := td.def["valid_target_types"]; ok {
				checkRefs(where+" valid_target_types", "capability_types", v)
			}
			if v, ok := td.def["members"]; ok {
				checkRefs(where+" members", "node_types|group_types", v)
			}
			if v, ok := td.def["targets"]; ok {
				checkRefs(where+" targets", "node_types|group_types", v)
			}
			for in, raw := range asMap(td.def["interfaces"]) {
				ty, _ := asMap(raw)["type"].(string)
				if !isType("interface_types", ty) {
					t.Errorf("%s: interface %s: type %q is not an interface type", where, in, ty)
				}
			}
			for cn, raw := range asMap(td.def["capabilities"]) {
				c := asMap(raw)
				ty, _ := c["type"].(string)
				if !isType("capability_types", ty) {
					t.Errorf("%s: capability %s: type %q is not a capability type", where, cn, ty)
				}
				if v, ok := c["valid_source_types"]; ok {
					checkRefs(where+" capability "+cn+" valid_source_types", "node_types", v)
				}
				checkOccurrences(t, where+" capability "+cn, c["occurrences"])
				checkProps(where+" capability "+cn+" properties", c["properties"], false)
			}
			if reqs, ok := td.def["requirements"]; ok {
				l, _ := reqs.([]any)
				if l == nil {
					t.Errorf("%s: requirements is not a list", where)
				}
				for _, item := range l {
					m := asMap(item)
					if len(m) != 1 {
						t.Errorf("%s: requirement entry with %d keys", where, len(m))
						continue
					}
					for rn, raw := range m {
						r := asMap(raw)
						w := where + " requirement " + rn
						cap, _ := r["capability"].(string)
						if !isType("capability_types", cap) {
							t.Errorf("%s: capability %q is not a capability type", w, cap)
						}
						if n, ok := r["node"]; ok && !isType("node_types", fmt.Sprint(n)) {
							t.Errorf("%s: node %q is not a node type", w, n)
						}
						if rel, ok := r["relationship"]; ok && !isType("relationship_types", fmt.Sprint(rel)) {
							t.Errorf("%s: relationship %q is not a relationship type", w, rel)
						}
						checkOccurrences(t, w, r["occurrences"])
					}
				}
			}
			if kind == "interface_types" {
				checkProps(where+" inputs", td.def["inputs"], false)
				for on, raw := range operations(td.def, set.version) {
					if raw != nil && asMap(raw) == nil {
						if _, isString := raw.(string); !isString {
							t.Errorf("%s: operation %s is %T", where, on, raw)
						}
					}
				}
			}
		}
	}
}

func checkConstraints(t *testing.T, where string, c any) {
	t.Helper()
	if c == nil {
		return
	}
	l, ok := c.([]any)
	if !ok {
		t.Errorf("%s: constraints is not a list", where)
		return
	}
	for _, item := range l {
		m := asMap(item)
		if len(m) != 1 {
			t.Errorf("%s: constraint %v is not a one-key map", where, item)
			continue
		}
		for op, arg := range m {
			if !contains(constraintOps, op) {
				t.Errorf("%s: unknown constraint operator %q", where, op)
			}
			switch op {
			case "in_range":
				if a, _ := arg.([]any); len(a) != 2 {
					t.Errorf("%s: in_range needs two bounds, has %v", where, arg)
				}
			case "valid_values":
				if a, _ := arg.([]any); len(a) == 0 {
					t.Errorf("%s: valid_values needs a non-empty list, has %v", where, arg)
				}
			}
		}
	}
}

func checkOccurrences(t *testing.T, where string, o any) {
	t.Helper()
	if o == nil {
		return
	}
	l, _ := o.([]any)
	if len(l) != 2 {
		t.Errorf("%s: occurrences %v is not a pair", where, o)
		return
	}
	lo, ok1 := l[0].(int)
	hi, ok2 := l[1].(int)
	if !ok1 || lo < 0 {
		t.Errorf("%s: occurrences lower bound %v", where, l[0])
	}
	if !ok2 && l[1] != "UNBOUNDED" {
		t.Errorf("%s: occurrences upper bound %v", where, l[1])
	}
	if ok1 && ok2 && hi < lo {
		t.Errorf("%s: occurrences %v", where, o)
	}
}

// ---------------------------------------------------------------------------
// Facts the processor and tosca/vnfd depend on.

func prop(t *testing.T, set *profileSet, kind, typeName, propName string) map[string]any {
	t.Helper()
	td := set.lookup(kind, typeName)
	if td == nil {
		t.Fatalf("%s: %s not defined", set.label, typeName)
	}
	p := asMap(asMap(td.def["properties"])[propName])
	if p == nil {
		t.Fatalf("%s: %s has no property %s", set.label, typeName, propName)
	}
	return p
}

func required(p map[string]any) bool {
	if r, ok := p["required"].(bool); ok {
		return r
	}
	return true
}

func TestNFVFacts(t *testing.T) {
	for _, set := range sets(t)[2:] {
		set := set
		t.Run(set.label, func(t *testing.T) {
			algo := prop(t, set, "data_types", "tosca.datatypes.nfv.ChecksumData", "algorithm")
			var vv []string
			for _, c := range algo["constraints"].([]any) {
				if v, ok := asMap(c)["valid_values"]; ok {
					vv = asStrings(v)
				}
			}
			if want := []string{"sha-224", "sha-256", "sha-384", "sha-512"}; !reflect.DeepEqual(vv, want) {
				t.Errorf("ChecksumData.algorithm valid_values = %v, want %v", vv, want)
			}
			if !required(algo) || algo["type"] != "string" {
				t.Errorf("ChecksumData.algorithm = %v", algo)
			}
			if h := prop(t, set, "data_types", "tosca.datatypes.nfv.ChecksumData", "hash"); !required(h) {
				t.Errorf("ChecksumData.hash not required")
			}

			sw := set.lookup("data_types", "tosca.datatypes.nfv.SwImageData")
			wantSw := map[string]string{
				"name": "string", "version": "string", "checksum": "tosca.datatypes.nfv.ChecksumData",
				"container_format": "string", "disk_format": "string", "min_disk": "scalar-unit.size",
				"min_ram": "scalar-unit.size", "size": "scalar-unit.size", "operating_system": "string",
				"supported_virtualisation_environments": "list",
			}
			if !versionLess(set.sol001, "2.7.1") {
				wantSw["provider"] = "string" // added in v2.7.1
			}
			gotSw := map[string]string{}
			for n, p := range asMap(sw.def["properties"]) {
				gotSw[n], _ = asMap(p)["type"].(string)
			}
			if !reflect.DeepEqual(gotSw, wantSw) {
				t.Errorf("SwImageData properties = %v, want %v", gotSw, wantSw)
			}
			for _, n := range []string{"name", "version", "checksum", "container_format", "disk_format", "min_disk", "size"} {
				if !required(prop(t, set, "data_types", sw.name, n)) {
					t.Errorf("SwImageData.%s should be required", n)
				}
			}
			optional := []string{"min_ram", "operating_system", "supported_virtualisation_environments"}
			if _, has := wantSw["provider"]; has {
				optional = append(optional, "provider")
			}
			for _, n := range optional {
				if required(prop(t, set, "data_types", sw.name, n)) {
					t.Errorf("SwImageData.%s should be optional", n)
				}
			}
			validValues := func(p map[string]any) []string {
				for _, c := range p["constraints"].([]any) {
					if v, ok := asMap(c)["valid_values"]; ok {
						return asStrings(v)
					}
				}
				return nil
			}
			if got := validValues(prop(t, set, "data_types", sw.name, "container_format")); !reflect.DeepEqual(got, []string{"aki", "ami", "ari", "bare", "docker", "ova", "ovf"}) {
				t.Errorf("container_format valid_values = %v", got)
			}
			if got := validValues(prop(t, set, "data_types", sw.name, "disk_format")); !reflect.DeepEqual(got, []string{"aki", "ami", "ari", "iso", "qcow2", "raw", "vdi", "vhd", "vhdx", "vmdk"}) {
				t.Errorf("disk_format valid_values = %v", got)
			}

			if p := prop(t, set, "data_types", "tosca.datatypes.nfv.VirtualMemory", "virtual_mem_size"); p["type"] != "scalar-unit.size" || !required(p) {
				t.Errorf("VirtualMemory.virtual_mem_size = %v", p)
			}
			cpu := prop(t, set, "data_types", "tosca.datatypes.nfv.VirtualCpu", "num_virtual_cpu")
			if cpu["type"] != "integer" || !required(cpu) || !reflect.DeepEqual(cpu["constraints"], []any{map[string]any{"greater_than": 0}}) {
				t.Errorf("VirtualCpu.num_virtual_cpu = %v", cpu)
			}
			for _, n := range []string{"virtual_memory", "virtual_cpu"} {
				if !required(prop(t, set, "capability_types", "tosca.capabilities.nfv.VirtualCompute", n)) {
					t.Errorf("VirtualCompute.%s should be required", n)
				}
			}
			for _, n := range []string{"min_number_of_instances", "max_number_of_instances"} {
				if p := prop(t, set, "data_types", "tosca.datatypes.nfv.VduProfile", n); p["type"] != "integer" || !required(p) {
					t.Errorf("VduProfile.%s = %v", n, p)
				}
			}
			if p := prop(t, set, "data_types", "tosca.datatypes.nfv.VduLevel", "number_of_instances"); p["type"] != "integer" {
				t.Errorf("VduLevel.number_of_instances = %v", p)
			}
			if p := prop(t, set, "data_types", "tosca.datatypes.nfv.InstantiationLevel", "scale_info"); p["type"] != "map" {
				t.Errorf("InstantiationLevel.scale_info = %v", p)
			}

			vnfReq := map[string]bool{
				"descriptor_id": true, "descriptor_version": true, "provider": true, "product_name": true,
				"software_version": true, "product_info_name": false, "product_info_description": false,
				"vnfm_info": true, "localization_languages": false, "default_localization_language": false,
				"lcm_operations_configuration": false, "monitoring_parameters": false,
				"flavour_id": true, "flavour_description": true, "vnf_profile": false,
			}
			vnf := set.lookup("node_types", "tosca.nodes.nfv.VNF")
			got := map[string]bool{}
			for n := range asMap(vnf.def["properties"]) {
				got[n] = required(prop(t, set, "node_types", vnf.name, n))
			}
			if !reflect.DeepEqual(got, vnfReq) {
				t.Errorf("VNF properties (name: required) = %v, want %v", got, vnfReq)
			}
			if ty := asMap(asMap(vnf.def["interfaces"])["Vnflcm"])["type"]; ty != "tosca.interfaces.nfv.Vnflcm" {
				t.Errorf("VNF Vnflcm interface type = %v", ty)
			}

			ops := operations(set.lookup("interface_types", "tosca.interfaces.nfv.Vnflcm").def, set.version)
			for _, base := range []string{"instantiate", "terminate", "modify_information", "change_flavour",
				"change_external_connectivity", "operate", "heal", "scale", "scale_to_level"} {
				for _, suffix := range []string{"", "_start", "_end"} {
					if _, ok := ops[base+suffix]; !ok {
						t.Errorf("Vnflcm lacks operation %s%s", base, suffix)
					}
				}
			}
			if len(ops) != 27 {
				t.Errorf("Vnflcm has %d operations, want 27", len(ops))
			}
		})
	}
}

func TestNormativeFacts(t *testing.T) {
	for _, set := range sets(t)[:2] {
		set := set
		t.Run(set.label, func(t *testing.T) {
			want := map[string][]string{
				"data_types": {"tosca.datatypes.Root", "tosca.datatypes.json", "tosca.datatypes.xml",
					"tosca.datatypes.Credential", "tosca.datatypes.TimeInterval",
					"tosca.datatypes.network.NetworkInfo", "tosca.datatypes.network.PortInfo",
					"tosca.datatypes.network.PortDef", "tosca.datatypes.network.PortSpec"},
				"artifact_types": {"tosca.artifacts.Root", "tosca.artifacts.File", "tosca.artifacts.Deployment",
					"tosca.artifacts.Deployment.Image", "tosca.artifacts.Deployment.Image.VM",
					"tosca.artifacts.Implementation", "tosca.artifacts.Implementation.Bash",
					"tosca.artifacts.Implementation.Python", "tosca.artifacts.template"},
				"capability_types": {"tosca.capabilities.Root", "tosca.capabilities.Node",
					"tosca.capabilities.Container", "tosca.capabilities.Compute", "tosca.capabilities.Network",
					"tosca.capabilities.Storage", "tosca.capabilities.Endpoint", "tosca.capabilities.Endpoint.Public",
					"tosca.capabilities.Endpoint.Admin", "tosca.capabilities.Endpoint.Database",
					"tosca.capabilities.Attachment", "tosca.capabilities.OperatingSystem",
					"tosca.capabilities.Scalable", "tosca.capabilities.network.Bindable",
					"tosca.capabilities.network.Linkable"},
				"interface_types": {"tosca.interfaces.Root", "tosca.interfaces.node.lifecycle.Standard",
					"tosca.interfaces.relationship.Configure"},
				"relationship_types": {"tosca.relationships.Root", "tosca.relationships.DependsOn",
					"tosca.relationships.HostedOn", "tosca.relationships.ConnectsTo",
					"tosca.relationships.AttachesTo", "tosca.relationships.RoutesTo",
					"tosca.relationships.network.LinksTo", "tosca.relationships.network.BindsTo"},
				"node_types": {"tosca.nodes.Root", "tosca.nodes.Abstract.Compute", "tosca.nodes.Compute",
					"tosca.nodes.SoftwareComponent", "tosca.nodes.WebServer", "tosca.nodes.WebApplication",
					"tosca.nodes.DBMS", "tosca.nodes.Database", "tosca.nodes.Abstract.Storage",
					"tosca.nodes.Storage.ObjectStorage", "tosca.nodes.Storage.BlockStorage",
					"tosca.nodes.Container.Runtime", "tosca.nodes.Container.Application",
					"tosca.nodes.LoadBalancer", "tosca.nodes.network.Network", "tosca.nodes.network.Port"},
				"group_types": {"tosca.groups.Root"},
				"policy_types": {"tosca.policies.Root", "tosca.policies.Placement", "tosca.policies.Scaling",
					"tosca.policies.Update", "tosca.policies.Performance"},
			}
			for kind, names := range want {
				var got []string
				for n := range set.types[kind] {
					got = append(got, n)
				}
				sort.Strings(got)
				sort.Strings(names)
				if !reflect.DeepEqual(got, names) {
					t.Errorf("%s = %v, want %v", kind, got, names)
				}
			}
			std := operations(set.lookup("interface_types", "tosca.interfaces.node.lifecycle.Standard").def, set.version)
			var ops []string
			for o := range std {
				ops = append(ops, o)
			}
			sort.Strings(ops)
			if want := []string{"configure", "create", "delete", "start", "stop"}; !reflect.DeepEqual(ops, want) {
				t.Errorf("Standard operations = %v, want %v", ops, want)
			}
			if p := set.lookup("data_types", "tosca.datatypes.network.PortDef"); p.def["derived_from"] != "integer" {
				t.Errorf("PortDef derived_from = %v", p.def["derived_from"])
			}
		})
	}
}

// ---------------------------------------------------------------------------
// API.

func TestResolve(t *testing.T) {
	for _, v := range SOL001Versions() {
		for _, base := range []string{CommonTypes, VNFDTypes} {
			want := "sol001/v" + v + "/" + base
			refs := []string{
				"https://forge.etsi.org/rep/nfv/SOL001/raw/v" + v + "/" + base,
				"http://forge.etsi.org/rep/nfv/SOL001/raw/v" + v + "/" + base,
				"https://forge.etsi.org/rep/nfv/SOL001/-/raw/v" + v + "/" + base,
				"http://forge.etsi.org/rep/nfv/SOL001/-/raw/v" + v + "/" + base,
				"https://FORGE.etsi.org/rep/nfv/SOL001/raw/v" + v + "/" + base + "?inline=false",
				"https://forge.etsi.org:443/rep/nfv/SOL001/raw/v" + v + "/" + base,
				// a relative import joined to the URL of the importing file
				"https://forge.etsi.org/rep/nfv/SOL001/raw/v" + v + "/./" + base,
				"https://forge.etsi.org/rep/nfv/SOL001/-/raw/v" + v + "/x/../" + base,
				// the embedded name, and the same joined to an embedded name
				want,
				"./" + want,
				"/" + want,
				"sol001/v" + v + "/./" + base,
				"  " + want + "\n",
			}
			for _, ref := range refs {
				name, data, ok := Resolve(ref)
				if !ok || name != want || len(data) == 0 {
					t.Errorf("Resolve(%q) = %q, %d bytes, %v; want %q", ref, name, len(data), ok, want)
				}
				if n2, d2, ok2 := (Resolver{}).Resolve(ref); n2 != name || !bytes.Equal(d2, data) || ok2 != ok {
					t.Errorf("Resolver{}.Resolve(%q) differs from Resolve", ref)
				}
			}
		}
	}
	for _, ref := range []string{
		"",
		"etsi_nfv_sol001_vnfd_types.yaml", // no version: the caller chooses one with SOL001
		"https://forge.etsi.org/rep/nfv/SOL001/raw/v1.0.0/etsi_nfv_sol001_vnfd_types.yaml",
		"https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_nsd_types.yaml",
		"https://forge.etsi.org/rep/nfv/SOL001/raw/master/etsi_nfv_sol001_vnfd_types.yaml",
		"https://example.com/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"https://forge.etsi.org.example.com/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"https://user@forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"https://forge.etsi.org:8443/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"ftp://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"https://forge.etsi.org/rep/nfv/SOL005/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
		"sol001/v2.6.1",
		"sol001",
		`sol001\v2.6.1\etsi_nfv_sol001_vnfd_types.yaml`,
		"Definitions/etsi_nfv_sol001_vnfd_types.yaml",
		"profiles.go",
	} {
		if name, _, ok := Resolve(ref); ok {
			t.Errorf("Resolve(%q) = %q, want not found", ref, name)
		}
	}
}

func TestVNFDImportsCommonRelatively(t *testing.T) {
	for _, v := range SOL001Versions() {
		name, data, _ := SOL001(v, VNFDTypes)
		doc := parseFile(t, name, data)
		imports := asStrings(doc["imports"])
		if !reflect.DeepEqual(imports, []string{CommonTypes}) {
			t.Fatalf("%s imports %v, want [%s]", name, imports, CommonTypes)
		}
		// The processor joins the relative import to the importer's name or URL.
		joined := path.Join(path.Dir(name), imports[0])
		if got, _, ok := Resolve(joined); !ok || got != "sol001/v"+v+"/"+CommonTypes {
			t.Errorf("Resolve(%q) = %q, %v", joined, got, ok)
		}
		url := "https://forge.etsi.org/rep/nfv/SOL001/raw/v" + v + "/" + VNFDTypes
		joinedURL := url[:strings.LastIndex(url, "/")+1] + imports[0]
		if got, _, ok := Resolve(joinedURL); !ok || got != "sol001/v"+v+"/"+CommonTypes {
			t.Errorf("Resolve(%q) = %q, %v", joinedURL, got, ok)
		}
		common, cdata, _ := SOL001(v, CommonTypes)
		if _, has := parseFile(t, common, cdata)["imports"]; has {
			t.Errorf("%s should import nothing", common)
		}
	}
}

func TestNormative(t *testing.T) {
	for dv, want := range map[string]string{
		"tosca_simple_yaml_1_2": "tosca-normative-1.2.yaml",
		"tosca_simple_yaml_1_3": "tosca-normative-1.3.yaml",
	} {
		name, data, ok := Normative(dv)
		if !ok || name != want {
			t.Errorf("Normative(%q) = %q, %v; want %q", dv, name, ok, want)
			continue
		}
		if got, _ := parseFile(t, name, data)["tosca_definitions_version"].(string); got != dv {
			t.Errorf("%s declares %q, want %q", name, got, dv)
		}
	}
	for _, dv := range []string{"", "tosca_simple_yaml_1_0", "tosca_simple_yaml_1_1", "tosca_simple_yaml_2_0",
		"tosca_simple_profile_for_nfv_1_0_0", "tosca_2_0", "TOSCA_SIMPLE_YAML_1_2x"} {
		if name, _, ok := Normative(dv); ok {
			t.Errorf("Normative(%q) = %q, want not found", dv, name)
		}
	}
}

func TestSOL001(t *testing.T) {
	vs := SOL001Versions()
	for _, want := range []string{"2.6.1", "2.7.1"} {
		if !contains(vs, want) {
			t.Errorf("SOL001Versions() = %v lacks %s", vs, want)
		}
	}
	if !sort.SliceIsSorted(vs, func(i, j int) bool { return versionLess(vs[i], vs[j]) }) {
		t.Errorf("SOL001Versions() = %v is not ascending", vs)
	}
	if !versionLess("2.10.1", "3.3.1") || !versionLess("2.7.1", "2.10.1") || versionLess("3.3.1", "2.7.1") {
		t.Errorf("versionLess orders wrongly")
	}
	for _, v := range vs {
		for _, ver := range []string{v, "v" + v} {
			name, data, ok := SOL001(ver, VNFDTypes)
			if !ok || name != "sol001/v"+v+"/"+VNFDTypes || len(data) == 0 {
				t.Errorf("SOL001(%q, vnfd) = %q, %v", ver, name, ok)
			}
			md := asMap(parseFile(t, name, data)["metadata"])
			if fmt.Sprint(md["template_version"]) != v {
				t.Errorf("%s: metadata template_version %v, want %s", name, md["template_version"], v)
			}
		}
	}
	for _, c := range [][2]string{
		{"2.6.1", "etsi_nfv_sol001_nsd_types.yaml"},
		{"9.9.9", VNFDTypes},
		{"2.6", VNFDTypes},
		{"../2.6.1", VNFDTypes},
		{"2.6.1", "../v2.7.1/" + VNFDTypes},
		{"2.6.1", ""},
	} {
		if name, _, ok := SOL001(c[0], c[1]); ok {
			t.Errorf("SOL001(%q, %q) = %q, want not found", c[0], c[1], name)
		}
	}
}

// The processor declares tosca.ImportResolver with this method set.
var _ interface {
	Resolve(ref string) (name string, data []byte, ok bool)
} = Resolver{}

// ---------------------------------------------------------------------------
// Cross-check against the copy of ETSI's v2.6.1 files in the test corpus.

// corpusDir finds ../shared/corpus beside the repository root.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	return filepath.Join(filepath.Dir(dir), "shared", "corpus")
}

// knownDivergences lists where the corpus copy differs from ETSI's published
// v2.6.1 files; the profile follows ETSI.
var knownDivergences = map[string]string{
	// Tacker's copy adds occurrences [0, 1] to both requirements (its own
	// comment says so, for tosca-parser 2.13); ETSI's v2.6.1 has none.
	"node_types tosca.nodes.nfv.VduCp requirement-occurrences": "occurrences added by Tacker",
}

func TestCorpusV261Types(t *testing.T) {
	dir := corpusDir(t)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the corpus folder %s is missing, and CI=true: %v", dir, err)
		}
		t.Skipf("skipping: the corpus folder %s is absent (%v)", dir, err)
	}
	zipPath := filepath.Join(dir, "helloworld3-multi.zip")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	etsi := map[string][]byte{}
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if base != CommonTypes && base != VNFDTypes {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		etsi[base] = data
	}
	if len(etsi) != 2 {
		t.Fatalf("%s: found %d of the two SOL 001 files", zipPath, len(etsi))
	}

	ours := buildSet(t, "SOL001 v2.6.1",
		"tosca-normative-1.2.yaml", "sol001/v2.6.1/"+CommonTypes, "sol001/v2.6.1/"+VNFDTypes)
	compared := 0
	for _, base := range []string{CommonTypes, VNFDTypes} {
		doc := parseFile(t, "corpus "+base, etsi[base])
		if md := asMap(doc["metadata"]); fmt.Sprint(md["template_version"]) != "2.6.1" {
			t.Fatalf("corpus %s is version %v, not 2.6.1", base, md["template_version"])
		}
		for _, kind := range sections {
			for name, raw := range asMap(doc[kind]) {
				compared++
				theirs := asMap(raw)
				mine := ours.lookup(kind, name)
				if mine == nil {
					t.Errorf("%s %s (corpus %s) is not defined in the v2.6.1 profile", kind, name, base)
					continue
				}
				for _, d := range diffType(kind, theirs, mine.def, ours.version) {
					key := kind + " " + name + " " + strings.SplitN(d, ":", 2)[0]
					if _, known := knownDivergences[key]; known {
						continue
					}
					t.Errorf("%s %s: %s", kind, name, d)
				}
			}
		}
	}
	if compared < 80 {
		t.Errorf("compared only %d types", compared)
	}
	// And nothing more than ETSI defines (the normative types aside).
	theirNames := map[string]bool{}
	for _, base := range []string{CommonTypes, VNFDTypes} {
		doc := parseFile(t, "corpus "+base, etsi[base])
		for _, kind := range sections {
			for name := range asMap(doc[kind]) {
				theirNames[name] = true
			}
		}
	}
	for _, kind := range sections {
		for name, td := range ours.types[kind] {
			if td.file != "tosca-normative-1.2.yaml" && !theirNames[name] {
				t.Errorf("%s %s is in the v2.6.1 profile but not in ETSI's files", kind, name)
			}
		}
	}
}

// diffType compares the facts of two definitions of one type: everything
// but descriptions and metadata. Each difference starts with the section
// it is in ("properties", "requirements", ...) and a colon.
func diffType(kind string, theirs, mine map[string]any, version string) []string {
	var out []string
	add := func(section, format string, args ...any) {
		out = append(out, section+": "+fmt.Sprintf(format, args...))
	}
	for _, k := range []string{"derived_from", "mime_type"} {
		if !reflect.DeepEqual(theirs[k], mine[k]) {
			add(k, "ETSI %v, profile %v", theirs[k], mine[k])
		}
	}
	for _, k := range []string{"valid_target_types", "valid_source_types", "members", "targets", "file_ext"} {
		a, b := asStrings(theirs[k]), asStrings(mine[k])
		sort.Strings(a)
		sort.Strings(b)
		if !reflect.DeepEqual(a, b) {
			add(k, "ETSI %v, profile %v", a, b)
		}
	}
	for _, k := range []string{"properties", "attributes"} {
		out = append(out, diffProps(k, asMap(theirs[k]), asMap(mine[k]))...)
	}
	if kind == "data_types" && !reflect.DeepEqual(normConstraints(theirs["constraints"]), normConstraints(mine["constraints"])) {
		add("constraints", "ETSI %v, profile %v", theirs["constraints"], mine["constraints"])
	}
	// capabilities
	tc, mc := asMap(theirs["capabilities"]), asMap(mine["capabilities"])
	for _, n := range unionKeys(tc, mc) {
		a, b := capDef(tc[n]), capDef(mc[n])
		if a == nil || b == nil {
			add("capabilities", "%s: ETSI has %v, profile has %v", n, a != nil, b != nil)
			continue
		}
		for _, k := range []string{"type", "occurrences"} {
			if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
				add("capabilities", "%s.%s: ETSI %v, profile %v", n, k, a[k], b[k])
			}
		}
		if x, y := asStrings(a["valid_source_types"]), asStrings(b["valid_source_types"]); !reflect.DeepEqual(x, y) {
			add("capabilities", "%s.valid_source_types: ETSI %v, profile %v", n, x, y)
		}
		out = append(out, diffProps("capabilities", asMap(a["properties"]), asMap(b["properties"]))...)
	}
	// requirements, in order
	tr, mr := reqList(theirs["requirements"]), reqList(mine["requirements"])
	if len(tr) != len(mr) {
		add("requirements", "ETSI %d, profile %d", len(tr), len(mr))
	} else {
		for i := range tr {
			if tr[i][0] != mr[i][0] {
				add("requirements", "#%d: ETSI %s, profile %s", i, tr[i][0], mr[i][0])
			}
			if tr[i][1] != mr[i][1] {
				add("requirement-occurrences", "#%d: ETSI %s, profile %s", i, tr[i][1], mr[i][1])
			}
		}
	}
	// interfaces
	ti, mi := asMap(theirs["interfaces"]), asMap(mine["interfaces"])
	for _, n := range unionKeys(ti, mi) {
		if fmt.Sprint(asMap(ti[n])["type"]) != fmt.Sprint(asMap(mi[n])["type"]) {
			add("interfaces", "%s: ETSI %v, profile %v", n, ti[n], mi[n])
		}
	}
	if kind == "interface_types" {
		a, b := operations(theirs, version), operations(mine, version)
		if x, y := sortedKeys(a), sortedKeys(b); !reflect.DeepEqual(x, y) {
			add("operations", "ETSI %v, profile %v", x, y)
		}
	}
	return out
}

func diffProps(section string, theirs, mine map[string]any) []string {
	var out []string
	for _, n := range unionKeys(theirs, mine) {
		a, b := asMap(theirs[n]), asMap(mine[n])
		if a == nil || b == nil {
			out = append(out, fmt.Sprintf("%s: %s: ETSI has it %v, profile has it %v", section, n, a != nil, b != nil))
			continue
		}
		for _, k := range []string{"type", "default", "status"} {
			if !reflect.DeepEqual(a[k], b[k]) {
				out = append(out, fmt.Sprintf("%s: %s.%s: ETSI %v, profile %v", section, n, k, a[k], b[k]))
			}
		}
		if section != "attributes" && required(a) != required(b) {
			out = append(out, fmt.Sprintf("%s: %s.required: ETSI %v, profile %v", section, n, required(a), required(b)))
		}
		if !reflect.DeepEqual(normConstraints(a["constraints"]), normConstraints(b["constraints"])) {
			out = append(out, fmt.Sprintf("%s: %s.constraints: ETSI %v, profile %v", section, n, a["constraints"], b["constraints"]))
		}
		for _, k := range []string{"entry_schema", "key_schema"} {
			if !reflect.DeepEqual(normSchema(a[k]), normSchema(b[k])) {
				out = append(out, fmt.Sprintf("%s: %s.%s: ETSI %v, profile %v", section, n, k, a[k], b[k]))
			}
		}
	}
	return out
}

// normSchema reduces a schema to its facts: type, constraints, nested schemas.
func normSchema(s any) any {
	switch v := s.(type) {
	case nil:
		return nil
	case string:
		return map[string]any{"type": v}
	case map[string]any:
		out := map[string]any{"type": v["type"]}
		if c := normConstraints(v["constraints"]); c != nil {
			out["constraints"] = c
		}
		for _, k := range []string{"entry_schema", "key_schema"} {
			if x := normSchema(v[k]); x != nil {
				out[k] = x
			}
		}
		return out
	}
	return s
}

// normConstraints renders constraint values as strings so that 0 and 0.0 or
// a quoted and an unquoted scalar do not differ by YAML typing alone.
func normConstraints(c any) any {
	l, _ := c.([]any)
	if len(l) == 0 {
		return nil
	}
	var out []string
	for _, item := range l {
		for op, arg := range asMap(item) {
			out = append(out, op+"="+fmt.Sprint(arg))
		}
	}
	return out
}

func capDef(v any) map[string]any {
	switch c := v.(type) {
	case string:
		return map[string]any{"type": c}
	case map[string]any:
		return c
	}
	return nil
}

// reqList renders each requirement definition, in order, as its name with
// capability, node and relationship, and separately its occurrences.
func reqList(v any) [][2]string {
	l, _ := v.([]any)
	var out [][2]string
	for _, item := range l {
		for name, raw := range asMap(item) {
			r := asMap(raw)
			out = append(out, [2]string{
				fmt.Sprintf("%s{capability=%v node=%v relationship=%v}", name, r["capability"], r["node"], r["relationship"]),
				fmt.Sprintf("%s%v", name, r["occurrences"]),
			})
		}
	}
	return out
}

func unionKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return sortedKeys(toAny(set))
}

func toAny(m map[string]bool) map[string]any {
	out := map[string]any{}
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// What ETSI GS NFV-SOL 001 v2.7.1 changed in the common and VNFD types
// relative to v2.6.1. Each check must hold for the v2.7.1 profile and fail
// for the v2.6.1 profile, so that neither can drift into the other.

func solSet(t *testing.T, v string) *profileSet {
	t.Helper()
	set := buildSet(t, "SOL001 v"+v, "tosca-normative-1.2.yaml",
		"sol001/v"+v+"/"+CommonTypes, "sol001/v"+v+"/"+VNFDTypes)
	set.sol001 = v
	return set
}

// propOf is prop without t.Fatalf: nil when the type or property is missing.
func propOf(set *profileSet, kind, typeName, propName string) map[string]any {
	td := set.lookup(kind, typeName)
	if td == nil {
		return nil
	}
	return asMap(asMap(td.def["properties"])[propName])
}

// isProp reports whether a property exists with the type and required flag
// given, and, when entry is not empty, with that entry_schema type.
func isProp(set *profileSet, kind, typeName, propName, ty string, req bool, entry string) bool {
	p := propOf(set, kind, typeName, propName)
	if p == nil || p["type"] != ty || required(p) != req {
		return false
	}
	if entry == "" {
		return p["entry_schema"] == nil
	}
	return fmt.Sprint(normSchema(p["entry_schema"])) == fmt.Sprint(normSchema(entry))
}

func validValuesOf(p map[string]any) []string {
	l, _ := p["constraints"].([]any)
	for _, c := range l {
		if v, ok := asMap(c)["valid_values"]; ok {
			return asStrings(v)
		}
	}
	return nil
}

func sameStrings(got []string, want ...string) bool { return reflect.DeepEqual(got, want) }

// reqOccurrences renders the occurrences of each requirement of a node type.
func reqOccurrences(set *profileSet, typeName string) []string {
	td := set.lookup("node_types", typeName)
	if td == nil {
		return nil
	}
	var out []string
	for _, r := range reqList(td.def["requirements"]) {
		out = append(out, r[1])
	}
	return out
}

var v271Changes = []struct {
	name  string
	holds func(s *profileSet) bool
}{
	// Common types.
	{"VnfMonitoringParameter moved to the common types", func(s *profileSet) bool {
		td := s.lookup("data_types", "tosca.datatypes.nfv.VnfMonitoringParameter")
		return td != nil && path.Base(td.file) == CommonTypes
	}},
	{"capability type Forwarding", func(s *profileSet) bool {
		td := s.lookup("capability_types", "tosca.capabilities.nfv.Forwarding")
		return td != nil && td.def["derived_from"] == "tosca.capabilities.Root" && path.Base(td.file) == CommonTypes
	}},
	{"relationship type ForwardTo", func(s *profileSet) bool {
		td := s.lookup("relationship_types", "tosca.relationships.nfv.ForwardTo")
		return td != nil && td.def["derived_from"] == "tosca.relationships.Root" &&
			sameStrings(asStrings(td.def["valid_target_types"]), "tosca.capabilities.nfv.Forwarding")
	}},
	{"relationship type VipVirtualLinksTo", func(s *profileSet) bool {
		td := s.lookup("relationship_types", "tosca.relationships.nfv.VipVirtualLinksTo")
		return td != nil && td.def["derived_from"] == "tosca.relationships.DependsOn" &&
			sameStrings(asStrings(td.def["valid_target_types"]), "tosca.capabilities.nfv.VirtualLinkable")
	}},
	{"policy type Abstract.SecurityGroupRule holds the rule properties, without targets", func(s *profileSet) bool {
		td := s.lookup("policy_types", "tosca.policies.nfv.Abstract.SecurityGroupRule")
		if td == nil || td.def["derived_from"] != "tosca.policies.Root" || td.def["targets"] != nil || path.Base(td.file) != CommonTypes {
			return false
		}
		defaults := map[string]any{"direction": "ingress", "ether_type": "ipv4", "protocol": "tcp", "port_range_min": 0, "port_range_max": 65535}
		for n, d := range defaults {
			if p := propOf(s, "policy_types", td.name, n); p == nil || required(p) || p["default"] != d {
				return false
			}
		}
		return isProp(s, "policy_types", td.name, "description", "string", false, "") && len(asMap(td.def["properties"])) == 6
	}},

	// VNFD types: the security group rule now derives from the abstract one.
	{"SecurityGroupRule derives from Abstract.SecurityGroupRule and defines no properties", func(s *profileSet) bool {
		td := s.lookup("policy_types", "tosca.policies.nfv.SecurityGroupRule")
		return td != nil && td.def["derived_from"] == "tosca.policies.nfv.Abstract.SecurityGroupRule" &&
			td.def["properties"] == nil &&
			sameStrings(asStrings(td.def["targets"]), "tosca.nodes.nfv.VduCp", "tosca.nodes.nfv.VnfExtCp")
	}},

	// VNFD types: boot data.
	{"data type BootData", func(s *profileSet) bool {
		td := s.lookup("data_types", "tosca.datatypes.nfv.BootData")
		return td != nil && len(asMap(td.def["properties"])) == 3 &&
			isProp(s, "data_types", td.name, "vim_specific_properties", "tosca.datatypes.nfv.BootDataVimSpecificProperties", false, "") &&
			isProp(s, "data_types", td.name, "kvp_data", "tosca.datatypes.nfv.KvpData", false, "") &&
			isProp(s, "data_types", td.name, "content_or_file_data", "tosca.datatypes.nfv.ContentOrFileData", false, "")
	}},
	{"data type BootDataVimSpecificProperties", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.BootDataVimSpecificProperties"
		return isProp(s, "data_types", n, "vim_type", "string", true, "") &&
			isProp(s, "data_types", n, "properties", "map", true, "string") &&
			len(asMap(s.lookup("data_types", n).def["properties"])) == 2
	}},
	{"data type KvpData", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.KvpData"
		return isProp(s, "data_types", n, "data", "map", false, "string") &&
			len(asMap(s.lookup("data_types", n).def["properties"])) == 1
	}},
	{"data type ContentOrFileData", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.ContentOrFileData"
		return isProp(s, "data_types", n, "data", "map", false, "string") &&
			isProp(s, "data_types", n, "content", "string", false, "") &&
			isProp(s, "data_types", n, "source_path", "string", false, "") &&
			isProp(s, "data_types", n, "destination_path", "string", false, "") &&
			len(asMap(s.lookup("data_types", n).def["properties"])) == 4
	}},
	{"Vdu.Compute boot_data is a BootData", func(s *profileSet) bool {
		return isProp(s, "node_types", "tosca.nodes.nfv.Vdu.Compute", "boot_data", "tosca.datatypes.nfv.BootData", false, "")
	}},
	{"Vdu.Compute boot_order is a boolean", func(s *profileSet) bool {
		return isProp(s, "node_types", "tosca.nodes.nfv.Vdu.Compute", "boot_order", "boolean", false, "")
	}},
	{"Vdu.Compute nfvi_constraints is a map of strings", func(s *profileSet) bool {
		return isProp(s, "node_types", "tosca.nodes.nfv.Vdu.Compute", "nfvi_constraints", "map", false, "string")
	}},

	// VNFD types: VNF configuration towards the VNFM.
	{"data type OauthServerInfo, without properties", func(s *profileSet) bool {
		td := s.lookup("data_types", "tosca.datatypes.nfv.OauthServerInfo")
		return td != nil && td.def["derived_from"] == "tosca.datatypes.Root" && td.def["properties"] == nil
	}},
	{"data type VnfmInterfaceInfo", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.VnfmInterfaceInfo"
		return isProp(s, "data_types", n, "interface_name", "string", true, "") &&
			sameStrings(validValuesOf(propOf(s, "data_types", n, "interface_name")), "vnf_lcm", "vnf_pm", "vnf_fm") &&
			isProp(s, "data_types", n, "details", "tosca.datatypes.nfv.InterfaceDetails", false, "") &&
			isProp(s, "data_types", n, "credentials", "map", false, "string")
	}},
	{"VnfConfigurableProperties gains VNFM interface and OAuth server info", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.VnfConfigurableProperties"
		return isProp(s, "data_types", n, "vnfm_interface_info", "tosca.datatypes.nfv.VnfmInterfaceInfo", false, "") &&
			isProp(s, "data_types", n, "vnfm_oauth_server_info", "tosca.datatypes.nfv.OauthServerInfo", false, "") &&
			isProp(s, "data_types", n, "vnf_oauth_server_info", "tosca.datatypes.nfv.OauthServerInfo", false, "")
	}},
	{"VnfAdditionalConfigurableProperties.is_writable_anytime", func(s *profileSet) bool {
		n := "tosca.datatypes.nfv.VnfAdditionalConfigurableProperties"
		return isProp(s, "data_types", n, "is_writable_anytime", "boolean", false, "") &&
			propOf(s, "data_types", n, "is_writable_anytime")["default"] == false
	}},

	// VNFD types: other new properties.
	{"L2ProtocolData.segmentation_id", func(s *profileSet) bool {
		return isProp(s, "data_types", "tosca.datatypes.nfv.L2ProtocolData", "segmentation_id", "string", false, "")
	}},
	{"SwImageData.provider", func(s *profileSet) bool {
		return isProp(s, "data_types", "tosca.datatypes.nfv.SwImageData", "provider", "string", false, "")
	}},

	// VNFD types: monitoring metrics.
	{"VirtualLinkMonitoringParameter metrics", func(s *profileSet) bool {
		return sameStrings(validValuesOf(propOf(s, "data_types", "tosca.datatypes.nfv.VirtualLinkMonitoringParameter", "performance_metric")),
			"byte_incoming", "byte_outgoing", "packet_incoming", "packet_outgoing")
	}},
	{"VnfcMonitoringParameter metrics", func(s *profileSet) bool {
		return sameStrings(validValuesOf(propOf(s, "data_types", "tosca.datatypes.nfv.VnfcMonitoringParameter", "performance_metric")),
			"v_cpu_usage_mean_vnf", "v_cpu_usage_peak_vnf", "v_memory_usage_mean_vnf", "v_memory_usage_peak_vnf",
			"v_disk_usage_mean_vnf", "v_disk_usage_peak_vnf", "byte_incoming_vnf_int_cp", "byte_outgoing_vnf_int_cp",
			"packet_incoming_vnf_int_cp", "packet_outgoing_vnf_int_cp",
			"v_cpu_usage_mean", "v_cpu_usage_peak", "v_memory_usage_mean", "v_memory_usage_peak",
			"v_disk_usage_mean", "v_disk_usage_peak", "v_net_byte_incoming", "v_net_byte_outgoing",
			"v_net_packet_incoming", "v_net_packet_outgoing", "usage_mean_vStorage", "usage_peak_vStorage")
	}},

	// VNFD types: interfaces and connection points.
	{"interface type VnfIndicator, without operations", func(s *profileSet) bool {
		td := s.lookup("interface_types", "tosca.interfaces.nfv.VnfIndicator")
		return td != nil && td.def["derived_from"] == "tosca.interfaces.Root" && len(operations(td.def, s.version)) == 0
	}},
	{"node type VipCp", func(s *profileSet) bool {
		td := s.lookup("node_types", "tosca.nodes.nfv.VipCp")
		if td == nil || td.def["derived_from"] != "tosca.nodes.nfv.Cp" {
			return false
		}
		vf := propOf(s, "node_types", td.name, "vip_function")
		reqs := reqList(td.def["requirements"])
		return isProp(s, "node_types", td.name, "vip_function", "string", true, "") &&
			sameStrings(validValuesOf(vf), "high_availability", "load_balance") &&
			len(reqs) == 2 &&
			reqs[0] == [2]string{"target{capability=tosca.capabilities.Node node=<nil> relationship=tosca.relationships.DependsOn}", "target[1 UNBOUNDED]"} &&
			reqs[1] == [2]string{"virtual_link{capability=tosca.capabilities.nfv.VirtualLinkable node=<nil> relationship=tosca.relationships.nfv.VipVirtualLinksTo}", "virtual_link[1 1]"}
	}},
	{"VduCp.vnic_type values", func(s *profileSet) bool {
		return sameStrings(validValuesOf(propOf(s, "node_types", "tosca.nodes.nfv.VduCp", "vnic_type")),
			"normal", "macvtap", "direct", "baremetal", "virtio-forwarder", "direct-physical", "smart-nic")
	}},
	{"VduCp requirement occurrences", func(s *profileSet) bool {
		return sameStrings(reqOccurrences(s, "tosca.nodes.nfv.VduCp"), "virtual_link[0 1]", "virtual_binding[1 1]")
	}},
	{"VnfExtCp requirement occurrences", func(s *profileSet) bool {
		return sameStrings(reqOccurrences(s, "tosca.nodes.nfv.VnfExtCp"), "external_virtual_link[0 1]", "internal_virtual_link[1 1]")
	}},
	{"Vdu.VirtualFileStorage requirement occurrences", func(s *profileSet) bool {
		return sameStrings(reqOccurrences(s, "tosca.nodes.nfv.Vdu.VirtualFileStorage"), "virtual_link[1 1]")
	}},
}

func TestSOL001V271Changes(t *testing.T) {
	old, cur := solSet(t, "2.6.1"), solSet(t, "2.7.1")
	for _, c := range v271Changes {
		if !c.holds(cur) {
			t.Errorf("v2.7.1: %s: does not hold", c.name)
		}
		if c.holds(old) {
			t.Errorf("v2.6.1: %s: holds, but it is a v2.7.1 change", c.name)
		}
	}
}

// TestSOL001V271Delta pins the whole difference between the two profiles:
// which types v2.7.1 adds (none is removed) and which sections of which
// existing types change. A change not listed here is a mistake in one of
// the two profiles.
func TestSOL001V271Delta(t *testing.T) {
	old, cur := solSet(t, "2.6.1"), solSet(t, "2.7.1")
	wantAdded := []string{
		"capability_types tosca.capabilities.nfv.Forwarding",
		"data_types tosca.datatypes.nfv.BootData",
		"data_types tosca.datatypes.nfv.BootDataVimSpecificProperties",
		"data_types tosca.datatypes.nfv.ContentOrFileData",
		"data_types tosca.datatypes.nfv.KvpData",
		"data_types tosca.datatypes.nfv.OauthServerInfo",
		"data_types tosca.datatypes.nfv.VnfmInterfaceInfo",
		"interface_types tosca.interfaces.nfv.VnfIndicator",
		"node_types tosca.nodes.nfv.VipCp",
		"policy_types tosca.policies.nfv.Abstract.SecurityGroupRule",
		"relationship_types tosca.relationships.nfv.ForwardTo",
		"relationship_types tosca.relationships.nfv.VipVirtualLinksTo",
	}
	wantChanged := map[string][]string{
		"data_types tosca.datatypes.nfv.L2ProtocolData":                      {"properties"},
		"data_types tosca.datatypes.nfv.SwImageData":                         {"properties"},
		"data_types tosca.datatypes.nfv.VirtualLinkMonitoringParameter":      {"properties"},
		"data_types tosca.datatypes.nfv.VnfAdditionalConfigurableProperties": {"properties"},
		"data_types tosca.datatypes.nfv.VnfConfigurableProperties":           {"properties"},
		"data_types tosca.datatypes.nfv.VnfcMonitoringParameter":             {"properties"},
		"node_types tosca.nodes.nfv.Vdu.Compute":                             {"properties"},
		"node_types tosca.nodes.nfv.Vdu.VirtualFileStorage":                  {"requirement-occurrences"},
		"node_types tosca.nodes.nfv.VduCp":                                   {"properties", "requirement-occurrences"},
		"node_types tosca.nodes.nfv.VnfExtCp":                                {"requirement-occurrences"},
		"policy_types tosca.policies.nfv.SecurityGroupRule":                  {"derived_from", "properties"},
	}
	var added, removed []string
	changed := map[string][]string{}
	for _, kind := range sections {
		for name, td := range cur.types[kind] {
			prev := old.lookup(kind, name)
			if prev == nil {
				added = append(added, kind+" "+name)
				continue
			}
			secs := map[string]bool{}
			for _, d := range diffType(kind, prev.def, td.def, cur.version) {
				secs[strings.SplitN(d, ":", 2)[0]] = true
			}
			if len(secs) > 0 {
				changed[kind+" "+name] = sortedKeys(toAny(secs))
			}
		}
		for name := range old.types[kind] {
			if cur.lookup(kind, name) == nil {
				removed = append(removed, kind+" "+name)
			}
		}
	}
	sort.Strings(added)
	if !reflect.DeepEqual(added, wantAdded) {
		t.Errorf("types added in v2.7.1 = %v, want %v", added, wantAdded)
	}
	if len(removed) > 0 {
		t.Errorf("types removed in v2.7.1 = %v, want none", removed)
	}
	if !reflect.DeepEqual(changed, wantChanged) {
		t.Errorf("types changed in v2.7.1 = %v, want %v", changed, wantChanged)
	}
}
