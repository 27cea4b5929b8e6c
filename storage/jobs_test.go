package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestJobLifecycle(t *testing.T) {
	db := openTest(t)
	clk := useClock(db)
	ctx := context.Background()
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingProcessing})

	if _, err := db.ClaimJob(ctx, "w1", time.Minute); !errors.Is(err, ErrNoJob) {
		t.Fatalf("claim from an empty queue: %v", err)
	}
	if err := db.EnqueueJob(ctx, &Job{PackageID: "missing", Kind: JobOnboard}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job for a missing package: %v", err)
	}
	j := &Job{PackageID: p.ID, Kind: JobOnboard, Payload: JSON(`{"from":"upload"}`)}
	if err := db.EnqueueJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second active job of a kind: %v", err)
	}
	clk.t = clk.t.Add(time.Millisecond)
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: "fetch"}); err != nil {
		t.Fatalf("job of another kind: %v", err)
	}

	got, err := db.ClaimJob(ctx, "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != j.ID || got.State != JobRunning || got.LeaseOwner != "w1" || got.Attempts != 1 ||
		!got.LeaseExpiresAt.Equal(clk.t.Add(time.Minute)) || string(got.Payload) != `{"from":"upload"}` {
		t.Fatalf("claimed: %+v", got)
	}
	if err := db.RenewLease(ctx, j.ID, "w2", time.Hour); !errors.Is(err, ErrConflict) {
		t.Fatalf("renew by a non-owner: %v", err)
	}
	if err := db.RenewLease(ctx, j.ID, "w1", time.Hour); err != nil {
		t.Fatal(err)
	}
	// Retry with a delay: not claimable until it is due.
	if err := db.RetryJob(ctx, j.ID, "w1", "transient", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Second)
	other, err := db.ClaimJob(ctx, "w1", time.Minute)
	if err != nil || other.Kind != "fetch" {
		t.Fatalf("claim while the retry waits: %+v %v", other, err)
	}
	if err := db.CompleteJob(ctx, other.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimJob(ctx, "w1", time.Minute); !errors.Is(err, ErrNoJob) {
		t.Fatalf("claim before the retry is due: %v", err)
	}
	clk.t = clk.t.Add(10 * time.Minute)
	got, err = db.ClaimJob(ctx, "w2", time.Minute)
	if err != nil || got.ID != j.ID || got.Attempts != 2 || got.LastError != "transient" {
		t.Fatalf("claim of the retried job: %+v %v", got, err)
	}
	if err := db.CompleteJob(ctx, j.ID, "w1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("complete by the previous owner: %v", err)
	}
	if err := db.FailJob(ctx, j.ID, "w2", "bad package"); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteJob(ctx, j.ID, "w2"); !errors.Is(err, ErrConflict) {
		t.Fatalf("complete after fail: %v", err)
	}
	if err := db.CompleteJob(ctx, "nope", "w2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("complete of a missing job: %v", err)
	}
	got, _ = db.GetJob(ctx, j.ID)
	if got.State != JobFailed || got.LastError != "bad package" || got.ActiveKey != nil || got.LeaseExpiresAt != nil {
		t.Fatalf("failed job: %+v", got)
	}
	// Once no job of the kind is active, a new one may be enqueued.
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
		t.Fatalf("enqueue after the previous ended: %v", err)
	}
	if _, err := db.ActiveJob(ctx, p.ID, JobOnboard); err != nil {
		t.Fatal(err)
	}
	js, err := db.ListJobs(ctx, p.ID)
	if err != nil || len(js) != 3 {
		t.Fatalf("ListJobs: %d %v", len(js), err)
	}

	// ReleaseJobs gives a worker's jobs back at once.
	got, err = db.ClaimJob(ctx, "w3", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.ReleaseJobs(ctx, "w3"); err != nil || n != 1 {
		t.Fatalf("ReleaseJobs = %d, %v", n, err)
	}
	again, err := db.ClaimJob(ctx, "w4", time.Hour)
	if err != nil || again.ID != got.ID {
		t.Fatalf("claim after release: %+v %v", again, err)
	}
}

// TestJobClaimRace: two owners claim one job at the same moment, many times
// over: exactly one gets it.
func TestJobClaimRace(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for round := range 50 {
		p := mustCreate(t, db, &Package{})
		j := &Job{PackageID: p.ID, Kind: JobOnboard}
		if err := db.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		got := make([]*Job, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i], errs[i] = db.ClaimJob(ctx, fmt.Sprint("owner-", i), time.Minute)
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range 2 {
			switch {
			case errs[i] == nil:
				winners++
				if got[i].ID != j.ID || got[i].LeaseOwner != fmt.Sprint("owner-", i) || got[i].Attempts != 1 {
					t.Fatalf("round %d: claimed %+v", round, got[i])
				}
				if err := db.CompleteJob(ctx, j.ID, got[i].LeaseOwner); err != nil {
					t.Fatal(err)
				}
			case errors.Is(errs[i], ErrNoJob):
			default:
				t.Fatal(errs[i])
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d owners got the job", round, winners)
		}
	}
}

// TestJobWorkers: four workers drain 300 jobs; each is claimed exactly once.
func TestJobWorkers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 300
	ps := make([]*Package, n)
	for i := range ps {
		ps[i] = &Package{}
	}
	if err := db.CreatePackages(ctx, ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("worker-", w)
			for {
				j, err := db.ClaimJob(ctx, owner, time.Minute)
				if errors.Is(err, ErrNoJob) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				claims[j.ID]++
				mu.Unlock()
				if err := db.CompleteJob(ctx, j.ID, owner); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(claims) != n {
		t.Fatalf("%d jobs claimed, want %d", len(claims), n)
	}
	for id, c := range claims {
		if c != 1 {
			t.Fatalf("job %s claimed %d times", id, c)
		}
	}
}

// TestJobLeaseExpiry: a worker dies holding a job; once the lease expires
// another claims it, and the dead worker's late results are refused.
func TestJobLeaseExpiry(t *testing.T) {
	db := openTest(t)
	clk := useClock(db)
	ctx := context.Background()
	p := mustCreate(t, db, &Package{})
	other := mustCreate(t, db, &Package{})
	j := &Job{PackageID: p.ID, Kind: JobOnboard}
	if err := db.EnqueueJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimJob(ctx, "dead", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Second)
	// A second job is queued after the first was claimed.
	if err := db.EnqueueJob(ctx, &Job{PackageID: other.ID, Kind: JobOnboard}); err != nil {
		t.Fatal(err)
	}
	// Before expiry only the queued job is claimable.
	clk.t = clk.t.Add(4 * time.Minute)
	q, err := db.ClaimJob(ctx, "alive", time.Hour)
	if err != nil || q.PackageID != other.ID {
		t.Fatalf("claim before expiry: %+v %v", q, err)
	}
	if _, err := db.ClaimJob(ctx, "alive", time.Hour); !errors.Is(err, ErrNoJob) {
		t.Fatalf("lease not expired yet, but: %v", err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	got, err := db.ClaimJob(ctx, "alive", time.Hour)
	if err != nil || got.ID != j.ID || got.Attempts != 2 || got.LeaseOwner != "alive" {
		t.Fatalf("re-claim after expiry: %+v %v", got, err)
	}
	if err := db.RenewLease(ctx, j.ID, "dead", time.Minute); !errors.Is(err, ErrConflict) {
		t.Fatalf("dead worker renews: %v", err)
	}
	if err := db.CompleteJob(ctx, j.ID, "dead"); !errors.Is(err, ErrConflict) {
		t.Fatalf("dead worker completes: %v", err)
	}
	// Two claimants race for an expired lease: one wins.
	clk.t = clk.t.Add(2 * time.Hour)
	var wg sync.WaitGroup
	wins := make(chan string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 { // both jobs have expired now
				if j, err := db.ClaimJob(ctx, fmt.Sprint("c", i), time.Hour); err == nil {
					wins <- j.ID
				}
			}
		}()
	}
	wg.Wait()
	close(wins)
	seen := map[string]int{}
	for id := range wins {
		seen[id]++
	}
	if len(seen) != 2 || seen[j.ID] != 1 || seen[q.ID] != 1 {
		t.Fatalf("claims of two expired jobs by two owners: %v", seen)
	}
}

// TestCompleteWithPackageInOneTx shows the pattern for ending a job: the
// package change and the job completion commit together, and a worker
// that lost its lease changes nothing.
func TestCompleteWithPackageInOneTx(t *testing.T) {
	db := openTest(t)
	clk := useClock(db)
	ctx := context.Background()
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingProcessing, VnfdID: "v"})
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
		t.Fatal(err)
	}
	j, err := db.ClaimJob(ctx, "slow", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	finish := func(owner string) error {
		return db.Tx(ctx, func(tx *DB) error {
			if _, err := tx.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingProcessing), func(p *Package) error {
				p.OnboardingState = OnboardingOnboarded
				p.VnfProvider = owner
				return nil
			}); err != nil {
				return err
			}
			return tx.CompleteJob(ctx, j.ID, owner)
		})
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if _, err := db.ClaimJob(ctx, "fast", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := finish("slow"); !errors.Is(err, ErrConflict) {
		t.Fatalf("finish by the worker that lost its lease: %v", err)
	}
	if got, _ := db.GetPackage(ctx, p.ID); got.OnboardingState != OnboardingProcessing {
		t.Fatalf("rolled back package: %+v", got)
	}
	if err := finish("fast"); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetPackage(ctx, p.ID)
	gj, _ := db.GetJob(ctx, j.ID)
	if got.OnboardingState != OnboardingOnboarded || got.VnfProvider != "fast" || gj.State != JobDone {
		t.Fatalf("after finish: %+v %+v", got, gj)
	}
}

// TestTimeOrdering: on SQLite, times are stored as text
// ("2006-01-02 15:04:05.999999999+00:00", fraction trimmed), and the lease
// and run-after conditions compare them as text. That is only right if
// every time is UTC and whole seconds sort before their fractions: check
// the edges.
func TestTimeOrdering(t *testing.T) {
	db := openTest(t)
	clk := useClock(db)
	ctx := context.Background()
	p := mustCreate(t, db, &Package{})
	sec := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	local := time.FixedZone("east", 5*3600)
	for _, c := range []struct {
		runAfter, now time.Time
		due           bool
	}{
		{sec.Add(500 * time.Millisecond), sec, false},
		{sec.Add(500 * time.Millisecond), sec.Add(500 * time.Millisecond), true},
		{sec.Add(500 * time.Millisecond), sec.Add(499999999 * time.Nanosecond), false},
		{sec.Add(500 * time.Millisecond), sec.Add(510 * time.Millisecond), true},
		{sec.Add(120 * time.Millisecond), sec.Add(50 * time.Millisecond), false},
		{sec.Add(100 * time.Millisecond), sec.Add(1 * time.Millisecond), false},
		{sec, sec.Add(-time.Nanosecond), false},
		{sec, sec, true},
		{sec.In(local), sec.Add(time.Millisecond), true}, // given in another zone
		{sec.In(local), sec.Add(-time.Millisecond), false},
	} {
		j := &Job{PackageID: p.ID, Kind: "t", RunAfter: c.runAfter}
		if err := db.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		clk.t = c.now
		got, err := db.ClaimJob(ctx, "w", time.Minute)
		if due := err == nil; due != c.due {
			t.Errorf("run after %s, now %s: claimed=%v, want %v (%v)", c.runAfter.Format(time.RFC3339Nano), c.now.Format(time.RFC3339Nano), due, c.due, err)
		}
		if err == nil {
			if err := db.FailJob(ctx, got.ID, "w", ""); err != nil {
				t.Fatal(err)
			}
		} else {
			clk.t = c.runAfter.Add(time.Hour)
			got, err := db.ClaimJob(ctx, "w", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			db.FailJob(ctx, got.ID, "w", "")
		}
	}
}

// TestTwoHandles opens the database twice (two connection pools, as two
// replicas or processes would have) and races them: the compare-and-set
// operations hold across handles exactly as within one.
func TestTwoHandles(t *testing.T) {
	path := testDSN(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	ctx := context.Background()
	for round := range 30 {
		p := mustCreate(t, dbs[round%2], &Package{})
		if err := dbs[(round+1)%2].EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		var claimErr, updErr [2]error
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, claimErr[i] = dbs[i].ClaimJob(ctx, fmt.Sprint("replica-", i), time.Minute)
				_, updErr[i] = dbs[i].UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
					p.OnboardingState = OnboardingUploading
					return nil
				})
			}()
		}
		close(start)
		wg.Wait()
		if (claimErr[0] == nil) == (claimErr[1] == nil) {
			t.Fatalf("round %d: claims %v / %v: want exactly one", round, claimErr[0], claimErr[1])
		}
		if (updErr[0] == nil) == (updErr[1] == nil) {
			t.Fatalf("round %d: updates %v / %v: want exactly one", round, updErr[0], updErr[1])
		}
		for _, err := range append(claimErr[:], updErr[:]...) {
			if err != nil && !errors.Is(err, ErrNoJob) && !errors.Is(err, ErrConflict) {
				t.Fatal(err)
			}
		}
	}
}

func TestEndedJobsForgetTheirPayload(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		p := mustCreate(t, db, &Package{OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse})
		if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: "fetch", Payload: MustJSON(map[string]string{"password": "s3cret"})}); err != nil {
			t.Fatal(err)
		}
		j, err := db.ClaimJob(ctx, "w", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(j.Payload) == 0 {
			t.Fatal("a claimed job carries its payload")
		}
		if fail {
			err = db.FailJob(ctx, j.ID, "w", "boom")
		} else {
			err = db.CompleteJob(ctx, j.ID, "w")
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Payload) != 0 && string(got.Payload) != "null" {
			t.Fatalf("ended job (failed=%v) still holds its payload %s", fail, got.Payload)
		}
	}
}
