package tosca

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// Phase 8, functions. Phase 6 leaves a placeholder (funcCall) wherever a
// value is an intrinsic function; once every template of every topology is
// built, the placeholders are evaluated and the results checked against the
// type expected where the function is written (problems point at the
// function).
//
//   - get_input: the input's value (its default; there are no deployment
//     inputs at design time), with a nested path of list indexes and keys
//     (TOSCA 1.3); an input without value leaves the function unevaluated;
//   - get_property: SELF, SOURCE and TARGET (relationship contexts), HOST
//     (up the HostedOn requirements), or a node template name; then a
//     property, or a capability or requirement name and a property of it
//     (a requirement leads to its target node template), then a nested path;
//   - concat, join (1.3) and token: evaluated when their arguments are;
//   - get_attribute, get_operation_output, get_artifact and
//     get_nodes_of_type are checked (entity, attribute, interface and
//     operation, artifact, type exist) and kept unevaluated.
//
// A value that stays unevaluated has Value.Function set to the function's
// name and Value.V its arguments; nested inside data it stays in its
// written form, {name: arguments}.

var functionNames = &lazy.Value[map[string]bool]{Build: func() map[string]bool {
	return map[string]bool{
		"get_input": true, "get_property": true, "get_attribute": true, "get_operation_output": true,
		"concat": true, "join": true, "token": true, "get_artifact": true, "get_nodes_of_type": true,
	}
}}

// functionName reports whether n is a function call: a mapping with one
// key that names a function.
func functionName(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return "", false
	}
	k := n.Content[0]
	if k.Kind == yaml.ScalarNode && functionNames.Get()[k.Value] {
		return k.Value, true
	}
	return "", false
}

// looksLikeFunction: a one-key mapping whose key reads like a function
// name, where a scalar was expected, is reported as an unknown function.
func looksLikeFunction(s string) bool {
	return strings.HasPrefix(s, "get_")
}

// fnCtx is what SELF, SOURCE, TARGET and get_input refer to.
type fnCtx struct {
	topo           *topoCtx
	self           *entity
	source, target *NodeTemplate
}

// entity is what a function can read from: a node template, or the
// relationship, group or policy SELF stands for.
type entity struct {
	what               string
	typ                *Type
	props              map[string]*Value
	propDefs, attrDefs map[string]*PropertyDef
	node               *NodeTemplate
}

func nodeEntity(nt *NodeTemplate) *entity {
	e := &entity{what: "node template " + strconv.Quote(nt.Name), typ: nt.Type, props: nt.Properties, node: nt}
	if nt.Type != nil {
		e.propDefs, e.attrDefs = nt.Type.Properties, nt.Type.Attributes
	}
	return e
}

type funcCall struct {
	name      string
	node      *yaml.Node
	args      *yaml.Node
	file      *srcFile
	fc        *fnCtx
	expect    vdef
	where     string
	state     uint8
	result    any
	evaluated bool
}

func (fc *funcCall) at() Position { return posOf(fc.file.name, fc.node) }

// valueRef is a Value holding at least one function.
type valueRef struct {
	v     *Value
	state uint8
}

// functionValue makes the placeholder of a function found by check.
func (p *processor) functionValue(n *yaml.Node, name string, d vdef, l *loc, c *vctx) any {
	if c.fc == nil {
		p.errorf(CodeFunctionContext, c.at(n), "%s: the function %s cannot be used here; a default must be a value", l, name)
		return nil
	}
	c.hasFn = true
	return &funcCall{name: name, node: n, args: n.Content[1], file: c.file, fc: c.fc, expect: d, where: l.String()}
}

// functions evaluates every function left by the earlier phases.
func (p *processor) functions() {
	p.refOf = make(map[*Value]*valueRef, len(p.funcs))
	for _, r := range p.funcs {
		p.refOf[r.v] = r
	}
	for _, r := range p.funcs {
		p.resolveValue(r)
	}
}

// resolveValue evaluates the functions of one value.
func (p *processor) resolveValue(r *valueRef) {
	if r.state != 0 {
		return
	}
	r.state = 1
	defer func() { r.state = 2 }()
	if fc, ok := r.v.V.(*funcCall); ok {
		res, ok := p.eval(fc)
		if !ok {
			r.v.Function, r.v.V = fc.name, plain(fc.args)
			return
		}
		r.v.V = res
		return
	}
	r.v.V = p.resolveTree(r.v.V)
}

