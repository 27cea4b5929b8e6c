package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenSettings(t *testing.T) {
	sqliteOnly(t)
	db := openTest(t)
	// Every pooled connection has the settings: hold several at once.
	ctx := context.Background()
	sqlDB, _ := db.g.DB()
	var conns []interface{ Close() error }
	for range 3 {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "2"} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}

	dir := t.TempDir()
	for _, dsn := range []string{":memory:", "file::memory:?cache=shared", "file:x.db?mode=memory", "",
		filepath.Join(dir, "a.db") + "?_journal_mode=DELETE", filepath.Join(dir, "b.db") + "?_fk=0"} {
		if db, err := Open(dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) accepted", dsn)
		}
	}
	// Reopening migrates nothing new and keeps the data.
	path := filepath.Join(dir, "c.db")
	db1, err := Open("file:" + path + "?_busy_timeout=2000")
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, db1, &Package{})
	db1.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.GetPackage(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	q := &Package{}
	if err := db2.CreatePackage(ctx, q); err != nil || q.Seq != p.Seq+1 {
		t.Fatalf("seq after reopen: %d (%v), want %d", q.Seq, err, p.Seq+1)
	}
}

func TestPackageCRUD(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	p := &Package{
		VnfProvider:     "acme",
		UserDefinedData: MustJSON(map[string]any{"k": "v"}),
	}
	if err := db.CreatePackage(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || p.Seq != 1 || p.Revision != 1 || p.OnboardingState != OnboardingCreated ||
		p.OperationalState != OperationalDisabled || p.UsageState != UsageNotInUse || p.CreatedAt.IsZero() {
		t.Fatalf("created: %+v", p)
	}
	if err := db.CreatePackage(ctx, &Package{ID: p.ID}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	got, err := db.GetPackage(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.VnfProvider != "acme" || string(got.UserDefinedData) != `{"k":"v"}` || got.Checksum != nil ||
		!got.CreatedAt.Equal(p.CreatedAt) || got.Seq != 1 {
		t.Fatalf("read back: %+v", got)
	}
	if _, err := db.GetPackage(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing package: %v", err)
	}

	// A malformed JSON document is refused.
	if err := db.CreatePackage(ctx, &Package{UserDefinedData: JSON("{")}); err == nil {
		t.Fatal("malformed JSON stored")
	}

	// Conditional update: the precondition holds.
	key := NewContentKey(p.ID)
	now := time.Now().Truncate(time.Microsecond) // what every engine keeps
	up, err := db.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
		p.OnboardingState = OnboardingProcessing
		p.ContentKey = &key
		p.ContentSize = 42
		p.ContentChecksum = "sha-256:00"
		p.ContentETag = `"e"`
		p.ContentUploadedAt = &now
		p.Checksum = MustJSON(map[string]string{"algorithm": "SHA-256", "hash": "00"})
		p.ID, p.Seq = "hijack", 99 // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Revision != 2 || up.ID != p.ID || up.Seq != 1 {
		t.Fatalf("updated: %+v", up)
	}
	got, _ = db.GetPackage(ctx, p.ID)
	if got.OnboardingState != OnboardingProcessing || got.ContentKey == nil || *got.ContentKey != key ||
		got.ContentSize != 42 || got.ContentETag != `"e"` || !got.ContentUploadedAt.Equal(now) || got.Revision != 2 ||
		!got.UpdatedAt.After(got.CreatedAt) {
		t.Fatalf("after update: %+v", got)
	}

	// The precondition fails: ErrConflict saying why, nothing written.
	_, err = db.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
		t.Fatal("mutate called although the precondition failed")
		return nil
	})
	var pe *PreconditionError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &pe) || pe.Actual != OnboardingProcessing || pe.Attribute != "onboardingState" {
		t.Fatalf("failed precondition: %v", err)
	}
	if _, err := db.UpdatePackageIf(ctx, p.ID, Expect{Revision: 1}, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	if _, err := db.UpdatePackageIf(ctx, "nope", Any, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	// An error from mutate aborts and is returned as is.
	boom := errors.New("boom")
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.VnfProvider = "x"; return boom }); err != boom {
		t.Fatalf("mutate error: %v", err)
	}
	got, _ = db.GetPackage(ctx, p.ID)
	if got.VnfProvider != "acme" || got.Revision != 2 {
		t.Fatalf("aborted update wrote: %+v", got)
	}
	// A nil mutate is a heartbeat.
	hb, err := db.UpdatePackageIf(ctx, p.ID, Expect{Revision: 2}, nil)
	if err != nil || hb.Revision != 3 {
		t.Fatalf("heartbeat: %v %+v", err, hb)
	}

	// Delete: the precondition is checked, jobs go with the package.
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error {
		p.OnboardingState = OnboardingOnboarded
		p.OperationalState = OperationalEnabled
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deletable := Expect{OperationalState: []string{OperationalDisabled}, UsageState: []string{UsageNotInUse}}
	if _, err := db.DeletePackage(ctx, p.ID, deletable); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete of an ENABLED package: %v", err)
	}
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.OperationalState = OperationalDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	del, err := db.DeletePackage(ctx, p.ID, deletable)
	if err != nil || del.ContentKey == nil || *del.ContentKey != key {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if _, err := db.DeletePackage(ctx, p.ID, Any); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if js, err := db.ListJobs(ctx, p.ID); err != nil || len(js) != 0 {
		t.Fatalf("jobs of a deleted package: %v %v", js, err)
	}
}

