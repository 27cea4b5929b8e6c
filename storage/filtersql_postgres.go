package storage

// This file is the PostgreSQL side of the filter compiler (filtersql.go):
// JSON conditions through jsonb. The JSON columns stay text on every
// engine (a document is kept byte for byte as the SOL 005 layer wrote
// it, which jsonb would not do); the conditions read them as
// ("col")::jsonb, and the indexes of postgresIndexes are on the same
// expressions.

import (
	"fmt"
	"strings"
)

// postgresJSON is PostgreSQL's jsonb (#>, #>>, jsonb_typeof,
// jsonb_array_elements).
type postgresJSON struct{}

func (postgresJSON) contains(x, y string) string { return "strpos(" + x + ", " + y + ") > 0" }

// bytewise: the "C" collation compares bytes, which for UTF-8 is code
// point order, the order of Go's string comparison; the database's default
// collation may follow a locale.
func (postgresJSON) bytewise(x string) string { return x + ` COLLATE "C"` }

// asFloat reads the leaf's text as numeric (jsonb numbers are numeric, of
// any size) and rounds it to float8 when it fits: a numeric beyond float8's
// range would make the cast fail, not give NULL. CASE evaluates in order,
// which AND does not promise.
func (postgresJSON) asFloat(x string) string {
	n := "(" + x + ")::numeric"
	return "CASE WHEN " + n + " BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN " + n + "::float8 END"
}

// leafTypes: jsonb_typeof's names; typeOf below turns "boolean" into the
// value.
func (postgresJSON) leafTypes() (strs, nums []string) {
	return []string{"string"}, []string{"number"}
}

// pathKey: a key is an element of a text[] literal, which can hold any
// text (NULs are refused earlier, see allText).
func (postgresJSON) pathKey(k string) (string, bool) { return quoteLiteral(k), true }

func (postgresJSON) noArray(col string) string { return "strpos(" + col + ", '[') = 0" }

func (postgresJSON) lacksText(col string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "strpos(" + col + ", ?) = 0"
	}
	return "strpos(" + col + ", '\\') = 0 AND " + strings.Join(parts, " AND ")
}

// jsonbOf is the document of text column col.
func jsonbOf(col string) string { return "(" + col + ")::jsonb" }

// keyArray is the keys (quoted by pathKey) as a text[].
func keyArray(keys []string) string { return "ARRAY[" + strings.Join(keys, ", ") + "]::text[]" }

// typeOf is the leaf type of jsonb j as leafTest expects it.
func typeOf(j string) string {
	return "CASE jsonb_typeof(" + j + ") WHEN 'boolean' THEN " + j + " #>> '{}' ELSE jsonb_typeof(" + j + ") END"
}

// direct follows the keys with #>, which on a document without arrays
// means exactly object members.
func (postgresJSON) direct(col string, keys []string, leaf func(value, typ string) compiled) compiled {
	j := jsonbOf(col) + " #> " + keyArray(keys)
	return leaf("("+j+") #>> '{}'", typeOf("("+j+")"))
}

// search walks the document as sqliteJSON.search does: w holds the nodes
// reached (v) and how many keys were followed (d); an array's elements
// join at the same depth, an object's member named by the next key at the
// next depth. PostgreSQL allows one reference to w in the recursive step,
// hence both moves in one LATERAL subquery.
func (postgresJSON) search(col string, keys []string, leaf func(value, typ string) compiled) compiled {
	test := leaf("w.v #>> '{}'", typeOf("w.v"))
	return compiled{
		sql: fmt.Sprintf("EXISTS (WITH RECURSIVE w(v, d) AS (SELECT %[1]s, 0"+
			" UNION ALL SELECT n.v, n.d FROM w CROSS JOIN LATERAL ("+
			"SELECT e.v, w.d FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.v) = 'array' THEN w.v END) AS e(v)"+
			" UNION ALL SELECT w.v -> (%[2]s)[w.d + 1], w.d + 1 WHERE w.d < %[3]d AND jsonb_typeof(w.v) = 'object'"+
			" AND w.v -> (%[2]s)[w.d + 1] IS NOT NULL) AS n(v, d))"+
			" SELECT 1 FROM w WHERE w.d = %[3]d AND %[4]s)", jsonbOf(col), keyArray(keys), len(keys), test.sql),
		args: test.args,
	}
}