// resolveTree replaces the placeholders inside plain data.
func (p *processor) resolveTree(v any) any {
	switch x := v.(type) {
	case *funcCall:
		res, ok := p.eval(x)
		if !ok {
			return map[string]any{x.name: plain(x.args)}
		}
		return res
	case []any:
		for i := range x {
			x[i] = p.resolveTree(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = p.resolveTree(x[k])
		}
	}
	return v
}

// eval evaluates a function once; ok is false when it stays unevaluated.
func (p *processor) eval(fc *funcCall) (any, bool) {
	switch fc.state {
	case 2:
		return fc.result, fc.evaluated
	case 1:
		p.errorf(CodeFunctionCycle, fc.at(), "%s: %s depends on its own value", fc.where, fc.name)
		return nil, false
	}
	fc.state = 1
	res, ok := p.evalFunction(fc)
	if ok && res != nil && !hasUnevaluated(res) {
		res = p.check(plainNode(res, fc.node.Line, fc.node.Column), fc.expect, &loc{text: fc.where}, &vctx{file: fc.file})
	}
	fc.result, fc.evaluated, fc.state = res, ok, 2
	return res, ok
}

// hasUnevaluated reports whether plain data holds a function kept in its
// written form.
func hasUnevaluated(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if hasUnevaluated(e) {
				return true
			}
		}
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if functionNames.Get()[k] {
					return true
				}
			}
		}
		for _, e := range x {
			if hasUnevaluated(e) {
				return true
			}
		}
	}
	return false
}

func (p *processor) argErr(fc *funcCall, format string, args ...any) (any, bool) {
	p.errorf(CodeFunctionArgs, fc.at(), "%s: %s: "+format, append([]any{fc.where, fc.name}, args...)...)
	return nil, false
}

func (p *processor) targetErr(fc *funcCall, format string, args ...any) (any, bool) {
	p.errorf(CodeFunctionTarget, fc.at(), "%s: %s: "+format, append([]any{fc.where, fc.name}, args...)...)
	return nil, false
}

// pathArgs reads a function's list of scalar arguments: strings, and
// integers for list indexes.
func pathArgs(n *yaml.Node) ([]any, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]any, 0, len(n.Content))
	for _, e := range n.Content {
		e = deref(e)
		if e == nil || e.Kind != yaml.ScalarNode || e.Tag == tagNull {
			return nil, false
		}
		if e.Tag == tagInt {
			i, err := parseInt(e.Value)
			if err != nil {
				return nil, false
			}
			out = append(out, i)
			continue
		}
		out = append(out, e.Value)
	}
	return out, true
}

func (p *processor) evalFunction(fc *funcCall) (any, bool) {
	switch fc.name {
	case "get_input":
		return p.getInput(fc)
	case "get_property":
		return p.getProperty(fc)
	case "get_attribute":
		return p.getAttribute(fc)
	case "get_operation_output":
		return p.getOperationOutput(fc)
	case "concat":
		return p.concat(fc)
	case "join":
		return p.join(fc)
	case "token":
		return p.token(fc)
	case "get_artifact":
		return p.getArtifact(fc)
	case "get_nodes_of_type":
		args := deref(fc.args)
		if args != nil && args.Kind == yaml.SequenceNode && len(args.Content) == 1 {
			args = deref(args.Content[0])
		}
		if args == nil || args.Kind != yaml.ScalarNode {
			return p.argErr(fc, "takes a node type name")
		}
		if p.lookup(fc.file, KindNode, args.Value, fc.at()) == nil {
			return p.targetErr(fc, "%s is not a node type", args.Value)
		}
		return nil, false
	}
	return p.argErr(fc, "unknown function")
}

func (p *processor) getInput(fc *funcCall) (any, bool) {
	args := deref(fc.args)
	var name string
	var path []any
	switch {
	case args != nil && args.Kind == yaml.ScalarNode && args.Tag != tagNull:
		name = args.Value
	default:
		pa, ok := pathArgs(args)
		if !ok || len(pa) == 0 {
			return p.argErr(fc, "takes an input name, or a list of an input name and indexes or keys")
		}
		s, isStr := pa[0].(string)
		if !isStr {
			return p.argErr(fc, "the first argument must be an input name")
		}
		name, path = s, pa[1:]
	}
	if fc.fc.topo == nil {
		return p.argErr(fc, "there is no topology here")
	}
	in := fc.fc.topo.t.Inputs[name]
	if in == nil {
		return p.targetErr(fc, "the topology has no input %q", name)
	}
	if in.Value == nil || in.Value.Function != "" {
		return nil, false // no value at design time
	}
	v, err := navigate(in.Value.V, path)
	if err != "" {
		return p.targetErr(fc, "input %q: %s", name, err)
	}
	return copyPlain(v), true
}

