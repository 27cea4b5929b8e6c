package sol013

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type termWant struct {
	op     Op
	attr   string
	values []string
}

func termsOf(f *Filter) []termWant {
	var out []termWant
	for _, t := range f.Terms {
		out = append(out, termWant{t.Op, t.Attr, t.Values})
	}
	return out
}

func TestParseFilterValid(t *testing.T) {
	cases := []struct {
		expr string
		want []termWant
	}{
		{"(eq,vnfProvider,Acme)", []termWant{{Eq, "vnfProvider", []string{"Acme"}}}},
		{"(eq,vnfProductName,'a,b')", []termWant{{Eq, "vnfProductName", []string{"a,b"}}}},
		{"(eq,x,'it''s')", []termWant{{Eq, "x", []string{"it's"}}}},
		{"(in,x,'a)b',c)", []termWant{{In, "x", []string{"a)b", "c"}}}},
		{"(eq,x,'')", []termWant{{Eq, "x", []string{""}}}},
		{"(eq,x,'''')", []termWant{{Eq, "x", []string{"'"}}}},
		{"(eq,x,'a''''b')", []termWant{{Eq, "x", []string{"a''b"}}}},
		{"(eq,softwareImages/checksum/algorithm,sha-512)", []termWant{{Eq, "softwareImages/checksum/algorithm", []string{"sha-512"}}}},
		{"(neq,a,1);(gt,b,2);(lt,c,3);(gte,d,4);(lte,e,5)", []termWant{
			{Neq, "a", []string{"1"}}, {Gt, "b", []string{"2"}}, {Lt, "c", []string{"3"}},
			{Gte, "d", []string{"4"}}, {Lte, "e", []string{"5"}},
		}},
		{"(in,a,x,y,z);(nin,b,1);(cont,c,p,q);(ncont,d,'r,s')", []termWant{
			{In, "a", []string{"x", "y", "z"}}, {Nin, "b", []string{"1"}},
			{Cont, "c", []string{"p", "q"}}, {Ncont, "d", []string{"r,s"}},
		}},
		// ';' and '(' inside a value are unambiguous; spaces are kept.
		{"(eq,a,x;y)", []termWant{{Eq, "a", []string{"x;y"}}}},
		{"(eq,a,f(x)", []termWant{{Eq, "a", []string{"f(x"}}}},
		{"(eq,vnfProductName,Sample VNF )", []termWant{{Eq, "vnfProductName", []string{"Sample VNF "}}}},
		{"(eq,userDefinedData/key-1.x,é)", []termWant{{Eq, "userDefinedData/key-1.x", []string{"é"}}}},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", c.expr, err)
			continue
		}
		if got := termsOf(f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFilter(%q) = %+v, want %+v", c.expr, got, c.want)
		}
		// The printed form re-parses to the same terms.
		g, err := ParseFilter(f.String())
		if err != nil {
			t.Errorf("re-parse of %q (from %q): %v", f.String(), c.expr, err)
			continue
		}
		if !reflect.DeepEqual(termsOf(g), c.want) {
			t.Errorf("re-parse of %q = %+v", f.String(), termsOf(g))
		}
	}
}

func TestParseFilterPositions(t *testing.T) {
	f, err := ParseFilter("(eq,a,1);(in,bb,'x',y)")
	if err != nil {
		t.Fatal(err)
	}
	if f.Terms[0].Pos != 1 || f.Terms[1].Pos != 10 {
		t.Errorf("term positions %d %d, want 1 10", f.Terms[0].Pos, f.Terms[1].Pos)
	}
	if f.Terms[1].attrPos != 14 || !reflect.DeepEqual(f.Terms[1].valPos, []int{17, 21}) {
		t.Errorf("attr/value positions %d %v", f.Terms[1].attrPos, f.Terms[1].valPos)
	}
}

