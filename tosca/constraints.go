package tosca

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// Constraints: every operator of TOSCA 1.2 and 1.3 (equal, greater_than,
// greater_or_equal, less_than, less_or_equal, in_range, valid_values,
// length, min_length, max_length, pattern, schema). Operands are read as
// values of the constrained type once, when the definition is built, so
// scalar units compare by their normalised value (1 GB > 512 MiB), versions
// and timestamps by their meaning, numbers numerically.
//
// pattern must match the whole string (TOSCA 1.3 says the value must match
// the expression; tosca-parser's re.match anchors only the start). schema
// (TOSCA 1.3) names a schema language this processor does not evaluate: a
// warning says so where the constraint is defined.

// category is the shape of values of a type.
type category uint8

const (
	catUnknown category = iota
	catString
	catInteger
	catFloat
	catBool
	catTimestamp
	catNull
	catVersion
	catRange
	catSize
	catTime
	catFrequency
	catBitrate
	catList
	catMap
	catComplex // a data type with properties
)

var primitiveCat = &lazy.Value[map[string]category]{Build: func() map[string]category {
	return map[string]category{
		"string": catString, "integer": catInteger, "float": catFloat, "boolean": catBool,
		"timestamp": catTimestamp, "null": catNull, "version": catVersion, "range": catRange,
		"list": catList, "map": catMap,
		"scalar-unit.size": catSize, "scalar-unit.time": catTime,
		"scalar-unit.frequency": catFrequency, "scalar-unit.bitrate": catBitrate,
	}
}}

// category of a type given by name and, for data types, by its Type.
func (p *processor) category(typeName string, dt *Type) category {
	if dt == nil {
		return primitiveCat.Get()[typeName]
	}
	if base := p.primitiveBase(dt); base != "" {
		return primitiveCat.Get()[base]
	}
	return catComplex
}

func (c category) scalarKind() (scalarKind, bool) {
	switch c {
	case catSize:
		return scalarSize, true
	case catTime:
		return scalarTime, true
	case catFrequency:
		return scalarFrequency, true
	case catBitrate:
		return scalarBitrate, true
	}
	return 0, false
}

func (c category) ordered() bool {
	switch c {
	case catString, catInteger, catFloat, catTimestamp, catVersion, catSize, catTime, catFrequency, catBitrate, catUnknown:
		return true
	}
	return false
}

// cval is a value normalised for comparison.
type cval struct {
	k byte // 'f' number, 'v' version, 't' time, 's' string, 'x' anything else
	f float64
	v Version
	t time.Time
	s string
	x any
}

type compiledConstraint struct {
	args      []cval
	unbounded bool // in_range with an UNBOUNDED upper bound
	n         int  // length operators
	re        *regexp.Regexp
	skip      bool // invalid or not evaluated
}

// constraints builds and compiles constraint clauses for a type.
func (p *processor) constraints(f *srcFile, raws []*rawConstraint, cat category, typeName string) []*Constraint {
	if len(raws) == 0 {
		return nil
	}
	out := make([]*Constraint, 0, len(raws))
	for _, r := range raws {
		c := &Constraint{Operator: r.op, Pos: r.pos, Args: make([]any, len(r.args))}
		for i, a := range r.args {
			c.Args[i] = plain(a)
		}
		p.compiled[c] = p.compile(f, r, cat, typeName)
		out = append(out, c)
	}
	return out
}