// navigate follows list indexes and map keys into plain data.
func navigate(v any, path []any) (any, string) {
	for _, step := range path {
		switch x := v.(type) {
		case []any:
			i, ok := step.(int64)
			if !ok {
				return nil, fmt.Sprintf("%v is not a list index", step)
			}
			if i < 0 || i >= int64(len(x)) {
				return nil, fmt.Sprintf("the index %d is out of range (the list has %d entries)", i, len(x))
			}
			v = x[i]
		case map[string]any:
			k := fmt.Sprint(step)
			e, ok := x[k]
			if !ok {
				return nil, fmt.Sprintf("there is no entry %q", k)
			}
			v = e
		case *funcCall:
			return nil, "the value is a function"
		default:
			return nil, fmt.Sprintf("cannot index %s with %v", fmtValue(v), step)
		}
	}
	return v, ""
}

// entityOf resolves the first argument of get_property and its kin.
func (p *processor) entityOf(fc *funcCall, name string, forProperty string) (*entity, bool) {
	ctx := fc.fc
	switch name {
	case "SELF":
		if ctx.self == nil {
			p.targetErr(fc, "SELF has no meaning here")
			return nil, false
		}
		return ctx.self, true
	case "SOURCE", "TARGET":
		nt := ctx.source
		if name == "TARGET" {
			nt = ctx.target
		}
		if nt == nil {
			p.targetErr(fc, "%s is only defined in a relationship", name)
			return nil, false
		}
		return nodeEntity(nt), true
	case "HOST":
		if ctx.self == nil || ctx.self.node == nil {
			p.targetErr(fc, "HOST is only defined for node templates")
			return nil, false
		}
		host := p.host(ctx.topo, ctx.self.node, forProperty)
		if host == nil {
			p.targetErr(fc, "%s is not hosted on a node template (no HostedOn requirement)", ctx.self.what)
			return nil, false
		}
		return nodeEntity(host), true
	}
	if ctx.topo != nil {
		if nt := ctx.topo.t.NodeTemplates[name]; nt != nil {
			return nodeEntity(nt), true
		}
		if rt := ctx.topo.rels[name]; rt != nil {
			return rt, true
		}
	}
	p.targetErr(fc, "there is no node template %q in this topology", name)
	return nil, false
}

// host follows HostedOn requirements up from nt to the first node that has
// the property (or the first host when prop is "").
func (p *processor) host(topo *topoCtx, nt *NodeTemplate, prop string) *NodeTemplate {
	seen := map[*NodeTemplate]bool{nt: true}
	var first *NodeTemplate
	for cur := nt; cur != nil; {
		var next *NodeTemplate
		for _, ra := range cur.Requirements {
			if p.isHostedOn(cur, ra) && topo != nil {
				next = topo.t.NodeTemplates[ra.Node]
				break
			}
		}
		if next == nil || seen[next] {
			break
		}
		seen[next] = true
		if first == nil {
			first = next
		}
		if prop == "" || next.Properties[prop] != nil {
			return next
		}
		cur = next
	}
	return first
}

func (p *processor) isHostedOn(nt *NodeTemplate, ra *RequirementAssignment) bool {
	rel := ra.Relationship
	if rel == "" && nt.Type != nil {
		if rd := p.reqDef(nt.Type, ra.Name); rd != nil {
			rel = rd.Relationship
		}
	}
	if t := p.st.Types[KindRelationship][rel]; t != nil {
		return t.IsA("tosca.relationships.HostedOn")
	}
	return rel == "tosca.relationships.HostedOn"
}

func (p *processor) getProperty(fc *funcCall) (any, bool) {
	args, ok := pathArgs(fc.args)
	if !ok || len(args) < 2 {
		return p.argErr(fc, "takes a list [entity, (capability or requirement,) property, (nested keys...)]")
	}
	name, _ := args[0].(string)
	first, _ := args[1].(string)
	ent, ok := p.entityOf(fc, name, first)
	if !ok {
		return nil, false
	}
	return p.propertyPath(fc, ent, args[1:], map[*NodeTemplate]bool{})
}