// TestUpdateRace: two requests with the same precondition, exactly one wins,
// many times over.
func TestUpdateRace(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for round := range 50 {
		p := mustCreate(t, db, &Package{})
		n := 2 + round%7 // 2 to 8 contenders
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = db.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
					p.OnboardingState = OnboardingUploading
					p.VnfProvider = fmt.Sprint("winner ", i)
					return nil
				})
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = i
			case errors.Is(err, ErrConflict):
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners among %d", round, winners, n)
		}
		got, _ := db.GetPackage(ctx, p.ID)
		if got.VnfProvider != fmt.Sprint("winner ", winner) || got.Revision != 2 {
			t.Fatalf("round %d: stored %+v, winner %d", round, got, winner)
		}
	}
}

// TestNoLostUpdate: concurrent read-modify-writes of userDefinedData under
// a precondition that stays true all retry and none is lost.
func TestNoLostUpdate(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	p := mustCreate(t, db, &Package{UserDefinedData: JSON(`{}`)})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
				m := map[string]int{}
				if err := json.Unmarshal(p.UserDefinedData, &m); err != nil {
					return err
				}
				m[fmt.Sprint("k", i)] = i
				p.UserDefinedData = MustJSON(m)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := db.GetPackage(ctx, p.ID)
	m := map[string]int{}
	json.Unmarshal(got.UserDefinedData, &m)
	if len(m) != n || got.Revision != n+1 {
		t.Fatalf("after %d merges: %d keys, revision %d", n, len(m), got.Revision)
	}
}

func onboard(ctx context.Context, db *DB, id string) (*Package, error) {
	return db.UpdatePackageIf(ctx, id, InOnboarding(OnboardingProcessing), func(p *Package) error {
		p.OnboardingState = OnboardingOnboarded
		return nil
	})
}

func TestVnfdIDUniqueAmongOnboarded(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const vnfd = "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177"
	a := mustCreate(t, db, &Package{VnfdID: vnfd, OnboardingState: OnboardingProcessing})
	b := mustCreate(t, db, &Package{VnfdID: vnfd, OnboardingState: OnboardingProcessing})
	c := mustCreate(t, db, &Package{VnfdID: vnfd, OnboardingState: OnboardingError})
	_ = c
	if _, err := onboard(ctx, db, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err := onboard(ctx, db, b.ID)
	if !errors.Is(err, ErrVnfdIDOnboarded) || !errors.Is(err, ErrConflict) {
		t.Fatalf("second onboarding of the same vnfdId: %v", err)
	}
	if got, _ := db.GetPackage(ctx, b.ID); got.OnboardingState != OnboardingProcessing || got.OnboardedVnfdID != nil {
		t.Fatalf("refused package changed: %+v", got)
	}
	// Creating a package already onboarded with that vnfdId is refused too.
	if err := db.CreatePackage(ctx, &Package{VnfdID: vnfd, OnboardingState: OnboardingOnboarded}); !errors.Is(err, ErrVnfdIDOnboarded) {
		t.Fatalf("create onboarded duplicate: %v", err)
	}
	got, err := db.GetOnboardedPackage(ctx, vnfd)
	if err != nil || got.ID != a.ID {
		t.Fatalf("GetOnboardedPackage: %v %v", got, err)
	}
	// Other vnfdIds and non-onboarded duplicates are fine.
	mustCreate(t, db, &Package{VnfdID: "other", OnboardingState: OnboardingOnboarded})
	mustCreate(t, db, &Package{VnfdID: vnfd})
	// Once a leaves ONBOARDED, b may take the vnfdId.
	if _, err := db.DeletePackage(ctx, a.ID, InOnboarding(OnboardingOnboarded)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetOnboardedPackage(ctx, vnfd); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := onboard(ctx, db, b.ID); err != nil {
		t.Fatal(err)
	}

	// Racing onboardings of one vnfdId: exactly one wins.
	for round := range 20 {
		v := fmt.Sprint("race-", round)
		ids := make([]string, 4)
		for i := range ids {
			ids[i] = mustCreate(t, db, &Package{VnfdID: v, OnboardingState: OnboardingProcessing}).ID
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = onboard(ctx, db, id) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, ErrVnfdIDOnboarded) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d onboarded with vnfdId %s", round, ok, v)
		}
	}
}

func TestConflictErrorText(t *testing.T) {
	err := error(&PreconditionError{ID: "x", Attribute: "onboardingState", Actual: "ONBOARDED", Expected: []string{"CREATED", "ERROR"}})
	if !strings.Contains(err.Error(), "onboardingState is ONBOARDED, expected CREATED or ERROR") {
		t.Fatal(err)
	}
}
