// Package tosca processes TOSCA Simple Profile in YAML service templates
// (tosca_simple_yaml_1_2 and tosca_simple_yaml_1_3) the way SOL 001 VNFDs use
// them: it reads the entry file and everything it imports from an fs.FS,
// builds namespaced type hierarchies, resolves inheritance and refinement,
// checks values against their types and constraints, evaluates the intrinsic
// functions, and collects every problem with its file, line and column
// instead of stopping at the first.
//
// This file is the processor's output model. tosca/vnfd reads it; keep it
// free of processing logic.
package tosca

// Position locates a YAML node: a slash-separated path inside the package
// (or the name of an embedded profile) and 1-based line and column.
type Position struct {
	File   string
	Line   int
	Column int
}

// Severity of a Problem.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding. Code is stable and machine-readable
// ("tosca-unknown-type", "tosca-constraint", ...); Message is plain prose.
// Its fields match csar.Problem so the two convert into each other.
type Problem struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Message  string   `json:"message"`
}

// TypeKind is the section a type is declared in.
type TypeKind string

const (
	KindData         TypeKind = "data_types"
	KindArtifact     TypeKind = "artifact_types"
	KindCapability   TypeKind = "capability_types"
	KindInterface    TypeKind = "interface_types"
	KindRelationship TypeKind = "relationship_types"
	KindNode         TypeKind = "node_types"
	KindGroup        TypeKind = "group_types"
	KindPolicy       TypeKind = "policy_types"
)

// Type is a type after inheritance: its maps hold the definitions declared
// on it merged with (and refining) those of every ancestor.
type Type struct {
	Kind        TypeKind
	Name        string // the full name it was declared with, e.g. tosca.nodes.nfv.Vdu.Compute
	Parent      *Type  // nil for a root type
	Pos         Position
	Description string
	Metadata    map[string]string

	Properties   map[string]*PropertyDef
	Attributes   map[string]*PropertyDef
	Capabilities map[string]*CapabilityDef    // node types
	Requirements []*RequirementDef            // node types, in declaration order (parents first)
	Interfaces   map[string]*InterfaceDef     // node, relationship, group types; operations for interface types
	Artifacts    map[string]*ArtifactTemplate // node types
	Targets      []string                     // group members / policy targets (type names)
	ValidSources []string                     // capability types
	MimeType     string                       // artifact types
	FileExt      []string                     // artifact types
	ValidTargets []string                     // relationship types: valid_target_types (capability or node type names)

	// Data types only.
	Constraints []*Constraint
	KeySchema   *Schema
	EntrySchema *Schema
}

// IsA reports whether t is the named type or derives from it. name is a
// full type name (tosca.nodes.nfv.VDU.Compute spelled exactly as declared).
func (t *Type) IsA(name string) bool {
	for x := t; x != nil; x = x.Parent {
		if x.Name == name {
			return true
		}
	}
	return false
}

// Schema is a type reference with constraints (entry_schema, key_schema).
type Schema struct {
	Type        string
	DataType    *Type // resolved when Type names a data type; nil for primitives
	Constraints []*Constraint
	EntrySchema *Schema
	KeySchema   *Schema
	Pos         Position
}

// PropertyDef is a property, attribute, input or parameter definition.
type PropertyDef struct {
	Name        string
	Type        string
	DataType    *Type // resolved when Type names a data type; nil for primitives and list/map
	Description string
	Required    bool // effective value (TOSCA's default is true for properties)
	Default     *Value
	Status      string
	Constraints []*Constraint
	KeySchema   *Schema
	EntrySchema *Schema
	Pos         Position
}

// Constraint is one constraint clause. Operator is the TOSCA keyword
// (equal, greater_than, greater_or_equal, less_than, less_or_equal,
// in_range, valid_values, length, min_length, max_length, pattern, schema,
// and the 1.3 short forms normalised to these names); Args are its operands
// as decoded YAML (one for most operators, two for in_range, a list for
// valid_values).
type Constraint struct {
	Operator string
	Args     []any
	Pos      Position
}

// CapabilityDef declares a capability of a node type.
type CapabilityDef struct {
	Name             string
	Type             *Type
	Properties       map[string]*PropertyDef
	Attributes       map[string]*PropertyDef
	ValidSourceTypes []string
	Occurrences      [2]int // upper bound -1 means UNBOUNDED
	Pos              Position
}

// RequirementDef declares a requirement of a node type.
type RequirementDef struct {
	Name         string
	Capability   string // capability type name
	Node         string // node type name, may be empty
	Relationship string // relationship type name, may be empty
	Occurrences  [2]int
	Pos          Position
}

// InterfaceDef is an interface on a type or template: its operations.
// An interface type's own operations are in its Interfaces map under the
// type's name.
type InterfaceDef struct {
	Name        string
	Type        *Type
	Inputs      map[string]*PropertyDef
	Operations  map[string]*Operation
	Pos         Position
	InputValues map[string]*Value // input values assigned on the interface (templates)
}

// Operation is an interface operation (definition or assignment).
type Operation struct {
	Name           string
	Implementation string // primary artifact name or file
	Dependencies   []string
	Inputs         map[string]*Value
	Pos            Position
	Description    string
	InputDefs      map[string]*PropertyDef // definitions (in types): input parameter definitions
}

