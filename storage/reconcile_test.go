package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

func newStore(t testing.TB) (*blob.FS, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func putBlob(t testing.TB, s blob.Store, key, content string) {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	io.WriteString(w, content)
	if err := w.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// withContent makes p refer to key with size n.
func withContent(p *Package, key string, n int64) *Package {
	p.ContentKey = &key
	p.ContentSize = n
	p.ContentChecksum = "sha-256:00"
	p.ContentETag = `"x"`
	return p
}

// checkAgreement asserts the invariant Reconcile establishes: every row's
// content blob exists with its size, and every blob under the content
// prefix older than the grace is referenced.
func checkAgreement(t *testing.T, db *DB, s blob.Store, young map[string]bool) {
	t.Helper()
	ctx := context.Background()
	refs := map[string]bool{}
	_, err := db.ScanPackages(ctx, Cursor{}, 100, nil, func(p *Package) (bool, error) {
		if !p.HasContent() {
			return true, nil
		}
		refs[*p.ContentKey] = true
		info, err := s.Stat(ctx, *p.ContentKey)
		if err != nil || info.Size != p.ContentSize {
			t.Errorf("package %s (%s) points at %s: %v %+v", p.ID, p.OnboardingState, *p.ContentKey, err, info)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.List(ctx, ContentKeyPrefix, func(in blob.Info) error {
		if !refs[in.Key] && !young[in.Key] {
			t.Errorf("unreferenced blob %s", in.Key)
		}
		return nil
	})
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	clk := useClock(db)
	s, dir := newStore(t)
	t0 := clk.t

	key := func(name string) string { return ContentKeyPrefix + name + "/content-1" }
	mk := func(p *Package) *Package { return mustCreate(t, db, p) }
	// a: onboarded, content present: untouched.
	putBlob(t, s, key("a"), "aaaa")
	a := mk(withContent(&Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalEnabled, VnfdID: "va"}, key("a"), 4))
	// b: onboarded, in use, content lost.
	b := mk(withContent(&Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalEnabled,
		UsageState: UsageInUse, VnfdID: "vb"}, key("b"), 10))
	// c: uploading with a recorded key whose blob is gone.
	c := mk(withContent(&Package{OnboardingState: OnboardingUploading}, key("c"), 10))
	// d: processing, content lost, its job queued.
	d := mk(withContent(&Package{OnboardingState: OnboardingProcessing}, key("d"), 10))
	dj := &Job{PackageID: d.ID, Kind: JobOnboard}
	if err := db.EnqueueJob(ctx, dj); err != nil {
		t.Fatal(err)
	}
	// e: processing, content present, no job (crash lost it).
	putBlob(t, s, key("e"), "eeeeee")
	e := mk(withContent(&Package{OnboardingState: OnboardingProcessing}, key("e"), 6))
	// f: uploading, no content, abandoned long ago.
	f := mk(&Package{OnboardingState: OnboardingUploading})
	// g: uploading, no content, but its uploader is alive (recent heartbeat).
	g := mk(&Package{OnboardingState: OnboardingUploading})
	// h: uploading, no content, old, but a fetch job is working on it.
	h := mk(&Package{OnboardingState: OnboardingUploading})
	if err := db.EnqueueJob(ctx, &Job{PackageID: h.ID, Kind: "fetch"}); err != nil {
		t.Fatal(err)
	}
	// i: onboarded, blob damaged (wrong size).
	putBlob(t, s, key("i"), "short")
	i := mk(withContent(&Package{OnboardingState: OnboardingOnboarded, VnfdID: "vi"}, key("i"), 5000))
	// j: already ERROR, content lost: stays ERROR with its own details.
	j := mk(withContent(&Package{OnboardingState: OnboardingError, OnboardingFailureDetails: JSON(`{"detail":"bad manifest"}`)}, key("j"), 3))

	// k: processing without content or job: nothing can onboard it.
	k := mk(&Package{OnboardingState: OnboardingProcessing})
	// l: an upload that recorded its content but died still UPLOADING.
	putBlob(t, s, key("l"), "ll")
	l := mk(withContent(&Package{OnboardingState: OnboardingUploading}, key("l"), 2))

	// Orphans: an old one, a young one, one outside the content prefix.
	putBlob(t, s, key("orphan-old"), "o")
	putBlob(t, s, key("orphan-young"), "y")
	putBlob(t, s, "other/not-ours", "z")
	// A temp file of a writer that died.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "w-dead.tmp"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Two hours later (the blobs are now older than the grace, except the
	// young one, which was written "just now").
	clk.t = t0.Add(2 * time.Hour)
	future := time.Now().Add(2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "objects", filepath.FromSlash(key("orphan-young"))), future, future); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdatePackageIf(ctx, g.ID, Any, nil); err != nil {
		t.Fatal(err)
	}

	rep, err := Reconcile(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep)
	if rep.TempRemoved != 1 || rep.ContentLost != 6 || rep.UploadsReset != 2 || rep.JobsEnqueued != 1 ||
		rep.OrphansRemoved != 3 || rep.OrphansTooYoung != 1 {
		t.Errorf("report %+v", rep)
	}

	get := func(p *Package) *Package {
		got, err := db.GetPackage(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := get(a); got.OnboardingState != OnboardingOnboarded || got.Revision != 1 {
		t.Errorf("a changed: %+v", got)
	}
	got := get(b)
	if got.OnboardingState != OnboardingError || got.OperationalState != OperationalDisabled || got.UsageState != UsageInUse ||
		got.HasContent() || got.OnboardedVnfdID != nil || !strings.Contains(string(got.OnboardingFailureDetails), "content lost") ||
		!strings.Contains(string(got.OnboardingFailureDetails), key("b")) {
		t.Errorf("b: %+v %s", got, got.OnboardingFailureDetails)
	}
	if _, err := db.GetOnboardedPackage(ctx, "vb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("b still onboarded: %v", err)
	}
	if got := get(c); got.OnboardingState != OnboardingCreated || got.HasContent() || got.ContentSize != 0 {
		t.Errorf("c: %+v", got)
	}
	if got := get(d); got.OnboardingState != OnboardingError || got.HasContent() {
		t.Errorf("d: %+v", got)
	}
	if gj, _ := db.GetJob(ctx, dj.ID); gj.State != JobFailed || !strings.Contains(gj.LastError, "content lost") {
		t.Errorf("d's job: %+v", gj)
	}
	if got := get(e); got.OnboardingState != OnboardingProcessing || !got.HasContent() {
		t.Errorf("e: %+v", got)
	}
	if _, err := db.ActiveJob(ctx, e.ID, JobOnboard); err != nil {
		t.Errorf("e has no job: %v", err)
	}
	if got := get(f); got.OnboardingState != OnboardingCreated {
		t.Errorf("f: %+v", got)
	}
	if got := get(g); got.OnboardingState != OnboardingUploading {
		t.Errorf("g (live upload) reset: %+v", got)
	}
	if got := get(h); got.OnboardingState != OnboardingUploading {
		t.Errorf("h (fetching) reset: %+v", got)
	}
	if got := get(i); got.OnboardingState != OnboardingError || got.HasContent() ||
		!strings.Contains(string(got.OnboardingFailureDetails), "5 bytes instead of 5000") {
		t.Errorf("i: %+v %s", got, got.OnboardingFailureDetails)
	}
	if got := get(j); got.OnboardingState != OnboardingError || got.HasContent() || string(got.OnboardingFailureDetails) != `{"detail":"bad manifest"}` {
		t.Errorf("j: %+v", got)
	}
	if got := get(k); got.OnboardingState != OnboardingError || !strings.Contains(string(got.OnboardingFailureDetails), "no content") {
		t.Errorf("k: %+v", got)
	}
	if got := get(l); got.OnboardingState != OnboardingCreated || got.HasContent() {
		t.Errorf("l: %+v", got)
	}
	for bk, want := range map[string]bool{key("a"): true, key("e"): true, key("orphan-old"): false,
		key("orphan-young"): true, "other/not-ours": true, key("i"): false, key("l"): false} {
		_, err := s.Stat(ctx, bk)
		if (err == nil) != want {
			t.Errorf("blob %s: exists=%v, want %v", bk, err == nil, want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("temp left: %v", ents)
	}
	checkAgreement(t, db, s, map[string]bool{key("orphan-young"): true})

	// Running it again finds nothing more to do.
	rep, err = Reconcile(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TempRemoved+rep.ContentLost+rep.UploadsReset+rep.JobsEnqueued+rep.OrphansRemoved != 0 || len(rep.Events) != 0 {
		t.Errorf("second run: %+v", rep)
	}
}

// TestReconcileWrongStore: every referenced blob missing means a wrong or
// unmounted blob directory: nothing is repaired unless forced.
func TestReconcileWrongStore(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	s, _ := newStore(t)
	var ids []string
	for n := range 3 {
		p := mustCreate(t, db, withContent(&Package{OnboardingState: OnboardingOnboarded, VnfdID: fmt.Sprint("v", n)},
			fmt.Sprintf("packages/p%d/content-1", n), 1))
		ids = append(ids, p.ID)
	}
	_, err := Reconcile(ctx, db, s)
	if !errors.Is(err, ErrStoreMismatch) {
		t.Fatalf("Reconcile over an empty store: %v", err)
	}
	for _, id := range ids {
		if p, _ := db.GetPackage(ctx, id); p.OnboardingState != OnboardingOnboarded || !p.HasContent() {
			t.Fatalf("changed despite the mismatch: %+v", p)
		}
	}
	// One blob present is evidence enough: the others are really lost.
	putBlob(t, s, "packages/p1/content-1", "x")
	rep, err := Reconcile(ctx, db, s)
	if err != nil || rep.ContentLost != 2 {
		t.Fatalf("with one blob present: %+v %v", rep, err)
	}
	checkAgreement(t, db, s, nil)

	// Force repairs anyway.
	db2 := openTest(t)
	for n := range 2 {
		mustCreate(t, db2, withContent(&Package{OnboardingState: OnboardingOnboarded, VnfdID: fmt.Sprint("w", n)},
			fmt.Sprintf("packages/q%d/content-1", n), 1))
	}
	rep, err = ReconcileWith(ctx, db2, s, ReconcileOptions{Force: true, OrphanGrace: time.Hour})
	if err != nil || rep.ContentLost != 2 {
		t.Fatalf("forced: %+v %v", rep, err)
	}
}

// TestReconcileWrongDB: a fresh database over a store full of blobs would
// make every blob an orphan: nothing is deleted unless forced.
func TestReconcileWrongDB(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	clk := useClock(db)
	s, _ := newStore(t)
	for n := range 3 {
		putBlob(t, s, fmt.Sprintf("packages/p%d/content-1", n), "x")
	}
	clk.t = clk.t.Add(time.Hour)
	if _, err := Reconcile(ctx, db, s); !errors.Is(err, ErrStoreMismatch) {
		t.Fatalf("Reconcile with a fresh database: %v", err)
	}
	n := 0
	s.List(ctx, "", func(blob.Info) error { n++; return nil })
	if n != 3 {
		t.Fatalf("%d blobs left, want 3", n)
	}
	// With one of them referenced, the other two are real orphans.
	mustCreate(t, db, withContent(&Package{OnboardingState: OnboardingOnboarded, VnfdID: "v"}, "packages/p0/content-1", 1))
	rep, err := Reconcile(ctx, db, s)
	if err != nil || rep.OrphansRemoved != 2 {
		t.Fatalf("with one referenced: %+v %v", rep, err)
	}
	checkAgreement(t, db, s, nil)
}

// TestUploadProtocol walks the upload and onboarding protocol the SOL 005
// layer follows, with a crash at the worst moment: after the blob is
// committed, before the row records it.
func TestUploadProtocol(t *testing.T) {
	ctx := context.Background()
	dbPath := testDSN(t)
	db, err := Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	s, dir := newStore(t)
	p := mustCreate(t, db, &Package{})

	upload := func(db *DB, s blob.Store, content string, crashAfterCommit bool) error {
		// 1. CREATED -> UPLOADING: only one upload at a time.
		up, err := db.UpdatePackageIf(ctx, p.ID, InOnboarding(OnboardingCreated), func(p *Package) error {
			p.OnboardingState = OnboardingUploading
			return nil
		})
		if err != nil {
			return err
		}
		// 2. Stream into the blob store, hashing on the way.
		w, err := s.Create(ctx)
		if err != nil {
			return err
		}
		defer w.Abort()
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), strings.NewReader(content)); err != nil {
			return err
		}
		key := NewContentKey(p.ID)
		if err := w.Commit(ctx, key); err != nil {
			return err
		}
		if crashAfterCommit {
			return errors.New("crash")
		}
		// 3. Record the content and enqueue onboarding, together, if the
		// row is still the one this upload moved to UPLOADING.
		sum := hex.EncodeToString(h.Sum(nil))
		err = db.Tx(ctx, func(tx *DB) error {
			if _, err := tx.UpdatePackageIf(ctx, p.ID, Expect{Revision: up.Revision}, func(p *Package) error {
				now := time.Now()
				p.OnboardingState = OnboardingProcessing
				p.ContentKey = &key
				p.ContentSize = w.Size()
				p.ContentChecksum = "sha-256:" + sum
				p.ContentETag = `"` + sum + `"`
				p.ContentUploadedAt = &now
				return nil
			}); err != nil {
				return err
			}
			return tx.EnqueueJob(ctx, &Job{PackageID: p.ID, Kind: JobOnboard})
		})
		if err != nil {
			s.Delete(ctx, key) // the row never referenced it
		}
		return err
	}

	// The process dies between Commit and the row update.
	if err := upload(db, s, "first attempt", true); err == nil {
		t.Fatal("no crash")
	}
	db.Close()

	// Restart (later): the orphan blob goes, the upload is reset.
	db, err = Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := useClock(db)
	clk.t = clk.t.Add(3 * time.Hour)
	s, err = blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Reconcile(ctx, db, s)
	if err != nil || rep.OrphansRemoved != 1 || rep.UploadsReset != 1 {
		t.Fatalf("after the crash: %+v %v", rep, err)
	}
	checkAgreement(t, db, s, nil)

	// The retried upload goes through; a concurrent second one is refused.
	if err := upload(db, s, "second attempt", false); err != nil {
		t.Fatal(err)
	}
	if err := upload(db, s, "third", false); !errors.Is(err, ErrConflict) {
		t.Fatalf("upload when not CREATED: %v", err)
	}
	// The worker onboards it.
	j, err := db.ClaimJob(ctx, "worker", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(ctx, func(tx *DB) error {
		if _, err := tx.UpdatePackageIf(ctx, j.PackageID, InOnboarding(OnboardingProcessing), func(p *Package) error {
			p.OnboardingState = OnboardingOnboarded
			p.VnfdID = "vnfd-1"
			return nil
		}); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID, "worker")
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.GetOnboardedPackage(ctx, "vnfd-1")
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, *got.ContentKey)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(o)
	o.Close()
	if string(body) != "second attempt" || o.Size() != got.ContentSize {
		t.Fatalf("content %q", body)
	}
	checkAgreement(t, db, s, nil)

	// Delete: row first, then the blob.
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.OperationalState = OperationalDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	del, err := db.DeletePackage(ctx, p.ID, Expect{OperationalState: []string{OperationalDisabled}, UsageState: []string{UsageNotInUse}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, *del.ContentKey); err != nil {
		t.Fatal(err)
	}
	checkAgreement(t, db, s, nil)
}

// TestListOrphanBlobs runs the orphan search over more blobs than one
// database batch, then lets Reconcile delete them.
func TestListOrphanBlobs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	clk := useClock(db)
	s, _ := newStore(t)
	var ps []*Package
	want := map[string]bool{}
	for n := range 600 {
		k := fmt.Sprintf("packages/p%03d/content-1", n)
		putBlob(t, s, k, "x")
		if n%3 == 0 {
			ps = append(ps, withContent(&Package{OnboardingState: OnboardingOnboarded, VnfdID: k}, k, 1))
		} else {
			want[k] = true
		}
	}
	if err := db.CreatePackages(ctx, ps); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	err := ListOrphanBlobs(ctx, db, s, time.Now().Add(time.Minute), func(in blob.Info) error {
		if got[in.Key] {
			t.Errorf("%s listed twice", in.Key)
		}
		got[in.Key] = true
		return nil
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("ListOrphanBlobs: %d orphans, want %d (%v)", len(got), len(want), err)
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("orphan %s not listed", k)
		}
	}
	if err := ListOrphanBlobs(ctx, db, s, time.Now().Add(-time.Hour), func(in blob.Info) error {
		t.Errorf("young blob listed: %s", in.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Hour)
	rep, err := Reconcile(ctx, db, s)
	if err != nil || rep.OrphansRemoved != len(want) || rep.ContentLost != 0 {
		t.Fatalf("Reconcile: %+v %v", rep, err)
	}
	checkAgreement(t, db, s, nil)
}
