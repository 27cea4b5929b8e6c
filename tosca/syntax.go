package tosca

import (
	"sync"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// The grammar of a file's top level: what one file says, decoded without
// looking at any other file. A parsedFile is immutable once built (its
// lazily decoded type bodies are guarded by a mutex), so the file cache can
// hand the same one to concurrent Process calls; every phase after this one
// builds fresh output objects from it.

type parsedFile struct {
	name     string
	root     *yaml.Node // nil when the file could not be read
	stats    readStats
	problems problemList // problems of reading and of the top-level grammar

	version     string
	versionNode *yaml.Node
	metadata    map[string]string // never handed out: copied into results
	description string
	imports     []rawImport
	repos       map[string]rawRepo
	decls       []*rawDecl
	topology    *yaml.Node
}

type rawImport struct {
	file       string
	repository string
	prefix     string
	pos        Position
}

type rawRepo struct {
	url string
	pos Position
}

// rawDecl is one type declaration as written: its section, name and the
// name of its parent. The body is decoded later, once the real kind of the
// type is known (a type may sit in the wrong section).
type rawDecl struct {
	name        string
	section     TypeKind
	pos         Position
	body        *yaml.Node // mapping or nil
	derived     string
	derivedNode *yaml.Node
	file        *parsedFile

	mu     sync.Mutex
	bodies map[TypeKind]*rawBody
}

// typeSections lists the sections in the order they are processed.
var typeSections = []TypeKind{KindData, KindArtifact, KindCapability, KindInterface, KindRelationship, KindNode, KindGroup, KindPolicy}

var topKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"tosca_definitions_version": true, "namespace": true, "metadata": true, "description": true,
		"dsl_definitions": true, "repositories": true, "imports": true, "topology_template": true,
		string(KindData): true, string(KindArtifact): true, string(KindCapability): true, string(KindInterface): true,
		string(KindRelationship): true, string(KindNode): true, string(KindGroup): true, string(KindPolicy): true,
	}
}}

// parseFile reads and decodes the top level of one file.
func parseFile(name string, data []byte, lim Limits) *parsedFile {
	var pl problemList
	pf := &parsedFile{name: name}
	pf.root, pf.stats = readYAML(name, data, lim, &pl)
	return pf.decode(&pl)
}

// parseTree decodes the top level of a file from its node tree (a
// precompiled profile).
func parseTree(name string, top *yaml.Node, lim Limits) *parsedFile {
	var pl problemList
	pf := &parsedFile{name: name}
	pf.root, pf.stats = checkTree(name, top, lim, &pl)
	return pf.decode(&pl)
}

func (pf *parsedFile) decode(pl *problemList) *parsedFile {
	if pf.root != nil {
		pf.decodeTop(pl)
	}
	pf.problems = *pl
	return pf
}

func (pf *parsedFile) at(n *yaml.Node) Position { return posOf(pf.name, n) }

func (pf *parsedFile) decodeTop(pl *problemList) {
	for k, v := range entries(pf.root) {
		switch k.Value {
		case "tosca_definitions_version":
			pf.versionNode = v
			if !isScalar(v) || isNull(v) {
				pl.errorf(CodeDefinitionsVers, pf.at(v), "tosca_definitions_version must be a string such as tosca_simple_yaml_1_3")
				continue
			}
			pf.version = deref(v).Value
		case "metadata":
			pf.metadata = decodeMetadata(pf.name, v, pl)
		case "description":
			pf.description = scalarString(pf.name, v, "description", pl)
		case "repositories":
			pf.decodeRepositories(v, pl)
		case "imports":
			pf.decodeImports(v, pl)
		case "topology_template":
			if !isMapping(v) {
				if !isNull(v) {
					pl.errorf(CodeSyntax, pf.at(v), "topology_template must be a mapping, not %s", describeNode(v))
				}
				continue
			}
			pf.topology = deref(v)
		case "namespace", "dsl_definitions":
			// namespace is informative only (types are keyed by name);
			// dsl_definitions only holds YAML anchors used elsewhere.
		default:
			if topKeys.Get()[k.Value] {
				pf.decodeSection(TypeKind(k.Value), k, v, pl)
				continue
			}
			pl.errorf(CodeUnknownKeyname, pf.at(k), "unknown keyname %q at the top of a TOSCA file", k.Value)
		}
	}
	if pf.versionNode == nil {
		pl.errorf(CodeDefinitionsVers, pf.at(pf.root), "the file has no tosca_definitions_version")
	}
}

func (pf *parsedFile) decodeSection(kind TypeKind, key, v *yaml.Node, pl *problemList) {
	if isNull(v) {
		return
	}
	if !isMapping(v) {
		pl.errorf(CodeSyntax, pf.at(v), "%s must be a mapping of type names to definitions, not %s", kind, describeNode(v))
		return
	}
	for nk, body := range entries(v) {
		d := &rawDecl{name: nk.Value, section: kind, pos: pf.at(nk), file: pf}
		switch {
		case isNull(body):
		case isMapping(body):
			d.body = deref(body)
			if df := lookupKey(d.body, "derived_from"); df != nil {
				d.derivedNode = df
				if isScalar(df) && !isNull(df) {
					d.derived = deref(df).Value
				} else {
					pl.errorf(CodeSyntax, pf.at(df), "derived_from must be a type name, not %s", describeNode(df))
				}
			}
		default:
			pl.errorf(CodeSyntax, pf.at(body), "the definition of %s must be a mapping, not %s", nk.Value, describeNode(body))
			continue
		}
		if nk.Kind != yaml.ScalarNode || nk.Value == "" {
			pl.errorf(CodeSyntax, pf.at(nk), "a type name must be a non-empty string")
			continue
		}
		pf.decls = append(pf.decls, d)
	}
}

