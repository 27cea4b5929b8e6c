package storage

// This file compiles attribute conditions (the SOL 013 filter of a list,
// described neutrally: storage never imports the SOL 005 layer) into a SQL
// WHERE fragment with bound parameters. What differs between databases
// (JSON functions, substring search, number casts, collation) is behind
// jsonDialect: SQLite's JSON1 here, PostgreSQL's jsonb in
// filtersql_postgres.go.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// FilterOp is the comparison of a Cond: the operators of SOL 013.
type FilterOp string

// The operators. OpEq to OpLte take one value; OpIn to OpNcont one or more.
const (
	OpEq    FilterOp = "eq"
	OpNeq   FilterOp = "neq"
	OpGt    FilterOp = "gt"
	OpLt    FilterOp = "lt"
	OpGte   FilterOp = "gte"
	OpLte   FilterOp = "lte"
	OpIn    FilterOp = "in"
	OpNin   FilterOp = "nin"
	OpCont  FilterOp = "cont"
	OpNcont FilterOp = "ncont"
)

// positive is the operator a negated one (neq, nin, ncont) complements, and
// whether op is negated.
func (op FilterOp) positive() (FilterOp, bool) {
	switch op {
	case OpNeq:
		return OpEq, true
	case OpNin:
		return OpIn, true
	case OpNcont:
		return OpCont, true
	}
	return op, false
}

// More columns a Cond may name, besides the indexed ones (ColID ...).
const (
	ColPackageSecurityOption           Column = "package_security_option"
	ColSigningCertificate              Column = "signing_certificate"
	ColChecksum                        Column = "checksum"
	ColSoftwareImages                  Column = "software_images"
	ColAdditionalArtifacts             Column = "additional_artifacts"
	ColUserDefinedData                 Column = "user_defined_data"
	ColOnboardingFailureDetails        Column = "onboarding_failure_details"
	ColCompatibleSpecificationVersions Column = "compatible_specification_versions"
	ColVnfmInfo                        Column = "vnfm_info"
)

// textColumns hold a string each (” when the attribute is absent);
// jsonColumns hold a JSON document each (NULL when absent).
var (
	textColumns = append(slices.Clone(filterColumns), ColPackageSecurityOption, ColSigningCertificate)
	jsonColumns = []Column{ColChecksum, ColSoftwareImages, ColAdditionalArtifacts, ColUserDefinedData,
		ColOnboardingFailureDetails, ColCompatibleSpecificationVersions, ColVnfmInfo}
)

// Cond is one condition of a Where, with the semantics of the SOL 013
// reference evaluator (vnfpkgm/sol013 Match), which the property test
// TestWhereAgreesWithGoEvaluator holds it to:
//
//   - The attribute is Column and, inside a JSON column, the object keys
//     of Path. A text column's ” and a JSON column's NULL are an absent
//     attribute; a Path on a text column reaches nothing.
//   - Arrays anywhere along the path, and at its end, are searched element
//     by element: eq, in, cont, gt, lt, gte, lte hold when some leaf
//     reached holds; neq, nin, ncont are their exact complements (no leaf
//     reached holds), so they hold for an absent attribute.
//   - A leaf compares by its JSON type: a string as bytes (eq/in exact,
//     ordering lexicographic, cont substring); a number numerically
//     against the values that read as numbers (other values never match
//     it; cont never does); true/false against values that read as a
//     boolean (any letter case), for eq and in only; null, objects and
//     arrays at the end of the path never match.
//   - If Guard is set, the attribute is absent from packages where Guard
//     does not hold (SOL 005 shows the checksum only once ONBOARDED).
type Cond struct {
	Column Column
	Path   []string
	Op     FilterOp
	Values []string
	Guard  *Cond
}

// Where is a conjunction of conditions a scan evaluates in the database.
// A condition it cannot evaluate there (see Where.compile) is left out,
// which only widens the scan: the caller applies its whole filter to what
// the scan yields.
type Where []Cond

// Evaluates reports whether the database evaluates c itself. A Where
// leaves out, for its caller to apply, a malformed condition (a scan
// fails with ErrBadFilter), a key the dialect's JSON paths cannot name,
// a value or key that is not valid UTF-8, or a JSON condition on a
// database without a JSON dialect.
func (db *DB) Evaluates(c Cond) bool {
	x, err := c.compile(dialectOf(db.g))
	return err == nil && x != nil
}

