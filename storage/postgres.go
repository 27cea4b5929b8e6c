package storage

// This file is the PostgreSQL driver set-up (gorm.io/driver/postgres over
// pgx): the PostgreSQL counterpart of sqlite.go.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// IsPostgresDSN reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than an SQLite file.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DefaultPostgresPool suits one replica among several sharing a server
// whose max_connections is 100 by default: PostgreSQL runs writers
// concurrently, so more connections than SQLite's are useful, but each is
// a server process.
var DefaultPostgresPool = Pool{MaxOpen: 16, MaxIdle: 4, MaxIdleTime: time.Minute}

// OpenPostgres connects to the PostgreSQL database of dsn (a postgres://
// URL, see the libpq connection URI syntax) and migrates the schema.
// The database must exist; the role needs CREATE on its schema for the
// migrations.
func OpenPostgres(dsn string, pool Pool) (*DB, error) {
	if err := pool.validate(); err != nil {
		return nil, err
	}
	if _, err := url.Parse(dsn); err != nil {
		// url.Error quotes the URL, password included: say less.
		return nil, errors.New("storage: the PostgreSQL DSN is not a valid URL")
	}
	g, err := gorm.Open(postgres.Open(withoutJIT(dsn)), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", RedactDSN(dsn), redactErr(err, dsn))
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", RedactDSN(dsn), err)
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxIdleTime(pool.MaxIdleTime)
	db := &DB{g: g, now: utcNow}
	if err := db.migrate(context.Background()); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// withoutJIT turns off PostgreSQL's JIT compilation for the connections
// of dsn, unless the DSN says otherwise. A filter on a JSON document
// (filtersql_postgres.go) has a recursive subquery the planner costs
// high, which makes PostgreSQL JIT-compile it: tens to hundreds of
// milliseconds spent on every list request, for queries that run in a
// few. (pgx sends unknown URL parameters as run-time settings.)
func withoutJIT(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if !q.Has("jit") {
		q.Set("jit", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// RedactDSN is a PostgreSQL dsn without its password, for messages.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(PostgreSQL DSN)"
	}
	return u.Redacted()
}

// redactErr keeps the password of dsn out of err's text (pgx quotes the
// connection string in some of its errors).
func redactErr(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}

// pgDiskFull is SQLSTATE disk_full.
const pgDiskFull = "53100"

// pgNoSpace makes PostgreSQL's disk_full an error that is syscall.ENOSPC,
// as noSpace does for SQLite.
func pgNoSpace(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == pgDiskFull {
		return fmt.Errorf("%w (%w)", err, syscall.ENOSPC)
	}
	return err
}
