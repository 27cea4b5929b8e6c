package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Expect is the precondition of UpdatePackageIf and DeletePackage. Each
// non-empty list names the values its column may have (any of them);
// an empty list accepts any value. A non-zero Revision must equal the
// row's: it turns a read-modify-write done by the caller into a
// compare-and-set.
type Expect struct {
	OnboardingState  []string
	OperationalState []string
	UsageState       []string
	Revision         int64
}

// Any is the empty precondition.
var Any = Expect{}

// InOnboarding is shorthand for Expect{OnboardingState: states}.
func InOnboarding(states ...string) Expect { return Expect{OnboardingState: states} }

// check returns nil if p satisfies e, else an ErrConflict saying why.
func (e Expect) check(p *Package) error {
	bad := func(attr, have string, want []string) error {
		return &PreconditionError{ID: p.ID, Attribute: attr, Actual: have, Expected: want}
	}
	switch {
	case len(e.OnboardingState) > 0 && !slices.Contains(e.OnboardingState, p.OnboardingState):
		return bad("onboardingState", p.OnboardingState, e.OnboardingState)
	case len(e.OperationalState) > 0 && !slices.Contains(e.OperationalState, p.OperationalState):
		return bad("operationalState", p.OperationalState, e.OperationalState)
	case len(e.UsageState) > 0 && !slices.Contains(e.UsageState, p.UsageState):
		return bad("usageState", p.UsageState, e.UsageState)
	case e.Revision != 0 && e.Revision != p.Revision:
		return bad("revision", fmt.Sprint(p.Revision), []string{fmt.Sprint(e.Revision)})
	}
	return nil
}

// PreconditionError is the ErrConflict of an Expect that did not hold.
type PreconditionError struct {
	ID        string
	Attribute string   // onboardingState, operationalState, usageState or revision
	Actual    string   // the value the package has
	Expected  []string // the values that were acceptable
}

func (e *PreconditionError) Error() string {
	return fmt.Sprintf("storage: package %s: %s is %s, expected %s", e.ID, e.Attribute, e.Actual, strings.Join(e.Expected, " or "))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *PreconditionError) Is(target error) bool { return target == ErrConflict }

// CreatePackage inserts p. An empty ID gets a new UUID; empty states become
// CREATED, DISABLED, NOT_IN_USE. On return p holds what was stored (ID,
// Seq, Revision 1, timestamps). A duplicate ID is ErrConflict.
func (db *DB) CreatePackage(ctx context.Context, p *Package) error {
	return db.CreatePackages(ctx, []*Package{p})
}

// CreatePackages inserts several packages in one transaction (bulk import,
// tests), with consecutive Seq values in slice order.
func (db *DB) CreatePackages(ctx context.Context, ps []*Package) error {
	if len(ps) == 0 {
		return nil
	}
	now := db.now()
	for _, p := range ps {
		if p.ID == "" {
			p.ID = uuid.NewString()
		}
		if p.OnboardingState == "" {
			p.OnboardingState = OnboardingCreated
		}
		if p.OperationalState == "" {
			p.OperationalState = OperationalDisabled
		}
		if p.UsageState == "" {
			p.UsageState = UsageNotInUse
		}
		p.Revision = 1
		p.CreatedAt, p.UpdatedAt = now, now
		p.normalize()
	}
	err := db.Tx(ctx, func(tx *DB) error {
		for _, p := range ps {
			if err := tx.vnfdTaken(ctx, p); err != nil {
				return err
			}
		}
		first, err := tx.nextSeq(Package{}.TableName(), len(ps))
		if err != nil {
			return err
		}
		for i, p := range ps {
			p.Seq = first + int64(i)
		}
		return tx.g.CreateInBatches(ps, 100).Error
	})
	if err != nil {
		for _, p := range ps {
			p.Seq = 0
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			for _, p := range ps {
				if verr := db.vnfdTaken(ctx, p); verr != nil {
					return verr
				}
			}
			return fmt.Errorf("storage: create package: %w: %v", ErrConflict, err)
		}
		return dbErr("create package", err)
	}
	return nil
}

// vnfdTaken reports whether another package is ONBOARDED with p's vnfdId
// (p being about to become ONBOARDED). Checking before writing gives the
// precise error even inside a transaction (where, on PostgreSQL, nothing
// can be asked after a failed statement); the unique index still decides
// races between concurrent writers.
func (db *DB) vnfdTaken(ctx context.Context, p *Package) error {
	if p.OnboardedVnfdID == nil {
		return nil
	}
	var n int64
	err := db.ctx(ctx).Model(&Package{}).Where("onboarded_vnfd_id = ? AND id <> ?", *p.OnboardedVnfdID, p.ID).Count(&n).Error
	if err != nil {
		return dbErr("check vnfdId "+p.VnfdID, err)
	}
	if n > 0 {
		return fmt.Errorf("storage: package %s: vnfdId %s: %w", p.ID, p.VnfdID, ErrVnfdIDOnboarded)
	}
	return nil
}

// uniqueViolation tells a vnfdId collision among onboarded packages (lost
// race after vnfdTaken) from the other unique violations (ids, content
// keys).
func (db *DB) uniqueViolation(ctx context.Context, op string, p *Package, err error) error {
	if verr := db.vnfdTaken(ctx, p); errors.Is(verr, ErrVnfdIDOnboarded) {
		return verr
	}
	return fmt.Errorf("storage: %s %s: %w: %v", op, p.ID, ErrConflict, err)
}

