package tosca

import (
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// The grammar of definitions inside a type: property, attribute and
// parameter definitions, schemas, constraints, capability, requirement,
// interface, operation and artifact definitions. Decoding is purely
// syntactic (no other type is looked up), so a decoded body depends only on
// the file's bytes and the kind it is read as, and is cached with the file.
// Type names stay as written; phase 5 resolves them.

type rawName struct {
	name string
	pos  Position
}

type rawPropDef struct {
	name        string
	pos         Position
	typeName    string
	typePos     Position
	description string
	hasDesc     bool
	required    int8 // -1 unset, 0 false, 1 true
	def         *yaml.Node
	status      string
	constraints []*rawConstraint
	entry, key  *rawSchema
	metadata    map[string]string
	value       *yaml.Node // parameter definitions: a fixed value (TOSCA 1.3)
}

type rawSchema struct {
	typeName    string
	typePos     Position
	description string
	constraints []*rawConstraint
	entry, key  *rawSchema
	pos         Position
}

type rawConstraint struct {
	op   string
	args []*yaml.Node
	pos  Position
}

type rawOcc struct {
	lo, hi int // hi -1: UNBOUNDED
	pos    Position
}

type rawCapDef struct {
	name         string
	pos          Position
	typeName     string
	typePos      Position
	description  string
	props, attrs []*rawPropDef
	validSources []rawName
	hasSources   bool
	occ          *rawOcc
}

type rawReqDef struct {
	name         string
	pos          Position
	capability   string
	capPos       Position
	node         string
	nodePos      Position
	relationship string
	relPos       Position
	occ          *rawOcc
}

type rawOpDef struct {
	name        string
	pos         Position
	description string
	impl        string
	deps        []string
	inputDefs   []*rawPropDef
	inputVals   []rawValue
}

type rawValue struct {
	name string
	pos  Position
	node *yaml.Node
}

type rawIfaceDef struct {
	name      string
	pos       Position
	typeName  string
	typePos   Position
	inputDefs []*rawPropDef
	inputVals []rawValue
	ops       []*rawOpDef
}

type rawArtifact struct {
	name         string
	pos          Position
	short        bool
	typeName     string
	typePos      Position
	file         string
	filePos      Position
	repository   string
	deployPath   string
	checksum     string
	checksumAlgo string
	description  string
	props        *yaml.Node
}

// rawBody is a type's body decoded as one kind.
type rawBody struct {
	problems     problemList
	version      string
	description  string
	metadata     map[string]string
	props, attrs []*rawPropDef
	constraints  []*rawConstraint
	keySchema    *rawSchema
	entrySchema  *rawSchema
	mimeType     string
	fileExt      []string
	hasFileExt   bool
	validSources []rawName
	hasSources   bool
	targets      []rawName // group members, policy targets, relationship valid_target_types
	hasTargets   bool
	caps         []*rawCapDef
	reqs         []*rawReqDef
	ifaces       []*rawIfaceDef
	artifacts    []*rawArtifact
	inputs       []*rawPropDef // interface types
	ops          []*rawOpDef   // interface types
}

// keynames allowed in a type of each kind, besides derived_from, version,
// metadata and description.
var typeKeys = &lazy.Value[map[TypeKind]map[string]bool]{Build: func() map[TypeKind]map[string]bool {
	return map[TypeKind]map[string]bool{
		KindData:         {"properties": true, "constraints": true, "key_schema": true, "entry_schema": true},
		KindArtifact:     {"mime_type": true, "file_ext": true, "properties": true},
		KindCapability:   {"properties": true, "attributes": true, "valid_source_types": true},
		KindInterface:    {"inputs": true, "operations": true, "notifications": true},
		KindRelationship: {"properties": true, "attributes": true, "interfaces": true, "valid_target_types": true},
		KindNode:         {"properties": true, "attributes": true, "requirements": true, "capabilities": true, "interfaces": true, "artifacts": true},
		KindGroup:        {"properties": true, "attributes": true, "members": true, "requirements": true, "capabilities": true, "interfaces": true},
		KindPolicy:       {"properties": true, "targets": true, "triggers": true},
	}
}}

// decoded returns the body of d read as kind, decoding it once.
func (d *rawDecl) decoded(kind TypeKind) *rawBody {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.bodies[kind]; b != nil {
		return b
	}
	var pl problemList
	dc := decoder{file: d.file.name, v13: d.file.version == "tosca_simple_yaml_1_3", pl: &pl}
	b := dc.typeBody(d, kind)
	b.problems = pl
	if d.bodies == nil {
		d.bodies = map[TypeKind]*rawBody{}
	}
	d.bodies[kind] = b
	return b
}

// decoder decodes definitions of one file.
type decoder struct {
	file string
	v13  bool // the file is tosca_simple_yaml_1_3
	pl   *problemList
}

func (dc *decoder) at(n *yaml.Node) Position { return posOf(dc.file, n) }

func (dc *decoder) str(v *yaml.Node, what string) string {
	return scalarString(dc.file, v, what, dc.pl)
}

// mappingOrNull checks that v is a mapping (or empty); false means skip it.
func (dc *decoder) mappingOrNull(v *yaml.Node, what string) bool {
	if isNull(v) {
		return false
	}
	if !isMapping(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "%s must be a mapping, not %s", what, describeNode(v))
		return false
	}
	return true
}