func TestParseFilterErrors(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string // a fragment of the message
	}{
		{"", 1, "empty filter"},
		{"(eq,a,b", 1, "not closed"},
		{"(eq,a,b);(eq,c,d", 10, "not closed"},
		{"(eq,a,b))", 9, "no matching '('"},
		{"eq,a,b)", 1, "expected '('"},
		{"(eq,a,b)(eq,c,d)", 9, "expected ';'"},
		{"(eqq,a,b)", 2, `unknown operator "eqq"`},
		{"(EQ,a,b)", 2, "unknown operator"},
		{"(,a,b)", 2, "missing operator"},
		{"()", 1, "empty term"},
		{"(eq)", 4, "attribute name after operator eq"},
		{"(eq,a,b,c)", 9, "exactly one value"},
		{"(gte,a,'b',c)", 12, "exactly one value"},
		{"(eq,,b)", 5, "empty attribute name"},
		{"(eq,a/,b)", 6, "empty name in attribute path"},
		{"(eq,/a,b)", 5, "empty name in attribute path"},
		{"(eq,a//b,c)", 7, "empty name in attribute path"},
		{"(eq,a b,c)", 6, "not allowed in an attribute name"},
		{"(eq,a)", 6, "needs a value"},
		{"(eq,a,b);", 9, "trailing ';'"},
		{"(eq,a,b);;(eq,c,d)", 10, "empty term"},
		{"(eq,a,)", 7, "empty value"},
		{"(in,a,b,)", 9, "empty value"},
		{"(eq,a,it's)", 9, "quote inside a value"},
		{"(eq,a,'abc)", 7, "unterminated quoted value"},
		{"(eq,a,'abc'd)", 12, "after a quoted value"},
		{"(eq,a,'abc'", 1, "not closed"},
		{"(in,a,b,", 1, "not closed"},
		{"(eq,é,'x'y)", 10, "after a quoted value"}, // columns count characters, not bytes
	}
	for _, c := range cases {
		f, err := ParseFilter(c.expr)
		if err == nil {
			t.Errorf("ParseFilter(%q) = %v, want an error", c.expr, f)
			continue
		}
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q): error %T is not *FilterError", c.expr, err)
			continue
		}
		if fe.Pos != c.pos || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("ParseFilter(%q) = column %d %q; want column %d containing %q", c.expr, fe.Pos, fe.Msg, c.pos, c.msg)
		}
		if !strings.Contains(err.Error(), "column") {
			t.Errorf("error text %q does not name the column", err.Error())
		}
	}
}

func TestFilterString(t *testing.T) {
	f, err := ParseFilter("(in,x,'a)b',c,'it''s','',plain);(eq,y,'q,r')")
	if err != nil {
		t.Fatal(err)
	}
	want := "(in,x,'a)b',c,'it''s','',plain);(eq,y,'q,r')"
	if got := f.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var nilFilter *Filter
	if nilFilter.String() != "" {
		t.Error("nil filter String() not empty")
	}
}

func TestNewTerm(t *testing.T) {
	if _, err := NewTerm("foo", "a", "b"); err == nil {
		t.Error("unknown operator accepted")
	}
	if _, err := NewTerm(Eq, "a", "b", "c"); err == nil {
		t.Error("eq with two values accepted")
	}
	if _, err := NewTerm(In, "a"); err == nil {
		t.Error("in without value accepted")
	}
	if _, err := NewTerm(Eq, "a//b", "c"); err == nil {
		t.Error("empty path segment accepted")
	}
	tm, err := NewTerm(In, "a/b", "x,y", "z")
	if err != nil {
		t.Fatal(err)
	}
	if tm.String() != "(in,a/b,'x,y',z)" {
		t.Errorf("String() = %q", tm.String())
	}
	if !reflect.DeepEqual(tm.Path(), []string{"a", "b"}) {
		t.Errorf("Path() = %v", tm.Path())
	}
}

func TestFilterAnd(t *testing.T) {
	a, _ := ParseFilter("(eq,a,1)")
	b, _ := ParseFilter("(eq,b,2)")
	var none *Filter
	if none.And(a) != a || a.And(none) != a {
		t.Error("And with nil should return the other filter")
	}
	if got := a.And(b).String(); got != "(eq,a,1);(eq,b,2)" {
		t.Errorf("And = %q", got)
	}
}
