package sol013

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"(eq,vnfProvider,Acme)",
		"(eq,vnfProductName,'a,b')",
		"(eq,x,'it''s')",
		"(in,x,'a)b',c)",
		"(neq,a/b/c,1);(gt,d,2);(cont,e,'',f)",
		"(eq,a,b);",
		"(eq,a,b",
		"(eqq,a,b)",
		"(eq,a,b,c)",
		"(eq,,b)",
		"(eq,a,'x'y)",
		"(in,é/ü,'''',x;y)",
		"",
		";",
		"((",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not *FilterError", err)
			}
			if fe.Pos < 1 || fe.Pos > utf8.RuneCountInString(expr)+1 {
				t.Fatalf("column %d outside 1..%d for %q", fe.Pos, utf8.RuneCountInString(expr)+1, expr)
			}
			return
		}
		if len(flt.Terms) == 0 {
			t.Fatalf("%q parsed to no term", expr)
		}
		s := flt.String()
		again, err := ParseFilter(s)
		if err != nil {
			t.Fatalf("String() of %q is %q, which does not parse: %v", expr, s, err)
		}
		if !reflect.DeepEqual(termsOf(flt), termsOf(again)) {
			t.Fatalf("%q -> %q -> %+v, want %+v", expr, s, termsOf(again), termsOf(flt))
		}
		if again.String() != s {
			t.Fatalf("String() not stable: %q then %q", s, again.String())
		}
		// Matching and validating never panic either.
		_ = flt.Match(map[string]any{"a": []any{"x", 1.0, true, nil, map[string]any{"b": "y"}}})
		_ = flt.Validate(testSchema)
	})
}
