package storage

// This file is the PostgreSQL side of the filter compiler (filtersql.go):
// JSON conditions through jsonb. The JSON columns stay text on every
// engine (a document is kept byte for byte as the SOL 005 layer wrote
// it, which jsonb would not do); the conditions read them as
// ("col")::jsonb, and the indexes of postgresIndexes are on the same
// expressions.

import (
	"encoding/json"
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

// unparsable: jsonb refuses the escape of U+0000 (its text cannot hold
// a NUL) and a surrogate escape not in a valid pair. The test takes every
// \u0000 and \uD800-\uDFFF escape (valid pairs and an escaped backslash
// followed by such text included: those are only evaluated by the caller).
// strpos first: the regular expression runs only on documents with an
// escape.
func (postgresJSON) unparsable(col string) string {
	return "strpos(" + col + ", '\\u') > 0 AND " + col + " ~* '\\\\u(0000|d[89a-f])'"
}

func (postgresJSON) noArray(col string) string { return "strpos(" + col + ", '[') = 0" }

func (postgresJSON) lacksText(col string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "strpos(" + col + ", ?) = 0"
	}
	return "strpos(" + col + ", '\\') = 0 AND " + strings.Join(parts, " AND ")
}

// textPrefilter is served by the trigram indexes of postgresIndexes: a
// BitmapOr of the index of documents with an escape and of the
// GIN trigram index for each LIKE (values of fewer than three characters
// give the trigram index nothing to narrow, and the planner scans).
func (postgresJSON) textPrefilter(col string, values []string) *compiled {
	parts := []string{"strpos(" + col + ", '\\') > 0"}
	var args []any
	for _, v := range values {
		parts = append(parts, col+" LIKE ?")
		args = append(args, "%"+likeEscaper.Replace(v)+"%")
	}
	return &compiled{sql: "(" + strings.Join(parts, " OR ") + ")", args: args}
}

// likeEscaper escapes LIKE's wildcards with its default escape, '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// postgresIndexes serve the list filters on PostgreSQL (migration 2):
// the JSON columns lists filter on most get a GIN trigram index (pg_trgm,
// which ships with PostgreSQL) and an index on whether the document has
// an escape sequence, the two arms of textPrefilter. The latter is an
// expression index rather than a partial one so that ANALYZE keeps
// statistics of the expression: without them the planner takes a third
// of the rows for it and prefers walking the seq index. The other
// conditions use the (column, seq) indexes of the model, or scan.
var postgresIndexes = []string{
	"CREATE EXTENSION IF NOT EXISTS pg_trgm",
	"CREATE INDEX IF NOT EXISTS ix_vnf_packages_user_defined_data_trgm ON vnf_packages USING gin (user_defined_data gin_trgm_ops)",
	"CREATE INDEX IF NOT EXISTS ix_vnf_packages_user_defined_data_escaped ON vnf_packages ((strpos(user_defined_data, '\\') > 0))",
	"CREATE INDEX IF NOT EXISTS ix_vnf_packages_software_images_trgm ON vnf_packages USING gin (software_images gin_trgm_ops)",
	"CREATE INDEX IF NOT EXISTS ix_vnf_packages_software_images_escaped ON vnf_packages ((strpos(software_images, '\\') > 0))",
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

// memberPrefilter is served by the jsonb_path_ops GIN index on the
// stored jsonb column of col and the partial index on its stored
// irregular flag (migration 7, see postgresStoredColumns), as a BitmapOr;
// a column without stored columns reads vnfpkgm_jsonb(col) and
// vnfpkgm_json_irregular(col) instead, which is what those columns hold.
// The jsonpath predicate (@@, whose comparison holds when some item
// reached holds) in lax mode unwraps one level of array at each key and
// at the leaf, which is how documents are shaped; a document it could
// miss (an array directly inside an array) or that jsonb refuses
// (vnfpkgm_jsonb gives NULL) is irregular, and passes to the exact test.
// For a regular document the jsonpath predicate is the test itself (the
// same leaves reached, string equality by code point), so irregular is
// the only exact test needed. Reading the stored columns, a row the index
// returns is rechecked without parsing its text again.
func (postgresJSON) memberPrefilter(col string, path, values []string) (*compiled, string) {
	var member strings.Builder
	member.WriteString("$")
	for _, k := range path {
		member.WriteString("." + jsonString(k))
	}
	tests := make([]string, len(values))
	for i, v := range values {
		tests[i] = member.String() + " == " + jsonString(v)
	}
	doc, irregular := "vnfpkgm_jsonb("+col+")", "vnfpkgm_json_irregular("+col+")"
	for _, c := range memberColumns {
		if col == quoteIdent(string(c)) {
			doc, irregular = quoteIdent(string(c)+"_jsonb"), quoteIdent(string(c)+"_irregular")
		}
	}
	// A literal rather than a bound parameter: the planner estimates the
	// selectivity of the constant (for a generic plan it cannot).
	return &compiled{sql: "(" + doc + " @@ " + quoteLiteral(strings.Join(tests, " || ")) +
		"::jsonpath OR " + irregular + ")"}, irregular
}

// jsonString is s as a JSON string, which jsonpath's string literals read
// the same way; '?' is escaped because gorm takes any '?' of the SQL for
// a placeholder, even inside a literal.
func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil { // a Go string always marshals
		panic(err)
	}
	return strings.ReplaceAll(string(b), "?", `\u003f`)
}