func (p *processor) compile(f *srcFile, r *rawConstraint, cat category, typeName string) *compiledConstraint {
	cc := &compiledConstraint{}
	bad := func(format string, args ...any) *compiledConstraint {
		p.errorf(CodeInvalidConstraint, r.pos, "%s: "+format, append([]any{r.op}, args...)...)
		cc.skip = true
		return cc
	}
	typeDesc := typeName
	if typeDesc == "" {
		typeDesc = "this type"
	}
	switch r.op {
	case "equal", "valid_values":
		for _, a := range r.args {
			v, err := normNode(cat, a)
			if err != nil {
				return bad("%v", err)
			}
			cc.args = append(cc.args, v)
		}
	case "greater_than", "greater_or_equal", "less_than", "less_or_equal", "in_range":
		if cat == catRange && r.op == "in_range" {
			cat = catInteger // the bounds of a range value must lie in the range
		}
		if !cat.ordered() {
			return bad("values of %s cannot be ordered", typeDesc)
		}
		for i, a := range r.args {
			if r.op == "in_range" && i == 1 && isScalar(a) && deref(a).Value == "UNBOUNDED" {
				cc.unbounded = true
				cc.args = append(cc.args, cval{k: 'f', f: math.Inf(1)})
				continue
			}
			v, err := normNode(cat, a)
			if err != nil {
				return bad("%v", err)
			}
			if v.k == 'x' {
				return bad("%s cannot be ordered", describeNode(a))
			}
			cc.args = append(cc.args, v)
		}
		if r.op == "in_range" && !cc.unbounded {
			if c, ok := compareC(cc.args[0], cc.args[1]); ok && c > 0 {
				return bad("the lower bound is above the upper bound")
			}
		}
	case "length", "min_length", "max_length":
		switch cat {
		case catString, catList, catMap, catUnknown, catComplex:
		default:
			return bad("values of %s have no length", typeDesc)
		}
		a := deref(r.args[0])
		n, err := parseInt(a.Value)
		if err != nil || a.Tag != tagInt || n < 0 {
			return bad("the length must be a non-negative integer, not %s", describeNode(a))
		}
		cc.n = int(n)
	case "pattern":
		if cat != catString && cat != catUnknown {
			return bad("only strings can match a pattern, not values of %s", typeDesc)
		}
		a := deref(r.args[0])
		if !isScalar(a) {
			return bad("the pattern must be a string")
		}
		re, err := compilePattern(a.Value)
		if err != nil {
			return bad("%q is not a valid regular expression: %v", a.Value, err)
		}
		cc.re = re
	case "schema":
		p.warnf(CodeInvalidConstraint, r.pos, "schema constraints are not evaluated by this processor; values are not checked against it")
		cc.skip = true
	}
	return cc
}

var patternCache sync.Map // pattern -> *regexp.Regexp

func compilePattern(s string) (*regexp.Regexp, error) {
	if re, ok := patternCache.Load(s); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		return nil, err
	}
	patternCache.Store(s, re)
	return re, nil
}

// normNode reads a constraint operand as a value of the category.
func normNode(cat category, n *yaml.Node) (cval, error) {
	n = deref(n)
	if n == nil {
		return cval{}, fmt.Errorf("missing operand")
	}
	if n.Kind != yaml.ScalarNode {
		return cval{k: 'x', x: plain(n)}, nil
	}
	switch cat {
	case catInteger, catFloat:
		if n.Tag != tagInt && n.Tag != tagFloat {
			return cval{}, fmt.Errorf("%s is not a number", describeNode(n))
		}
	case catString:
		return cval{k: 's', s: n.Value}, nil
	}
	return normPlain(cat, plainScalarText(n, cat))
}

// plainScalarText is a scalar's plain value, except for the categories
// whose values are read from their text (versions, scalar units,
// timestamps): `1.0` is the version "1.0", not the float 1.
func plainScalarText(n *yaml.Node, cat category) any {
	switch cat {
	case catVersion, catTimestamp, catSize, catTime, catFrequency, catBitrate:
		return n.Value
	}
	return plainScalar(n)
}

// normPlain reads a plain value (as Value.V holds it) as a value of the
// category.
func normPlain(cat category, v any) (cval, error) {
	if sk, ok := cat.scalarKind(); ok {
		s, isStr := v.(string)
		if !isStr {
			return cval{}, fmt.Errorf("%v is not a %s", v, sk)
		}
		f, err := parseScalar(s, sk)
		if err != nil {
			return cval{}, err
		}
		return cval{k: 'f', f: f}, nil
	}
	switch cat {
	case catVersion:
		s := fmt.Sprint(v)
		ver, err := ParseVersion(s)
		if err != nil {
			return cval{}, err
		}
		return cval{k: 'v', v: ver}, nil
	case catTimestamp:
		s := fmt.Sprint(v)
		t, err := ParseTimestamp(s)
		if err != nil {
			return cval{}, err
		}
		return cval{k: 't', t: t}, nil
	}
	switch x := v.(type) {
	case int64:
		return cval{k: 'f', f: float64(x)}, nil
	case float64:
		return cval{k: 'f', f: x}, nil
	case string:
		return cval{k: 's', s: x}, nil
	}
	return cval{k: 'x', x: v}, nil
}

