package storage

import (
	"context"
	"testing"
)

// TestWhereToleratesDocumentsJSONBRefuses: a JSON document may hold a
// string with U+0000 (the escape \u0000) or a lone surrogate escape,
// which PostgreSQL's jsonb refuses. A filter on the column must neither
// fail nor drop a package that matches: the database leaves such a
// document to the caller's evaluator (it may return it for a condition
// it does not meet, never drop it). The other documents are filtered
// exactly as before.
func TestWhereToleratesDocumentsJSONBRefuses(t *testing.T) {
	db := openTest(t)
	nul := mustCreate(t, db, &Package{UserDefinedData: JSON(`{"owner":"team-1","note":"a\u0000b"}`)}).ID
	surrogate := mustCreate(t, db, &Package{UserDefinedData: JSON(`{"owner":"team-1","note":"\ud800"}`)}).ID
	plain := mustCreate(t, db, &Package{UserDefinedData: JSON(`{"owner":"team-2","note":"ab"}`)}).ID
	images := mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":"RAW","name":"x\u0000"}]`)}).ID
	cond := func(col Column, op FilterOp, key string, values ...string) Cond {
		return Cond{Column: col, Path: []string{key}, Op: op, Values: values}
	}
	for _, c := range []struct {
		cond         Cond
		must, mustNo []string
	}{
		{cond(ColUserDefinedData, OpEq, "owner", "team-1"), []string{nul, surrogate}, []string{plain, images}},
		{cond(ColUserDefinedData, OpEq, "owner", "team-2"), []string{plain}, []string{images}},
		{cond(ColUserDefinedData, OpNeq, "owner", "team-2"), []string{nul, surrogate, images}, []string{plain}},
		{cond(ColUserDefinedData, OpCont, "note", "a"), []string{nul, plain}, []string{images}},
		{cond(ColUserDefinedData, OpGt, "note", "a"), []string{nul, surrogate, plain}, []string{images}},
		{cond(ColUserDefinedData, OpNcont, "note", "b"), []string{images}, []string{plain}},
		{cond(ColSoftwareImages, OpEq, "diskFormat", "RAW"), []string{images}, []string{nul, surrogate, plain}},
		{cond(ColSoftwareImages, OpIn, "diskFormat", "QCOW2", "RAW"), []string{images}, []string{plain}},
	} {
		got := map[string]bool{}
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, Where{c.cond}, func(p *Package) (bool, error) {
			got[p.ID] = true
			return true, nil
		}); err != nil {
			t.Errorf("%s %v %v: %v", c.cond.Op, c.cond.Path, c.cond.Values, err)
			continue
		}
		for _, id := range c.must {
			if !got[id] {
				t.Errorf("%s %v %v: package %s that matches is dropped", c.cond.Op, c.cond.Path, c.cond.Values, id)
			}
		}
		for _, id := range c.mustNo {
			if got[id] {
				t.Errorf("%s %v %v: package %s that does not match is returned", c.cond.Op, c.cond.Path, c.cond.Values, id)
			}
		}
	}
}

// TestWhereMemberEqAnyShape: eq and in on a member reach it through
// arrays at any depth, whatever prefilter the engine puts in front
// (PostgreSQL's jsonpath unwraps one level of array per step: arrays of
// arrays must still match).
func TestWhereMemberEqAnyShape(t *testing.T) {
	db := openTest(t)
	match := []string{
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":"RAW"}]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[[{"diskFormat":"RAW"}]]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[ [ [{"diskFormat":"RAW"}]]]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":["QCOW2","RAW"]}]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":[["RAW"]]}]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`{"diskFormat":"R\u0041W"}`)}).ID,
	}
	noMatch := []string{
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":"raw"}]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"x":{"diskFormat":"RAW"}}]`)}).ID,
		mustCreate(t, db, &Package{SoftwareImages: JSON(`[{"diskFormat":{"RAW":1}}]`)}).ID,
	}
	deep := mustCreate(t, db, &Package{UserDefinedData: JSON(`{"a":[{"b":[[{"c":"x?'y"}]]}]}`)}).ID
	scan := func(c Cond) map[string]bool {
		got := map[string]bool{}
		if _, err := db.ScanPackages(context.Background(), Cursor{}, 0, Where{c}, func(p *Package) (bool, error) {
			got[p.ID] = true
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, op := range []FilterOp{OpEq, OpIn} {
		got := scan(Cond{Column: ColSoftwareImages, Path: []string{"diskFormat"}, Op: op, Values: []string{"RAW"}})
		for i, id := range match {
			if !got[id] {
				t.Errorf("%s: document %d that matches is dropped", op, i)
			}
		}
		for i, id := range noMatch {
			if got[id] {
				t.Errorf("%s: document %d that does not match is returned", op, i)
			}
		}
	}
	if got := scan(Cond{Column: ColUserDefinedData, Path: []string{"a", "b", "c"}, Op: OpIn, Values: []string{"z", "x?'y"}}); !got[deep] || len(got) != 1 {
		t.Errorf("a/b/c in x?'y: got %v, want only %s", got, deep)
	}
}