// postgresMemberIndexes (migration 5) serve memberPrefilter:
// vnfpkgm_jsonb is the document as jsonb, NULL where jsonb refuses it
// (see unparsable), so that the index never fails an insert;
// vnfpkgm_json_irregular holds for those documents and for those with an
// array directly inside an array (a "[" then "[" after blanks; such text
// inside a string only widens the set). Both are immutable, on the text
// column alone. vnfpkgm_json_irregular is PL/pgSQL so that the planner
// does not inline it: inlined, its regular expressions would be served by
// the trigram index, which can narrow nothing for them, rather than by
// the index on the function's value.
var postgresMemberIndexes = func() []string {
	unparsable := postgresJSON{}.unparsable("doc")
	stmts := []string{
		"CREATE OR REPLACE FUNCTION vnfpkgm_jsonb(doc text) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$" +
			" SELECT CASE WHEN NOT (" + unparsable + ") THEN doc::jsonb END $$",
		"CREATE OR REPLACE FUNCTION vnfpkgm_json_irregular(doc text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$" +
			" BEGIN RETURN (" + unparsable + ") OR doc ~ '\\[[[:space:]]*\\['; END $$",
	}
	for _, col := range memberColumns {
		ix := "ix_vnf_packages_" + string(col)
		stmts = append(stmts,
			"CREATE INDEX IF NOT EXISTS "+ix+"_jsonb ON vnf_packages USING gin (vnfpkgm_jsonb("+string(col)+") jsonb_path_ops)",
			"CREATE INDEX IF NOT EXISTS "+ix+"_irregular ON vnf_packages ((vnfpkgm_json_irregular("+string(col)+")))")
	}
	return stmts
}()

// memberColumns are the JSON columns whose array members lists filter on
// with eq/in: those of the indexes of migrations 5 and 7.
var memberColumns = []Column{ColSoftwareImages, ColAdditionalArtifacts, ColUserDefinedData}

// postgresStoredColumns (migration 7) parse each member column once, at
// write time: <col>_jsonb is vnfpkgm_jsonb(<col>) and <col>_irregular
// vnfpkgm_json_irregular(<col>), stored generated columns that PostgreSQL
// computes on every insert and update of the row. A row the GIN index
// returns is then rechecked from the stored jsonb; before, each was
// parsed again from its text, and the PL/pgSQL function called twice,
// which made a member matched by 1% of a million rows cost 200 ms once
// the table was vacuumed. The GIN index moves to the stored column and
// the irregular flag gets a partial index (the column keeps its own
// statistics, so the planner knows the few rows it holds); the
// expression indexes of migration 5 are dropped. The jsonb is stored
// MAIN (compressed in the row, out of it only as a last resort): a row
// grown past TOAST's target then moves its text out rather than the
// jsonb, so the recheck of a match reads its heap page alone, not the
// TOAST table too. The columns are not in
// the model (SQLite has none, and gorm must never write them): lists
// select their columns by name (packageColumns).
var postgresStoredColumns = func() []string {
	var stmts []string
	for _, col := range memberColumns {
		c, ix := string(col), "ix_vnf_packages_"+string(col)
		stmts = append(stmts,
			"DROP INDEX IF EXISTS "+ix+"_jsonb",
			"DROP INDEX IF EXISTS "+ix+"_irregular",
			"ALTER TABLE vnf_packages ADD COLUMN IF NOT EXISTS "+c+"_jsonb jsonb GENERATED ALWAYS AS (vnfpkgm_jsonb("+c+")) STORED,"+
				" ALTER COLUMN "+c+"_jsonb SET STORAGE MAIN",
			"ALTER TABLE vnf_packages ADD COLUMN IF NOT EXISTS "+c+"_irregular boolean GENERATED ALWAYS AS (vnfpkgm_json_irregular("+c+")) STORED",
			"CREATE INDEX IF NOT EXISTS "+ix+"_jsonb ON vnf_packages USING gin ("+c+"_jsonb jsonb_path_ops)",
			"CREATE INDEX IF NOT EXISTS "+ix+"_irregular ON vnf_packages ("+c+"_irregular) WHERE "+c+"_irregular")
	}
	return stmts
}()
