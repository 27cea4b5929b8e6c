package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Subscription is a SOL 005 PkgmSubscription and what delivering to it
// needs. Storage does not interpret Filter or AuthParams (the SOL 005
// layer does); SealedSecret is the delivery credential (a Basic password
// or an OAuth 2.0 client secret) sealed by that layer, never in clear.
//
// A subscription's notifications are delivered by whoever holds its lease
// (LeaseOwner until LeaseExpiresAt), one at a time in Seq order: that is
// what keeps them in order and keeps two replicas from sending the same
// notification.
type Subscription struct {
	ID string `gorm:"primaryKey;size:36"`
	// Seq orders subscriptions for paging.
	Seq         int64  `gorm:"not null;uniqueIndex:ux_subscriptions_seq"`
	CallbackURI string `gorm:"type:text;not null"`
	Filter      JSON
	// DedupKey identifies the callbackUri and filter: its unique index
	// makes a second subscription with both the same a conflict, even
	// between concurrent requests.
	DedupKey       string `gorm:"size:64;not null;uniqueIndex:ux_subscriptions_dedup_key"`
	AuthType       string `gorm:"size:40;not null"`
	AuthParams     JSON
	SealedSecret   []byte
	LeaseOwner     string     `gorm:"size:200;not null"`
	LeaseExpiresAt *time.Time `gorm:"index:ix_subscriptions_lease"`
	// NextRunAt is when the oldest undelivered notification is due (NULL:
	// none), kept by EnqueueNotifications and FinishDeliveries, so that a
	// claim reads an index of subscriptions instead of scanning the
	// outbox (which grows while a receiver is down).
	NextRunAt *time.Time `gorm:"index:ix_subscriptions_next_run_at"`
	CreatedAt time.Time  `gorm:"not null;autoCreateTime:false"`
}

// TableName is the SQL table of Subscription.
func (Subscription) TableName() string { return "subscriptions" }

// Notification is one notification to deliver to one subscription: the
// outbox row, written in the transaction of the change it reports and
// deleted once delivered (or given up).
type Notification struct {
	// Seq is handed out in commit order (a locked counter), so that a
	// subscription receives its notifications in the order of the changes.
	Seq            int64  `gorm:"primaryKey;autoIncrement:false;index:ix_notifications_subscription,priority:2"`
	ID             string `gorm:"size:36;not null"` // the same for every subscription notified of one change
	SubscriptionID string `gorm:"size:36;not null;index:ix_notifications_subscription,priority:1"`
	Type           string `gorm:"size:64;not null"`
	Body           JSON   `gorm:"not null"`
	Attempts       int    `gorm:"not null"`
	RunAfter       time.Time
	LastError      string    `gorm:"type:text;not null"`
	CreatedAt      time.Time `gorm:"not null;autoCreateTime:false"`
}

// TableName is the SQL table of Notification.
func (Notification) TableName() string { return "notifications" }

const (
	subscriptionSeq = "subscriptions"
	notificationSeq = "notifications"
)

// PackageChange is a change of a package's onboarding, operational or
// usage state (Before and After), or its deletion (After nil).
type PackageChange struct {
	Before, After *Package
}

// PackageChangeHook runs inside the transaction that writes a change, on
// the transaction's DB: what it writes commits or rolls back with the
// change. An error rolls the change back.
type PackageChangeHook func(ctx context.Context, tx *DB, ch PackageChange) error

// OnPackageChange installs the hook of every state change and deletion
// made through this DB and the transactions it starts. Call it before the
// DB is used concurrently.
func (db *DB) OnPackageChange(h PackageChangeHook) { db.onChange = h }

func statesChanged(a, b *Package) bool {
	return a.OnboardingState != b.OnboardingState || a.OperationalState != b.OperationalState || a.UsageState != b.UsageState
}