// propertyPath reads [property, nested...] or [capability-or-requirement,
// property, nested...] from an entity.
func (p *processor) propertyPath(fc *funcCall, ent *entity, path []any, seen map[*NodeTemplate]bool) (any, bool) {
	first, ok := path[0].(string)
	if !ok {
		return p.argErr(fc, "%v is not a property name", path[0])
	}
	hasProp := ent.props[first] != nil || ent.propDefs[first] != nil
	if nt := ent.node; nt != nil && len(path) >= 2 && !hasProp {
		if ca := nt.Capabilities[first]; ca != nil {
			prop, _ := path[1].(string)
			capEnt := &entity{what: "capability " + strconv.Quote(first) + " of " + ent.what, typ: ca.Type, props: ca.Properties}
			if cd := nt.Type.Capabilities[first]; cd != nil {
				capEnt.propDefs, capEnt.attrDefs = cd.Properties, cd.Attributes
			}
			return p.valueAt(fc, capEnt, prop, path[2:])
		}
		for _, ra := range nt.Requirements {
			if ra.Name != first {
				continue
			}
			target := fc.fc.topo.t.NodeTemplates[ra.Node]
			if target == nil {
				return p.targetErr(fc, "the requirement %q of %s has no target node template", first, ent.what)
			}
			if seen[target] {
				return p.targetErr(fc, "requirements loop back to %s", target.Name)
			}
			seen[target] = true
			te := nodeEntity(target)
			if next, _ := path[1].(string); next != "" && len(path) >= 3 && target.Capabilities[next] != nil && target.Properties[next] == nil {
				return p.propertyPath(fc, te, path[1:], seen)
			}
			return p.valueAt(fc, te, fmt.Sprint(path[1]), path[2:])
		}
	}
	return p.valueAt(fc, ent, first, path[1:])
}

// valueAt reads a property of an entity, evaluating its own functions
// first, then follows a nested path.
func (p *processor) valueAt(fc *funcCall, ent *entity, prop string, path []any) (any, bool) {
	v := ent.props[prop]
	if v == nil {
		if ent.propDefs[prop] != nil {
			return nil, true // defined, without value
		}
		return p.targetErr(fc, "%s has no property %q", ent.what, prop)
	}
	if r := p.refOf[v]; r != nil {
		if r.state == 1 {
			p.errorf(CodeFunctionCycle, fc.at(), "%s: %s: the property %q of %s depends on its own value", fc.where, fc.name, prop, ent.what)
			return nil, false
		}
		p.resolveValue(r)
	}
	if v.Function != "" || hasUnevaluated(v.V) {
		return nil, false
	}
	res, err := navigate(v.V, path)
	if err != "" {
		return p.targetErr(fc, "property %q of %s: %s", prop, ent.what, err)
	}
	return copyPlain(res), true
}

func (p *processor) getAttribute(fc *funcCall) (any, bool) {
	args, ok := pathArgs(fc.args)
	if !ok || len(args) < 2 {
		return p.argErr(fc, "takes a list [entity, (capability or requirement,) attribute, (nested keys...)]")
	}
	name, _ := args[0].(string)
	attr, _ := args[1].(string)
	ent, ok := p.entityOf(fc, name, "")
	if !ok || ent.typ == nil {
		return nil, false
	}
	// Properties are attributes too (TOSCA 1.3 section 3.6.12).
	has := func(props, attrs map[string]*PropertyDef, a string) bool {
		return attrs[a] != nil || props[a] != nil
	}
	if has(ent.propDefs, ent.attrDefs, attr) {
		return nil, false
	}
	if nt := ent.node; nt != nil && len(args) >= 3 {
		next, _ := args[2].(string)
		if cd := nt.Type.Capabilities[attr]; cd != nil {
			if has(cd.Properties, cd.Attributes, next) {
				return nil, false
			}
			return p.targetErr(fc, "capability %q of %s has no attribute %q", attr, ent.what, next)
		}
		for _, ra := range nt.Requirements {
			if ra.Name == attr {
				if target := fc.fc.topo.t.NodeTemplates[ra.Node]; target != nil && target.Type != nil &&
					!has(target.Type.Properties, target.Type.Attributes, next) {
					return p.targetErr(fc, "node template %q has no attribute %q", target.Name, next)
				}
				return nil, false
			}
		}
	}
	return p.targetErr(fc, "%s has no attribute %q", ent.what, attr)
}

func (p *processor) getOperationOutput(fc *funcCall) (any, bool) {
	args, ok := pathArgs(fc.args)
	if !ok || len(args) != 4 {
		return p.argErr(fc, "takes a list [entity, interface, operation, output]")
	}
	name, _ := args[0].(string)
	iface, _ := args[1].(string)
	op, _ := args[2].(string)
	ent, ok := p.entityOf(fc, name, "")
	if !ok || ent.typ == nil {
		return nil, false
	}
	// The template's interfaces hold what it assigns; the type's, every
	// operation declared.
	var ids []*InterfaceDef
	if ent.node != nil {
		ids = append(ids, ent.node.Interfaces[iface])
	}
	ids = append(ids, ent.typ.Interfaces[iface])
	found := false
	for _, id := range ids {
		if id == nil {
			continue
		}
		found = true
		if id.Operations[op] != nil {
			return nil, false
		}
	}
	if !found {
		return p.targetErr(fc, "%s has no interface %q", ent.what, iface)
	}
	return p.targetErr(fc, "interface %q of %s has no operation %q", iface, ent.what, op)
}

