package sol013

import (
	"fmt"
	"net/url"
	"strings"
)

// SelectorError is an invalid attribute selector (400).
type SelectorError struct {
	Param string // the query parameter concerned, "" for a combination
	Msg   string
}

func (e *SelectorError) Error() string {
	if e.Param != "" {
		return "invalid attribute selector " + e.Param + ": " + e.Msg
	}
	return "invalid attribute selector: " + e.Msg
}

// SelectorMode is what a Selector does.
type SelectorMode int

const (
	// SelectAll returns every attribute (all_fields, or no parameter and no default exclusions).
	SelectAll SelectorMode = iota
	// SelectFields keeps the listed complex attributes and drops the other
	// optional complex ones (fields).
	SelectFields
	// SelectExclude drops the listed attributes (exclude_fields, exclude_default, fields+exclude_default).
	SelectExclude
)

// Selector is a parsed SOL 013 attribute selector (clause 5.3).
type Selector struct {
	// What the request asked, after defaulting: with no parameter,
	// ExcludeDefault is true (the default for lists).
	AllFields      bool
	Fields         []string
	ExcludeFields  []string
	ExcludeDefault bool

	// Mode and Paths are what Apply does: in SelectFields mode the complex
	// attributes at Paths are kept, in SelectExclude mode the attributes at
	// Paths are removed.
	Mode  SelectorMode
	Paths []string

	// Mandatory are the attribute paths that Apply always keeps: "id",
	// "_links" and those given to ParseSelector.
	Mandatory []string

	sel *pathTree
	man *pathTree
}

// ParseSelector parses all_fields, fields, exclude_fields and exclude_default
// from q. Valid combinations (SOL 013 table 5.3.2-2): none of them, all_fields
// alone, fields alone, exclude_fields alone, exclude_default alone, and fields
// with exclude_default; anything else is a *SelectorError.
//
// defaultExclude is the resource's default exclude set (for VnfPkgInfo:
// softwareImages, additionalArtifacts, userDefinedData, checksum). With no
// parameter the selector acts as exclude_default, SOL 013's default for a
// list; pass nil defaultExclude where the default is every attribute.
// mandatory names further attributes (besides "id" and "_links") that may not
// be removed; exclude_fields naming one is an error.
//
// all_fields and exclude_default are flags: their presence counts, whatever
// their value. fields and exclude_fields take a comma-separated list of
// attribute paths with '/' between names; a parameter given twice adds to the
// list.
//
// Semantics of Apply, per table 5.3.2-2:
//   - all_fields: every attribute;
//   - fields=<list>: every attribute except the complex ones (objects and
//     arrays) not in <list>; a path a/b keeps a, and inside a (element-wise
//     for an array) keeps b and the simple attributes and drops the other
//     complex ones;
//   - exclude_fields=<list>: every attribute except those in <list>;
//   - exclude_default: every attribute except the default exclude set;
//   - fields=<list> with exclude_default: every attribute except those of the
//     default exclude set not in <list>.
func ParseSelector(q url.Values, defaultExclude []string, mandatory ...string) (*Selector, error) {
	_, all := q[ParamAllFields]
	_, exDefault := q[ParamExcludeDefault]
	_, hasFields := q[ParamFields]
	_, hasExclude := q[ParamExcludeFields]

	var given []string
	for _, p := range []struct {
		name string
		on   bool
	}{{ParamAllFields, all}, {ParamFields, hasFields}, {ParamExcludeFields, hasExclude}, {ParamExcludeDefault, exDefault}} {
		if p.on {
			given = append(given, p.name)
		}
	}
	switch {
	case len(given) <= 1:
	case len(given) == 2 && hasFields && exDefault:
	default:
		return nil, &SelectorError{Msg: fmt.Sprintf("%s cannot be combined (the only combination allowed is fields with exclude_default)",
			strings.Join(given, " and "))}
	}

	s := &Selector{AllFields: all, ExcludeDefault: exDefault}
	s.Mandatory = append([]string{"id", "_links"}, mandatory...)
	s.man = newPathTree()
	for _, m := range s.Mandatory {
		s.man.add(strings.Split(m, "/"))
	}

	var err error
	if hasFields {
		if s.Fields, err = parseAttrList(ParamFields, q[ParamFields]); err != nil {
			return nil, err
		}
	}
	if hasExclude {
		if s.ExcludeFields, err = parseAttrList(ParamExcludeFields, q[ParamExcludeFields]); err != nil {
			return nil, err
		}
		for _, p := range s.ExcludeFields {
			if s.man.covers(strings.Split(p, "/")) {
				return nil, &SelectorError{Param: ParamExcludeFields, Msg: fmt.Sprintf("attribute %q is mandatory and cannot be excluded", p)}
			}
		}
	}
	if len(given) == 0 && len(defaultExclude) > 0 {
		s.ExcludeDefault = true
	}

	switch {
	case s.AllFields:
		s.Mode = SelectAll
	case hasFields && !s.ExcludeDefault:
		s.Mode, s.Paths = SelectFields, s.Fields
	case hasExclude:
		s.Mode, s.Paths = SelectExclude, s.ExcludeFields
	case s.ExcludeDefault:
		s.Mode = SelectExclude
		// fields with exclude_default: the default set minus what fields lists.
		for _, d := range defaultExclude {
			if !listed(s.Fields, d) {
				s.Paths = append(s.Paths, d)
			}
		}
	default:
		s.Mode = SelectAll
	}
	s.sel = newPathTree()
	for _, p := range s.Paths {
		s.sel.add(strings.Split(p, "/"))
	}
	return s, nil
}

