package storage

import (
	"context"
	"strings"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

func migrationNames(t *testing.T, db *DB) []string {
	t.Helper()
	var names []string
	if err := db.g.Model(&schemaMigration{}).Order("name").Pluck("name", &names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// TestMigrationsRecordedOnce: a new database gets every step and a table
// record per model; opening it again applies nothing.
func TestMigrationsRecordedOnce(t *testing.T) {
	dsn := testDSN(t)
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	first := migrationNames(t, db)
	want := "1,2,3,4,5,6,7,table:auth_signing_keys,table:content_deletions,table:jobs,table:notifications,table:oci_layers,table:sequences,table:subscriptions,table:vim_computes,table:vim_images,table:vims,table:vnf_packages"
	if strings.Join(first, ",") != want {
		t.Fatalf("%s: recorded %v, want %s", engineName(), first, want)
	}
	var at1 []schemaMigration
	db.g.Order("name").Find(&at1)
	mustCreate(t, db, &Package{VnfProvider: "kept"})
	db.Close()
	db, err = Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var at2 []schemaMigration
	db.g.Order("name").Find(&at2)
	for i := range at1 {
		if !at1[i].AppliedAt.Equal(at2[i].AppliedAt) {
			t.Fatalf("step %s applied again", at1[i].Name)
		}
	}
	var n int64
	db.g.Model(&Package{}).Where("vnf_provider = ?", "kept").Count(&n)
	if n != 1 {
		t.Fatalf("%d packages after reopening", n)
	}
}

// TestMigrationBaselinesOldDatabase: a database of a release before
// versioned migrations (the tables AutoMigrate made, no
// schema_migrations) opens with its rows, and is recorded at version 1.
func TestMigrationBaselinesOldDatabase(t *testing.T) {
	dsn := testDSN(t)
	var dialector gorm.Dialector
	if testPG != nil {
		dialector = postgres.Open(dsn)
	} else {
		full, err := sqliteDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		dialector = sqlite.Open(full)
	}
	old, err := gorm.Open(dialector, gormConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := old.AutoMigrate(v1Models...); err != nil {
		t.Fatal(err)
	}
	now := utcNow()
	old.Create(&sequence{Name: "vnf_packages", Value: 1})
	if err := old.Create(&Package{ID: "00000000-0000-0000-0000-000000000001", Seq: 1, Revision: 1, VnfProvider: "old",
		OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse,
		CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := old.DB()
	sqlDB.Close()

	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := migrationNames(t, db); len(got) == 0 || got[0] != "1" {
		t.Fatalf("recorded %v", got)
	}
	p, err := db.GetPackage(context.Background(), "00000000-0000-0000-0000-000000000001")
	if err != nil || p.VnfProvider != "old" {
		t.Fatalf("old package: %+v %v", p, err)
	}
	if q := mustCreate(t, db, &Package{}); q.Seq != 2 {
		t.Fatalf("new package after the old one: seq %d", q.Seq)
	}
}

// TestMigrationsConcurrentStart: replicas starting together on a new
// database all open it, and the steps are applied once (the lock).
func TestMigrationsConcurrentStart(t *testing.T) {
	dsn := testDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(dsn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", engineName(), err)
		}
	}
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := migrationNames(t, db); len(got) != len(migrations)+11 { // the steps, and the 11 tables
		t.Fatalf("recorded %v", got)
	}
}

type widget struct {
	ID   string `gorm:"primaryKey;size:36"`
	Name string `gorm:"size:50;not null"`
}

func (widget) TableName() string { return "test_widgets" }

// widgetV2 is widget after a field was added.
type widgetV2 struct {
	ID    string `gorm:"primaryKey;size:36"`
	Name  string `gorm:"size:50;not null"`
	Extra string `gorm:"size:50;not null;default:''"`
}

func (widgetV2) TableName() string { return "test_widgets" }

// TestMigrationNewModelAndField: a model added to the list gets its table
// (recorded, never re-created); a field added to it without a step stops
// the start with a message saying what to do, and AddColumns is that step.
func TestMigrationNewModelAndField(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	models := []any{&Package{}, &Job{}, &sequence{}, &VIM{}, &VIMImage{}, &VIMCompute{}, &ContentDeletion{}}
	if err := db.applyMigrations(ctx, append(models, &widget{})); err != nil {
		t.Fatal(err)
	}
	if err := db.g.Create(&widget{ID: "w1", Name: "first"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.applyMigrations(ctx, append(models, &widget{})); err != nil {
		t.Fatal(err)
	}
	var n int64
	db.g.Model(&widget{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d widgets after a second migration", n)
	}
	err := db.applyMigrations(ctx, append(models, &widgetV2{}))
	if err == nil || !strings.Contains(err.Error(), "no column extra") || !strings.Contains(err.Error(), "AddColumns") {
		t.Fatalf("a field without a step: %v", err)
	}
	if err := db.g.Transaction(func(tx *gorm.DB) error { return AddColumns(&widgetV2{}, "Extra")(tx) }); err != nil {
		t.Fatal(err)
	}
	if err := db.applyMigrations(ctx, append(models, &widgetV2{})); err != nil {
		t.Fatal(err)
	}
	var w widgetV2
	if err := db.g.Take(&w, "id = ?", "w1").Error; err != nil || w.Name != "first" || w.Extra != "" {
		t.Fatalf("%+v %v", w, err)
	}
}

// TestOpenPostgresKeepsPasswordOut: a failed PostgreSQL open says which
// server, without the DSN's password.
func TestOpenPostgresKeepsPasswordOut(t *testing.T) {
	if testPG == nil {
		t.Skip("PostgreSQL-specific; runs in the PostgreSQL pass")
	}
	dsn := testPG.Database(t)
	bad := strings.Replace(strings.Replace(dsn, "postgres@", "postgres:hunter2@", 1), "/t", "/nosuchdb", 1)
	if !strings.Contains(bad, "hunter2") || !strings.Contains(bad, "nosuchdb") {
		t.Fatalf("test DSN %q", bad)
	}
	_, err := OpenPostgres(bad, DefaultPostgresPool)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "nosuchdb") {
		t.Fatalf("open: %v", err)
	}
}

// TestMigrationAddsComputeOwnerHost: a database of the releases before
// migration 4 (vim_computes without owner_host) gains the column on open,
// and its computes are owned by no host.
func TestMigrationAddsComputeOwnerHost(t *testing.T) {
	dsn := testDSN(t)
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.g.Create(&VIMCompute{ID: "c1", VimID: "v", PackageID: "p", CreatedAt: utcNow()}).Error; err != nil {
		t.Fatal(err)
	}
	// Back to the schema before step 4.
	if err := db.g.Migrator().DropColumn(&VIMCompute{}, "OwnerHost"); err != nil {
		t.Fatal(err)
	}
	if err := db.g.Where("name = ?", "4").Delete(&schemaMigration{}).Error; err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.g.Migrator().HasColumn(&VIMCompute{}, "OwnerHost") {
		t.Fatal("migration 4 did not add vim_computes.owner_host")
	}
	c, err := db.GetVIMCompute(context.Background(), "v", "c1")
	if err != nil || c.OwnerHost != "" {
		t.Fatalf("compute recorded before migration 4: %+v %v, want no owner host", c, err)
	}
}
