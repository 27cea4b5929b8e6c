package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// EnqueueJob stores j as queued. An empty ID gets a new UUID; a zero RunAfter
// means now. At most one job of a kind may be active (queued or running)
// per package: a second one is ErrConflict. A package that does not exist
// is ErrNotFound.
func (db *DB) EnqueueJob(ctx context.Context, j *Job) error {
	if j.PackageID == "" || j.Kind == "" {
		return errors.New("storage: enqueue job: package id and kind are required")
	}
	now := db.now()
	if j.ID == "" {
		j.ID = uuid.NewString()
	}
	if j.RequestID == "" {
		j.RequestID = RequestIDFrom(ctx)
	}
	j.State = JobQueued
	j.ActiveKey = activeKey(j.PackageID, j.Kind)
	j.Attempts = 0
	j.LeaseOwner, j.LeaseExpiresAt = "", nil
	if j.RunAfter.IsZero() {
		j.RunAfter = now
	}
	j.RunAfter = storedTime(j.RunAfter)
	j.CreatedAt, j.UpdatedAt = now, now
	err := db.ctx(ctx).Omit("Package").Create(j).Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("storage: enqueue job: package %s: %w", j.PackageID, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("storage: enqueue job: package %s already has an active %s job: %w", j.PackageID, j.Kind, ErrConflict)
	}
	return dbErr("enqueue job", err)
}

// StartJob stores j as already running, held by owner for lease: work that
// a request does itself (an upload streaming in) but that must be known
// to every replica, so that if its process dies the expired lease hands
// the job to a worker, which cleans up after it. The rules of EnqueueJob
// apply (one active job of a kind per package). Attempts is 1.
func (db *DB) StartJob(ctx context.Context, j *Job, owner string, lease time.Duration) error {
	if owner == "" || lease <= 0 {
		return errors.New("storage: start job: owner and a positive lease are required")
	}
	exp := db.now().Add(lease)
	if err := db.EnqueueJob(ctx, j); err != nil {
		return err
	}
	res := db.ctx(ctx).Model(&Job{}).Where("id = ? AND state = ?", j.ID, JobQueued).Updates(map[string]any{
		"state": JobRunning, "lease_owner": owner, "lease_expires_at": exp, "attempts": 1,
	})
	if res.Error != nil {
		return dbErr("start job", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("storage: start job %s: claimed by another worker before it started: %w", j.ID, ErrConflict)
	}
	j.State, j.LeaseOwner, j.LeaseExpiresAt, j.Attempts = JobRunning, owner, &exp, 1
	return nil
}

// GetJob returns the job with this id.
func (db *DB) GetJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	if err := db.ctx(ctx).Where("id = ?", id).Take(&j).Error; err != nil {
		return nil, dbErr("get job "+id, err)
	}
	return &j, nil
}

// ListJobs returns the jobs of a package, oldest first.
func (db *DB) ListJobs(ctx context.Context, packageID string) ([]Job, error) {
	var js []Job
	if err := db.ctx(ctx).Where("package_id = ?", packageID).Order("created_at, id").Find(&js).Error; err != nil {
		return nil, dbErr("list jobs", err)
	}
	return js, nil
}

// ActiveJob returns the queued or running job of this kind for the
// package (ErrNotFound if none); an empty kind matches any kind.
func (db *DB) ActiveJob(ctx context.Context, packageID, kind string) (*Job, error) {
	q := db.ctx(ctx).Where("package_id = ? AND state IN ?", packageID, []JobState{JobQueued, JobRunning})
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	var j Job
	if err := q.Order("created_at, id").Take(&j).Error; err != nil {
		return nil, dbErr("active job of "+packageID, err)
	}
	return &j, nil
}

// claimable is the condition under which a job may be claimed at now.
const claimable = "((state = ? AND run_after <= ?) OR (state = ? AND lease_expires_at < ?))"

func claimArgs(now time.Time) []any {
	return []any{JobQueued, now, JobRunning, now}
}

// ClaimJob claims the oldest job that is queued (and due) or whose lease
// has expired, for owner (a name unique to the worker, e.g. host:pid:n), for
// lease. It returns ErrNoJob when there is none. The claim is a
// compare-and-set, portable to any SQL database:
//
//	SELECT id FROM jobs WHERE <claimable> ORDER BY created_at, id LIMIT n
//	UPDATE jobs SET state='running', lease_owner=?, lease_expires_at=?,
//	       attempts=attempts+1 WHERE id=? AND <claimable>
//
// where only the UPDATE that still finds the job claimable affects a row,
// so of several workers racing for a job exactly one gets it. Attempts
// counts the claims: a job whose worker died comes back with Attempts > 1,
// and the worker decides when to give up (FailJob).
//
// Leases compare the clocks of the replicas: keep them synchronised and
// leases much longer than the skew. A worker renews its lease (RenewLease)
// well before it expires.
func (db *DB) ClaimJob(ctx context.Context, owner string, lease time.Duration) (*Job, error) {
	return db.ClaimJobOf(ctx, owner, lease, JobKinds{})
}

// JobKinds selects the jobs a worker claims: those of a kind in Only (any
// kind if empty) and not in Except. Separate pools of workers keep slow
// kinds (fetches from remote origins) from holding up the others.
type JobKinds struct {
	Only, Except []string
}

