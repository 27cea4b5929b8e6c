package sol013

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Match reports whether resource satisfies every term of f. A nil filter
// matches everything.
//
// resource is a JSON-like value, ideally what json.Unmarshal gives for the
// resource representation: objects as map[string]any (map[string]string is
// accepted too), arrays as []any ([]string and []map[string]any are accepted
// too), strings, numbers as float64 or json.Number (Go integer and float32
// types are accepted too), bool, nil. Other types (structs, pointers) never
// match a positive term; convert them through encoding/json first.
//
// Semantics, term by term (terms are evaluated independently and ANDed):
//
//   - The attribute path is followed through objects; an array anywhere along
//     the path, including at its end, is searched element by element, and the
//     positive operators (eq, in, cont, gt, lt, gte, lte) match when at least
//     one element reached by the path matches ("an array attribute matches
//     when any element matches", as SOL 013 clause 5.2 is read in
//     CONFORMANCE.md).
//   - neq, nin and ncont are the negations of eq, in and cont over the same
//     set of values: (neq,a/b,x) is true exactly when (eq,a/b,x) is false, so
//     for an array it means "no element equals x", not "some element differs".
//     SOL 013 describes neq as "attribute not equal to <value>" and nin as
//     "not equal to any of the values": for a single value both readings
//     agree; for arrays this one is the useful one (packages with no QCOW2
//     image) and keeps neq/eq, nin/in, ncont/cont exact complements.
//   - An absent attribute (a missing key, JSON null, or a path that runs into
//     a non-object) makes every positive operator false and so neq, nin and
//     ncont true: an attribute that is not there is not equal to the value.
//     SOL 013's operator table speaks only of the attribute's value and does
//     not single out a missing attribute; this is the choice that follows
//     from reading the negated operators as complements.
//   - The comparison follows the type of the resource's value: a string
//     compares as a string (eq/in byte-exact, gt/lt/gte/lte lexicographic, so
//     RFC 3339 timestamps written in the same offset compare in time order,
//     cont substring), a number numerically against the value read as a
//     decimal number (a value that is not a number never equals or orders
//     against it), a boolean against "true"/"false" (any letter case; ordering
//     and cont do not apply). cont on a non-string is false. An object reached
//     at the end of the path never matches.
func (f *Filter) Match(resource any) bool {
	if f == nil {
		return true
	}
	for i := range f.Terms {
		if !f.Terms[i].Match(resource) {
			return false
		}
	}
	return true
}

// Match reports whether resource satisfies the term; see Filter.Match.
func (t *Term) Match(resource any) bool {
	path, vals := t.path, t.vals
	if path == nil || len(vals) != len(t.Values) { // a Term built by hand
		path = strings.Split(t.Attr, "/")
		vals = make([]value, len(t.Values))
		for i, s := range t.Values {
			vals[i] = compileValue(s)
		}
	}
	op := t.Op.positive()
	found := walk(resource, path, op, vals)
	if t.Op.Negated() {
		return !found
	}
	return found
}

// walk follows path from v and tests every leaf reached with the positive
// operator op, stopping at the first that matches. Arrays are searched
// element by element.
func walk(v any, path []string, op Op, vals []value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case map[string]any:
		if len(path) == 0 {
			return test(op, vals, x)
		}
		child, ok := x[path[0]]
		if !ok {
			return false
		}
		return walk(child, path[1:], op, vals)
	case []any:
		for _, e := range x {
			if walk(e, path, op, vals) {
				return true
			}
		}
		return false
	case map[string]string:
		if len(path) != 1 {
			return len(path) == 0 && test(op, vals, x)
		}
		s, ok := x[path[0]]
		return ok && test(op, vals, s)
	case []string:
		if len(path) != 0 {
			return false
		}
		for _, e := range x {
			if test(op, vals, e) {
				return true
			}
		}
		return false
	case []map[string]any:
		for _, e := range x {
			if walk(e, path, op, vals) {
				return true
			}
		}
		return false
	default:
		return len(path) == 0 && test(op, vals, x)
	}
}

// test applies a positive operator to one leaf value.
func test(op Op, vals []value, leaf any) bool {
	switch x := leaf.(type) {
	case string:
		return testString(op, vals, x)
	case bool:
		if op != Eq && op != In {
			return false
		}
		for i := range vals {
			if vals[i].isBool && vals[i].b == x {
				return true
			}
		}
		return false
	case map[string]any, []any, nil:
		return false
	}
	n, ok := number(leaf)
	if !ok {
		return false
	}
	return testNumber(op, vals, n)
}

func testString(op Op, vals []value, s string) bool {
	switch op {
	case Eq, In:
		for i := range vals {
			if vals[i].s == s {
				return true
			}
		}
	case Cont:
		for i := range vals {
			if strings.Contains(s, vals[i].s) {
				return true
			}
		}
	case Gt:
		return s > vals[0].s
	case Lt:
		return s < vals[0].s
	case Gte:
		return s >= vals[0].s
	case Lte:
		return s <= vals[0].s
	}
	return false
}

func testNumber(op Op, vals []value, n float64) bool {
	switch op {
	case Eq, In:
		for i := range vals {
			if vals[i].isNum && vals[i].f == n {
				return true
			}
		}
		return false
	case Cont:
		return false
	}
	v := vals[0]
	if !v.isNum {
		return false
	}
	switch op {
	case Gt:
		return n > v.f
	case Lt:
		return n < v.f
	case Gte:
		return n >= v.f
	case Lte:
		return n <= v.f
	}
	return false
}

// number reads a JSON-like numeric leaf as float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case float32:
		return float64(x), true
	}
	return 0, false
}
