package sol013

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Op is a comparison operator of an attribute-based filter (SOL 013 table 5.2.2-2).
type Op string

// The operators of SOL 013. Eq to Lte take exactly one value, In to Ncont one or more.
const (
	Eq    Op = "eq"    // attribute equal to the value
	Neq   Op = "neq"   // attribute not equal to the value
	Gt    Op = "gt"    // attribute greater than the value
	Lt    Op = "lt"    // attribute less than the value
	Gte   Op = "gte"   // attribute greater than or equal to the value
	Lte   Op = "lte"   // attribute less than or equal to the value
	In    Op = "in"    // attribute equal to one of the values
	Nin   Op = "nin"   // attribute equal to none of the values
	Cont  Op = "cont"  // string attribute contains one of the values
	Ncont Op = "ncont" // string attribute contains none of the values
)

var ops = map[string]Op{
	"eq": Eq, "neq": Neq, "gt": Gt, "lt": Lt, "gte": Gte, "lte": Lte,
	"in": In, "nin": Nin, "cont": Cont, "ncont": Ncont,
}

const opList = "eq, neq, gt, lt, gte, lte, in, nin, cont, ncont"

// Valid reports whether o is one of the SOL 013 operators.
func (o Op) Valid() bool { _, ok := ops[string(o)]; return ok }

// SingleValued reports whether o takes exactly one value (eq, neq, gt, lt, gte, lte).
func (o Op) SingleValued() bool {
	switch o {
	case Eq, Neq, Gt, Lt, Gte, Lte:
		return true
	}
	return false
}

// Negated reports whether o is the negation of another operator: neq of eq,
// nin of in, ncont of cont.
func (o Op) Negated() bool { return o == Neq || o == Nin || o == Ncont }

// positive returns the operator that o negates, or o itself.
func (o Op) positive() Op {
	switch o {
	case Neq:
		return Eq
	case Nin:
		return In
	case Ncont:
		return Cont
	}
	return o
}

// Ordering reports whether o is one of gt, lt, gte, lte.
func (o Op) Ordering() bool { return o == Gt || o == Lt || o == Gte || o == Lte }

// FilterError is a syntax or validation error in a filter. Pos is the 1-based
// column (in characters) of the filter expression where the problem is, or 0
// when the term did not come from a "filter" expression (legacy form).
type FilterError struct {
	Pos int
	Msg string
}

func (e *FilterError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("invalid filter at column %d: %s", e.Pos, e.Msg)
	}
	return "invalid filter: " + e.Msg
}

// Term is one simple filter expression "(op,attr,value[,value...])". Build
// terms with ParseFilter, NewTerm or LegacyFilter and treat them as
// read-only: Match uses a form of Values prepared when the term was built.
type Term struct {
	Op Op
	// Attr is the attribute path as written: names separated by '/'.
	Attr string
	// Values are the unquoted values.
	Values []string
	// Pos is the 1-based column of the term's '(' in the filter expression,
	// 0 for a term built from the legacy form.
	Pos int

	path    []string
	attrPos int     // column of the attribute name, 0 if unknown
	valPos  []int   // column of each value, nil if unknown
	vals    []value // Values pre-converted for Match
}

// value is a filter value with its numeric and boolean readings.
type value struct {
	s      string
	f      float64
	isNum  bool
	b      bool
	isBool bool
}

func compileValue(s string) value {
	v := value{s: s}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		v.f, v.isNum = f, true
	}
	v.b, v.isBool = parseBool(s)
	return v
}

