package tosca

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// Phase 6, values: every value (defaults of definitions, template
// properties and attributes, inputs, nested data to any depth) checked
// against its type and constraints. A wrong value is reported at its own
// line and column. Values become plain Go data (Value.V); scalar units,
// versions and timestamps keep the text they were written with.
//
// Leniency, each with a warning: a quoted number where a number is
// expected, a YAML 1.1 boolean (yes, no, on, off) where a boolean is
// expected, and a null value (read as not set) are what PyYAML-based
// tosca-parser accepts.

// vdef is what a value is checked against: a property definition or a
// schema.
type vdef struct {
	typeName string
	dt       *Type
	cons     []*Constraint
	entry    *Schema
	key      *Schema
}

func pdDef(pd *PropertyDef) vdef {
	return vdef{pd.Type, pd.DataType, pd.Constraints, pd.EntrySchema, pd.KeySchema}
}

func schemaDef(s *Schema) vdef {
	if s == nil {
		return vdef{}
	}
	return vdef{s.Type, s.DataType, s.Constraints, s.EntrySchema, s.KeySchema}
}

// loc says where a value sits, for messages: `property "algorithm" of
// tosca.datatypes.nfv.ChecksumData`, `entry 2 of input "x"`. The chain is
// only turned into text when a problem is reported.
type loc struct {
	parent *loc
	kind   uint8
	text   string // locText: the whole description; locProp: the property name; locKey: the key
	owner  string // locProp
	index  int
}

const (
	locText uint8 = iota
	locProp
	locIndex
	locKey
)

func (l *loc) String() string {
	var b strings.Builder
	for x := l; x != nil; x = x.parent {
		switch x.kind {
		case locIndex:
			b.WriteString("entry " + strconv.Itoa(x.index) + " of ")
		case locKey:
			b.WriteString("entry " + strconv.Quote(x.text) + " of ")
		case locProp:
			b.WriteString("property " + strconv.Quote(x.text) + " of " + x.owner)
			return b.String()
		default:
			b.WriteString(x.text)
			return b.String()
		}
	}
	return strings.TrimSuffix(b.String(), " of ")
}

// vctx is the context of a value check.
type vctx struct {
	file  *srcFile
	fc    *fnCtx // nil where functions are not allowed (defaults in types)
	hasFn bool   // set when the value holds a function to evaluate in phase 8
	// flavourID marks the flavour_id of a SOL 001 VNF's
	// substitution_mappings: a valid_values violation of it is a warning
	// (CodeLenientFlavourID, see typeSOL001VNF); other constraints stay
	// errors. A bool fits in the padding after hasFn.
	flavourID bool
}

func (c *vctx) at(n *yaml.Node) Position { return posOf(c.file.name, n) }

// check checks a node against a definition and returns its plain value.
func (p *processor) check(n *yaml.Node, d vdef, l *loc, c *vctx) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	if name, ok := functionName(n); ok {
		return p.functionValue(n, name, d, l, c)
	}
	cat := p.category(d.typeName, d.dt)
	v, ok := p.checkShape(n, cat, d, l, c)
	if !ok {
		return v
	}
	if _, isFn := v.(*funcCall); isFn {
		return v
	}
	for _, cons := range d.cons {
		if msg := p.violation(cons, cat, v); msg != "" {
			p.constraintViolated(c, cons, c.at(n), l, msg)
		}
	}
	if d.dt != nil {
		for _, cons := range d.dt.Constraints {
			if msg := p.violation(cons, cat, v); msg != "" {
				p.errorf(CodeConstraint, c.at(n), "%s: %s", l, msg)
			}
		}
	}
	return v
}

// constraintViolated reports a violated constraint of a value's definition.
func (p *processor) constraintViolated(c *vctx, cons *Constraint, at Position, l *loc, msg string) {
	if c.flavourID && cons.Operator == "valid_values" {
		p.warnf(CodeLenientFlavourID, at, "%s: %s; accepted because tosca-parser does not check the properties of substitution_mappings", l, msg)
		return
	}
	p.errorf(CodeConstraint, at, "%s: %s", l, msg)
}

var catNoun = &lazy.Value[map[category]string]{Build: func() map[category]string {
	return map[category]string{
		catString: "a string", catInteger: "an integer", catFloat: "a float", catBool: "a boolean",
		catTimestamp: "a timestamp", catNull: "null", catVersion: "a version", catRange: "a range [lower, upper]",
		catSize: "a scalar-unit.size", catTime: "a scalar-unit.time", catFrequency: "a scalar-unit.frequency",
		catBitrate: "a scalar-unit.bitrate", catList: "a list", catMap: "a map",
	}
}}