// compiled is a SQL boolean expression and its bound arguments. The
// constants are TRUE and FALSE, which SQLite (as 1 and 0) and PostgreSQL
// both read.
type compiled struct {
	sql  string
	args []any
}

var (
	sqlTrue  = compiled{sql: "TRUE"}
	sqlFalse = compiled{sql: "FALSE"}
)

// apply adds w to q.
func (w Where) apply(q *gorm.DB) (*gorm.DB, bool, error) {
	d := dialectOf(q)
	for i := range w {
		c, err := w[i].compile(d)
		if err != nil {
			return q, false, err
		}
		switch {
		case c == nil: // not expressible here: left to the caller
		case c.sql == sqlFalse.sql:
			return q, true, nil
		case c.sql == sqlTrue.sql:
		default:
			q = q.Where(c.sql, c.args...)
		}
	}
	return q, false, nil
}

// compile returns c as SQL, nil if it cannot be expressed with dialect d
// (see Evaluates), or an error for a malformed Cond.
func (c *Cond) compile(d jsonDialect) (*compiled, error) {
	op, negated := c.Op.positive()
	if err := c.check(op); err != nil {
		return nil, err
	}
	if !allText(c.Values) || !allText(c.Path) {
		// SQLite's text functions step over UTF-8 characters: a value
		// starting mid-character (a byte a query string can carry) would
		// be missed where Go's byte comparison finds it. PostgreSQL's text
		// refuses invalid UTF-8 and NUL altogether, and SQLite's ends at a NUL.
		return nil, nil
	}
	pos, err := c.compilePositive(d, op, negated)
	if pos == nil || err != nil {
		return nil, err
	}
	if c.Guard != nil {
		g, err := c.Guard.compile(d)
		if g == nil || err != nil {
			return nil, err
		}
		pos = and(*g, *pos)
	}
	if negated {
		return not(*pos), nil
	}
	return pos, nil
}

func (c *Cond) check(op FilterOp) error {
	switch op {
	case OpEq, OpGt, OpLt, OpGte, OpLte:
		if len(c.Values) != 1 {
			return fmt.Errorf("%w: operator %s takes one value, got %d", ErrBadFilter, c.Op, len(c.Values))
		}
	case OpIn, OpCont:
		if len(c.Values) == 0 {
			return fmt.Errorf("%w: operator %s needs a value", ErrBadFilter, c.Op)
		}
	default:
		return fmt.Errorf("%w: unknown operator %q", ErrBadFilter, c.Op)
	}
	if !slices.Contains(textColumns, c.Column) && !slices.Contains(jsonColumns, c.Column) {
		return fmt.Errorf("%w: %q", ErrBadFilter, c.Column)
	}
	return nil
}