// Value is a property, attribute, input or parameter value after function
// evaluation. V holds plain Go data: nil, bool, int64, float64, string,
// []any or map[string]any (nested values are plain data too). Scalar units,
// versions, timestamps and ranges keep the form they were written in; use
// the Parse* helpers of this package to convert them. Type is the TOSCA
// type the value was checked against ("" when unknown).
type Value struct {
	V    any
	Type string
	Pos  Position
	// Function is set when the value came from an intrinsic function that
	// could not be evaluated at design time (get_attribute, get_operation_output):
	// its name; V then holds the function's arguments.
	Function string
}

// ServiceTemplate is the result of processing an entry file and its imports.
type ServiceTemplate struct {
	Entry                  string
	DefinitionsVersion     string            // tosca_definitions_version of the entry file
	Metadata               map[string]string // metadata of the entry file
	Description            string
	Files                  []string // every package file read, entry first; embedded profiles are not listed
	Types                  map[TypeKind]map[string]*Type
	Topologies             []*Topology // the entry's first (if it has one), then imported files' in import order
	RepositoriesReferenced []string
	Problems               []Problem
}

// Type looks a type up by its full name; nil when absent.
func (s *ServiceTemplate) Type(kind TypeKind, name string) *Type {
	return s.Types[kind][name]
}

// HasErrors reports whether any problem is an error.
func (s *ServiceTemplate) HasErrors() bool {
	for _, p := range s.Problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Topology is one topology_template. SOL 001 multi-file VNFDs hold one per
// deployment flavour, each in an imported file with substitution_mappings.
type Topology struct {
	File          string
	Description   string
	Inputs        map[string]*Input
	NodeTemplates map[string]*NodeTemplate
	NodeOrder     []string // node template names in file order
	Groups        []*Group
	Policies      []*Policy
	Outputs       map[string]*Value
	Substitution  *SubstitutionMappings
	Pos           Position
}

// Input is a topology input: its definition and the value in force
// (the default, since validation has no deployment-time inputs).
type Input struct {
	Def   *PropertyDef
	Value *Value
}

// NodeTemplate is a node template with its type's defaults applied.
type NodeTemplate struct {
	Name         string
	Type         *Type
	Description  string
	Directives   []string
	Properties   map[string]*Value
	Attributes   map[string]*Value
	Capabilities map[string]*CapabilityAssignment
	Requirements []*RequirementAssignment // in template order
	Artifacts    map[string]*ArtifactTemplate
	Interfaces   map[string]*InterfaceDef
	Pos          Position
}

// CapabilityAssignment holds a template's capability properties and attributes.
type CapabilityAssignment struct {
	Name       string
	Type       *Type
	Properties map[string]*Value
	Attributes map[string]*Value
	Pos        Position
}

// RequirementAssignment is one requirement of a node template, from the
// short form (`- virtual_link: VL1`) or the long form.
type RequirementAssignment struct {
	Name         string
	Node         string // target node template name (or node type name when Node names a type)
	Capability   string
	Relationship string
	Pos          Position
}

// ArtifactTemplate is an artifact definition, in long form or short form
// (`name: path`); File is the path as written, resolved relative to the
// file that declares it when Repository is empty (ResolvedFile).
type ArtifactTemplate struct {
	Name         string
	Type         *Type
	File         string
	ResolvedFile string // package path, slash-separated, or the URL when File is one
	Repository   string
	DeployPath   string
	Checksum     string
	ChecksumAlgo string
	Description  string
	Properties   map[string]*Value
	Pos          Position
}

// Group is a group definition of a topology.
type Group struct {
	Name       string
	Type       *Type
	Properties map[string]*Value
	Members    []string
	Pos        Position
}

// Policy is a policy definition of a topology.
type Policy struct {
	Name       string
	Type       *Type
	Properties map[string]*Value
	Targets    []string
	Pos        Position
}

// SubstitutionMappings of a topology template.
type SubstitutionMappings struct {
	NodeType     string
	Type         *Type
	Properties   map[string]*Value
	Requirements map[string][]string // requirement name -> [node template, requirement/capability]
	Capabilities map[string][]string
	Pos          Position
}

// ImportResolver supplies files that are not in the package: imports by URL
// (the forge.etsi.org SOL 001 files, ...) and the normative types implied by
// tosca_definitions_version. tosca/profiles provides the default one.
type ImportResolver interface {
	// Resolve returns a stable name for the file (used as Position.File)
	// and its bytes; ok is false when the resolver does not know ref.
	Resolve(ref string) (name string, data []byte, ok bool)
}

// Limits bound the work a hostile template can cause. Zero fields take the
// package defaults (DefaultLimits).
type Limits struct {
	MaxFileSize  int64 // bytes of one YAML file
	MaxFiles     int   // files read through imports, profiles included
	MaxNodes     int   // YAML nodes visited per file, alias expansions counted
	MaxDepth     int   // YAML nesting depth
	MaxTemplates int   // node templates, policies and groups per topology
	// The budget over every YAML file one Process call parses (package
	// files, profiles and resolved imports together), checked before each
	// file is parsed (budget.go).
	MaxTotalBytes int64 // bytes of all files
	MaxTotalNodes int   // YAML nodes of all files, alias expansions counted
}

// Options configure Process.
type Options struct {
	Resolver ImportResolver // nil: the embedded profiles (tosca/profiles)
	Limits   Limits
}