func (k JobKinds) apply(q *gorm.DB) *gorm.DB {
	if len(k.Only) > 0 {
		q = q.Where("kind IN ?", k.Only)
	}
	if len(k.Except) > 0 {
		q = q.Where("kind NOT IN ?", k.Except)
	}
	return q
}

// ClaimJobOf is ClaimJob restricted to the jobs kinds selects.
func (db *DB) ClaimJobOf(ctx context.Context, owner string, lease time.Duration, kinds JobKinds) (*Job, error) {
	if owner == "" || lease <= 0 {
		return nil, errors.New("storage: claim job: owner and a positive lease are required")
	}
	for range maxCASRetries {
		now := db.now()
		var ids []string
		err := kinds.apply(db.ctx(ctx).Model(&Job{}).Where(claimable, claimArgs(now)...)).
			Order("created_at, id").Limit(8).Pluck("id", &ids).Error
		if err != nil {
			return nil, dbErr("claim job", err)
		}
		if len(ids) == 0 {
			return nil, ErrNoJob
		}
		for _, id := range ids {
			exp := now.Add(lease)
			res := db.ctx(ctx).Model(&Job{}).Where("id = ?", id).Where(claimable, claimArgs(now)...).
				Updates(map[string]any{
					"state":            JobRunning,
					"lease_owner":      owner,
					"lease_expires_at": exp,
					"attempts":         gorm.Expr("attempts + 1"),
					"updated_at":       now,
				})
			if res.Error != nil {
				return nil, dbErr("claim job", res.Error)
			}
			if res.RowsAffected == 1 {
				j, err := db.GetJob(ctx, id)
				if err != nil {
					return nil, err
				}
				return j, nil
			}
		}
		// Every candidate was taken by someone else: look again.
	}
	return nil, ErrNoJob
}

// owned updates job id if owner still holds it (running, its lease owner).
// It returns ErrConflict if the job exists but owner lost it (someone else
// claimed it after the lease expired, or it already ended).
func (db *DB) owned(ctx context.Context, op, id, owner string, set map[string]any) error {
	set["updated_at"] = db.now()
	res := db.ctx(ctx).Model(&Job{}).Where("id = ? AND state = ? AND lease_owner = ?", id, JobRunning, owner).Updates(set)
	if res.Error != nil {
		return dbErr(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	if _, err := db.GetJob(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("storage: %s %s: not held by %s: %w", op, id, owner, ErrConflict)
}

// RenewLease extends owner's lease on job id to now+lease. ErrConflict means
// the lease was lost: the worker must stop and not write its results.
func (db *DB) RenewLease(ctx context.Context, id, owner string, lease time.Duration) error {
	return db.owned(ctx, "renew lease", id, owner, map[string]any{"lease_expires_at": db.now().Add(lease)})
}

// CompleteJob marks job id done. Only its current owner may (ErrConflict
// otherwise). Run it in the same Tx as the package update it concludes.
// An ended job's payload is erased: it may hold secrets (the credentials
// of upload_from_uri) that nothing needs any more.
func (db *DB) CompleteJob(ctx context.Context, id, owner string) error {
	return db.owned(ctx, "complete job", id, owner, map[string]any{
		"state": JobDone, "active_key": nil, "lease_expires_at": nil, "last_error": "", "payload": nil,
	})
}

// FailJob marks job id failed for good with msg, erasing its payload as
// CompleteJob does. Only its current owner may.
func (db *DB) FailJob(ctx context.Context, id, owner, msg string) error {
	return db.owned(ctx, "fail job", id, owner, map[string]any{
		"state": JobFailed, "active_key": nil, "lease_expires_at": nil, "last_error": msg, "payload": nil,
	})
}

// RetryJob puts job id back in the queue, to be claimed again after delay,
// recording msg. Only its current owner may.
func (db *DB) RetryJob(ctx context.Context, id, owner, msg string, delay time.Duration) error {
	return db.owned(ctx, "retry job", id, owner, map[string]any{
		"state": JobQueued, "lease_owner": "", "lease_expires_at": nil,
		"run_after": db.now().Add(max(delay, 0)), "last_error": msg,
	})
}

// ReleaseJobs puts every job owner is running back in the queue (a graceful
// shutdown, or a restart of a worker with a stable owner name, so its jobs
// need not wait for their leases to expire). It returns how many.
func (db *DB) ReleaseJobs(ctx context.Context, owner string) (int64, error) {
	now := db.now()
	res := db.ctx(ctx).Model(&Job{}).Where("state = ? AND lease_owner = ?", JobRunning, owner).
		Updates(map[string]any{"state": JobQueued, "lease_owner": "", "lease_expires_at": nil, "run_after": now, "updated_at": now})
	if res.Error != nil {
		return 0, dbErr("release jobs", res.Error)
	}
	return res.RowsAffected, nil
}

// failActiveJobs ends the active jobs of a package (any owner) with msg.
func (db *DB) failActiveJobs(ctx context.Context, packageID, msg string) error {
	res := db.ctx(ctx).Model(&Job{}).Where("package_id = ? AND state IN ?", packageID, []JobState{JobQueued, JobRunning}).
		Updates(map[string]any{"state": JobFailed, "active_key": nil, "lease_expires_at": nil, "last_error": msg, "updated_at": db.now()})
	return dbErr("fail jobs of "+packageID, res.Error)
}