func (dc *decoder) typeBody(d *rawDecl, kind TypeKind) *rawBody {
	b := &rawBody{}
	allowed := typeKeys.Get()[kind]
	for k, v := range entries(d.body) {
		switch k.Value {
		case "derived_from":
			continue // read with the declaration
		case "version":
			b.version = dc.str(v, "version")
			if b.version != "" {
				if _, err := ParseVersion(b.version); err != nil {
					dc.pl.errorf(CodeTypeMismatch, dc.at(v), "version of %s: %v", d.name, err)
				}
			}
			continue
		case "metadata":
			b.metadata = decodeMetadata(dc.file, v, dc.pl)
			continue
		case "description":
			b.description = dc.str(v, "description")
			continue
		}
		if !allowed[k.Value] {
			if kind == KindInterface {
				// TOSCA 1.2 writes operations directly in the interface type.
				if dc.v13 {
					dc.pl.warnf(CodeSyntax, dc.at(k), "operation %q of %s is written outside operations:, which is TOSCA 1.2 syntax in a 1.3 file; accepted", k.Value, d.name)
				}
				b.ops = append(b.ops, dc.opDef(k, v, d.name, true))
				continue
			}
			dc.pl.errorf(CodeUnknownKeyname, dc.at(k), "unknown keyname %q in %s %s", k.Value, kindNoun(kind), d.name)
			continue
		}
		switch k.Value {
		case "properties":
			b.props = dc.propDefs(v, "properties of "+d.name, true)
		case "attributes":
			b.attrs = dc.propDefs(v, "attributes of "+d.name, false)
		case "constraints":
			b.constraints = dc.constraints(v)
		case "key_schema":
			b.keySchema = dc.schema(v, "key_schema")
		case "entry_schema":
			b.entrySchema = dc.schema(v, "entry_schema")
		case "mime_type":
			b.mimeType = dc.str(v, "mime_type")
		case "file_ext":
			b.fileExt, b.hasFileExt = dc.stringList(v, "file_ext"), true
		case "valid_source_types":
			b.validSources, b.hasSources = dc.nameNodes(v, "valid_source_types"), true
		case "valid_target_types", "members", "targets":
			b.targets, b.hasTargets = dc.nameNodes(v, k.Value), true
		case "capabilities":
			b.caps = dc.capDefs(v, d.name)
		case "requirements":
			b.reqs = dc.reqDefs(v, d.name)
		case "interfaces":
			b.ifaces = dc.ifaceDefs(v, d.name)
		case "artifacts":
			b.artifacts = dc.artifacts(v, d.name)
		case "inputs":
			b.inputs = dc.propDefs(v, "inputs of "+d.name, true)
		case "operations":
			if dc.mappingOrNull(v, "operations") {
				for ok, ov := range entries(v) {
					b.ops = append(b.ops, dc.opDef(ok, ov, d.name, true))
				}
			}
		case "notifications", "triggers":
			// Kept as written: notifications and policy triggers have no
			// design-time semantics to check here.
		}
	}
	return b
}

