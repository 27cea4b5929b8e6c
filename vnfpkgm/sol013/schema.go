package sol013

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of an attribute in a Schema.
type Kind int

// The kinds of attribute a Schema describes.
const (
	KindInvalid  Kind = iota // the zero Schema: no schema
	KindString               // any string
	KindNumber               // a JSON number
	KindInteger              // a JSON number without a fractional part
	KindBoolean              // true or false
	KindEnum                 // a string out of a fixed set
	KindDateTime             // an RFC 3339 date-time string
	KindObject               // a structure with named attributes
	KindArray                // an array of one kind of element
	KindFreeForm             // a map with arbitrary content (KeyValuePairs such as userDefinedData)
)

var kindNames = [...]string{"invalid", "string", "number", "integer", "boolean", "enumeration", "date-time", "structure", "array", "free-form map"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Schema describes the attribute tree of a resource type, for validating the
// attribute names and values of filters and selectors. Build one with the
// constructors, e.g.
//
//	var pkgSchema = sol013.Object(sol013.Fields{
//		"id":              sol013.String(),
//		"onboardingState": sol013.Enum("CREATED", "UPLOADING", "PROCESSING", "ONBOARDED", "ERROR"),
//		"checksum":        sol013.Object(sol013.Fields{"algorithm": sol013.String(), "hash": sol013.String()}),
//		"softwareImages": sol013.ArrayOf(sol013.Object(sol013.Fields{
//			"size": sol013.Integer(),
//		})),
//		"userDefinedData": sol013.FreeForm(),
//	})
//
// A path goes through arrays transparently: "softwareImages/size" names the
// size of the elements of softwareImages. The zero Schema means "no schema".
type Schema struct {
	kind   Kind
	fields map[string]Schema
	elem   *Schema
	enum   []string
}

// Fields names the attributes of an Object schema.
type Fields map[string]Schema

// String is a string attribute.
func String() Schema { return Schema{kind: KindString} }

// Number is a numeric attribute.
func Number() Schema { return Schema{kind: KindNumber} }

// Integer is an integral numeric attribute.
func Integer() Schema { return Schema{kind: KindInteger} }

// Boolean is a boolean attribute.
func Boolean() Schema { return Schema{kind: KindBoolean} }

// DateTime is an RFC 3339 date-time string attribute.
func DateTime() Schema { return Schema{kind: KindDateTime} }

// Enum is a string attribute limited to the given values.
func Enum(values ...string) Schema {
	return Schema{kind: KindEnum, enum: append([]string(nil), values...)}
}

// Object is a structure with the given attributes.
func Object(fields Fields) Schema {
	m := make(map[string]Schema, len(fields))
	for k, v := range fields {
		m[k] = v
	}
	return Schema{kind: KindObject, fields: m}
}

// ArrayOf is an array whose elements are described by elem.
func ArrayOf(elem Schema) Schema { return Schema{kind: KindArray, elem: &elem} }

// FreeForm is a map with arbitrary content: any sub-path is accepted and any
// value, as for KeyValuePairs attributes like userDefinedData.
func FreeForm() Schema { return Schema{kind: KindFreeForm} }

// Kind returns the kind of s.
func (s Schema) Kind() Kind { return s.kind }

// IsZero reports whether s is the zero Schema (no schema).
func (s Schema) IsZero() bool { return s.kind == KindInvalid }

// EnumValues returns the allowed values of an Enum schema.
func (s Schema) EnumValues() []string { return s.enum }

// Elem returns the element schema of an ArrayOf schema and the zero Schema otherwise.
func (s Schema) Elem() Schema {
	if s.elem == nil {
		return Schema{}
	}
	return *s.elem
}

// Field returns the schema of the named attribute of an Object schema.
func (s Schema) Field(name string) (Schema, bool) {
	f, ok := s.fields[name]
	return f, ok
}

// FieldNames returns the sorted attribute names of an Object schema.
func (s Schema) FieldNames() []string {
	names := make([]string, 0, len(s.fields))
	for k := range s.fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (s Schema) deref() Schema {
	for s.kind == KindArray && s.elem != nil {
		s = *s.elem
	}
	return s
}

// Lookup returns the schema of the attribute at the '/'-separated path,
// passing through arrays. A path ending at an array yields the array's schema.
// It returns an error naming the first segment that does not exist.
func (s Schema) Lookup(attr string) (Schema, error) {
	return s.lookup(strings.Split(attr, "/"))
}

func (s Schema) lookup(path []string) (Schema, error) {
	cur := s
	for i, seg := range path {
		d := cur.deref()
		switch d.kind {
		case KindFreeForm:
			return d, nil
		case KindObject:
			next, ok := d.fields[seg]
			if !ok {
				if i == 0 {
					return Schema{}, fmt.Errorf("unknown attribute %q", seg)
				}
				parent := strings.Join(path[:i], "/")
				return Schema{}, fmt.Errorf("unknown attribute %q: %s has no attribute %q (it has %s)",
					strings.Join(path, "/"), parent, seg, strings.Join(d.FieldNames(), ", "))
			}
			cur = next
		default:
			parent := strings.Join(path[:i], "/")
			return Schema{}, fmt.Errorf("unknown attribute %q: %s is a %s and has no attributes",
				strings.Join(path, "/"), parent, d.kind)
		}
	}
	return cur, nil
}

// Known reports whether attr is a '/'-separated path of s; it suits LegacyFilter.
func (s Schema) Known(attr string) bool {
	if s.IsZero() {
		return false
	}
	if msg, _ := checkAttr(attr); msg != "" {
		return false
	}
	_, err := s.Lookup(attr)
	return err == nil
}

// Validate checks every term of f against schema: the attribute must exist
// and end at a simple attribute (not a structure; a free-form map accepts any
// sub-path), the operator must apply to its kind (ordering not on booleans and
// enumerations, cont/ncont on strings only), and every value must be of the
// attribute's kind (a number for a number, an integer for an integer, true or
// false for a boolean, an allowed value for an enumeration with
// eq/neq/in/nin, an RFC 3339 date-time for a date-time). The error is a
// *FilterError whose Pos is the column of the offending name or value. A nil
// filter or a zero schema is valid.
func (f *Filter) Validate(schema Schema) error {
	if f == nil || schema.IsZero() {
		return nil
	}
	for i := range f.Terms {
		if err := f.Terms[i].validate(schema); err != nil {
			return err
		}
	}
	return nil
}

func (t *Term) validate(schema Schema) error {
	attrErr := func(msg string) error { return &FilterError{Pos: t.attrPos, Msg: msg} }
	valErr := func(i int, msg string) error {
		pos := t.Pos
		if i < len(t.valPos) {
			pos = t.valPos[i]
		}
		return &FilterError{Pos: pos, Msg: msg}
	}
	if msg, _ := checkAttr(t.Attr); msg != "" {
		return attrErr(fmt.Sprintf("attribute %q: %s", t.Attr, msg))
	}
	s, err := schema.Lookup(t.Attr)
	if err != nil {
		return attrErr(err.Error())
	}
	s = s.deref()
	kind := s.kind
	switch kind {
	case KindFreeForm, KindString:
		return nil
	case KindObject:
		return attrErr(fmt.Sprintf("attribute %q is a structure; filter on one of its attributes (%s)",
			t.Attr, strings.Join(s.FieldNames(), ", ")))
	}
	op := t.Op.positive()
	if op == Cont && kind != KindEnum && kind != KindDateTime {
		return attrErr(fmt.Sprintf("operator %s applies to strings; attribute %q is a %s", t.Op, t.Attr, kind))
	}
	if t.Op.Ordering() && (kind == KindBoolean || kind == KindEnum) {
		return attrErr(fmt.Sprintf("operator %s does not apply to attribute %q, a %s", t.Op, t.Attr, kind))
	}
	for i, v := range t.Values {
		switch kind {
		case KindNumber:
			if !isJSONNumber(v) {
				return valErr(i, fmt.Sprintf("attribute %q is a number; %q is not a number", t.Attr, v))
			}
		case KindInteger:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil || !isJSONNumber(v) {
				return valErr(i, fmt.Sprintf("attribute %q is an integer; %q is not an integer", t.Attr, v))
			}
		case KindBoolean:
			if _, ok := parseBool(v); !ok {
				return valErr(i, fmt.Sprintf("attribute %q is a boolean; %q is neither true nor false", t.Attr, v))
			}
		case KindEnum:
			if op == Cont {
				continue
			}
			if !slices.Contains(s.enum, v) {
				return valErr(i, fmt.Sprintf("%q is not a valid value of %q (allowed: %s)", v, t.Attr, strings.Join(s.enum, ", ")))
			}
		case KindDateTime:
			if op == Cont {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return valErr(i, fmt.Sprintf("attribute %q is a date-time; %q is not an RFC 3339 date-time (e.g. 2024-01-31T12:00:00Z)", t.Attr, v))
			}
		}
	}
	return nil
}

// isJSONNumber reports whether s is a number in JSON syntax (no hex, no
// leading '+', no NaN or Inf).
func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	return json.Valid([]byte(s))
}
