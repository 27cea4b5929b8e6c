package vnfd

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// This file reads the plain data of tosca.Value (nil, bool, int64, float64,
// string, []any, map[string]any) defensively: a processed template that
// failed type checking still reaches Extract, so every shape is possible.

// val returns a value's data; nil for a missing value and for a function
// that could not be evaluated at design time.
func val(v *tosca.Value) any {
	if v == nil || v.Function != "" {
		return nil
	}
	return v.V
}

// prop returns the named value of a property map (nil-safe).
func prop(m map[string]*tosca.Value, name string) *tosca.Value {
	if m == nil {
		return nil
	}
	return m[name]
}

// pos returns a value's position (nil-safe).
func pos(v *tosca.Value) tosca.Position {
	if v == nil {
		return tosca.Position{}
	}
	return v.Pos
}

// firstPos returns the first position that locates something.
func firstPos(ps ...tosca.Position) tosca.Position {
	for _, p := range ps {
		if p.File != "" || p.Line > 0 {
			return p
		}
	}
	return tosca.Position{}
}

// asMap returns v as a map, nil otherwise.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asList returns v as a list, nil otherwise.
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// field returns m[key] (nil-safe).
func field(m map[string]any, key string) any {
	if m == nil {
		return nil
	}
	return m[key]
}

// asString returns a scalar as a string. Numbers and booleans are
// formatted (a type error the processor reports already, kept readable).
func asString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// str returns a scalar as a string, "" otherwise.
func str(v any) string {
	s, _ := asString(v)
	return s
}

// asInt64 returns an integral number.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 || math.IsNaN(x) {
			return 0, false
		}
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// asInt returns an integral number that fits an int.
func asInt(v any) (int, bool) {
	n, ok := asInt64(v)
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		return 0, false
	}
	return int(n), true
}

// asBool returns a boolean.
func asBool(v any) (bool, bool) {
	b, ok := v.(bool)
	return b, ok
}

// asStrings returns a list of scalars as strings; a single scalar is a
// one-element list.
func asStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := asString(e); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	if s, ok := asString(v); ok {
		return []string{s}
	}
	return nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// before orders positions by file, line, column.
func before(a, b tosca.Position) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Column < b.Column
}

// isURL reports whether an artifact's resolved file is a URL.
func isURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
