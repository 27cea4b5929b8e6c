package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

// ReconcileOptions tunes Reconcile. Zero values take the defaults.
type ReconcileOptions struct {
	// OrphanGrace: an unreferenced blob younger than this is left alone,
	// since another replica may have just committed it and be about to
	// record it in its row. Default 15 minutes.
	OrphanGrace time.Duration
	// StaleUpload: a package UPLOADING whose row has not changed for this
	// long and which has no active job is taken to have lost its uploader. Uploads that may take longer must refresh the row
	// (UpdatePackageIf with a nil mutate) more often. Default 1 hour.
	StaleUpload time.Duration
	// Force lets Reconcile repair even when the data looks like the wrong
	// blob store or the wrong database (see ErrStoreMismatch).
	Force bool
}

// ErrStoreMismatch is returned when every blob the rows reference is
// missing, or every blob under the content prefix is unreferenced (with at
// least two of them either way): that is what a wrong or unmounted data
// directory, or a wrong database, looks like, and repairing would destroy
// the data. Reconcile changes nothing of that kind and returns it;
// ReconcileOptions.Force overrides.
var ErrStoreMismatch = errors.New("storage: database and blob store do not belong together")

// ReconcileReport says what Reconcile did.
type ReconcileReport struct {
	TempRemoved     int      // temp files of dead writers removed
	ContentLost     int      // packages whose content blob was missing or damaged
	UploadsReset    int      // packages put back from UPLOADING to CREATED
	JobsEnqueued    int      // onboarding jobs enqueued for PROCESSING packages without one
	DeletedRemoved  int      // content blobs of deleted packages deleted
	OrphansRemoved  int      // unreferenced blobs deleted
	OrphansTooYoung int      // unreferenced blobs kept because of OrphanGrace
	Events          []string // what was done, one line each (the first 1000)
}

func (r *ReconcileReport) logf(format string, args ...any) {
	if len(r.Events) < 1000 {
		r.Events = append(r.Events, fmt.Sprintf(format, args...))
	}
}

// Reconcile makes the database and the blob store agree; run it at start-up,
// before serving. It is safe while other replicas work on the same data
// (every change is a compare-and-set, every rule allows for work in
// flight), and running it twice changes nothing more. The rules, in order:
//
//  1. Temp state of dead writers is removed (blob.TempCleaner).
//  2. A row whose ContentKey names a blob that is missing, or whose size
//     differs from ContentSize, loses its content fields, and:
//     UPLOADING -> CREATED (the upload can be retried);
//     CREATED stays CREATED;
//     PROCESSING or ONBOARDED -> ERROR, DISABLED, with
//     onboardingFailureDetails saying the content was lost (usageState is
//     kept: VNF instances may still use the package), and its active jobs
//     fail;
//     ERROR stays ERROR with its original failure details.
//     So no row is left pointing at nothing.
//  3. A package UPLOADING, unchanged for StaleUpload and without an active
//     job, lost its uploader: -> CREATED (content fields cleared, if any).
//  4. A package PROCESSING without an active job gets an onboarding job
//     (JobOnboard) if it has content: a crash can lose the worker, never
//     the work (and jobs whose worker died are claimed again once their
//     lease expires: see ClaimJob). Without content it goes to ERROR like
//     a lost content in rule 2.
//  5. The content blob of a deleted package (ContentDeletion) is deleted
//     whatever its age: the process that deleted the row died before it
//     deleted the blob.
//  6. A blob under ContentKeyPrefix that no row references and that is
//     older than OrphanGrace is deleted: it was committed by an upload
//     whose row update never happened.
//
// Blob keys outside ContentKeyPrefix are not touched. I/O errors stop
// Reconcile (a blob that cannot be examined is never taken as missing).
func Reconcile(ctx context.Context, db *DB, store blob.Store) (*ReconcileReport, error) {
	return ReconcileWith(ctx, db, store, ReconcileOptions{})
}