// parseBool accepts "true" and "false" in any letter case.
func parseBool(s string) (b, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// NewTerm builds a term. The attribute is a '/'-separated path. It returns a
// *FilterError if the operator is unknown, the attribute name is malformed or
// the number of values does not suit the operator.
func NewTerm(op Op, attr string, values ...string) (Term, error) {
	t := Term{Op: op, Attr: attr, Values: append([]string(nil), values...)}
	if !op.Valid() {
		return Term{}, &FilterError{Msg: fmt.Sprintf("unknown operator %q (expected one of %s)", op, opList)}
	}
	if msg, _ := checkAttr(attr); msg != "" {
		return Term{}, &FilterError{Msg: fmt.Sprintf("attribute %q: %s", attr, msg)}
	}
	if len(values) == 0 {
		return Term{}, &FilterError{Msg: fmt.Sprintf("operator %s needs a value", op)}
	}
	if op.SingleValued() && len(values) != 1 {
		return Term{}, &FilterError{Msg: fmt.Sprintf("operator %s takes exactly one value, got %d", op, len(values))}
	}
	t.compile()
	return t, nil
}

func (t *Term) compile() {
	t.path = strings.Split(t.Attr, "/")
	t.vals = make([]value, len(t.Values))
	for i, s := range t.Values {
		t.vals[i] = compileValue(s)
	}
}

// Path returns the attribute path split at '/'.
func (t *Term) Path() []string {
	if t.path != nil {
		return t.path
	}
	return strings.Split(t.Attr, "/")
}

// String renders the term in SOL 013 syntax, quoting values where needed.
func (t *Term) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Term) write(b *strings.Builder) {
	b.WriteByte('(')
	b.WriteString(string(t.Op))
	b.WriteByte(',')
	b.WriteString(t.Attr)
	for _, v := range t.Values {
		b.WriteByte(',')
		writeValue(b, v)
	}
	b.WriteByte(')')
}

// writeValue writes v, single-quoted if it is empty or contains ',' ')' or '\”,
// with every quote inside doubled.
func writeValue(b *strings.Builder, v string) {
	if v != "" && !strings.ContainsAny(v, ",)'") {
		b.WriteString(v)
		return
	}
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(v, "'", "''"))
	b.WriteByte('\'')
}

// Filter is a conjunction (AND) of terms. A nil *Filter matches everything.
type Filter struct {
	Terms []Term
}

// String renders the filter in SOL 013 syntax; ParseFilter(f.String()) gives
// back the same terms.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	for i := range f.Terms {
		if i > 0 {
			b.WriteByte(';')
		}
		f.Terms[i].write(&b)
	}
	return b.String()
}

// And returns a filter with the terms of f followed by those of g; either may be nil.
func (f *Filter) And(g *Filter) *Filter {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	terms := make([]Term, 0, len(f.Terms)+len(g.Terms))
	terms = append(terms, f.Terms...)
	terms = append(terms, g.Terms...)
	return &Filter{Terms: terms}
}

// ParseFilter parses a SOL 013 attribute-based filter expression:
//
//	filter := term (';' term)*
//	term   := '(' op ',' attr ',' value (',' value)* ')'
//	attr   := name ('/' name)*
//	value  := unquoted | "'" (any character, "''" for a quote)* "'"
//
// An unquoted value runs to the next ',' or ')' and must not contain a quote.
// Operators are lower case. Errors are *FilterError with the column of the
// problem.
func ParseFilter(expr string) (*Filter, error) {
	p := parser{s: expr}
	if expr == "" {
		return nil, &FilterError{Pos: 1, Msg: "empty filter expression"}
	}
	f := &Filter{}
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		f.Terms = append(f.Terms, t)
		if p.i == len(p.s) {
			return f, nil
		}
		switch p.s[p.i] {
		case ';':
			semi := p.i
			p.i++
			if p.i == len(p.s) {
				return nil, p.errAt(semi, "trailing ';' with no term after it")
			}
		case ')':
			return nil, p.errAt(p.i, "unbalanced parentheses: ')' with no matching '('")
		default:
			return nil, p.errAt(p.i, fmt.Sprintf("expected ';' between terms, found %s", p.show(p.i)))
		}
	}
}

type parser struct {
	s string
	i int // byte offset
}

// col converts a byte offset to a 1-based character column.
func (p *parser) col(off int) int { return utf8.RuneCountInString(p.s[:off]) + 1 }

func (p *parser) errAt(off int, msg string) *FilterError {
	return &FilterError{Pos: p.col(off), Msg: msg}
}

// show describes the character at off for an error message.
func (p *parser) show(off int) string {
	if off >= len(p.s) {
		return "end of filter"
	}
	r, _ := utf8.DecodeRuneInString(p.s[off:])
	return strconv.QuoteRune(r)
}