// compilePositive is the positive operator op. A document the dialect
// cannot parse (see jsonDialect.unparsable) is left to the caller: the
// expression is FALSE for it when negated is set (its negation then keeps
// the package), TRUE otherwise.
func (c *Cond) compilePositive(d jsonDialect, op FilterOp, negated bool) (*compiled, error) {
	if d == nil {
		return nil, nil
	}
	col := quoteIdent(string(c.Column))
	if slices.Contains(textColumns, c.Column) {
		if len(c.Path) > 0 {
			return &sqlFalse, nil // a string has no attributes
		}
		s := stringTest(d, op, col, c.Values)
		if s.sql == sqlFalse.sql {
			return &sqlFalse, nil
		}
		return &compiled{sql: col + " <> '' AND " + s.sql, args: s.args}, nil
	}
	keys := make([]string, len(c.Path))
	for i, k := range c.Path {
		seg, ok := d.pathKey(k)
		if !ok {
			return nil, nil
		}
		keys[i] = seg
	}
	leaf := func(value, typ string) compiled { return leafTest(d, op, c.Values, value, typ) }
	stringEq := (op == OpEq || op == OpIn) && stringsOnly(c.Values)
	direct, search := d.direct(col, keys, leaf), d.search(col, keys, leaf)
	if stringEq {
		direct = d.direct(col, keys, func(value, _ string) compiled {
			t := stringTest(d, op, value, c.Values)
			return compiled{sql: "coalesce(" + t.sql + ", FALSE)", args: t.args} // NULL: no such member
		})
	}
	var pre compiled
	if op == OpCont || stringEq {
		// Only a string leaf can match, and a string of a document without
		// escapes appears in its text as is: a document holding none of
		// the values cannot match, whatever its shape, and is not parsed.
		pre = compiled{sql: " WHEN " + d.lacksText(col, len(c.Values)) + " THEN FALSE", args: anys(c.Values)}
	}
	var unknown string
	if u := d.unparsable(col); u != "" {
		unknown = " WHEN " + u + " THEN " + strings.ToUpper(strconv.FormatBool(!negated))
	}
	x := &compiled{
		sql: "CASE WHEN " + col + " IS NULL THEN FALSE" + pre.sql + unknown + " WHEN " + d.noArray(col) + " THEN " + direct.sql +
			" ELSE " + search.sql + " END",
		args: slices.Concat(pre.args, direct.args, search.args),
	}
	if stringEq {
		if f, irregular := d.memberPrefilter(col, c.Path, c.Values); f != nil {
			if !negated && irregular != "" {
				// The prefilter is the test itself for a regular document:
				// the exact search (a recursive walk per row) runs only
				// for the irregular ones. Only a widening, so only when
				// not negated; the caller's evaluator still has the last
				// word on every row.
				x = &compiled{sql: "NOT " + irregular + " OR " + x.sql, args: x.args}
			}
			x = and(*f, *x)
		}
	} else if pre.sql != "" {
		if f := d.textPrefilter(col, c.Values); f != nil {
			// The same necessary condition, outside the CASE where an
			// index can serve it.
			x = and(*f, *x)
		}
	}
	return x, nil
}

// leafTest is the test of one leaf (value, with JSON type typ as the
// dialect names it, see jsonDialect.leafTypes) for a positive operator.
func leafTest(d jsonDialect, op FilterOp, values []string, value, typ string) compiled {
	var b strings.Builder
	var args []any
	b.WriteString("CASE " + typ)
	add := func(types []string, t compiled) {
		if t.sql == sqlFalse.sql {
			return
		}
		for _, ty := range types {
			b.WriteString(" WHEN '" + ty + "' THEN " + t.sql)
			args = append(args, t.args...)
		}
	}
	strs, nums := d.leafTypes()
	add(strs, stringTest(d, op, value, values))
	add(nums, numberTest(d, op, value, values))
	add([]string{"true"}, boolTest(op, values, true))
	add([]string{"false"}, boolTest(op, values, false))
	b.WriteString(" ELSE FALSE END")
	return compiled{sql: b.String(), args: args}
}

// stringTest compares the string x with the values, byte by byte.
func stringTest(d jsonDialect, op FilterOp, x string, values []string) compiled {
	switch op {
	case OpEq, OpIn:
		return compiled{sql: x + " IN (" + placeholders(len(values)) + ")", args: anys(values)}
	case OpCont:
		parts := make([]string, len(values))
		for i := range values {
			parts[i] = d.contains(x, "?")
		}
		return compiled{sql: "(" + strings.Join(parts, " OR ") + ")", args: anys(values)}
	}
	return compiled{sql: d.bytewise(x) + " " + orderSQL[op] + " ?", args: []any{values[0]}}
}

var orderSQL = map[FilterOp]string{OpGt: ">", OpLt: "<", OpGte: ">=", OpLte: "<="}

// numberTest compares the number x with the values that read as numbers
// (strconv.ParseFloat, as the reference evaluator reads them; NaN equals
// nothing). A number outside float64's range never matches: the reference
// evaluator cannot read it.
func numberTest(d jsonDialect, op FilterOp, x string, values []string) compiled {
	var nums []any
	for _, v := range values {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
			nums = append(nums, f)
		}
	}
	if len(nums) == 0 || op == OpCont {
		return sqlFalse
	}
	// As a float64, as the reference evaluator reads it (SQLite compares
	// an integer with a real exactly, which differs beyond 2^53), NULL
	// beyond float64's range.
	x = d.asFloat(x)
	if op == OpEq || op == OpIn {
		return compiled{sql: "coalesce(" + x + " IN (" + placeholders(len(nums)) + "), FALSE)", args: nums}
	}
	if len(values) != 1 || len(nums) != 1 {
		return sqlFalse
	}
	return compiled{sql: "coalesce(" + x + " " + orderSQL[op] + " ?, FALSE)", args: nums}
}