// ReconcileWith is Reconcile with options.
func ReconcileWith(ctx context.Context, db *DB, store blob.Store, opt ReconcileOptions) (*ReconcileReport, error) {
	if opt.OrphanGrace <= 0 {
		opt.OrphanGrace = 15 * time.Minute
	}
	if opt.StaleUpload <= 0 {
		opt.StaleUpload = time.Hour
	}
	rep := &ReconcileReport{}
	if tc, ok := store.(blob.TempCleaner); ok {
		n, err := tc.CleanTemp(ctx)
		rep.TempRemoved = n
		if err != nil {
			return rep, err
		}
		if n > 0 {
			rep.logf("removed %d temp files of dead writers", n)
		}
	}
	if err := reconcileContent(ctx, db, store, opt, rep); err != nil {
		return rep, err
	}
	if err := reconcileUploads(ctx, db, opt, rep); err != nil {
		return rep, err
	}
	if err := reconcileProcessing(ctx, db, rep); err != nil {
		return rep, err
	}
	if err := sweepDeletedContent(ctx, db, store, rep); err != nil {
		return rep, err
	}
	if err := reconcileOrphans(ctx, db, store, opt, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// Sweep is the part of Reconcile every replica runs periodically while it
// serves (a replica that keeps running must not wait for a restart to
// clean up after another that crashed): the temp files of dead writers
// and the content of deleted packages. It is cheap when there is nothing
// to do (one directory read, one indexed query).
func Sweep(ctx context.Context, db *DB, store blob.Store) (*ReconcileReport, error) {
	rep := &ReconcileReport{}
	if tc, ok := store.(blob.TempCleaner); ok {
		n, err := tc.CleanTemp(ctx)
		rep.TempRemoved = n
		if err != nil {
			return rep, err
		}
		if n > 0 {
			rep.logf("removed %d temp files of dead writers", n)
		}
	}
	return rep, sweepDeletedContent(ctx, db, store, rep)
}

// recordContentDeletion notes, in the transaction that deletes package p,
// that its content blob is to be deleted.
func (db *DB) recordContentDeletion(ctx context.Context, p *Package) error {
	if !p.HasContent() {
		return nil
	}
	return db.ctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&ContentDeletion{Key: *p.ContentKey, DeletedAt: db.now()}).Error
}

// sweepDeletedContent deletes the blobs ContentDeletion lists, then their
// records, a batch at a time in key order. A key a package references
// again is never deleted (keys are never reused, so that would be a bug
// elsewhere; the record is dropped and the blob kept). A blob that cannot
// be deleted keeps its record for the next sweep and does not hold up the
// others; the first such failure is returned once all were tried.
func sweepDeletedContent(ctx context.Context, db *DB, store blob.Store, rep *ReconcileReport) error {
	var after string
	var failed error
	for {
		var batch []ContentDeletion
		if err := db.ctx(ctx).Where("blob_key > ?", after).Order("blob_key").Limit(256).Find(&batch).Error; err != nil {
			return dbErr("list deleted content", err)
		}
		if len(batch) == 0 {
			return failed
		}
		after = batch[len(batch)-1].Key
		keys := make([]string, len(batch))
		for i, d := range batch {
			keys[i] = d.Key
		}
		refs, err := db.ReferencedContentKeys(ctx, keys)
		if err != nil {
			return err
		}
		for _, d := range batch {
			if !refs[d.Key] {
				if err := store.Delete(ctx, d.Key); err != nil && !errors.Is(err, blob.ErrInvalidKey) {
					if failed == nil {
						failed = err
					}
					rep.logf("could not delete the content %s of a deleted package (kept for the next sweep): %v", d.Key, err)
					continue
				}
				rep.DeletedRemoved++
				rep.logf("deleted the content %s of a package deleted at %s", d.Key, d.DeletedAt.UTC().Format(time.RFC3339))
			}
			if err := db.ctx(ctx).Where("blob_key = ?", d.Key).Delete(&ContentDeletion{}).Error; err != nil {
				return dbErr("forget deleted content", err)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// contentColumns is what rule 2 reads of each row.
var contentColumns = []string{"id", "seq", "revision", "onboarding_state", "content_key", "content_size"}

type lostContent struct {
	id, key, why string
	rev          int64
}

func reconcileContent(ctx context.Context, db *DB, store blob.Store, opt ReconcileOptions, rep *ReconcileReport) error {
	// Repairs wait until one referenced blob has been found present, so
	// that a wrong blob store (every blob missing) changes nothing.
	var pending []lostContent
	present := opt.Force
	var ioErr error
	_, err := scanWithContent(ctx, db, func(p *Package) (bool, error) {
		key := *p.ContentKey
		info, err := store.Stat(ctx, key)
		var why string
		switch {
		case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrInvalidKey):
			why = "is missing from the blob store"
		case err != nil:
			ioErr = err
			return false, nil
		case info.Size != p.ContentSize:
			why = fmt.Sprintf("has %d bytes instead of %d", info.Size, p.ContentSize)
		default:
			if !present {
				present = true
				for _, l := range pending {
					if err := repairLost(ctx, db, l, rep); err != nil {
						return false, err
					}
				}
				pending = nil
			}
			return true, nil
		}
		l := lostContent{id: p.ID, key: key, why: why, rev: p.Revision}
		if present {
			return true, repairLost(ctx, db, l, rep)
		}
		pending = append(pending, l)
		if len(pending) >= mismatchCap {
			return false, fmt.Errorf("%w: %d content blobs the packages reference are missing and none is present (e.g. %s); nothing repaired",
				ErrStoreMismatch, len(pending), pending[0].key)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if ioErr != nil {
		return fmt.Errorf("storage: reconcile: %w", ioErr)
	}
	if len(pending) >= 2 {
		return fmt.Errorf("%w: all %d content blobs the packages reference are missing (e.g. %s); nothing repaired",
			ErrStoreMismatch, len(pending), pending[0].key)
	}
	for _, l := range pending {
		if err := repairLost(ctx, db, l, rep); err != nil {
			return err
		}
	}
	return nil
}

func scanWithContent(ctx context.Context, db *DB, fn func(*Package) (bool, error)) (Cursor, error) {
	dest := func(p *Package) []any {
		return []any{&p.ID, &p.Seq, &p.Revision, &p.OnboardingState, &p.ContentKey, &p.ContentSize}
	}
	return scan(db.ctx(ctx).Where("content_key IS NOT NULL"), ctx, Cursor{}, 500, nil, contentColumns, dest, fn)
}

// contentLostDetails is the onboardingFailureDetails of a package whose
// content was lost: a ProblemDetails (RFC 7807, as SOL 013 uses it).
func contentLostDetails(what string) JSON {
	return MustJSON(map[string]any{
		"type":   "about:blank",
		"title":  "Package content lost",
		"status": 500,
		"detail": what + "; the package must be deleted and uploaded again.",
	})
}

func repairLost(ctx context.Context, db *DB, l lostContent, rep *ReconcileReport) error {
	var from, to string
	err := db.Tx(ctx, func(tx *DB) error {
		p, err := tx.UpdatePackageIf(ctx, l.id, Expect{Revision: l.rev}, func(p *Package) error {
			from = p.OnboardingState
			p.ClearContent()
			switch p.OnboardingState {
			case OnboardingUploading:
				p.OnboardingState = OnboardingCreated
			case OnboardingProcessing, OnboardingOnboarded:
				p.OnboardingState = OnboardingError
				p.OperationalState = OperationalDisabled
				p.OnboardingFailureDetails = contentLostDetails(fmt.Sprintf("The stored package content (%s) %s", l.key, l.why))
			}
			to = p.OnboardingState
			return nil
		})
		if err != nil {
			return err
		}
		if p.OnboardingState == OnboardingError || p.OnboardingState == OnboardingCreated {
			return tx.failActiveJobs(ctx, l.id, "package content lost: "+l.key+" "+l.why)
		}
		return nil
	})
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return nil // changed or deleted meanwhile: no longer ours to repair
	}
	if err != nil {
		return err
	}
	rep.ContentLost++
	rep.logf("package %s: content %s %s: %s -> %s", l.id, l.key, l.why, from, to)
	return nil
}

func reconcileUploads(ctx context.Context, db *DB, opt ReconcileOptions, rep *ReconcileReport) error {
	cutoff := db.now().Add(-opt.StaleUpload)
	_, err := db.ScanPackages(ctx, Cursor{}, 500, Eq(ColOnboardingState, OnboardingUploading), func(p *Package) (bool, error) {
		if !p.UpdatedAt.Before(cutoff) {
			return true, nil
		}
		if _, err := db.ActiveJob(ctx, p.ID, ""); err == nil {
			return true, nil // e.g. an upload_from_uri fetch in progress
		} else if !errors.Is(err, ErrNotFound) {
			return false, err
		}
		// Content recorded by an upload that never finished is dropped
		// with it (the blob, unreferenced, goes with the orphans).
		_, err := db.UpdatePackageIf(ctx, p.ID, Expect{Revision: p.Revision}, func(p *Package) error {
			p.OnboardingState = OnboardingCreated
			p.ClearContent()
			return nil
		})
		switch {
		case errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound):
			return true, nil
		case err != nil:
			return false, err
		}
		rep.UploadsReset++
		rep.logf("package %s: upload abandoned since %s: UPLOADING -> CREATED", p.ID, p.UpdatedAt.Format(time.RFC3339))
		return true, nil
	})
	return err
}

func reconcileProcessing(ctx context.Context, db *DB, rep *ReconcileReport) error {
	_, err := db.ScanPackages(ctx, Cursor{}, 500, Eq(ColOnboardingState, OnboardingProcessing), func(p *Package) (bool, error) {
		if _, err := db.ActiveJob(ctx, p.ID, ""); err == nil {
			return true, nil
		} else if !errors.Is(err, ErrNotFound) {
			return false, err
		}
		if !p.HasContent() {
			// Nothing to process: no protocol step leaves a package so.
			_, err := db.UpdatePackageIf(ctx, p.ID, Expect{Revision: p.Revision}, func(p *Package) error {
				p.OnboardingState = OnboardingError
				p.OperationalState = OperationalDisabled
				p.OnboardingFailureDetails = contentLostDetails("The package was left PROCESSING with no content recorded")
				return nil
			})
			switch {
			case errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound):
				return true, nil
			case err != nil:
				return false, err
			}
			rep.ContentLost++
			rep.logf("package %s: PROCESSING without content or job: PROCESSING -> ERROR", p.ID)
			return true, nil
		}
		j := &Job{PackageID: p.ID, Kind: JobOnboard}
		err := db.EnqueueJob(ctx, j)
		switch {
		case errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound):
			return true, nil // another replica did it, or the package went
		case err != nil:
			return false, err
		}
		rep.JobsEnqueued++
		rep.logf("package %s: PROCESSING without a job: enqueued %s job %s", p.ID, JobOnboard, j.ID)
		return true, nil
	})
	return err
}

// mismatchCap bounds what the wrong-store guards hold: that many losses
// or orphans with no evidence the two sides belong together settles it.
const mismatchCap = 10000

func reconcileOrphans(ctx context.Context, db *DB, store blob.Store, opt ReconcileOptions, rep *ReconcileReport) error {
	cutoff := db.now().Add(-opt.OrphanGrace)
	// Deletions wait until one listed blob has been found referenced, so
	// that a wrong (e.g. new, empty) database deletes nothing.
	matched := opt.Force
	var pending []blob.Info
	remove := func(infos []blob.Info) error {
		for _, in := range infos {
			if err := store.Delete(ctx, in.Key); err != nil {
				return err
			}
			rep.OrphansRemoved++
			rep.logf("deleted orphan blob %s (%d bytes, written %s)", in.Key, in.Size, in.ModTime.UTC().Format(time.RFC3339))
		}
		return nil
	}
	err := classifyContentBlobs(ctx, db, store, func(in blob.Info, referenced bool) error {
		switch {
		case referenced:
			if !matched {
				matched = true
				err := remove(pending)
				pending = nil
				return err
			}
			return nil
		case !in.ModTime.Before(cutoff):
			rep.OrphansTooYoung++
			return nil
		case matched:
			return remove([]blob.Info{in})
		}
		pending = append(pending, in)
		if len(pending) >= mismatchCap {
			return fmt.Errorf("%w: %d blobs under %s and none is referenced by a package (e.g. %s); nothing deleted",
				ErrStoreMismatch, len(pending), ContentKeyPrefix, pending[0].Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(pending) >= 2 {
		return fmt.Errorf("%w: all %d blobs under %s are unreferenced (e.g. %s); nothing deleted",
			ErrStoreMismatch, len(pending), ContentKeyPrefix, pending[0].Key)
	}
	return remove(pending)
}

// ListOrphanBlobs calls fn for every blob under ContentKeyPrefix that no
// package references and that was written before the given time (pass
// now minus a grace period: a younger blob may belong to an upload about
// to record it). fn may delete the blob. It is the building block of a
// periodic clean-up; Reconcile does the same with safety checks.
func ListOrphanBlobs(ctx context.Context, db *DB, store blob.Store, before time.Time, fn func(blob.Info) error) error {
	return classifyContentBlobs(ctx, db, store, func(in blob.Info, referenced bool) error {
		if referenced || !in.ModTime.Before(before) {
			return nil
		}
		return fn(in)
	})
}

// classifyContentBlobs lists the blobs under ContentKeyPrefix and tells fn
// whether a package references each, asking the database about a batch of
// keys at a time (memory bounded by the batch).
func classifyContentBlobs(ctx context.Context, db *DB, store blob.Store, fn func(in blob.Info, referenced bool) error) error {
	const batchSize = 256
	var batch []blob.Info
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keys := make([]string, len(batch))
		for i, in := range batch {
			keys[i] = in.Key
		}
		refs, err := db.ReferencedContentKeys(ctx, keys)
		if err != nil {
			return err
		}
		for _, in := range batch {
			if err := fn(in, refs[in.Key]); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := store.List(ctx, ContentKeyPrefix, func(in blob.Info) error {
		batch = append(batch, in)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
