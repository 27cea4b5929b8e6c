package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var (
	// ErrNotFound: the package or job does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a precondition did not hold (a state or revision had
	// changed) or a unique constraint refused the write.
	ErrConflict = errors.New("storage: conflict")
	// ErrVnfdIDOnboarded: another ONBOARDED package has the same vnfdId.
	// It is an ErrConflict.
	ErrVnfdIDOnboarded = fmt.Errorf("%w: a package with this vnfdId is already onboarded", ErrConflict)
	// ErrNoJob: ClaimJob found nothing to claim.
	ErrNoJob = errors.New("storage: no job to claim")
)

// DB is the repository. It is safe for concurrent use. Inside Tx it is bound
// to the transaction.
type DB struct {
	g *gorm.DB
	// now is the clock (UTC); tests replace it.
	now func() time.Time
	// onChange runs inside the transaction of every change of a package's
	// states and of every deletion (the notification outbox,
	// subscriptions.go).
	onChange PackageChangeHook
}

// FromGorm wraps an already opened gorm database of any dialect (the way in
// for PostgreSQL later) and migrates the schema. TranslateError must be set
// in its config for unique violations to become ErrConflict.
func FromGorm(g *gorm.DB) (*DB, error) {
	db := &DB{g: g, now: utcNow}
	if err := db.migrate(context.Background()); err != nil {
		return nil, err
	}
	return db, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                utcNow,
		TranslateError:         true,
		SkipDefaultTransaction: true, // each method is one statement or its own Tx
		PrepareStmt:            true,
		PrepareStmtMaxSize:     512, // IN lists of many lengths make many statements
		PrepareStmtTTL:         time.Hour,
	}
}

// utcNow is the repository's clock: UTC, to the microsecond, which is
// what every engine stores (PostgreSQL's timestamps have microseconds), so
// that a time a method returns equals the one read back.
func utcNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// storedTime is t as the database keeps it (see utcNow).
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Close closes the database. It must not be called on a DB inside Tx.
func (db *DB) Close() error {
	sqlDB, err := db.g.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Gorm is the underlying gorm handle, for tables owned by other packages
// (they migrate their own models). Package and job rows must only be
// written through the methods of DB, which keep their invariants.
func (db *DB) Gorm() *gorm.DB { return db.g }

// Tx runs fn in a transaction: fn's repository calls through tx commit
// together or not at all (fn returning an error or panicking rolls back).
// Use it to change a package and its job in one step, e.g. moving a
// package to PROCESSING and enqueueing its onboarding job. Nested Tx calls
// use savepoints.
func (db *DB) Tx(ctx context.Context, fn func(tx *DB) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return noSpace(db.g.WithContext(context.WithoutCancel(ctx)).Transaction(func(t *gorm.DB) error {
		return fn(&DB{g: t, now: db.now, onChange: db.onChange})
	}))
}

// ctx binds a statement to ctx's values but not to its cancellation. The
// SQLite driver answers a cancelled context by interrupting the connection,
// and an interrupt that lands just after the statement ended hits the next
// statement on that pooled connection: another request's, which then fails
// with "interrupted" although nobody cancelled it (seen with clients that
// drop connections mid-download). Every statement here is short; the long
// work, ScanPackages, checks ctx between its batches.
func (db *DB) ctx(ctx context.Context) *gorm.DB { return db.g.WithContext(context.WithoutCancel(ctx)) }

// migrate applies the versioned migrations (migrations.go), then creates
// the tables of the models below that have none. A new model's table is
// created by adding the model to this list; a new field of a listed model
// needs a numbered step (see the package documentation, Migrations).
func (db *DB) migrate(ctx context.Context) error {
	return db.applyMigrations(ctx, []any{&Package{}, &Job{}, &sequence{}, &VIM{}, &VIMImage{}, &VIMCompute{}, &ContentDeletion{}, &OCILayer{}, &Subscription{}, &Notification{}, &SigningKey{}})
}

// nextSeq reserves n consecutive values of the named sequence and returns
// the first. It must run inside a transaction: the UPDATE locks the
// counter's row until commit, so values are handed out in commit order
// (on SQLite the whole database is locked anyway).
func (db *DB) nextSeq(name string, n int) (int64, error) {
	res := db.g.Model(&sequence{}).Where("name = ?", name).
		UpdateColumn("value", gorm.Expr("value + ?", n))
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected != 1 {
		return 0, fmt.Errorf("sequence %q missing", name)
	}
	var v int64
	if err := db.g.Model(&sequence{}).Where("name = ?", name).Select("value").Scan(&v).Error; err != nil {
		return 0, err
	}
	return v - int64(n) + 1, nil
}

// dbErr wraps a database error, mapping the translated gorm errors.
func dbErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("storage: %s: %w", op, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("storage: %s: %w: %v", op, ErrConflict, err)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	}
	return fmt.Errorf("storage: %s: %w", op, noSpace(err))
}
