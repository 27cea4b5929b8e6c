package storage

// This file is the schema's versioned, forward-only migrations. See the
// package documentation (Migrations) for how to add one.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// schemaMigration is a row of schema_migrations: one applied step.
type schemaMigration struct {
	// Name is "<version>" for a numbered step, "table:<name>" for the
	// table of a model of the migrated list.
	Name      string    `gorm:"primaryKey;size:200"`
	AppliedAt time.Time `gorm:"not null"`
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migration is one forward step. up runs in the transaction that records
// it, so a step is applied whole or not at all (both engines have
// transactional DDL). Steps must be idempotent where a fresh database
// already has what they add: a fresh database gets its tables from the
// models as they are now (see applyModels), and then every numbered step.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

// migrations are the numbered steps, in order. Never edit or remove one
// that has shipped: add the next.
var migrations = []migration{
	{1, "the schema before versioned migrations", migrateV1},
	{2, "PostgreSQL: trigram indexes for the list filters", postgresOnly(createIndexes(postgresIndexes))},
	{3, "jobs: the request id that queued the job", AddColumns(&Job{}, "RequestID")},
	{4, "the host owning a compute of a host-local VIM", AddColumns(&VIMCompute{}, "OwnerHost")},
	{5, "PostgreSQL: jsonb_path_ops indexes for array members in the list filters", postgresOnly(createIndexes(postgresMemberIndexes))},
	{6, "vim_images: left_in_vim, why an image stays in a VIM that cannot delete it", AddColumns(&VIMImage{}, "LeftInVIM")},
	{7, "PostgreSQL: the member columns parsed once, as stored generated columns, for the member indexes", postgresOnly(createIndexes(postgresStoredColumns))},
}

// v1Models are the tables of migration 1.
var v1Models = []any{&Package{}, &Job{}, &sequence{}, &VIM{}, &VIMImage{}, &VIMCompute{}, &ContentDeletion{}}

// migrateV1 creates the schema of the releases before versioned
// migrations, or brings a database of one of those releases to it: those
// ran gorm's AutoMigrate of the same models at every start, so running it
// once more is exactly what they did (the baseline of an existing
// database), and on an empty database it creates the tables.
func migrateV1(tx *gorm.DB) error {
	if err := tx.AutoMigrate(v1Models...); err != nil {
		return err
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&sequence{Name: Package{}.TableName(), Value: 0}).Error; err != nil {
		return err
	}
	if tx.Dialector.Name() == "sqlite" {
		return createIndexes(sqliteIndexes)(tx)
	}
	return nil
}

func postgresOnly(up func(tx *gorm.DB) error) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		if tx.Dialector.Name() != "postgres" {
			return nil
		}
		return up(tx)
	}
}

// createIndexes runs CREATE INDEX IF NOT EXISTS statements.
func createIndexes(stmts []string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
}

// AddColumns is a step that adds the columns of the named fields of model
// (Go field names) to its table, skipping those it already has (a fresh
// database created them from the model). Use it when a field is added to
// a model of the migrated list.
func AddColumns(model any, fields ...string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		m := tx.Migrator()
		for _, f := range fields {
			if m.HasColumn(model, f) {
				continue
			}
			if err := m.AddColumn(model, f); err != nil {
				return fmt.Errorf("add column %s: %w", f, err)
			}
		}
		return nil
	}
}

// AddIndexes is a step that creates the named indexes of model's struct
// tags, skipping those that exist.
func AddIndexes(model any, names ...string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		m := tx.Migrator()
		for _, n := range names {
			if m.HasIndex(model, n) {
				continue
			}
			if err := m.CreateIndex(model, n); err != nil {
				return fmt.Errorf("create index %s: %w", n, err)
			}
		}
		return nil
	}
}

// migrationLockKey is the PostgreSQL advisory lock the migrations hold:
// an arbitrary constant ("vnfpkgm" in ASCII), the same in every replica.
const migrationLockKey = 0x766e66706b676d