// checkShape checks the shape of a value; ok is false after a type error.
func (p *processor) checkShape(n *yaml.Node, cat category, d vdef, l *loc, c *vctx) (any, bool) {
	mismatch := func() (any, bool) {
		if cat != catMap && cat != catComplex && n.Kind == yaml.MappingNode && len(n.Content) == 2 && looksLikeFunction(n.Content[0].Value) {
			p.errorf(CodeUnknownFunction, c.at(n), "%s: unknown function %s", l, n.Content[0].Value)
			return plain(n), false
		}
		noun := catNoun.Get()[cat]
		if cat == catComplex {
			noun = "a mapping of the properties of " + d.dt.Name
		}
		p.errorf(CodeTypeMismatch, c.at(n), "%s: %s is not %s", l, describeNode(n), noun)
		return plain(n), false
	}
	lenient := func(v any) (any, bool) {
		p.warnf(CodeLenientValue, c.at(n), "%s: %s is a string where %s is expected; read as %v, as tosca-parser does", l, describeNode(n), catNoun.Get()[cat], v)
		return v, true
	}
	scalar := n.Kind == yaml.ScalarNode
	switch cat {
	case catUnknown:
		return p.plainFn(n, l, c), true
	case catString:
		if scalar && n.Tag == tagStr {
			return n.Value, true
		}
	case catInteger:
		if scalar && (n.Tag == tagInt || n.Tag == tagStr) {
			if i, err := parseInt(n.Value); err == nil {
				if n.Tag == tagStr {
					return lenient(i)
				}
				return i, true
			}
		}
	case catFloat:
		if scalar && (n.Tag == tagInt || n.Tag == tagFloat || n.Tag == tagStr) {
			if f, err := parseFloat(n.Value); err == nil {
				if n.Tag == tagStr {
					return lenient(f)
				}
				return f, true
			}
		}
	case catBool:
		if scalar && n.Tag == tagBool {
			b, _ := parseBool(n.Value)
			return b, true
		}
		if scalar && n.Tag == tagStr {
			if b, ok := yaml11Bool(n.Value); ok {
				p.warnf(CodeLenientValue, c.at(n), "%s: %q is a YAML 1.1 boolean; read as %v, as tosca-parser does (write true or false)", l, n.Value, b)
				return b, true
			}
		}
	case catNull:
		if scalar && n.Tag == tagNull {
			return nil, true
		}
	case catTimestamp, catVersion, catSize, catTime, catFrequency, catBitrate:
		if !scalar || n.Tag == tagNull || n.Tag == tagBool {
			break
		}
		if _, err := normPlain(cat, n.Value); err != nil {
			p.errorf(CodeTypeMismatch, c.at(n), "%s: %v", l, err)
			return n.Value, false
		}
		return n.Value, true
	case catRange:
		return p.checkRange(n, l, c)
	case catList:
		if n.Kind != yaml.SequenceNode {
			break
		}
		out := make([]any, len(n.Content))
		ed := schemaDef(d.entry)
		for i, e := range n.Content {
			if d.entry == nil {
				out[i] = p.plainFn(e, l, c)
				continue
			}
			out[i] = p.check(e, ed, &loc{parent: l, kind: locIndex, index: i}, c)
		}
		return out, true
	case catMap:
		if n.Kind != yaml.MappingNode {
			break
		}
		out := make(map[string]any, len(n.Content)/2)
		ed := schemaDef(d.entry)
		for k, e := range entries(n) {
			el := &loc{parent: l, kind: locKey, text: k.Value}
			if d.key != nil {
				p.checkKey(k, d.key, el, c)
			}
			if d.entry == nil {
				out[k.Value] = p.plainFn(e, l, c)
				continue
			}
			out[k.Value] = p.check(e, ed, el, c)
		}
		return out, true
	case catComplex:
		if n.Kind != yaml.MappingNode {
			break
		}
		return p.checkData(n, d.dt, l, c), true
	}
	return mismatch()
}

// checkKey checks a map key against a key_schema. Keys are strings in
// TOSCA; a YAML key written as a number is checked by its text.
func (p *processor) checkKey(k *yaml.Node, s *Schema, l *loc, c *vctx) {
	cat := p.category(s.Type, s.DataType)
	if cat == catString && k.Kind == yaml.ScalarNode {
		for _, cons := range s.Constraints {
			if msg := p.violation(cons, cat, k.Value); msg != "" {
				p.errorf(CodeConstraint, c.at(k), "the key of %s: %s", l, msg)
			}
		}
		return
	}
	p.check(k, schemaDef(s), &loc{text: "the key of " + l.String()}, c)
}

