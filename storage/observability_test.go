package storage

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPendingMigrations: none after Open; a step whose record is missing
// (a database another process has not finished migrating) is named.
func TestPendingMigrations(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	pending, err := db.PendingMigrations(ctx)
	if err != nil || len(pending) != 0 {
		t.Fatalf("after Open: %v %v", pending, err)
	}
	if err := db.g.Where("name = ?", "2").Delete(&schemaMigration{}).Error; err != nil {
		t.Fatal(err)
	}
	pending, err = db.PendingMigrations(ctx)
	if err != nil || len(pending) != 1 || !strings.HasPrefix(pending[0], "2 (") {
		t.Fatalf("with step 2 unrecorded: %v %v", pending, err)
	}
}

// TestCountActiveJobs counts queued and running jobs by kind, not the
// ended ones.
func TestCountActiveJobs(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		p := mustCreate(t, db, &Package{OnboardingState: OnboardingProcessing})
		if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := db.ClaimJob(ctx, "w", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := db.ClaimJob(ctx, "w", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteJob(ctx, j2.ID, "w"); err != nil {
		t.Fatal(err)
	}
	counts, err := db.CountActiveJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[JobState]int64{}
	for _, c := range counts {
		if c.Kind != JobOnboard {
			t.Fatalf("kind %q", c.Kind)
		}
		got[c.State] += c.Count
	}
	if got[JobQueued] != 1 || got[JobRunning] != 1 || len(got) != 2 {
		t.Fatalf("counts %v (claimed %s), want 1 queued, 1 running", counts, j.ID)
	}
}

// TestEnqueueJobRecordsTheRequestID: a job queued under a request id
// keeps it (migration 3's column), and a claim returns it.
func TestEnqueueJobRecordsTheRequestID(t *testing.T) {
	db := openTest(t)
	ctx := WithRequestID(context.Background(), "req-17")
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingProcessing})
	if err := db.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard}); err != nil {
		t.Fatal(err)
	}
	j, err := db.ClaimJob(context.Background(), "w", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if j.RequestID != "req-17" {
		t.Fatalf("claimed job's request id %q, want req-17", j.RequestID)
	}
}
