package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestWhereLeavesUnnameableKeys: a key SQLite's JSON path syntax cannot
// name (a '"' first, or a '"' with a '.' or '[') is not evaluated in the
// database, which then returns every row for the caller's evaluator; a
// key with a '"' it can name is evaluated. PostgreSQL names every key.
func TestWhereLeavesUnnameableKeys(t *testing.T) {
	db := openTest(t)
	ps := []*Package{
		{UserDefinedData: JSON(`{"\"lead": "x", "q\"k": "y", "a.b": "z", "a\\b": "w"}`)},
		{UserDefinedData: JSON(`{"other": 1}`)},
	}
	for _, p := range ps {
		mustCreate(t, db, p)
	}
	// want is SQLite's count, exact the true one, which PostgreSQL (whose
	// paths are text arrays, naming any key) gives for every key.
	for _, c := range []struct {
		key         string
		want, exact int
	}{
		{`"lead`, 2, 1}, {`q"k.x`, 2, 0}, {`q"k`, 1, 1}, {"a.b", 1, 1}, {"nowhere", 0, 0},
		// SQLite unescapes a quoted path label ($."a\b" is "a" and a
		// backspace): a key with a backslash is left to the evaluator.
		{`a\b`, 2, 1},
	} {
		where := Where{{Column: ColUserDefinedData, Path: []string{c.key}, Op: OpCont, Values: []string{""}}}
		n := 0
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, where, func(*Package) (bool, error) { n++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		want := c.want
		if testPG != nil {
			want = c.exact
		}
		if n != want {
			t.Errorf("%s, key %q: %d rows, want %d", engineName(), c.key, n, want)
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

// TestWhereNumbersAsFloat64: numbers compare as the reference evaluator
// reads them, as float64: an integer beyond 2^53 equals its rounding, and
// a number beyond float64's range (which it cannot read) matches nothing.
func TestWhereNumbersAsFloat64(t *testing.T) {
	db := openTest(t)
	mustCreate(t, db, &Package{UserDefinedData: JSON(`{"big": 9007199254740993, "huge": 1e400}`)})
	for _, c := range []struct {
		cond Cond
		want int
	}{
		{Cond{Column: ColUserDefinedData, Path: []string{"big"}, Op: OpEq, Values: []string{"9007199254740992"}}, 1},
		{Cond{Column: ColUserDefinedData, Path: []string{"big"}, Op: OpGt, Values: []string{"9007199254740992"}}, 0},
		{Cond{Column: ColUserDefinedData, Path: []string{"huge"}, Op: OpGt, Values: []string{"5"}}, 0},
		{Cond{Column: ColUserDefinedData, Path: []string{"huge"}, Op: OpNeq, Values: []string{"Inf"}}, 1},
	} {
		n := 0
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, Where{c.cond}, func(*Package) (bool, error) { n++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%s %v %v: %d rows, want %d", c.cond.Op, c.cond.Path, c.cond.Values, n, c.want)
		}
	}
	if db.Evaluates(Cond{Column: ColUserDefinedData, Path: []string{"k"}, Op: OpCont, Values: []string{"\xa9"}}) {
		t.Error("a value that is not UTF-8 is evaluated by the database")
	}
	// PostgreSQL's text cannot hold a NUL, and SQLite's text functions stop at one.
	if db.Evaluates(Cond{Column: ColUserDefinedData, Path: []string{"k"}, Op: OpEq, Values: []string{"a\x00b"}}) ||
		db.Evaluates(Cond{Column: ColUserDefinedData, Path: []string{"k\x00"}, Op: OpEq, Values: []string{"a"}}) {
		t.Error("a value or key holding a NUL is evaluated by the database")
	}
}

// TestPackagesBySeq reads listed packages in Seq order, skipping one that
// is gone, across batches cut by MaxBatchBytes.
func TestPackagesBySeq(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	big := JSON(`{"blob":"` + strings.Repeat("x", MaxBatchBytes/3) + `"}`)
	var seqs []int64
	for range 8 {
		p := mustCreate(t, db, &Package{UserDefinedData: big})
		seqs = append(seqs, p.Seq)
	}
	gone, err := db.ScanPackages(ctx, Cursor{Seq: seqs[3] - 1}, 1, nil, func(p *Package) (bool, error) {
		_, err := db.DeletePackage(ctx, p.ID, Any)
		return false, err
	})
	if err != nil || gone.Seq != seqs[3] {
		t.Fatalf("delete: %v %v", gone, err)
	}
	var got []int64
	if err := db.PackagesBySeq(ctx, seqs[1:], func(p *Package) error {
		got = append(got, p.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := append(append([]int64(nil), seqs[1:3]...), seqs[4:]...)
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestWhereOrdersBytewise: gt/lt compare strings byte by byte, as the
// reference evaluator does, whatever the database's collation: on
// PostgreSQL, a database created with an ICU locale (where "B" sorts
// after "a") answers as one in the C locale.
func TestWhereOrdersBytewise(t *testing.T) {
	db := openTest(t)
	if testPG != nil {
		dsn, drop, err := testPG.NewDatabaseWith(context.Background(), "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop() })
		if db, err = OpenPostgres(dsn, DefaultPostgresPool); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	for _, v := range []string{"B", "b"} {
		mustCreate(t, db, &Package{VnfProvider: v, UserDefinedData: JSON(`{"k":"` + v + `"}`)})
	}
	for _, c := range []Cond{
		{Column: ColVnfProvider, Op: OpGt, Values: []string{"a"}},
		{Column: ColUserDefinedData, Path: []string{"k"}, Op: OpGt, Values: []string{"a"}},
	} {
		var got []string
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, Where{c}, func(p *Package) (bool, error) {
			got = append(got, p.VnfProvider)
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != "b" {
			t.Errorf("%s, %s gt a: %v, want [b]", engineName(), c.Column, got)
		}
	}
}