// boolTest is whether a boolean leaf b matches: eq and in with a value
// reading as b ("true"/"false" in any letter case).
func boolTest(op FilterOp, values []string, b bool) compiled {
	if op != OpEq && op != OpIn {
		return sqlFalse
	}
	for _, v := range values {
		if (b && strings.EqualFold(v, "true")) || (!b && strings.EqualFold(v, "false")) {
			return sqlTrue
		}
	}
	return sqlFalse
}

func and(a, b compiled) *compiled {
	return &compiled{sql: "(" + a.sql + ") AND (" + b.sql + ")", args: append(slices.Clone(a.args), b.args...)}
}

func not(a compiled) *compiled {
	switch a.sql {
	case sqlFalse.sql:
		return &sqlTrue
	case sqlTrue.sql:
		return &sqlFalse
	}
	return &compiled{sql: "NOT (" + a.sql + ")", args: a.args}
}

// allText reports whether every s is text every database takes: valid
// UTF-8 without NUL.
func allText(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return false
		}
	}
	return true
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// quoteIdent quotes a column name (only ever one of the Col constants).
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral is s as a SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// jsonDialect is what the compiler needs from a database: its JSON
// support, and the few text and number operations that differ. SQLite's
// JSON1 implements it below, PostgreSQL's jsonb in filtersql_postgres.go.
type jsonDialect interface {
	// contains is a test that string x contains string y.
	contains(x, y string) string
	// bytewise is string x compared by its bytes (not by a locale).
	bytewise(x string) string
	// asFloat is the number leaf x (the value of a leaf whose type is a
	// number) as a float64, NULL outside float64's range.
	asFloat(x string) string
	// leafTypes are the names the typ of direct and search gives a
	// string leaf and a number leaf; a boolean leaf's typ is "true" or
	// "false".
	leafTypes() (strs, nums []string)
	// pathKey is the path segment naming object key k, or false if the
	// dialect's path syntax cannot name it.
	pathKey(k string) (string, bool)
	// unparsable is a test that document col holds what the dialect's
	// JSON functions refuse (it may hold for some documents they take),
	// or "" if they take every JSON document.
	unparsable(col string) string
	// noArray is a cheap test that document col holds no array at all:
	// then direct is exact.
	noArray(col string) string
	// lacksText is a cheap test that document col has no escape sequence
	// and contains none of n strings (bound parameters), as text.
	lacksText(col string, n int) string
	// textPrefilter is the complement of lacksText written for an index
	// (a document with an escape or holding one of the values, as text),
	// or nil if the dialect has no index for it.
	textPrefilter(col string, values []string) *compiled
	// memberPrefilter is a necessary condition, written for an index, for
	// a string leaf at path (object keys, arrays searched) to equal one of
	// values, or nil if the dialect has no index for it. irregular, if not
	// empty, holds for the documents on which the condition is not also
	// sufficient.
	memberPrefilter(col string, path, values []string) (pre *compiled, irregular string)
	// direct tests the one leaf at keys, for a document without arrays.
	direct(col string, keys []string, leaf func(value, typ string) compiled) compiled
	// search tests every leaf at keys, searching arrays at any depth.
	search(col string, keys []string, leaf func(value, typ string) compiled) compiled
}

// dialectOf is q's dialect, nil if it has none here (then every
// condition is left to the caller).
func dialectOf(q *gorm.DB) jsonDialect {
	if q.Dialector == nil {
		return nil
	}
	switch q.Dialector.Name() {
	case "sqlite":
		return sqliteJSON{}
	case "postgres":
		return postgresJSON{}
	}
	return nil
}

// sqliteJSON is SQLite's JSON1 (json_extract, json_type, json_each).
type sqliteJSON struct{}