func kindNoun(k TypeKind) string {
	switch k {
	case KindData:
		return "data type"
	case KindArtifact:
		return "artifact type"
	case KindCapability:
		return "capability type"
	case KindInterface:
		return "interface type"
	case KindRelationship:
		return "relationship type"
	case KindNode:
		return "node type"
	case KindGroup:
		return "group type"
	case KindPolicy:
		return "policy type"
	}
	return string(k)
}

func (dc *decoder) stringList(v *yaml.Node, what string) []string {
	var out []string
	for _, n := range dc.nameNodes(v, what) {
		out = append(out, n.name)
	}
	return out
}

// nameNodes reads a list of strings; a single string is accepted as a
// list of one.
func (dc *decoder) nameNodes(v *yaml.Node, what string) []rawName {
	if isNull(v) {
		return nil
	}
	if isScalar(v) {
		return []rawName{{deref(v).Value, dc.at(v)}}
	}
	if !isSequence(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "%s must be a list of names, not %s", what, describeNode(v))
		return nil
	}
	out := make([]rawName, 0, len(items(v)))
	for _, it := range items(v) {
		if !isScalar(it) || isNull(it) {
			dc.pl.errorf(CodeSyntax, dc.at(it), "an entry of %s must be a name, not %s", what, describeNode(it))
			continue
		}
		out = append(out, rawName{deref(it).Value, dc.at(it)})
	}
	return out
}

var propKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"type": true, "description": true, "required": true, "default": true, "status": true,
		"constraints": true, "key_schema": true, "entry_schema": true, "metadata": true,
		"external-schema": true, "value": true,
	}
}}

var attrKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"type": true, "description": true, "default": true, "status": true,
		"key_schema": true, "entry_schema": true, "metadata": true,
	}
}}

var validStatus = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{"supported": true, "unsupported": true, "experimental": true, "deprecated": true}
}}

// propDefs reads a mapping of property (isProp) or attribute definitions.
func (dc *decoder) propDefs(v *yaml.Node, what string, isProp bool) []*rawPropDef {
	if !dc.mappingOrNull(v, what) {
		return nil
	}
	out := make([]*rawPropDef, 0, len(deref(v).Content)/2)
	for k, pv := range entries(v) {
		if pd := dc.propDef(k, pv, isProp); pd != nil {
			out = append(out, pd)
		}
	}
	return out
}

func (dc *decoder) propDef(k, v *yaml.Node, isProp bool) *rawPropDef {
	pd := &rawPropDef{name: k.Value, pos: dc.at(k), required: -1}
	if isNull(v) {
		return pd
	}
	if isString(v) {
		// `name: string` is not TOSCA; tosca-parser rejects it too.
		dc.pl.errorf(CodeSyntax, dc.at(v), "the definition of %q must be a mapping with a type, not %s", k.Value, describeNode(v))
		return nil
	}
	if !isMapping(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "the definition of %q must be a mapping, not %s", k.Value, describeNode(v))
		return nil
	}
	keys := propKeys.Get()
	if !isProp {
		keys = attrKeys.Get()
	}
	for fk, fv := range entries(v) {
		if !keys[fk.Value] {
			dc.pl.errorf(CodeUnknownKeyname, dc.at(fk), "unknown keyname %q in the definition of %q", fk.Value, k.Value)
			continue
		}
		switch fk.Value {
		case "type":
			pd.typeName, pd.typePos = dc.str(fv, "type"), dc.at(fv)
		case "description":
			pd.description, pd.hasDesc = dc.str(fv, "description"), true
		case "required":
			if b, ok := dc.boolean(fv, "required"); ok {
				pd.required = 0
				if b {
					pd.required = 1
				}
			}
		case "default":
			pd.def = fv
		case "value":
			pd.value = fv
		case "status":
			pd.status = dc.str(fv, "status")
			if pd.status != "" && !validStatus.Get()[pd.status] {
				dc.pl.errorf(CodeStatus, dc.at(fv), "status of %q must be supported, unsupported, experimental or deprecated, not %q", k.Value, pd.status)
			}
		case "constraints":
			pd.constraints = dc.constraints(fv)
		case "entry_schema":
			pd.entry = dc.schema(fv, "entry_schema")
		case "key_schema":
			pd.key = dc.schema(fv, "key_schema")
		case "metadata":
			pd.metadata = decodeMetadata(dc.file, fv, dc.pl)
		}
	}
	return pd
}