// GetPackage returns the package with this id.
func (db *DB) GetPackage(ctx context.Context, id string) (*Package, error) {
	var p Package
	if err := db.ctx(ctx).Select(packageColumns).Where("id = ?", id).Take(&p).Error; err != nil {
		return nil, dbErr("get package "+id, err)
	}
	return &p, nil
}

// GetOnboardedPackage returns the ONBOARDED package whose vnfdId is vnfdID
// (the SOL 003 onboarded_vnf_packages/{vnfdId} view).
func (db *DB) GetOnboardedPackage(ctx context.Context, vnfdID string) (*Package, error) {
	var p Package
	if err := db.ctx(ctx).Select(packageColumns).Where("onboarded_vnfd_id = ?", vnfdID).Take(&p).Error; err != nil {
		return nil, dbErr("get onboarded package "+vnfdID, err)
	}
	return &p, nil
}

// maxCASRetries bounds the retries of a compare-and-set that keeps losing
// to concurrent writers whose changes still satisfy the precondition.
const maxCASRetries = 32

// UpdatePackageIf changes package id atomically, if expect holds: it reads
// the row, checks expect (ErrConflict, as a *PreconditionError, if it does
// not hold), lets mutate change a copy, and writes every column back with
//
//	UPDATE vnf_packages SET ... , revision = r+1 WHERE id = ? AND revision = r
//
// If another writer changed the row in between (no row affected), it reads
// again and re-checks expect, so of two concurrent requests with the same
// precondition (say CREATED -> UPLOADING) exactly one succeeds and the
// other gets ErrConflict. mutate may run more than once and must only
// change the package it is given; an error from it aborts the update and
// is returned as is. mutate cannot change ID, Seq, Revision or CreatedAt. A
// nil mutate only bumps Revision and UpdatedAt (a heartbeat). The stored
// package is returned. Making two packages ONBOARDED with the same vnfdId
// is ErrVnfdIDOnboarded.
func (db *DB) UpdatePackageIf(ctx context.Context, id string, expect Expect, mutate func(*Package) error) (*Package, error) {
	for range maxCASRetries {
		p, err := db.GetPackage(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := expect.check(p); err != nil {
			return nil, err
		}
		rev, seq, created, onboarded := p.Revision, p.Seq, p.CreatedAt, p.OnboardedVnfdID
		before := *p
		if mutate != nil {
			if err := mutate(p); err != nil {
				return nil, err
			}
		}
		p.ID, p.Seq, p.CreatedAt = id, seq, created
		p.Revision = rev + 1
		p.UpdatedAt = db.now()
		p.normalize()
		if p.OnboardedVnfdID != nil && (onboarded == nil || *onboarded != *p.OnboardedVnfdID) {
			if err := db.vnfdTaken(ctx, p); err != nil {
				return nil, err
			}
		}
		n, err := db.writeUpdate(ctx, &before, p, rev) // subscriptions.go
		if err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return nil, db.uniqueViolation(ctx, "update package", p, err)
			}
			return nil, dbErr("update package "+id, err)
		}
		if n == 1 {
			return p, nil
		}
		// Changed or deleted meanwhile: look again.
	}
	return nil, fmt.Errorf("storage: update package %s: %w: too much contention", id, ErrConflict)
}

// DeletePackage deletes package id if expect holds (ErrConflict otherwise,
// ErrNotFound if it does not exist), with the same compare-and-set as
// UpdatePackageIf; its jobs go with it. It returns the deleted row so that
// the caller can then delete the content blob: row first, blob second, so
// that a crash in between leaves an orphan blob (removed by Reconcile),
// never a row without its blob.
func (db *DB) DeletePackage(ctx context.Context, id string, expect Expect) (*Package, error) {
	for range maxCASRetries {
		p, err := db.GetPackage(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := expect.check(p); err != nil {
			return nil, err
		}
		var deleted bool
		err = db.Tx(ctx, func(tx *DB) error {
			res := tx.ctx(ctx).Where("id = ? AND revision = ?", id, p.Revision).Delete(&Package{})
			if res.Error != nil || res.RowsAffected != 1 {
				return res.Error
			}
			deleted = true
			// Its software images in VIMs are orphaned with it, so that
			// a crash before they are removed leaves them to the sweep
			// (vims.go), never named by records of a live package.
			if err := tx.orphanPackageImages(ctx, id); err != nil {
				return err
			}
			if err := tx.recordContentDeletion(ctx, p); err != nil { // reconcile.go
				return err
			}
			return tx.packageDeleted(ctx, p) // subscriptions.go
		})
		if err != nil {
			return nil, dbErr("delete package "+id, err)
		}
		if deleted {
			return p, nil
		}
	}
	return nil, fmt.Errorf("storage: delete package %s: %w: too much contention", id, ErrConflict)
}

// CountPackages counts the packages matching where (nil: all).
func (db *DB) CountPackages(ctx context.Context, where IndexedFilter) (int64, error) {
	q, empty, err := where.apply(db.ctx(ctx).Model(&Package{}))
	if err != nil || empty {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, dbErr("count packages", err)
	}
	return n, nil
}

// ReferencedContentKeys returns which of keys some package row references.
func (db *DB) ReferencedContentKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	for chunk := range slices.Chunk(keys, 500) {
		var found []string
		err := db.ctx(ctx).Model(&Package{}).Where("content_key IN ?", chunk).Pluck("content_key", &found).Error
		if err != nil {
			return nil, dbErr("look up content keys", err)
		}
		for _, k := range found {
			out[k] = true
		}
	}
	return out, nil
}