// writeUpdate is the compare-and-set write of UpdatePackageIf: alone when
// no state changes or no hook is installed, else with the hook in one
// transaction. It returns the rows the UPDATE affected.
func (db *DB) writeUpdate(ctx context.Context, before, after *Package, rev int64) (int64, error) {
	update := func(d *DB) *gorm.DB {
		return d.ctx(ctx).Model(after).Where("revision = ?", rev).Select("*").Omit("id", "seq", "created_at").Updates(after)
	}
	if db.onChange == nil || !statesChanged(before, after) {
		res := update(db)
		return res.RowsAffected, res.Error
	}
	var n int64
	err := db.Tx(ctx, func(tx *DB) error {
		res := update(tx)
		if res.Error != nil || res.RowsAffected != 1 {
			n = res.RowsAffected
			return res.Error
		}
		n = 1
		return tx.onChange(ctx, tx, PackageChange{Before: before, After: after})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// packageDeleted runs the hook in the deleting transaction.
func (db *DB) packageDeleted(ctx context.Context, p *Package) error {
	if db.onChange == nil {
		return nil
	}
	return db.onChange(ctx, db, PackageChange{Before: p})
}

// nextSeqOf is nextSeq for counters created on first use.
func (db *DB) nextSeqOf(name string, n int) (int64, error) {
	err := db.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&sequence{Name: name, Value: 0}).Error
	if err != nil {
		return 0, err
	}
	return db.nextSeq(name, n)
}

// DuplicateSubscriptionError is the ErrConflict of a subscription whose
// callbackUri and filter another one already has.
type DuplicateSubscriptionError struct{ ExistingID string }

func (e *DuplicateSubscriptionError) Error() string {
	return "storage: subscription " + e.ExistingID + " has the same callbackUri and filter"
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *DuplicateSubscriptionError) Is(target error) bool { return target == ErrConflict }

// CreateSubscription inserts s (ID, Seq and CreatedAt are set here). seal,
// if not nil, gives SealedSecret for the new id (the sealing binds the
// secret to its subscription). A subscription with the same DedupKey is a
// *DuplicateSubscriptionError naming it.
func (db *DB) CreateSubscription(ctx context.Context, s *Subscription, seal func(id string) ([]byte, error)) error {
	s.ID = uuid.NewString()
	s.CreatedAt = db.now()
	s.LeaseOwner, s.LeaseExpiresAt, s.NextRunAt = "", nil, nil
	if seal != nil {
		sealed, err := seal(s.ID)
		if err != nil {
			return err
		}
		s.SealedSecret = sealed
	}
	err := db.Tx(ctx, func(tx *DB) error {
		var existing []string
		if err := tx.g.Model(&Subscription{}).Where("dedup_key = ?", s.DedupKey).Limit(1).Pluck("id", &existing).Error; err != nil {
			return err
		}
		if len(existing) > 0 {
			return &DuplicateSubscriptionError{ExistingID: existing[0]}
		}
		seq, err := tx.nextSeqOf(subscriptionSeq, 1)
		if err != nil {
			return err
		}
		s.Seq = seq
		return tx.g.Create(s).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Lost a race with an identical request.
		var existing Subscription
		if gerr := db.ctx(ctx).Where("dedup_key = ?", s.DedupKey).Take(&existing).Error; gerr == nil {
			return &DuplicateSubscriptionError{ExistingID: existing.ID}
		}
	}
	var dup *DuplicateSubscriptionError
	if errors.As(err, &dup) {
		return dup
	}
	return dbErr("create subscription", err)
}

// SubscriptionByDedupKey returns the id of the subscription with this
// DedupKey ("" if none).
func (db *DB) SubscriptionByDedupKey(ctx context.Context, key string) (string, error) {
	var ids []string
	err := db.ctx(ctx).Model(&Subscription{}).Where("dedup_key = ?", key).Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return "", dbErr("find subscription", err)
	}
	return ids[0], nil
}

// GetSubscription returns the subscription with this id.
func (db *DB) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	var s Subscription
	if err := db.ctx(ctx).Where("id = ?", id).Take(&s).Error; err != nil {
		return nil, dbErr("get subscription "+id, err)
	}
	return &s, nil
}

// ScanSubscriptions calls fn with the subscriptions whose Seq is above
// after, in Seq order, until fn returns false. Memory holds one batch.
func (db *DB) ScanSubscriptions(ctx context.Context, after int64, fn func(*Subscription) (bool, error)) error {
	const batch = 200
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var subs []Subscription
		if err := db.ctx(ctx).Where("seq > ?", after).Order("seq").Limit(batch).Find(&subs).Error; err != nil {
			return dbErr("list subscriptions", err)
		}
		for i := range subs {
			more, err := fn(&subs[i])
			if err != nil || !more {
				return err
			}
			after = subs[i].Seq
		}
		if len(subs) < batch {
			return nil
		}
	}
}