// boolean reads a YAML boolean keyname value.
func (dc *decoder) boolean(v *yaml.Node, what string) (bool, bool) {
	n := deref(v)
	if n != nil && n.Kind == yaml.ScalarNode {
		if n.Tag == tagBool {
			b, ok := parseBool(n.Value)
			return b, ok
		}
		if b, ok := yaml11Bool(n.Value); ok && n.Tag == tagStr {
			dc.pl.warnf(CodeLenientValue, dc.at(v), "%s: %q is a YAML 1.1 boolean; read as %v, as tosca-parser does (write true or false)", what, n.Value, b)
			return b, true
		}
	}
	dc.pl.errorf(CodeTypeMismatch, dc.at(v), "%s must be true or false, not %s", what, describeNode(v))
	return false, false
}

// schema reads an entry_schema or key_schema: a type name (short form) or
// a schema definition.
func (dc *decoder) schema(v *yaml.Node, what string) *rawSchema {
	if isNull(v) {
		return nil
	}
	s := &rawSchema{pos: dc.at(v)}
	if isScalar(v) {
		s.typeName, s.typePos = deref(v).Value, dc.at(v)
		return s
	}
	if !isMapping(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "%s must be a type name or a mapping, not %s", what, describeNode(v))
		return nil
	}
	for k, fv := range entries(v) {
		switch k.Value {
		case "type":
			s.typeName, s.typePos = dc.str(fv, "type"), dc.at(fv)
		case "description":
			s.description = dc.str(fv, "description")
		case "constraints":
			s.constraints = dc.constraints(fv)
		case "entry_schema":
			s.entry = dc.schema(fv, "entry_schema")
		case "key_schema":
			s.key = dc.schema(fv, "key_schema")
		default:
			dc.pl.errorf(CodeUnknownKeyname, dc.at(k), "unknown keyname %q in %s", k.Value, what)
		}
	}
	if s.typeName == "" {
		dc.pl.errorf(CodeMissingKeyname, dc.at(v), "%s needs a type", what)
		return nil
	}
	return s
}

// constraintArity is the number of operands of each operator: 1, 2 (a list
// of two) or -1 (a list of any length).
var constraintArity = &lazy.Value[map[string]int]{Build: func() map[string]int {
	return map[string]int{
		"equal": 1, "greater_than": 1, "greater_or_equal": 1, "less_than": 1, "less_or_equal": 1,
		"in_range": 2, "valid_values": -1, "length": 1, "min_length": 1, "max_length": 1,
		"pattern": 1, "schema": 1,
	}
}}

// constraints reads a list of constraint clauses (`- operator: operands`).
// A mapping of several clauses (`{min_length: 1, max_length: 5}`), which
// some templates write, is read as one clause per key.
func (dc *decoder) constraints(v *yaml.Node) []*rawConstraint {
	if isNull(v) {
		return nil
	}
	var clauses []*yaml.Node
	switch {
	case isSequence(v):
		clauses = items(v)
	case isMapping(v):
		clauses = []*yaml.Node{v}
	default:
		dc.pl.errorf(CodeSyntax, dc.at(v), "constraints must be a list of clauses, not %s", describeNode(v))
		return nil
	}
	var out []*rawConstraint
	for _, c := range clauses {
		if !isMapping(c) {
			dc.pl.errorf(CodeInvalidConstraint, dc.at(c), "a constraint clause must be a mapping such as {greater_than: 0}, not %s", describeNode(c))
			continue
		}
		for k, av := range entries(c) {
			arity, ok := constraintArity.Get()[k.Value]
			if !ok {
				dc.pl.errorf(CodeInvalidConstraint, dc.at(k), "unknown constraint operator %q", k.Value)
				continue
			}
			rc := &rawConstraint{op: k.Value, pos: dc.at(k)}
			switch arity {
			case 1:
				if isSequence(av) && k.Value != "equal" {
					dc.pl.errorf(CodeInvalidConstraint, dc.at(av), "%s takes one value, not a list", k.Value)
					continue
				}
				rc.args = []*yaml.Node{av}
			case 2:
				if !isSequence(av) || len(items(av)) != 2 {
					dc.pl.errorf(CodeInvalidConstraint, dc.at(av), "%s takes a list of two values [min, max]", k.Value)
					continue
				}
				rc.args = items(av)
			default:
				if !isSequence(av) {
					dc.pl.errorf(CodeInvalidConstraint, dc.at(av), "%s takes a list of values", k.Value)
					continue
				}
				rc.args = items(av)
			}
			out = append(out, rc)
		}
	}
	return out
}

