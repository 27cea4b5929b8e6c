package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "vnfpkgm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustCreate(t testing.TB, db *DB, p *Package) *Package {
	t.Helper()
	if err := db.CreatePackage(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// clock is a settable clock for DB.now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// useClock makes db (and the DBs its Tx hands out) read time from a clock
// starting at the real time.
func useClock(db *DB) *clock {
	c := &clock{t: time.Now().UTC()}
	db.now = c.now
	return c
}