func (p *processor) getArtifact(fc *funcCall) (any, bool) {
	args, ok := pathArgs(fc.args)
	if !ok || len(args) < 2 || len(args) > 4 {
		return p.argErr(fc, "takes a list [entity, artifact, (location, (remove))]")
	}
	name, _ := args[0].(string)
	art, _ := args[1].(string)
	ent, ok := p.entityOf(fc, name, "")
	if !ok {
		return nil, false
	}
	if ent.node == nil || ent.node.Artifacts[art] == nil {
		return p.targetErr(fc, "%s has no artifact %q", ent.what, art)
	}
	return nil, false
}

// stringArg evaluates one argument of concat, join or token to a string.
// ok is false when it stays unevaluated; bad when reported.
func (p *processor) stringArg(fc *funcCall, n *yaml.Node) (s string, ok, bad bool) {
	n = deref(n)
	if n == nil {
		return "", true, false
	}
	if name, isFn := functionName(n); isFn {
		inner := &funcCall{name: name, node: n, args: n.Content[1], file: fc.file, fc: fc.fc, where: fc.where}
		v, ok := p.eval(inner)
		if !ok {
			return "", false, false
		}
		if v == nil {
			return "", true, false
		}
		switch x := v.(type) {
		case string:
			return x, true, false
		case int64, float64, bool:
			return fmt.Sprint(x), true, false
		}
		p.argErr(fc, "the argument %s is not a string", fmtValue(v))
		return "", false, true
	}
	if n.Kind != yaml.ScalarNode {
		p.argErr(fc, "the argument %s is not a string", describeNode(n))
		return "", false, true
	}
	if n.Tag == tagNull {
		return "", true, false
	}
	return n.Value, true, false
}

func (p *processor) concat(fc *funcCall) (any, bool) {
	args := deref(fc.args)
	if args == nil || args.Kind != yaml.SequenceNode || len(args.Content) == 0 {
		return p.argErr(fc, "takes a list of strings")
	}
	var b strings.Builder
	complete := true
	for _, a := range args.Content {
		s, ok, bad := p.stringArg(fc, a)
		if bad {
			return nil, false
		}
		complete = complete && ok
		b.WriteString(s)
	}
	if !complete {
		return nil, false
	}
	return b.String(), true
}

func (p *processor) join(fc *funcCall) (any, bool) {
	args := deref(fc.args)
	if args == nil || args.Kind != yaml.SequenceNode || len(args.Content) < 1 || len(args.Content) > 2 {
		return p.argErr(fc, "takes a list [list of strings, (delimiter)]")
	}
	delim := ""
	if len(args.Content) == 2 {
		d := deref(args.Content[1])
		if d == nil || d.Kind != yaml.ScalarNode {
			return p.argErr(fc, "the delimiter must be a string")
		}
		delim = d.Value
	}
	list := deref(args.Content[0])
	if list == nil || list.Kind != yaml.SequenceNode {
		return p.argErr(fc, "the first argument must be a list of strings")
	}
	parts := make([]string, 0, len(list.Content))
	complete := true
	for _, a := range list.Content {
		s, ok, bad := p.stringArg(fc, a)
		if bad {
			return nil, false
		}
		complete = complete && ok
		parts = append(parts, s)
	}
	if !complete {
		return nil, false
	}
	return strings.Join(parts, delim), true
}

func (p *processor) token(fc *funcCall) (any, bool) {
	args := deref(fc.args)
	if args == nil || args.Kind != yaml.SequenceNode || len(args.Content) != 3 {
		return p.argErr(fc, "takes a list [string, delimiter characters, index]")
	}
	s, ok, bad := p.stringArg(fc, args.Content[0])
	if bad || !ok {
		return nil, false
	}
	d := deref(args.Content[1])
	ix := deref(args.Content[2])
	if d == nil || d.Kind != yaml.ScalarNode || d.Value == "" {
		return p.argErr(fc, "the delimiters must be a non-empty string")
	}
	idx, err := parseInt(ix.Value)
	if ix.Kind != yaml.ScalarNode || ix.Tag != tagInt || err != nil || idx < 0 {
		return p.argErr(fc, "the index must be a non-negative integer")
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d.Value, r) })
	if idx >= int64(len(parts)) {
		return p.targetErr(fc, "%q has %d tokens, no token %d", s, len(parts), idx)
	}
	return parts[idx], true
}
