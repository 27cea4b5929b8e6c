package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

// TestSweepDeletedContent: a process that dies between deleting a
// package's row and deleting its blob leaves the blob; the sweep deletes
// it at once, although it was written seconds ago (a grace counted from
// the blob's write time would keep it for OrphanGrace), and keeps the
// blobs packages still reference.
func TestSweepDeletedContent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	store, _ := newStore(t)
	keep := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	gone := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	keepKey, goneKey := NewContentKey(keep.ID), NewContentKey(gone.ID)
	putBlob(t, store, keepKey, "kept")
	putBlob(t, store, goneKey, "deleted")
	for _, c := range []struct {
		p   *Package
		key string
		n   int64
	}{{keep, keepKey, 4}, {gone, goneKey, 7}} {
		if _, err := db.UpdatePackageIf(ctx, c.p.ID, Any, func(p *Package) error {
			withContent(p, c.key, c.n)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The DELETE handler's process dies after the row, before the blob.
	if _, err := db.DeletePackage(ctx, gone.ID, Any); err != nil {
		t.Fatal(err)
	}
	// Start-up reconciliation of a fresh blob: the orphan rule alone keeps it.
	rep, err := ReconcileWith(ctx, db, store, ReconcileOptions{OrphanGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, goneKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the content of the deleted package is still there after Reconcile (%+v): %v", rep, err)
	}
	if rep.DeletedRemoved != 1 || rep.ContentLost != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if _, err := store.Stat(ctx, keepKey); err != nil {
		t.Fatalf("the content of a live package went: %v", err)
	}

	// The periodic sweep does the same while the server runs.
	other := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	otherKey := NewContentKey(other.ID)
	putBlob(t, store, otherKey, "deleted too")
	if _, err := db.UpdatePackageIf(ctx, other.ID, Any, func(p *Package) error {
		withContent(p, otherKey, 11)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeletePackage(ctx, other.ID, Any); err != nil {
		t.Fatal(err)
	}
	if _, err := Sweep(ctx, db, store); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, otherKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the sweep left the content of a deleted package: %v", err)
	}
	var n int64
	db.g.Model(&ContentDeletion{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d deletion records left after the sweep", n)
	}
}

// TestDataFilesOwnerOnly: the database and its WAL and shared-memory
// files are readable by their owner only.
func TestDataFilesOwnerOnly(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "vnfpkgm.db")
	// An existing database with the permissions of older versions.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustCreate(t, db, &Package{OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

// TestClaimJobOf: separate pools claim separate kinds; a started job is
// claimed only once its lease expires.
func TestClaimJobOf(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	c := useClock(db)
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	q := mustCreate(t, db, &Package{OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: "fetch"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimJobOf(ctx, "onboarder", time.Minute, JobKinds{Except: []string{"fetch"}}); !errors.Is(err, ErrNoJob) {
		t.Fatalf("an onboarding worker claimed a fetch: %v", err)
	}
	j, err := db.ClaimJobOf(ctx, "fetcher", time.Minute, JobKinds{Only: []string{"fetch"}})
	if err != nil || j.Kind != "fetch" {
		t.Fatalf("fetcher: %v %+v", err, j)
	}
	up := &Job{PackageID: q.ID, Kind: "upload"}
	if err := db.StartJob(ctx, up, "handler", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := db.StartJob(ctx, &Job{PackageID: q.ID, Kind: "upload"}, "handler2", 10*time.Second); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second upload of the same package: %v", err)
	}
	if _, err := db.ClaimJobOf(ctx, "onboarder", time.Minute, JobKinds{Except: []string{"fetch"}}); !errors.Is(err, ErrNoJob) {
		t.Fatalf("a live upload was claimed: %v", err)
	}
	c.t = c.t.Add(11 * time.Second)
	got, err := db.ClaimJobOf(ctx, "onboarder", time.Minute, JobKinds{Except: []string{"fetch"}})
	if err != nil || got.ID != up.ID || got.Attempts != 2 {
		t.Fatalf("the expired upload: %v %+v", err, got)
	}
}

// refusingStore fails Delete of one key, as a blob the process may not
// remove would.
type refusingStore struct {
	blob.Store
	refuse string
}

func (s refusingStore) Delete(ctx context.Context, key string) error {
	if key == s.refuse {
		return errors.New("permission denied")
	}
	return s.Store.Delete(ctx, key)
}

// TestSweepGoesPastAFailingBlob: a deleted package's blob that cannot be
// removed keeps its record for the next sweep, and the others are still
// removed (the sweep used to stop at it, every time).
func TestSweepGoesPastAFailingBlob(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	store, _ := newStore(t)
	var keys []string
	for i := 0; i < 3; i++ {
		p := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
		key := NewContentKey(p.ID)
		putBlob(t, store, key, "deleted")
		if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error {
			withContent(p, key, 7)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DeletePackage(ctx, p.ID, Any); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	refused := keys[0] // the first the sweep meets
	if _, err := Sweep(ctx, db, refusingStore{store, refused}); err == nil {
		t.Fatal("the sweep hid the failure")
	}
	for _, k := range keys[1:] {
		if _, err := store.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s not removed past the failing blob: %v", k, err)
		}
	}
	var left []ContentDeletion
	db.g.Find(&left)
	if len(left) != 1 || left[0].Key != refused {
		t.Fatalf("records left %+v, want only %s's", left, refused)
	}
	// The next sweep, once the blob can go, removes it.
	if _, err := Sweep(ctx, db, store); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, refused); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the refused blob is still there: %v", err)
	}
}