// DeleteSubscription deletes a subscription and its undelivered
// notifications.
func (db *DB) DeleteSubscription(ctx context.Context, id string) error {
	return db.Tx(ctx, func(tx *DB) error {
		res := tx.g.Where("id = ?", id).Delete(&Subscription{})
		if res.Error != nil {
			return dbErr("delete subscription "+id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("storage: delete subscription %s: %w", id, ErrNotFound)
		}
		return dbErr("delete notifications of "+id, tx.g.Where("subscription_id = ?", id).Delete(&Notification{}).Error)
	})
}

// EnqueueNotifications stores notifications to deliver. Run it in the
// transaction of the change they report (PackageChangeHook).
func (db *DB) EnqueueNotifications(ctx context.Context, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	now := db.now()
	first, err := db.nextSeqOf(notificationSeq, len(ns))
	if err != nil {
		return dbErr("enqueue notifications", err)
	}
	for i := range ns {
		ns[i].Seq = first + int64(i)
		ns[i].Attempts = 0
		ns[i].CreatedAt = now
		if ns[i].RunAfter.IsZero() {
			ns[i].RunAfter = now
		}
	}
	if err := db.ctx(ctx).CreateInBatches(ns, 100).Error; err != nil {
		return dbErr("enqueue notifications", err)
	}
	// A subscription with notifications pending keeps its NextRunAt: the
	// new ones wait behind them. Every row is written (COALESCE rather
	// than a WHERE on NULL) so that the write locks it: a FinishDeliveries
	// of the subscription running meanwhile either sees these rows or
	// finishes first and is seen (PostgreSQL's read committed).
	subs := make([]string, 0, len(ns))
	for _, n := range ns {
		subs = append(subs, n.SubscriptionID)
	}
	for chunk := range slices.Chunk(subs, 500) {
		err := db.ctx(ctx).Model(&Subscription{}).Where("id IN ?", chunk).
			Update("next_run_at", gorm.Expr("COALESCE(next_run_at, ?)", now)).Error
		if err != nil {
			return dbErr("enqueue notifications", err)
		}
	}
	return nil
}

// leaseFree is the condition of a subscription nobody delivers to.
const leaseFree = "(lease_expires_at IS NULL OR lease_expires_at < ?)"

// Claim is a subscription claimed for delivery and its oldest
// undelivered notifications, in order.
type Claim struct {
	Subscription  Subscription
	Notifications []Notification
}

// ClaimSubscriptions takes the lease of up to maxSubs subscriptions whose
// oldest undelivered notification is due, for owner, and returns them
// with up to maxRows of their notifications each, oldest first (the
// first is due; the others are delivered after it while the lease
// holds). ErrNoJob means there is none. As with jobs, the claim is a
// compare-and-set (UPDATE ... WHERE the lease is still free), so of
// several replicas exactly one gets a subscription. Claiming several at
// once, and finishing them together (FinishDeliveries), makes a
// notification cost two commits per batch rather than three each.
func (db *DB) ClaimSubscriptions(ctx context.Context, owner string, lease time.Duration, maxSubs, maxRows int) ([]Claim, error) {
	if owner == "" || lease <= 0 || maxSubs < 1 || maxRows < 1 {
		return nil, errors.New("storage: claim subscriptions: owner, a positive lease, maxSubs and maxRows are required")
	}
	now := db.now()
	var ids []string
	err := db.ctx(ctx).Model(&Subscription{}).Where("next_run_at <= ?", now).Where(leaseFree, now).
		Order("next_run_at, seq").Limit(maxSubs).Pluck("id", &ids).Error
	if err != nil {
		return nil, dbErr("claim subscriptions", err)
	}
	if len(ids) == 0 {
		return nil, ErrNoJob
	}
	exp := now.Add(lease)
	res := db.ctx(ctx).Model(&Subscription{}).Where("id IN ?", ids).Where(leaseFree, now).
		Updates(map[string]any{"lease_owner": owner, "lease_expires_at": exp})
	if res.Error != nil {
		return nil, dbErr("claim subscriptions", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNoJob // all taken by others meanwhile
	}
	var held []Subscription
	if err := db.ctx(ctx).Where("id IN ? AND lease_owner = ?", ids, owner).Order("seq").Find(&held).Error; err != nil {
		return nil, dbErr("claim subscriptions", err)
	}
	claims := make([]Claim, 0, len(held))
	for _, sub := range held {
		var ns []Notification
		if err := db.ctx(ctx).Where("subscription_id = ?", sub.ID).Order("seq").Limit(maxRows).Find(&ns).Error; err != nil {
			return nil, dbErr("claim subscriptions", err)
		}
		claims = append(claims, Claim{Subscription: sub, Notifications: ns})
	}
	return claims, nil
}

// DeliveryOutcome is what became of a claimed subscription's
// notifications: Done were delivered (or given up) and are removed;
// Delayed, if not nil, failed and is tried again at RetryAt (Attempts
// incremented, LastError recorded).
type DeliveryOutcome struct {
	SubscriptionID string
	Done           []int64 // Seq
	Delayed        *Notification
	LastError      string
	RetryAt        time.Time
}

// FinishDeliveries records outcomes and releases owner's leases on their
// subscriptions, in one transaction. A subscription owner no longer holds
// (its lease expired and another worker took it) is left alone: that
// worker sends its notifications again.
func (db *DB) FinishDeliveries(ctx context.Context, owner string, outs []DeliveryOutcome) error {
	return db.Tx(ctx, func(tx *DB) error {
		for _, o := range outs {
			held := tx.g.Model(&Subscription{}).Select("id").Where("id = ? AND lease_owner = ?", o.SubscriptionID, owner)
			if len(o.Done) > 0 {
				err := tx.g.Where("seq IN ? AND subscription_id IN (?)", o.Done, held).Delete(&Notification{}).Error
				if err != nil {
					return dbErr("remove notifications", err)
				}
			}
			if n := o.Delayed; n != nil {
				err := tx.g.Model(&Notification{}).Where("seq = ? AND subscription_id IN (?)", n.Seq, held).
					Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "run_after": o.RetryAt.UTC(), "last_error": o.LastError}).Error
				if err != nil {
					return dbErr("delay notification", err)
				}
			}
			// The release first: it locks the row, so the head read next
			// sees the rows of any EnqueueNotifications that locked it
			// before; then the new head decides when it is due again.
			res := tx.g.Model(&Subscription{}).Where("id = ? AND lease_owner = ?", o.SubscriptionID, owner).
				Updates(map[string]any{"lease_owner": "", "lease_expires_at": nil})
			if res.Error != nil {
				return dbErr("release subscription", res.Error)
			}
			if res.RowsAffected == 0 {
				continue // not ours any more
			}
			var next *time.Time
			var head []Notification
			if err := tx.g.Where("subscription_id = ?", o.SubscriptionID).Order("seq").Limit(1).Find(&head).Error; err != nil {
				return dbErr("release subscription", err)
			}
			if len(head) == 1 {
				next = &head[0].RunAfter
			}
			if err := tx.g.Model(&Subscription{}).Where("id = ?", o.SubscriptionID).Update("next_run_at", next).Error; err != nil {
				return dbErr("release subscription", err)
			}
		}
		return nil
	})
}

