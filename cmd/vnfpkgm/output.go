package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Output in the manner of the openstack CLI (cliff): a table by default,
// -f json|yaml|value, -c COLUMN to pick columns. Columns are named as
// python-tackerclient names them ("Onboarding State"); -c also takes the
// API attribute name ("onboardingState"), case and separators ignored.

// outputOpts are -f and -c.
type outputOpts struct {
	format  string
	columns stringList
}

var formats = []string{"table", "json", "yaml", "value"}

func addOutputFlags(fs *flag.FlagSet) *outputOpts {
	o := &outputOpts{format: "table"}
	for _, name := range []string{"f", "format"} {
		fs.StringVar(&o.format, name, "table", "output `FORMAT`: "+strings.Join(formats, ", "))
	}
	for _, name := range []string{"c", "column"} {
		fs.Var(&o.columns, name, "a `COLUMN` to include (repeatable; its title or attribute name)")
	}
	return o
}

// check validates -f, and -c against every column the command's output
// may have (known), so that a typo fails before a request changes anything.
func (o *outputOpts) check(known []column) error {
	if !slices.Contains(formats, o.format) {
		return usagef("-f %q: the output format is one of %s", o.format, strings.Join(formats, ", "))
	}
	for _, name := range o.columns {
		if _, ok := findColumn(known, normalizeColumn(name)); !ok {
			return usagef("-c %q: no such column (columns: %s)", name, strings.Join(columnTitles(known), ", "))
		}
	}
	return nil
}

// findColumn finds the column whose title or attribute normalizes to n.
func findColumn(cols []column, n string) (column, bool) {
	for _, c := range cols {
		if normalizeColumn(c.title) == n || normalizeColumn(c.attr) == n {
			return c, true
		}
	}
	return column{}, false
}

// columnTitles are the distinct titles of cols, in order.
func columnTitles(cols []column) []string {
	var titles []string
	for _, c := range cols {
		if !slices.Contains(titles, c.title) {
			titles = append(titles, c.title)
		}
	}
	return titles
}

// column is one displayed attribute.
type column struct {
	title string
	attr  string // top-level VnfPkgInfo attribute
}

// vnfPkgInfoColumns are the VnfPkgInfo attributes with their titles on a
// record (`package show`), as the openstack CLI has them, sorted by title.
// A slice of constants, unlike a map, costs nothing at start-up: the
// linker lays it out.
var vnfPkgInfoColumns = []column{
	{"Additional Artifacts", "additionalArtifacts"},
	{"Checksum", "checksum"},
	{"Compatible Specification Versions", "compatibleSpecificationVersions"},
	{"ID", "id"},
	{"Links", "_links"},
	{"Onboarding Failure Details", "onboardingFailureDetails"},
	{"Onboarding State", "onboardingState"},
	{"Operational State", "operationalState"},
	{"Package Security Option", "packageSecurityOption"},
	{"Signing Certificate", "signingCertificate"},
	{"Software Images", "softwareImages"},
	{"Usage State", "usageState"},
	{"User Defined Data", "userDefinedData"},
	{"VNF Product Name", "vnfProductName"},
	{"VNF Provider", "vnfProvider"},
	{"VNF Software Version", "vnfSoftwareVersion"},
	{"VNFD ID", "vnfdId"},
	{"VNFD Version", "vnfdVersion"},
	{"VNFM Info", "vnfmInfo"},
}

// listColumns are the columns of `package list`, in the openstack CLI's
// order and spelling.
var listColumns = []column{
	{"Id", "id"},
	{"Vnf Product Name", "vnfProductName"},
	{"Onboarding State", "onboardingState"},
	{"Usage State", "usageState"},
	{"Operational State", "operationalState"},
	{"Links", "_links"},
}