// occurrences reads [min, max] with max an integer or UNBOUNDED.
func (dc *decoder) occurrences(v *yaml.Node) *rawOcc {
	its := items(v)
	if len(its) != 2 {
		dc.pl.errorf(CodeSyntax, dc.at(v), "occurrences must be a list [min, max], not %s", describeNode(v))
		return nil
	}
	o := &rawOcc{pos: dc.at(v)}
	lo, err := parseInt(deref(its[0]).Value)
	if err != nil || deref(its[0]).Tag != tagInt || lo < 0 {
		dc.pl.errorf(CodeSyntax, dc.at(its[0]), "the minimum of occurrences must be a non-negative integer, not %s", describeNode(its[0]))
		return nil
	}
	o.lo = int(lo)
	if hv := deref(its[1]); hv.Value == "UNBOUNDED" {
		o.hi = -1
	} else if hi, err := parseInt(hv.Value); err != nil || hv.Tag != tagInt || hi < lo {
		dc.pl.errorf(CodeSyntax, dc.at(its[1]), "the maximum of occurrences must be an integer not below the minimum, or UNBOUNDED, not %s", describeNode(its[1]))
		return nil
	} else {
		o.hi = int(hi)
	}
	return o
}

// capDefs reads the capabilities of a node (or group) type.
func (dc *decoder) capDefs(v *yaml.Node, owner string) []*rawCapDef {
	if !dc.mappingOrNull(v, "capabilities of "+owner) {
		return nil
	}
	var out []*rawCapDef
	for k, cv := range entries(v) {
		cd := &rawCapDef{name: k.Value, pos: dc.at(k)}
		switch {
		case isScalar(cv) && !isNull(cv): // short form: the capability type
			cd.typeName, cd.typePos = deref(cv).Value, dc.at(cv)
		case isMapping(cv):
			for fk, fv := range entries(cv) {
				switch fk.Value {
				case "type":
					cd.typeName, cd.typePos = dc.str(fv, "type"), dc.at(fv)
				case "description":
					cd.description = dc.str(fv, "description")
				case "properties":
					cd.props = dc.propDefs(fv, "properties of capability "+k.Value, true)
				case "attributes":
					cd.attrs = dc.propDefs(fv, "attributes of capability "+k.Value, false)
				case "valid_source_types":
					cd.validSources, cd.hasSources = dc.nameNodes(fv, "valid_source_types"), true
				case "occurrences":
					cd.occ = dc.occurrences(fv)
				default:
					dc.pl.errorf(CodeUnknownKeyname, dc.at(fk), "unknown keyname %q in capability %q of %s", fk.Value, k.Value, owner)
				}
			}
		default:
			dc.pl.errorf(CodeSyntax, dc.at(cv), "capability %q of %s must be a type name or a mapping, not %s", k.Value, owner, describeNode(cv))
			continue
		}
		out = append(out, cd)
	}
	return out
}