// listed reports whether path d is named by fields, or lies under or above a
// path fields names (fields=softwareImages/checksum brings back softwareImages).
func listed(fields []string, d string) bool {
	for _, f := range fields {
		if f == d || strings.HasPrefix(f, d+"/") || strings.HasPrefix(d, f+"/") {
			return true
		}
	}
	return false
}

func parseAttrList(param string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if v == "" {
			return nil, &SelectorError{Param: param, Msg: "needs a comma-separated list of attribute names"}
		}
		for _, a := range strings.Split(v, ",") {
			if msg, _ := checkAttr(a); msg != "" {
				return nil, &SelectorError{Param: param, Msg: fmt.Sprintf("attribute %q: %s", a, msg)}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// Validate checks that every attribute named by fields and exclude_fields
// exists in schema. A zero schema accepts everything.
func (s *Selector) Validate(schema Schema) error {
	if s == nil || schema.IsZero() {
		return nil
	}
	for _, list := range []struct {
		param string
		paths []string
	}{{ParamFields, s.Fields}, {ParamExcludeFields, s.ExcludeFields}} {
		for _, p := range list.paths {
			if _, err := schema.Lookup(p); err != nil {
				return &SelectorError{Param: list.param, Msg: err.Error()}
			}
		}
	}
	return nil
}

// Apply returns resource with the attributes the selector removes taken out;
// a nil selector or SelectAll returns resource itself. resource is not
// modified: the result is a new map that shares the untouched sub-trees.
// Arrays on a path are handled element by element. Mandatory attributes are
// always kept.
func (s *Selector) Apply(resource map[string]any) map[string]any {
	if s == nil || resource == nil {
		return resource
	}
	switch s.Mode {
	case SelectFields:
		return keepFields(resource, s.sel, s.man)
	case SelectExclude:
		if len(s.sel.children) == 0 {
			return resource
		}
		return exclude(resource, s.sel, s.man)
	}
	return resource
}

// pathTree is a trie of attribute paths; a node is terminal when a path ends there.
type pathTree struct {
	terminal bool
	children map[string]*pathTree
}

func newPathTree() *pathTree { return &pathTree{} }

func (t *pathTree) add(path []string) {
	for _, seg := range path {
		if t.terminal { // a shorter path already covers this one
			return
		}
		if t.children == nil {
			t.children = map[string]*pathTree{}
		}
		c := t.children[seg]
		if c == nil {
			c = &pathTree{}
			t.children[seg] = c
		}
		t = c
	}
	t.terminal, t.children = true, nil
}

func (t *pathTree) child(name string) *pathTree {
	if t == nil {
		return nil
	}
	return t.children[name]
}

// covers reports whether path or one of its prefixes is a terminal of t.
func (t *pathTree) covers(path []string) bool {
	for _, seg := range path {
		if t = t.child(seg); t == nil {
			return false
		}
		if t.terminal {
			return true
		}
	}
	return false
}

func isComplex(v any) bool {
	switch v.(type) {
	case map[string]any, []any, map[string]string, []string, []map[string]any:
		return true
	}
	return false
}

// exclude removes the terminal paths of sel from m.
func exclude(m map[string]any, sel, man *pathTree) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		sc, mc := sel.child(k), man.child(k)
		switch {
		case sc == nil || (mc != nil && mc.terminal):
			out[k] = v
		case sc.terminal:
			// dropped
		default:
			out[k] = mapInto(v, func(sub map[string]any) map[string]any { return exclude(sub, sc, mc) })
		}
	}
	return out
}

// keepFields keeps the simple attributes of m, the complex ones that sel
// names (whole when terminal, recursively otherwise) and the mandatory ones.
func keepFields(m map[string]any, sel, man *pathTree) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		sc, mc := sel.child(k), man.child(k)
		switch {
		case (sc != nil && sc.terminal) || (mc != nil && mc.terminal):
			out[k] = v
		case sc != nil:
			out[k] = mapInto(v, func(sub map[string]any) map[string]any { return keepFields(sub, sc, mc) })
		case !isComplex(v):
			out[k] = v
		}
	}
	return out
}

// mapInto applies fn to v if it is an object, to each object element if it
// is an array, and returns v unchanged otherwise.
func mapInto(v any, fn func(map[string]any) map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		return fn(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapInto(e, fn)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i] = fn(e)
		}
		return out
	}
	return v
}