// pathKey quotes the key ($."a.b"). SQLite's path syntax has no escape for
// a '"' inside a quoted key; such a key can go unquoted as long as it
// neither starts with '"' nor holds '.' or '[' (where an unquoted key ends).
// A quoted key's backslashes are escapes to SQLite ($."a\b" names "a" and a
// backspace), so a key with one is left to the evaluator.
func (sqliteJSON) pathKey(k string) (string, bool) {
	if strings.Contains(k, `\`) {
		return "", false
	}
	if !strings.Contains(k, `"`) {
		return `."` + k + `"`, true
	}
	if strings.HasPrefix(k, `"`) || strings.ContainsAny(k, ".[") {
		return "", false
	}
	return "." + k, true
}

// textPrefilter: SQLite has no index that finds substrings.
func (sqliteJSON) textPrefilter(string, []string) *compiled { return nil }

func (sqliteJSON) contains(x, y string) string { return "instr(" + x + ", " + y + ") > 0" }

// bytewise: SQLite's default collation, BINARY, is memcmp.
func (sqliteJSON) bytewise(x string) string { return x }

func (sqliteJSON) asFloat(x string) string {
	x = "(" + x + " + 0.0)"
	return "CASE WHEN " + x + " BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN " + x + " END"
}

func (sqliteJSON) leafTypes() (strs, nums []string) {
	return []string{"text"}, []string{"integer", "real"}
}

// noArray: a document without '[' has no array (a '[' inside a string only
// sends it to the slower, equally exact search).
// memberPrefilter: SQLite has no index on JSON members.
func (sqliteJSON) memberPrefilter(string, []string, []string) (*compiled, string) { return nil, "" }

// unparsable: SQLite's JSON1 takes every JSON document (\u0000 included).
func (sqliteJSON) unparsable(string) string { return "" }

func (sqliteJSON) noArray(col string) string { return "instr(" + col + ", '[') = 0" }

func (sqliteJSON) lacksText(col string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "instr(" + col + ", ?) = 0"
	}
	return "instr(" + col + ", '\\') = 0 AND " + strings.Join(parts, " AND ")
}

func (sqliteJSON) direct(col string, keys []string, leaf func(value, typ string) compiled) compiled {
	path := quoteLiteral("$" + strings.Join(keys, ""))
	return leaf("json_extract("+col+", "+path+")", "json_type("+col+", "+path+")")
}

// stringsOnly reports whether eq/in over values can compare json_extract's
// result directly, without looking at the leaf's JSON type: no value reads
// as a number or a boolean (which would match those leaves), and none
// starts like an object or array (json_extract returns those as JSON
// text). A string leaf is then the only kind that can be equal (numbers
// and booleans come back as SQL numbers, null as NULL): the common
// userDefinedData filter costs one path lookup a row.
func stringsOnly(values []string) bool {
	for _, v := range values {
		if _, err := strconv.ParseFloat(v, 64); err == nil || strings.EqualFold(v, "true") || strings.EqualFold(v, "false") ||
			strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			return false
		}
	}
	return true
}

// search walks the document with a recursive query: w holds the nodes
// reached (their path p, JSON type t, and how many keys were followed d);
// an array's elements join at the same depth (arrays of arrays included),
// an object's member named by the next key at the next depth; a leaf at
// the full depth that passes the test makes the condition hold.
func (sqliteJSON) search(col string, keys []string, leaf func(value, typ string) compiled) compiled {
	members := ""
	if len(keys) > 0 {
		var next strings.Builder
		next.WriteString("w.p || CASE w.d")
		for i, k := range keys {
			fmt.Fprintf(&next, " WHEN %d THEN %s", i, quoteLiteral(k))
		}
		next.WriteString(" END")
		members = fmt.Sprintf(" UNION ALL SELECT %[2]s, json_type(%[1]s, %[2]s), w.d + 1 FROM w WHERE w.t = 'object' AND w.d < %[3]d",
			col, next.String(), len(keys))
	}
	test := leaf("json_extract("+col+", w.p)", "w.t")
	return compiled{
		sql: fmt.Sprintf("EXISTS (WITH RECURSIVE w(p, t, d) AS (SELECT '$', json_type(%[1]s), 0"+
			" UNION ALL SELECT e.fullkey, e.type, w.d FROM w, json_each(%[1]s, w.p) AS e WHERE w.t = 'array'%[2]s)"+
			" SELECT 1 FROM w WHERE w.d = %[3]d AND %[4]s)", col, members, len(keys), test.sql),
		args: test.args,
	}
}