// reqDefs reads the requirements of a node (or group) type: a list of
// single-key mappings.
func (dc *decoder) reqDefs(v *yaml.Node, owner string) []*rawReqDef {
	if isNull(v) {
		return nil
	}
	if !isSequence(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "requirements of %s must be a list, not %s", owner, describeNode(v))
		return nil
	}
	var out []*rawReqDef
	for _, it := range items(v) {
		if !isMapping(it) || mapLen(it) != 1 {
			dc.pl.errorf(CodeSyntax, dc.at(it), "a requirement definition must be a mapping with one key (its name), not %s", describeNode(it))
			continue
		}
		for k, rv := range entries(it) {
			rd := &rawReqDef{name: k.Value, pos: dc.at(k)}
			switch {
			case isScalar(rv) && !isNull(rv): // short form: the capability type
				rd.capability, rd.capPos = deref(rv).Value, dc.at(rv)
			case isMapping(rv):
				for fk, fv := range entries(rv) {
					switch fk.Value {
					case "capability":
						rd.capability, rd.capPos = dc.str(fv, "capability"), dc.at(fv)
					case "node":
						rd.node, rd.nodePos = dc.str(fv, "node"), dc.at(fv)
					case "relationship":
						rd.relPos = dc.at(fv)
						if isMapping(fv) {
							if t := lookupKey(fv, "type"); t != nil {
								rd.relationship, rd.relPos = dc.str(t, "type"), dc.at(t)
							}
						} else {
							rd.relationship = dc.str(fv, "relationship")
						}
					case "occurrences":
						rd.occ = dc.occurrences(fv)
					case "description", "node_filter":
					default:
						dc.pl.errorf(CodeUnknownKeyname, dc.at(fk), "unknown keyname %q in requirement %q of %s", fk.Value, k.Value, owner)
					}
				}
			default:
				dc.pl.errorf(CodeSyntax, dc.at(rv), "requirement %q of %s must be a capability type or a mapping, not %s", k.Value, owner, describeNode(rv))
				continue
			}
			out = append(out, rd)
		}
	}
	return out
}

// ifaceDefs reads interface definitions of a node, relationship or group
// type: a type, inputs, and operations (under operations: in TOSCA 1.3,
// directly in the interface in 1.2).
func (dc *decoder) ifaceDefs(v *yaml.Node, owner string) []*rawIfaceDef {
	if !dc.mappingOrNull(v, "interfaces of "+owner) {
		return nil
	}
	var out []*rawIfaceDef
	for k, iv := range entries(v) {
		out = append(out, dc.ifaceDef(k, iv, owner, true))
	}
	return out
}

// ifaceDef reads one interface definition (inType) or assignment.
func (dc *decoder) ifaceDef(k, v *yaml.Node, owner string, inType bool) *rawIfaceDef {
	id := &rawIfaceDef{name: k.Value, pos: dc.at(k)}
	if isNull(v) {
		return id
	}
	if !isMapping(v) {
		dc.pl.errorf(CodeSyntax, dc.at(v), "interface %q of %s must be a mapping, not %s", k.Value, owner, describeNode(v))
		return id
	}
	for fk, fv := range entries(v) {
		switch fk.Value {
		case "type":
			id.typeName, id.typePos = dc.str(fv, "type"), dc.at(fv)
		case "inputs":
			id.inputDefs, id.inputVals = dc.inputs(fv, inType)
		case "operations":
			if dc.mappingOrNull(fv, "operations") {
				for ok, ov := range entries(fv) {
					id.ops = append(id.ops, dc.opDef(ok, ov, owner, inType))
				}
			}
		case "notifications", "description":
		default:
			if dc.v13 {
				dc.pl.warnf(CodeSyntax, dc.at(fk), "operation %q of interface %q is written outside operations:, which is TOSCA 1.2 syntax in a 1.3 file; accepted", fk.Value, k.Value)
			}
			id.ops = append(id.ops, dc.opDef(fk, fv, owner, inType))
		}
	}
	return id
}

// inputs reads operation or interface inputs. In types they are parameter
// definitions, yet templates and types alike also assign values there
// (TOSCA 1.3 allows both in types): an entry that is a mapping with a type
// is a definition, anything else a value.
func (dc *decoder) inputs(v *yaml.Node, inType bool) ([]*rawPropDef, []rawValue) {
	if !dc.mappingOrNull(v, "inputs") {
		return nil, nil
	}
	var defs []*rawPropDef
	var vals []rawValue
	for k, iv := range entries(v) {
		if inType && isMapping(iv) && lookupKey(iv, "type") != nil {
			if pd := dc.propDef(k, iv, true); pd != nil {
				defs = append(defs, pd)
			}
			continue
		}
		vals = append(vals, rawValue{name: k.Value, pos: dc.at(k), node: iv})
	}
	return defs, vals
}