// RepairNextRunAt makes due every subscription that has notifications
// but no NextRunAt (a database written before the column existed, or a
// bug): a safety net run at start and now and then. It returns how many.
func (db *DB) RepairNextRunAt(ctx context.Context) (int64, error) {
	pending := db.ctx(ctx).Model(&Notification{}).Select("1").Where("notifications.subscription_id = subscriptions.id")
	res := db.ctx(ctx).Model(&Subscription{}).Where("next_run_at IS NULL AND EXISTS (?)", pending).Update("next_run_at", db.now())
	return res.RowsAffected, dbErr("repair subscriptions", res.Error)
}

// RenewSubscriptionLease extends owner's lease (ErrConflict if lost).
func (db *DB) RenewSubscriptionLease(ctx context.Context, subID, owner string, lease time.Duration) error {
	res := db.ctx(ctx).Model(&Subscription{}).Where("id = ? AND lease_owner = ?", subID, owner).
		Update("lease_expires_at", db.now().Add(lease))
	if res.Error != nil {
		return dbErr("renew subscription lease", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("storage: renew lease of subscription %s: %w", subID, ErrConflict)
	}
	return nil
}

// PendingNotifications counts the notifications not yet delivered.
func (db *DB) PendingNotifications(ctx context.Context) (int64, error) {
	var n int64
	return n, dbErr("count notifications", db.ctx(ctx).Model(&Notification{}).Count(&n).Error)
}
