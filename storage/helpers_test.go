package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// testPG is the PostgreSQL cluster of the second pass of runOnEngines;
// nil during the SQLite pass.
var testPG *testenv.PGCluster

// runOnEngines runs every test (and benchmark) of the package twice: on
// SQLite, then on PostgreSQL, on a throwaway cluster (see
// testenv.StartPostgres). openTest opens the engine of the pass, so no
// test is written for one engine only unless it says so (sqliteOnly).
// Without PostgreSQL the second pass is skipped with a message, and fails
// under CI.
//
// VNFPKGM_TEST_ENGINES=postgres (or sqlite) runs one pass only, e.g. for
// a long benchmark on one engine.
func runOnEngines(m *testing.M) int {
	engines := os.Getenv("VNFPKGM_TEST_ENGINES")
	if engines == "" || strings.Contains(engines, "sqlite") {
		fmt.Println("=== storage tests on SQLite")
		if code := m.Run(); code != 0 {
			return code
		}
	}
	if engines != "" && !strings.Contains(engines, "postgres") {
		return 0
	}
	closeBenchDBs()
	pg, err := testenv.StartPostgres()
	if err != nil {
		return testenv.PostgresMissing(err)
	}
	defer pg.Stop()
	testPG = pg
	defer func() { testPG = nil }()
	fmt.Println("=== storage tests on PostgreSQL")
	return m.Run()
}

// sqliteOnly skips t in the PostgreSQL pass: it tests SQLite's files or
// DSN handling, and already ran in the SQLite pass.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if testPG != nil {
		t.Skip("SQLite-specific; ran in the SQLite pass")
	}
}

// engineName is the engine of the current pass, for messages.
func engineName() string {
	if testPG != nil {
		return "postgres"
	}
	return "sqlite"
}

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := openTestEngine(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testDSN is a new empty database on the engine of the pass, for tests
// that open it more than once (Open takes both kinds of DSN).
func testDSN(t testing.TB) string {
	if testPG != nil {
		return testPG.Database(t)
	}
	return filepath.Join(t.TempDir(), "vnfpkgm.db")
}

// openTestEngine opens a new empty database on the engine of the pass.
func openTestEngine(t testing.TB) (*DB, error) {
	if testPG != nil {
		return OpenPostgres(testPG.Database(t), DefaultPostgresPool)
	}
	return Open(filepath.Join(t.TempDir(), "vnfpkgm.db"))
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
	c := &clock{t: utcNow()}
	db.now = c.now
	return c
}