// opDef reads an operation definition or assignment: a string (the
// implementation) or a mapping. tosca-parser also lets `op: []` through;
// it is read as an operation without implementation, with a warning.
func (dc *decoder) opDef(k, v *yaml.Node, owner string, inType bool) *rawOpDef {
	op := &rawOpDef{name: k.Value, pos: dc.at(k)}
	switch {
	case isNull(v):
	case isScalar(v):
		op.impl = deref(v).Value
	case isMapping(v):
		for fk, fv := range entries(v) {
			switch fk.Value {
			case "description":
				op.description = dc.str(fv, "description")
			case "implementation":
				dc.implementation(op, fv)
			case "inputs":
				op.inputDefs, op.inputVals = dc.inputs(fv, inType)
			case "outputs":
			default:
				dc.pl.errorf(CodeUnknownKeyname, dc.at(fk), "unknown keyname %q in operation %q", fk.Value, k.Value)
			}
		}
	case isSequence(v) && len(items(v)) == 0:
		dc.pl.warnf(CodeEmptyOperation, dc.at(v), "operation %q of %s is an empty list; read as an operation without implementation (tosca-parser accepts this, TOSCA does not)", k.Value, owner)
	default:
		dc.pl.errorf(CodeSyntax, dc.at(v), "operation %q of %s must be an implementation or a mapping, not %s", k.Value, owner, describeNode(v))
	}
	return op
}

func (dc *decoder) implementation(op *rawOpDef, v *yaml.Node) {
	switch {
	case isNull(v):
	case isScalar(v):
		op.impl = deref(v).Value
	case isMapping(v):
		for k, fv := range entries(v) {
			switch k.Value {
			case "primary":
				if isMapping(fv) { // TOSCA 1.3: an artifact definition
					if f := lookupKey(fv, "file"); f != nil {
						op.impl = dc.str(f, "file")
					}
				} else {
					op.impl = dc.str(fv, "primary")
				}
			case "dependencies":
				op.deps = dc.stringList(fv, "dependencies")
			case "timeout", "operation_host":
			default:
				dc.pl.errorf(CodeUnknownKeyname, dc.at(k), "unknown keyname %q in implementation", k.Value)
			}
		}
	default:
		dc.pl.errorf(CodeSyntax, dc.at(v), "implementation must be a name or a mapping, not %s", describeNode(v))
	}
}

// artifacts reads artifact definitions (types and templates share them):
// `name: path` (short form) or a mapping with type and file.
func (dc *decoder) artifacts(v *yaml.Node, owner string) []*rawArtifact {
	if !dc.mappingOrNull(v, "artifacts of "+owner) {
		return nil
	}
	var out []*rawArtifact
	for k, av := range entries(v) {
		a := &rawArtifact{name: k.Value, pos: dc.at(k)}
		switch {
		case isScalar(av) && !isNull(av):
			a.short, a.file, a.filePos = true, deref(av).Value, dc.at(av)
		case isMapping(av):
			for fk, fv := range entries(av) {
				switch fk.Value {
				case "type":
					a.typeName, a.typePos = dc.str(fv, "type"), dc.at(fv)
				case "file":
					a.file, a.filePos = dc.str(fv, "file"), dc.at(fv)
				case "repository":
					a.repository = dc.str(fv, "repository")
				case "deploy_path":
					a.deployPath = dc.str(fv, "deploy_path")
				case "checksum":
					a.checksum = dc.str(fv, "checksum")
				case "checksum_algorithm":
					a.checksumAlgo = dc.str(fv, "checksum_algorithm")
				case "description":
					a.description = dc.str(fv, "description")
				case "properties":
					a.props = fv
				case "artifact_version", "metadata":
				default:
					dc.pl.errorf(CodeUnknownKeyname, dc.at(fk), "unknown keyname %q in artifact %q", fk.Value, k.Value)
				}
			}
			if a.typeName == "" {
				dc.pl.errorf(CodeMissingKeyname, dc.at(av), "artifact %q of %s has no type", k.Value, owner)
			}
			if a.file == "" {
				dc.pl.errorf(CodeMissingKeyname, dc.at(av), "artifact %q of %s has no file", k.Value, owner)
			}
		default:
			dc.pl.errorf(CodeSyntax, dc.at(av), "artifact %q of %s must be a file name or a mapping, not %s", k.Value, owner, describeNode(av))
			continue
		}
		out = append(out, a)
	}
	return out
}

// isURL reports whether s has a URL scheme (http://, https://, file://...).
func isURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