func (p *processor) checkRange(n *yaml.Node, l *loc, c *vctx) (any, bool) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		p.errorf(CodeTypeMismatch, c.at(n), "%s: %s is not a range [lower, upper]", l, describeNode(n))
		return plain(n), false
	}
	out := make([]any, 2)
	for i, b := range n.Content {
		b = deref(b)
		if i == 1 && b.Kind == yaml.ScalarNode && b.Value == "UNBOUNDED" {
			out[i] = "UNBOUNDED"
			continue
		}
		v, err := parseInt(b.Value)
		if b.Kind != yaml.ScalarNode || b.Tag != tagInt || err != nil {
			p.errorf(CodeTypeMismatch, c.at(b), "%s: the bound %s of a range is not an integer", l, describeNode(b))
			return plain(n), false
		}
		out[i] = v
	}
	if _, _, err := ParseRange(out); err != nil {
		p.errorf(CodeTypeMismatch, c.at(n), "%s: %v", l, err)
		return out, false
	}
	return out, true
}

// checkData checks the properties of a data type value: unknown keys,
// values, required properties, defaults applied.
func (p *processor) checkData(n *yaml.Node, dt *Type, l *loc, c *vctx) map[string]any {
	out := make(map[string]any, len(dt.Properties))
	for k, v := range entries(n) {
		pd := dt.Properties[k.Value]
		if pd == nil {
			p.errorf(CodeUnknownProperty, c.at(k), "%s: %q is not a property of %s", l, k.Value, dt.Name)
			continue
		}
		if isNull(v) && p.category(pd.Type, pd.DataType) != catNull {
			p.warnf(CodeNullValue, c.at(v), "%s: the value of %q is null; read as not set, as tosca-parser does", l, k.Value)
			continue
		}
		out[k.Value] = p.check(v, pdDef(pd), &loc{kind: locProp, text: k.Value, owner: dt.Name}, c)
	}
	var missing []string
	for name, pd := range dt.Properties {
		if _, set := out[name]; set {
			continue
		}
		if dv := p.defaultOf(pd); dv != nil {
			out[name] = copyPlain(dv.V)
			continue
		}
		if pd.Required {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		for _, name := range missing {
			p.errorf(CodeMissingProperty, c.at(n), "%s: the required property %q of %s is missing", l, name, dt.Name)
		}
	}
	return out
}

// assignSpec describes a set of property or attribute assignments.
type assignSpec struct {
	what     string   // `node template "VDU1"`
	typeName string   // the type declaring the definitions
	at       Position // where missing required properties are reported
	attrs    bool     // attributes: nothing is required
	// missing is the severity of a missing required property; "" for none.
	missing     Severity
	missingCode string
	missingNote string
}

// assign checks the assignments of n (a mapping, or null) against defs and
// applies defaults. fc is the function context (nil: no functions).
func (p *processor) assign(f *srcFile, defs map[string]*PropertyDef, n *yaml.Node, what string, fc *fnCtx, attrs bool) map[string]*Value {
	return p.assignWith(f, defs, n, fc, assignSpec{what: what, attrs: attrs, at: posOf(f.name, n), missing: SeverityError, missingCode: CodeMissingProperty})
}

func (p *processor) assignWith(f *srcFile, defs map[string]*PropertyDef, n *yaml.Node, fc *fnCtx, s assignSpec) map[string]*Value {
	out := make(map[string]*Value, len(defs))
	noun := "property"
	if s.attrs {
		noun = "attribute"
	}
	if !isNull(n) && !isMapping(n) {
		p.errorf(CodeSyntax, posOf(f.name, n), "%s: %s must be a mapping, not %s", s.what, noun+" assignments", describeNode(n))
		n = nil
	}
	for k, v := range entries(n) {
		pd := defs[k.Value]
		if pd == nil {
			code := CodeUnknownProperty
			owner := s.typeName
			if owner == "" {
				owner = "its type"
			}
			p.errorf(code, posOf(f.name, k), "%s: %q is not %s %s of %s", s.what, k.Value, article(noun), noun, owner)
			continue
		}
		if isNull(v) && p.category(pd.Type, pd.DataType) != catNull {
			p.warnf(CodeNullValue, posOf(f.name, v), "%s: the value of %s %q is null; read as not set, as tosca-parser does", s.what, noun, k.Value)
			continue
		}
		if pd.Status == "deprecated" || pd.Status == "unsupported" {
			p.warnf(CodeStatus, posOf(f.name, k), "%s: the %s %q is %s", s.what, noun, k.Value, pd.Status)
		}
		c := &vctx{file: f, fc: fc}
		l := &loc{text: noun + " " + strconv.Quote(k.Value) + " of " + s.what}
		val := &Value{V: p.check(v, pdDef(pd), l, c), Type: pd.Type, Pos: posOf(f.name, v)}
		if c.hasFn {
			p.funcs = append(p.funcs, &valueRef{v: val})
		}
		out[k.Value] = val
	}
	var missing []string
	for name, pd := range defs {
		if _, set := out[name]; set {
			continue
		}
		if dv := p.defaultOf(pd); dv != nil {
			out[name] = &Value{V: copyPlain(dv.V), Type: dv.Type, Pos: dv.Pos}
			continue
		}
		if pd.Required && !s.attrs && s.missing != "" {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		owner := ""
		if s.typeName != "" {
			owner = " of " + s.typeName
		}
		p.pl.add(s.missing, s.missingCode, s.at, "%s: the required property %q%s is missing%s", s.what, name, owner, s.missingNote)
	}
	return out
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

// defaultOf returns the checked default of a definition, checking it the
// first time it is needed.
func (p *processor) defaultOf(pd *PropertyDef) *Value {
	info := p.defaults[pd]
	if info == nil || info.state == 2 {
		return pd.Default
	}
	if info.state == 1 {
		return nil // a default that needs itself (recursive data types)
	}
	info.state = 1
	if parent := info.inherited; parent != nil {
		pd.Default = p.defaultOf(parent)
		if pd.Default != nil {
			cat := p.category(pd.Type, pd.DataType)
			for _, c := range pd.Constraints {
				if p.violation(c, cat, pd.Default.V) != "" {
					pd.Default = nil
					break
				}
			}
		}
	} else if isNull(info.node) {
		pd.Default = nil
	} else {
		c := &vctx{file: info.file}
		v := p.check(info.node, pdDef(pd), &loc{text: info.owner}, c)
		pd.Default = &Value{V: v, Type: pd.Type, Pos: posOf(info.file.name, info.node)}
	}
	info.state = 2
	return pd.Default
}

// typeValues checks the defaults of every type built since the last call
// (phase 6).
func (p *processor) typeValues() {
	for p.checked < len(p.building) {
		t := p.building[p.checked].t
		p.checked++
		for _, pd := range t.Properties {
			p.defaultOf(pd)
		}
		for _, pd := range t.Attributes {
			p.defaultOf(pd)
		}
		for _, cd := range t.Capabilities {
			for _, pd := range cd.Properties {
				p.defaultOf(pd)
			}
			for _, pd := range cd.Attributes {
				p.defaultOf(pd)
			}
		}
		for _, id := range t.Interfaces {
			for _, pd := range id.Inputs {
				p.defaultOf(pd)
			}
			for _, op := range id.Operations {
				for _, pd := range op.InputDefs {
					p.defaultOf(pd)
				}
			}
		}
	}
}

// copyPlain copies plain data so results never share a default's lists or
// maps.
func copyPlain(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyPlain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyPlain(e)
		}
		return out
	}
	return v
}

// plainNode turns a plain value back into a node (at pos), so a value a
// function produced is checked by the same code as a written one.
func plainNode(v any, line, col int) *yaml.Node {
	n := &yaml.Node{Line: line, Column: col}
	switch x := v.(type) {
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagNull, "null"
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagBool, strconv.FormatBool(x)
	case int64:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagInt, strconv.FormatInt(x, 10)
	case float64:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagFloat, strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagStr, x
	case []any:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		for _, e := range x {
			n.Content = append(n.Content, plainNode(e, line, col))
		}
	case map[string]any:
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, plainNode(k, line, col), plainNode(x[k], line, col))
		}
	default:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tagStr, fmt.Sprint(x)
	}
	return n
}

// plainFn is plain data for a value without type, except that function
// calls become placeholders where functions are allowed: untyped values
// (operation inputs, outputs without type) still get them evaluated.
func (p *processor) plainFn(n *yaml.Node, l *loc, c *vctx) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	if c.fc != nil {
		if name, ok := functionName(n); ok {
			return p.functionValue(n, name, vdef{}, l, c)
		}
	}
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, e := range n.Content {
			out[i] = p.plainFn(e, l, c)
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for k, e := range entries(n) {
			out[k.Value] = p.plainFn(e, l, c)
		}
		return out
	}
	return plainScalar(n)
}
