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
