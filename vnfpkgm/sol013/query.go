package sol013

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// The URI query parameters that SOL 013 reserves.
const (
	ParamFilter         = "filter"
	ParamAllFields      = "all_fields"
	ParamFields         = "fields"
	ParamExcludeFields  = "exclude_fields"
	ParamExcludeDefault = "exclude_default"
	ParamNextpageMarker = "nextpage_opaque_marker"
)

// IsReserved reports whether name is one of the query parameters SOL 013
// reserves (filter, all_fields, fields, exclude_fields, exclude_default,
// nextpage_opaque_marker).
func IsReserved(name string) bool {
	switch name {
	case ParamFilter, ParamAllFields, ParamFields, ParamExcludeFields, ParamExcludeDefault, ParamNextpageMarker:
		return true
	}
	return false
}

// ParseQuery parses a raw query string like url.ParseQuery but splits on '&'
// only: a ';' is part of the value, as a SOL 013 filter needs. (url.ParseQuery,
// and so http.Request.URL.Query and echo's QueryParams, drop every pair that
// contains a raw ';'.) '+' decodes to a space as in any query string. It
// returns the first decoding error, after parsing the rest.
func ParseQuery(rawQuery string) (url.Values, error) {
	q := url.Values{}
	var firstErr error
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("query parameter %q: %w", k, err)
			}
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("value of query parameter %q: %w", key, err)
			}
			continue
		}
		q[key] = append(q[key], val)
	}
	return q, firstErr
}

// LegacyFilter turns the attribute-named query parameters of the form
// "?vnfProvider=X&vnfdId=Y" (the form the ETSI conformance tests use) into eq
// terms, one per parameter, in name order. A parameter given several times
// ("?a=1&a=2") becomes an "in" term. The reserved parameters (see IsReserved)
// are ignored. A parameter for which known returns false is an error (400);
// a nil known accepts every name. Values are taken literally: no quoting
// applies. It returns nil, nil when there is no such parameter.
func LegacyFilter(q url.Values, known func(attr string) bool) (*Filter, error) {
	names := make([]string, 0, len(q))
	for k := range q {
		if !IsReserved(k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	sort.Strings(names)
	f := &Filter{Terms: make([]Term, 0, len(names))}
	for _, name := range names {
		if msg, _ := checkAttr(name); msg != "" {
			return nil, &FilterError{Msg: fmt.Sprintf("query parameter %q is not an attribute name: %s", name, msg)}
		}
		if known != nil && !known(name) {
			return nil, &FilterError{Msg: fmt.Sprintf("unknown query parameter %q", name)}
		}
		values := q[name]
		op := Eq
		if len(values) > 1 {
			op = In
		}
		t, err := NewTerm(op, name, values...)
		if err != nil {
			return nil, err
		}
		f.Terms = append(f.Terms, t)
	}
	return f, nil
}

// FilterFromQuery builds the filter of a list request: every "filter"
// parameter (several are ANDed) and the legacy attribute-named parameters,
// whose names must be attributes of schema (any name if schema is zero). The
// result is validated against schema. It returns nil, nil when the query has
// no filter. Errors are *FilterError (400).
func FilterFromQuery(q url.Values, schema Schema) (*Filter, error) {
	var f *Filter
	for _, expr := range q[ParamFilter] {
		g, err := ParseFilter(expr)
		if err != nil {
			return nil, err
		}
		f = f.And(g)
	}
	var known func(string) bool
	if !schema.IsZero() {
		known = schema.Known
	}
	legacy, err := LegacyFilter(q, known)
	if err != nil {
		return nil, err
	}
	f = f.And(legacy)
	if err := f.Validate(schema); err != nil {
		return nil, err
	}
	return f, nil
}