// titleOf is the show title of an attribute; an attribute this client does
// not know gets its camelCase split into words.
func titleOf(attr string) string {
	for _, c := range vnfPkgInfoColumns {
		if c.attr == attr {
			return c.title
		}
	}
	var b strings.Builder
	for i, r := range strings.TrimLeft(attr, "_") {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteByte(' ')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normalizeColumn is what -c values and titles are compared on.
func normalizeColumn(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == ' ' || r == '_' || r == '-' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// recordColumns are the columns of one record: every attribute it has,
// ordered by title as the openstack CLI orders them.
func recordColumns(rec map[string]any) []column {
	cols := make([]column, 0, len(rec))
	for attr := range rec {
		cols = append(cols, column{titleOf(attr), attr})
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].title < cols[j].title })
	return cols
}

// selectColumns applies -c: the columns named, in the order given. A name
// matches a column's title or attribute; known is every column that may be
// asked for (it may hold more than available, e.g. attributes a record
// lacks, which then show empty).
func selectColumns(available, known []column, names []string) ([]column, error) {
	if len(names) == 0 {
		return available, nil
	}
	var out []column
	for _, name := range names {
		n := normalizeColumn(name)
		c, ok := findColumn(available, n)
		if !ok {
			c, ok = findColumn(known, n)
		}
		if !ok {
			return nil, usagef("-c %q: no such column (columns: %s)", name, strings.Join(columnTitles(available), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// knownColumns are every VnfPkgInfo attribute with its show title.
func knownColumns() []column { return vnfPkgInfoColumns }

// emitOne prints one record: a Field | Value table, a JSON or YAML object
// keyed by the column titles, or the values one per line (-f value).
func emitOne(w io.Writer, format string, cols []column, rec map[string]any) error {
	switch format {
	case "json":
		return writeJSONObject(w, cols, rec, "")
	case "yaml":
		return writeYAML(w, recordNode(cols, rec))
	case "value":
		for _, c := range cols {
			fmt.Fprintln(w, compactValue(rec[c.attr]))
		}
		return nil
	}
	rows := make([][]string, 0, len(cols))
	for _, c := range cols {
		rows = append(rows, []string{c.title, tableValue(rec[c.attr])})
	}
	writeTable(w, []string{"Field", "Value"}, rows)
	return nil
}

// emitList prints records: a table with one row per record, a JSON or
// YAML list of objects keyed by the column titles, or one line per record
// with its values separated by spaces (-f value). An empty table prints
// nothing, as the openstack CLI does.
func emitList(w io.Writer, format string, cols []column, recs []map[string]any) error {
	switch format {
	case "json":
		if len(recs) == 0 {
			_, err := io.WriteString(w, "[]\n")
			return err
		}
		var b bytes.Buffer
		b.WriteString("[\n")
		for i, r := range recs {
			if err := writeJSONObject(&b, cols, r, "  "); err != nil {
				return err
			}
			b.Truncate(b.Len() - 1) // the newline
			if i < len(recs)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("]\n")
		_, err := w.Write(b.Bytes())
		return err
	case "yaml":
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range recs {
			seq.Content = append(seq.Content, recordNode(cols, r))
		}
		return writeYAML(w, seq)
	case "value":
		for _, r := range recs {
			vals := make([]string, len(cols))
			for i, c := range cols {
				vals[i] = compactValue(r[c.attr])
			}
			fmt.Fprintln(w, strings.Join(vals, " "))
		}
		return nil
	}
	if len(recs) == 0 {
		return nil
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	rows := make([][]string, len(recs))
	for i, r := range recs {
		rows[i] = make([]string, len(cols))
		for j, c := range cols {
			rows[i][j] = tableValue(r[c.attr])
		}
	}
	writeTable(w, header, rows)
	return nil
}

// tableValue renders a value in a table cell: scalars as they are,
// objects and arrays as indented JSON (the cell then spans lines), an
// absent value empty.
func tableValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return marshalJSON(v, "    ")
}

// compactValue renders a value for -f value: scalars as they are, objects
// and arrays as one-line JSON.
func compactValue(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		return marshalJSON(v, "")
	}
	return tableValue(v)
}

func marshalJSON(v any, indent string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeJSONObject writes {"Title": value, ...} in column order, indented
// by two spaces under prefix, and a newline.
func writeJSONObject(w io.Writer, cols []column, rec map[string]any, prefix string) error {
	var b bytes.Buffer
	b.WriteString(prefix + "{")
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n" + prefix + "  ")
		b.WriteString(marshalJSON(c.title, ""))
		b.WriteString(": ")
		val := marshalJSON(rec[c.attr], "  ")
		b.WriteString(strings.ReplaceAll(val, "\n", "\n"+prefix+"  "))
	}
	if len(cols) > 0 {
		b.WriteString("\n" + prefix)
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// recordNode is a YAML mapping of the record's columns, in column order.
func recordNode(cols []column, rec map[string]any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range cols {
		val := &yaml.Node{}
		if err := val.Encode(yamlValue(rec[c.attr])); err != nil {
			val = &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(rec[c.attr])}
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: c.title}, val)
	}
	return m
}

// yamlValue turns the json.Numbers of a decoded answer into numbers YAML
// writes as numbers (it would quote a json.Number as a string).
func yamlValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = yamlValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = yamlValue(e)
		}
		return l
	}
	return v
}

func writeYAML(w io.Writer, n *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// writeTable draws a table the way the openstack CLI does:
//
//	+-------+-------+
//	| Field | Value |
//	+-------+-------+
//	| ID    | 1234  |
//	+-------+-------+
//
// Cells holding several lines span several lines of the table.
func writeTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	measure := func(cells []string) {
		for i, c := range cells {
			for _, line := range strings.Split(c, "\n") {
				if n := utf8.RuneCountInString(line); n > widths[i] {
					widths[i] = n
				}
			}
		}
	}
	measure(header)
	for _, r := range rows {
		measure(r)
	}
	var b strings.Builder
	rule := func() {
		b.WriteByte('+')
		for _, n := range widths {
			b.WriteString(strings.Repeat("-", n+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(cells []string) {
		split := make([][]string, len(cells))
		height := 1
		for i, c := range cells {
			split[i] = strings.Split(c, "\n")
			height = max(height, len(split[i]))
		}
		for l := 0; l < height; l++ {
			b.WriteByte('|')
			for i := range cells {
				text := ""
				if l < len(split[i]) {
					text = split[i][l]
				}
				b.WriteString(" " + text + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(text)) + " |")
			}
			b.WriteByte('\n')
		}
	}
	rule()
	line(header)
	rule()
	for _, r := range rows {
		line(r)
	}
	rule()
	io.WriteString(w, b.String())
}