// compareC orders two normalised values; ok is false when they cannot be
// compared (different shapes).
func compareC(a, b cval) (int, bool) {
	if a.k != b.k {
		return 0, false
	}
	switch a.k {
	case 'f':
		switch {
		case a.f < b.f:
			return -1, true
		case a.f > b.f:
			return 1, true
		}
		return 0, true
	case 'v':
		return a.v.Compare(b.v), true
	case 't':
		return a.t.Compare(b.t), true
	case 's':
		return strings.Compare(a.s, b.s), true
	}
	if equalPlain(a.x, b.x) {
		return 0, true
	}
	return 0, false
}

func equalC(a, b cval) bool {
	c, ok := compareC(a, b)
	return ok && c == 0
}

// equalPlain compares plain values; numbers compare numerically.
func equalPlain(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalPlain(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalPlain(v, w) {
				return false
			}
		}
		return true
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case float64:
		switch y := b.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y
		}
		return false
	}
	return a == b
}

// violation checks a value against a constraint: "" when satisfied, else
// the end of a message ("\"blake2b\" is not one of the valid values [...]").
func (p *processor) violation(c *Constraint, cat category, v any) string {
	cc := p.compiled[c]
	if cc == nil || cc.skip || v == nil {
		return ""
	}
	switch c.Operator {
	case "length", "min_length", "max_length":
		n, ok := length(v)
		if !ok {
			return ""
		}
		switch {
		case c.Operator == "length" && n != cc.n:
			return fmt.Sprintf("%s has length %d, not %d", fmtValue(v), n, cc.n)
		case c.Operator == "min_length" && n < cc.n:
			return fmt.Sprintf("%s has length %d, below the minimum length %d", fmtValue(v), n, cc.n)
		case c.Operator == "max_length" && n > cc.n:
			return fmt.Sprintf("%s has length %d, above the maximum length %d", fmtValue(v), n, cc.n)
		}
		return ""
	case "pattern":
		s, ok := v.(string)
		if ok && !cc.re.MatchString(s) {
			return fmt.Sprintf("%s does not match the pattern %q", fmtValue(v), fmt.Sprint(c.Args[0]))
		}
		return ""
	}
	if cat == catRange && c.Operator == "in_range" {
		lo, hi, err := ParseRange(v)
		if err != nil {
			return ""
		}
		in := func(x int64) bool {
			f := float64(x)
			if x == Unbounded {
				return cc.unbounded
			}
			return f >= cc.args[0].f && f <= cc.args[1].f
		}
		if !in(lo) || !in(hi) {
			return fmt.Sprintf("the range %s is not within [%s]", fmtValue(v), fmtArgs(c.Args))
		}
		return ""
	}
	val, err := normPlain(cat, v)
	if err != nil {
		return "" // a type error, reported by the type check
	}
	switch c.Operator {
	case "equal":
		if !equalC(val, cc.args[0]) {
			return fmt.Sprintf("%s is not equal to %s", fmtValue(v), fmtArg(c.Args[0]))
		}
	case "valid_values":
		for _, a := range cc.args {
			if equalC(val, a) {
				return ""
			}
		}
		return fmt.Sprintf("%s is not one of the valid values [%s]", fmtValue(v), fmtArgs(c.Args))
	case "greater_than", "greater_or_equal", "less_than", "less_or_equal":
		cmp, ok := compareC(val, cc.args[0])
		if !ok {
			return ""
		}
		fail := map[string]bool{
			"greater_than": cmp <= 0, "greater_or_equal": cmp < 0, "less_than": cmp >= 0, "less_or_equal": cmp > 0,
		}[c.Operator]
		if fail {
			return fmt.Sprintf("%s is not %s %s", fmtValue(v), strings.ReplaceAll(c.Operator, "_", " "), fmtArg(c.Args[0]))
		}
	case "in_range":
		lo, ok1 := compareC(val, cc.args[0])
		hi, ok2 := compareC(val, cc.args[1])
		if cc.unbounded {
			hi, ok2 = -1, true
		}
		if ok1 && ok2 && (lo < 0 || hi > 0) {
			return fmt.Sprintf("%s is not in the range [%s]", fmtValue(v), fmtArgs(c.Args))
		}
	}
	return ""
}

func length(v any) (int, bool) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), true
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	}
	return 0, false
}

// fmtValue shows a checked value in a message: strings quoted.
func fmtValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// fmtArg shows a constraint operand as written.
func fmtArg(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(v)
}

func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmtArg(a)
	}
	return strings.Join(parts, " ")
}