func (p *parser) term() (Term, error) {
	start := p.i
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		if p.i < len(p.s) && p.s[p.i] == ';' {
			return Term{}, p.errAt(p.i, "empty term between ';'")
		}
		return Term{}, p.errAt(p.i, fmt.Sprintf("expected '(' to start a term, found %s", p.show(p.i)))
	}
	p.i++
	unclosed := func() error {
		return p.errAt(start, "unbalanced parentheses: term is not closed with ')'")
	}

	// Operator.
	opStart := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' && p.s[p.i] != ';' {
		p.i++
	}
	opText := p.s[opStart:p.i]
	if opText == "" {
		if p.i < len(p.s) && p.s[p.i] == ')' {
			return Term{}, p.errAt(start, "empty term '()'")
		}
		return Term{}, p.errAt(opStart, "missing operator")
	}
	op, ok := ops[opText]
	if !ok {
		return Term{}, p.errAt(opStart, fmt.Sprintf("unknown operator %q (expected one of %s)", opText, opList))
	}
	if p.i >= len(p.s) {
		return Term{}, unclosed()
	}
	if p.s[p.i] != ',' {
		return Term{}, p.errAt(p.i, fmt.Sprintf("expected ',' and an attribute name after operator %s", op))
	}
	p.i++

	// Attribute.
	attrStart := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' {
		p.i++
	}
	attr := p.s[attrStart:p.i]
	if attr == "" {
		return Term{}, p.errAt(attrStart, "empty attribute name")
	}
	if msg, off := checkAttr(attr); msg != "" {
		return Term{}, p.errAt(attrStart+off, fmt.Sprintf("attribute %q: %s", attr, msg))
	}
	if p.i >= len(p.s) {
		return Term{}, unclosed()
	}
	if p.s[p.i] == ')' {
		return Term{}, p.errAt(p.i, fmt.Sprintf("operator %s needs a value after the attribute", op))
	}
	p.i++ // ','

	t := Term{Op: op, Attr: attr, Pos: p.col(start), attrPos: p.col(attrStart)}
	for {
		vStart := p.i
		v, err := p.value(start)
		if err != nil {
			return Term{}, err
		}
		t.Values = append(t.Values, v)
		t.valPos = append(t.valPos, p.col(vStart))
		if op.SingleValued() && len(t.Values) == 2 {
			return Term{}, p.errAt(vStart, fmt.Sprintf("operator %s takes exactly one value; quote a value that contains ','", op))
		}
		// p.value guarantees a ',' or ')' follows.
		c := p.s[p.i]
		p.i++
		if c == ')' {
			break
		}
	}
	t.compile()
	return t, nil
}

// value reads one value and leaves p.i on the ',' or ')' that follows it.
func (p *parser) value(termStart int) (string, error) {
	if p.i >= len(p.s) {
		return "", p.errAt(termStart, "unbalanced parentheses: term is not closed with ')'")
	}
	if p.s[p.i] == '\'' {
		open := p.i
		p.i++
		var b strings.Builder
		for {
			j := strings.IndexByte(p.s[p.i:], '\'')
			if j < 0 {
				return "", p.errAt(open, "unterminated quoted value")
			}
			b.WriteString(p.s[p.i : p.i+j])
			p.i += j + 1
			if p.i < len(p.s) && p.s[p.i] == '\'' { // '' is a quote
				b.WriteByte('\'')
				p.i++
				continue
			}
			break
		}
		if p.i >= len(p.s) {
			return "", p.errAt(termStart, "unbalanced parentheses: term is not closed with ')'")
		}
		if c := p.s[p.i]; c != ',' && c != ')' {
			return "", p.errAt(p.i, fmt.Sprintf("expected ',' or ')' after a quoted value, found %s", p.show(p.i)))
		}
		return b.String(), nil
	}
	start := p.i
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ',', ')':
			if p.i == start {
				return "", p.errAt(start, "empty value (write '' for an empty string)")
			}
			return p.s[start:p.i], nil
		case '\'':
			return "", p.errAt(p.i, "a quote inside a value: quote the whole value and double the quote ('it''s')")
		}
		p.i++
	}
	return "", p.errAt(termStart, "unbalanced parentheses: term is not closed with ')'")
}

// checkAttr checks an attribute path. It returns a message and the byte offset
// of the problem, or "" if the path is well formed.
func checkAttr(attr string) (string, int) {
	if attr == "" {
		return "empty attribute name", 0
	}
	segStart := 0
	for i, r := range attr {
		switch {
		case r == '/':
			if i == segStart {
				return "empty name in attribute path", i
			}
			segStart = i + 1
		case r == '(' || r == ')' || r == ',' || r == ';' || r == '\'':
			return fmt.Sprintf("character %q is not allowed in an attribute name", r), i
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Sprintf("character %q is not allowed in an attribute name", r), i
		}
	}
	if segStart == len(attr) {
		return "empty name in attribute path", len(attr) - 1 // at the trailing '/'
	}
	return "", 0
}