// applyMigrations brings the schema up to date, in one transaction that
// holds the migration lock, so that replicas starting together migrate
// once: on PostgreSQL a transaction-level advisory lock, on SQLite the
// write lock the transaction takes at BEGIN (Open's connections begin
// IMMEDIATE). It applies the numbered steps not yet recorded, then creates
// the tables of the models of the list that have none (models added
// since, see applyModels), and checks that every model's columns exist.
func (db *DB) applyMigrations(ctx context.Context, models []any) error {
	err := db.ctx(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if !tx.Migrator().HasTable(&schemaMigration{}) { // under the lock: nobody creates it meanwhile
			if err := tx.Migrator().CreateTable(&schemaMigration{}); err != nil {
				return err
			}
		}
		var applied []string
		if err := tx.Model(&schemaMigration{}).Pluck("name", &applied).Error; err != nil {
			return err
		}
		for _, m := range migrations {
			if slices.Contains(applied, fmt.Sprint(m.version)) {
				continue
			}
			if err := m.up(tx); err != nil {
				return fmt.Errorf("step %d (%s): %w", m.version, m.name, err)
			}
			if err := record(tx, fmt.Sprint(m.version)); err != nil {
				return err
			}
		}
		if err := applyModels(tx, models, applied); err != nil {
			return err
		}
		return checkColumns(tx, models)
	})
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", noSpace(err))
	}
	return nil
}

func record(tx *gorm.DB, name string) error {
	return tx.Create(&schemaMigration{Name: name, AppliedAt: utcNow()}).Error
}

// applyModels creates the table of every model of the list that has no
// "table:" record: the models added to the list after migration 1 (new
// tables, such as subscriptions), created from the model as it is, and
// recorded so that it is never re-created. The v1 models are recorded by
// the first run.
func applyModels(tx *gorm.DB, models []any, applied []string) error {
	for _, m := range models {
		name, err := tableName(tx, m)
		if err != nil {
			return err
		}
		if slices.Contains(applied, "table:"+name) {
			continue
		}
		if !tx.Migrator().HasTable(m) {
			if err := tx.Migrator().CreateTable(m); err != nil {
				return fmt.Errorf("create table %s: %w", name, err)
			}
		}
		if err := record(tx, "table:"+name); err != nil {
			return err
		}
	}
	return nil
}

// checkColumns fails when a model has a field its table lacks: a field
// added to a model needs a numbered step (AddColumns), which a database
// created before it would otherwise never get. Failing at start-up says
// so, where a missing column would fail queries later.
func checkColumns(tx *gorm.DB, models []any) error {
	for _, m := range models {
		s, err := modelSchema(tx, m)
		if err != nil {
			return err
		}
		// Not Migrator().ColumnTypes: its query is the one AutoMigrate
		// prepared in this transaction (migrateV1 on an existing
		// database), before a step added columns, and PostgreSQL refuses
		// to run a prepared statement whose result changed ("cached plan
		// must not change result type"). This text is prepared here only.
		rows, err := tx.Raw("SELECT * FROM " + quoteIdent(s.Table) + " WHERE 1 = 0").Rows()
		if err != nil {
			return fmt.Errorf("columns of %s: %w", s.Table, err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if err != nil {
			return fmt.Errorf("columns of %s: %w", s.Table, err)
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[strings.ToLower(c)] = true
		}
		for _, f := range s.Fields {
			if f.DBName != "" && !have[strings.ToLower(f.DBName)] {
				return fmt.Errorf("table %s has no column %s (field %s.%s): add a migration step (storage.AddColumns)",
					s.Table, f.DBName, reflect.Indirect(reflect.ValueOf(m)).Type().Name(), f.Name)
			}
		}
	}
	return nil
}

func tableName(tx *gorm.DB, model any) (string, error) {
	s, err := modelSchema(tx, model)
	if err != nil {
		return "", err
	}
	return s.Table, nil
}

func modelSchema(tx *gorm.DB, model any) (*schema.Schema, error) {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(model); err != nil {
		return nil, err
	}
	return stmt.Schema, nil
}
