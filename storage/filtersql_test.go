package storage

import (
	"context"
	"errors"
	"testing"
)

// TestWhereLeavesUnnameableKeys: a key SQLite's JSON path syntax cannot
// name (a '"' first, or a '"' with a '.' or '[') is not evaluated in the
// database, which then returns every row for the caller's evaluator; a
// key with a '"' it can name is evaluated.
func TestWhereLeavesUnnameableKeys(t *testing.T) {
	db := openTest(t)
	ps := []*Package{
		{UserDefinedData: JSON(`{"\"lead": "x", "q\"k": "y", "a.b": "z"}`)},
		{UserDefinedData: JSON(`{"other": 1}`)},
	}
	for _, p := range ps {
		mustCreate(t, db, p)
	}
	for _, c := range []struct {
		key  string
		want int
	}{
		{`"lead`, 2}, {`q"k.x`, 2}, {`q"k`, 1}, {"a.b", 1}, {"nowhere", 0},
	} {
		where := Where{{Column: ColUserDefinedData, Path: []string{c.key}, Op: OpCont, Values: []string{""}}}
		n := 0
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, where, func(*Package) (bool, error) { n++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("key %q: %d rows, want %d", c.key, n, c.want)
		}
	}
}

func TestWhereRefusesMalformedConds(t *testing.T) {
	db := openTest(t)
	for _, c := range []Cond{
		{Column: ColUserDefinedData, Op: "like", Values: []string{"x"}},
		{Column: ColUserDefinedData, Op: OpEq, Values: []string{"x", "y"}},
		{Column: ColVnfProvider, Op: OpIn},
		{Column: "content_key", Op: OpEq, Values: []string{"x"}},
		{Column: `vnf_provider"; DROP TABLE vnf_packages; --`, Op: OpEq, Values: []string{"x"}},
	} {
		_, err := db.ScanPackages(context.Background(), Cursor{}, 0, Where{c}, func(*Package) (bool, error) { return true, nil })
		if !errors.Is(err, ErrBadFilter) {
			t.Errorf("%+v: %v, want ErrBadFilter", c, err)
		}
	}
}