func (pf *parsedFile) decodeRepositories(v *yaml.Node, pl *problemList) {
	if isNull(v) {
		return
	}
	if !isMapping(v) {
		pl.errorf(CodeSyntax, pf.at(v), "repositories must be a mapping, not %s", describeNode(v))
		return
	}
	pf.repos = map[string]rawRepo{}
	for k, r := range entries(v) {
		switch {
		case isString(r): // short form: name: url
			pf.repos[k.Value] = rawRepo{url: deref(r).Value, pos: pf.at(r)}
		case isMapping(r):
			url := lookupKey(r, "url")
			if url == nil || !isScalar(url) {
				pl.errorf(CodeMissingKeyname, pf.at(r), "repository %q has no url", k.Value)
				continue
			}
			for rk := range entries(r) {
				switch rk.Value {
				case "url", "description", "credential":
				default:
					pl.errorf(CodeUnknownKeyname, pf.at(rk), "unknown keyname %q in repository %q", rk.Value, k.Value)
				}
			}
			pf.repos[k.Value] = rawRepo{url: deref(url).Value, pos: pf.at(url)}
		default:
			pl.errorf(CodeSyntax, pf.at(r), "repository %q must be a URL or a mapping, not %s", k.Value, describeNode(r))
		}
	}
}

// decodeImports reads the short form (`- file.yaml`), the long form
// (`- file: ..., repository: ..., namespace_prefix: ...`) and, with a
// warning, the named form of TOSCA 1.0 (`- name: file.yaml` or
// `- name: {file: ...}`) that tosca-parser still accepts.
func (pf *parsedFile) decodeImports(v *yaml.Node, pl *problemList) {
	if isNull(v) {
		return
	}
	if !isSequence(v) {
		pl.errorf(CodeSyntax, pf.at(v), "imports must be a list, not %s", describeNode(v))
		return
	}
	for _, it := range items(v) {
		it = deref(it)
		switch {
		case isString(it):
			pf.imports = append(pf.imports, rawImport{file: it.Value, pos: pf.at(it)})
		case isMapping(it):
			if mapLen(it) == 1 && !importKeys.Get()[deref(it).Content[0].Value] {
				for k, val := range entries(it) {
					pl.warnf(CodeSyntax, pf.at(k), "the named import %q is TOSCA 1.0 syntax; it is read as the import of its file, as tosca-parser does", k.Value)
					if isString(val) {
						pf.imports = append(pf.imports, rawImport{file: deref(val).Value, pos: pf.at(val)})
					} else if isMapping(val) {
						pf.longImport(val, pl)
					} else {
						pl.errorf(CodeSyntax, pf.at(val), "an import must name a file, not %s", describeNode(val))
					}
				}
				continue
			}
			pf.longImport(it, pl)
		default:
			pl.errorf(CodeSyntax, pf.at(it), "an import must be a file name or a mapping with file, not %s", describeNode(it))
		}
	}
}

var importKeys = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{"file": true, "repository": true, "namespace_prefix": true, "namespace_uri": true, "description": true}
}}

func (pf *parsedFile) longImport(it *yaml.Node, pl *problemList) {
	imp := rawImport{pos: pf.at(it)}
	hasFile := false
	for k, val := range entries(it) {
		s := ""
		if isScalar(val) && !isNull(val) {
			s = deref(val).Value
		} else if !isNull(val) {
			pl.errorf(CodeSyntax, pf.at(val), "import keyname %s must be a string, not %s", k.Value, describeNode(val))
			continue
		}
		switch k.Value {
		case "file":
			imp.file, hasFile = s, true
			imp.pos = pf.at(val)
		case "repository":
			imp.repository = s
		case "namespace_prefix":
			imp.prefix = s
		case "namespace_uri", "description":
		default:
			pl.errorf(CodeUnknownKeyname, pf.at(k), "unknown keyname %q in an import", k.Value)
		}
	}
	if !hasFile || imp.file == "" {
		pl.errorf(CodeMissingKeyname, pf.at(it), "an import needs a file")
		return
	}
	pf.imports = append(pf.imports, imp)
}

// decodeMetadata reads a metadata mapping. Values are strings; scalars of
// other types keep their text (template_version: 1.0 is "1.0").
func decodeMetadata(file string, v *yaml.Node, pl *problemList) map[string]string {
	if isNull(v) {
		return nil
	}
	if !isMapping(v) {
		pl.errorf(CodeSyntax, posOf(file, v), "metadata must be a mapping, not %s", describeNode(v))
		return nil
	}
	out := map[string]string{}
	for k, val := range entries(v) {
		switch {
		case isNull(val):
			out[k.Value] = ""
		case isScalar(val):
			out[k.Value] = deref(val).Value
		default:
			pl.errorf(CodeSyntax, posOf(file, val), "metadata %q must be a string, not %s", k.Value, describeNode(val))
		}
	}
	return out
}

// scalarString reads a string-valued keyname; other scalars keep their text.
func scalarString(file string, v *yaml.Node, what string, pl *problemList) string {
	if isNull(v) {
		return ""
	}
	if !isScalar(v) {
		pl.errorf(CodeSyntax, posOf(file, v), "%s must be a string, not %s", what, describeNode(v))
		return ""
	}
	return deref(v).Value
}

func copyStringMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
