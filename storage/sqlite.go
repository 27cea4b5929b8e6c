package storage

// This file is the SQLite driver set-up: the only SQLite-specific code.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// BusyTimeout is how long an SQLite connection waits for a lock held by
// another connection or process before failing.
const BusyTimeout = 10 * time.Second

// Open opens (creating it if needed) the SQLite database at dsn, a file path
// or a "file:" URI, and migrates the schema. Whatever the DSN says, each
// connection gets: WAL journal (readers never block the writer), a busy
// timeout, foreign keys on, synchronous=FULL (a commit that returned is on
// disk, which the blob/row ordering relies on) and BEGIN IMMEDIATE for
// transactions (a transaction takes the write lock at its start, so two
// transactions never deadlock upgrading a read lock). An in-memory database
// is refused: every pooled connection would see a different one, and WAL
// needs a file.
//
// This is the only SQLite-specific code; the repository methods use
// portable SQL (see the package documentation).
func Open(dsn string) (*DB, error) {
	return OpenWith(dsn, DefaultPool)
}

// Pool bounds the connections of the database pool. A connection holds
// descriptors on the database file and its WAL, so without a bound a
// burst of requests leaves one per request it served open; and SQLite in
// WAL mode has one writer at a time whatever the number of connections,
// so more connections than the cores that read buy nothing.
type Pool struct {
	MaxOpen     int           // connections at once, idle or in use
	MaxIdle     int           // connections kept open while idle
	MaxIdleTime time.Duration // an idle connection older than this is closed
}

// DefaultPool suits a small server: readers on a few cores, one writer.
var DefaultPool = Pool{MaxOpen: 8, MaxIdle: 2, MaxIdleTime: time.Minute}

func (p Pool) validate() error {
	if p.MaxOpen < 1 || p.MaxIdle < 0 || p.MaxIdle > p.MaxOpen || p.MaxIdleTime <= 0 {
		return fmt.Errorf("storage: pool: max open %d must be at least 1, max idle %d between 0 and it, idle time %s positive",
			p.MaxOpen, p.MaxIdle, p.MaxIdleTime)
	}
	return nil
}

// OpenWith is Open with a connection pool bound. The database file and its
// -wal and -shm companions are readable by the owner only (0600): they
// hold every package's facts.
//
// A postgres:// DSN opens PostgreSQL instead (OpenPostgres).
func OpenWith(dsn string, pool Pool) (*DB, error) {
	if IsPostgresDSN(dsn) {
		return OpenPostgres(dsn, pool)
	}
	if err := pool.validate(); err != nil {
		return nil, err
	}
	full, err := sqliteDSN(dsn)
	if err != nil {
		return nil, err
	}
	if err := ownerOnlyFiles(full); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dsn, err)
	}
	g, err := gorm.Open(sqlite.Open(full), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dsn, err)
	}
	db := &DB{g: g, now: utcNow}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dsn, err)
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxIdleTime(pool.MaxIdleTime)
	var mode string
	if err := g.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: open %s: %w", dsn, err)
	}
	if !strings.EqualFold(mode, "wal") {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: open %s: journal mode is %q, not WAL", dsn, mode)
	}
	if err := db.migrate(context.Background()); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if err := db.Optimize(context.Background()); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// ownerOnlyFiles creates the database file of dsn with mode 0600 if it
// does not exist, and restricts an existing one and its -wal and -shm
// files to 0600. SQLite creates the -wal and -shm files with the mode of
// the database file, so they follow. A "file:" URI is taken as its path.
func ownerOnlyFiles(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// sqliteDSN adds the connection parameters Open guarantees to dsn (those of
// github.com/mattn/go-sqlite3), refusing values that contradict them.
func sqliteDSN(dsn string) (string, error) {
	path, query, _ := strings.Cut(dsn, "?")
	if path == "" || path == ":memory:" || strings.Contains(path, "mode=memory") || strings.HasPrefix(path, "file::memory:") {
		return "", fmt.Errorf("storage: %q: an in-memory database is not supported; give a file", dsn)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("storage: DSN %q: %w", dsn, err)
	}
	if strings.Contains(q.Get("mode"), "memory") {
		return "", fmt.Errorf("storage: %q: an in-memory database is not supported; give a file", dsn)
	}
	want := []struct {
		names []string
		value string
	}{
		{[]string{"_journal_mode", "_journal"}, "WAL"},
		{[]string{"_busy_timeout", "_timeout"}, fmt.Sprint(BusyTimeout.Milliseconds())},
		{[]string{"_foreign_keys", "_fk"}, "1"},
		{[]string{"_synchronous", "_sync"}, "FULL"},
		{[]string{"_txlock"}, "immediate"},
	}
	for _, w := range want {
		found := false
		for _, n := range w.names {
			if v, ok := q[n]; ok {
				found = true
				switch n {
				case "_busy_timeout", "_timeout":
					// any explicit timeout is the caller's choice
				case "_foreign_keys", "_fk":
					if !isTrue(v[0]) {
						return "", fmt.Errorf("storage: DSN %q: foreign keys must be on", dsn)
					}
				default:
					if !strings.EqualFold(v[0], w.value) {
						return "", fmt.Errorf("storage: DSN %q: %s must be %s", dsn, n, w.value)
					}
				}
			}
		}
		if !found {
			q.Set(w.names[0], w.value)
		}
	}
	return path + "?" + q.Encode(), nil
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Optimize refreshes the statistics the query planner uses to choose an
// index for a ScanPackages filter (without them SQLite may walk a
// low-selectivity index in scan order rather than seek a selective one).
// Open runs it; a long-running server should run it now and then (say
// daily, or after a bulk import). Its cost is bounded whatever the table
// size (ANALYZE samples at most 1000 rows per index). On PostgreSQL,
// which keeps statistics itself (autovacuum), it runs ANALYZE now (which
// samples a bounded number of rows too).
func (db *DB) Optimize(ctx context.Context) error {
	switch db.g.Dialector.Name() {
	case "postgres":
		if err := db.ctx(ctx).Exec("ANALYZE").Error; err != nil {
			return fmt.Errorf("storage: optimize: %w", err)
		}
		return nil
	case "sqlite":
	default:
		return nil
	}
	sqlDB, err := db.g.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: optimize: %w", err)
	}
	defer conn.Close()
	for _, stmt := range []string{"PRAGMA analysis_limit=1000", "ANALYZE"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("storage: optimize: %s: %w", stmt, err)
		}
	}
	return nil
}

// noSpace makes SQLite's (and PostgreSQL's, see pgNoSpace) "database or disk is full" (SQLITE_FULL, whatever
// the file: database, WAL, temp) an error that is syscall.ENOSPC, so that
// callers tell a full disk from other failures with errors.Is, as for the
// blob store's files. Other errors are returned as they are.
func noSpace(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return fmt.Errorf("%w (%w)", err, syscall.ENOSPC)
	}
	return pgNoSpace(err)
}

// sqliteIndexes serve the list filters a Where evaluates inside JSON
// documents. A filter on userDefinedData (free-form, so no expression
// index can anticipate its keys) scans every row; with the document next
// to seq in an index, the first step of such a scan (see scanQuery) reads
// that index alone, in seq order, instead of whole rows (their images,
// artifacts and checksums are most of their size): BenchmarkFilterFirstPage100k
// measures both. Migration 1 creates it.
var sqliteIndexes = []string{
	"CREATE INDEX IF NOT EXISTS ix_vnf_packages_seq_user_defined_data ON vnf_packages (seq, user_defined_data)",
}
