package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func mustSubscribe(t *testing.T, db *DB, key string) *Subscription {
	t.Helper()
	s := &Subscription{CallbackURI: "http://127.0.0.1/" + key, DedupKey: key}
	if err := db.CreateSubscription(context.Background(), s, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutboxHookRunsInTheChangeTransaction: a hook error rolls the state
// change back; a state change and a deletion call it, a change of user
// data alone does not.
func TestOutboxHookRunsInTheChangeTransaction(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	var seen []string
	fail := false
	db.OnPackageChange(func(ctx context.Context, tx *DB, ch PackageChange) error {
		if fail {
			return errors.New("refused")
		}
		if ch.After == nil {
			seen = append(seen, "deleted")
		} else {
			seen = append(seen, ch.Before.OperationalState+">"+ch.After.OperationalState)
		}
		return nil
	})
	p := mustCreate(t, db, &Package{})
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.UserDefinedData = MustJSON(map[string]int{"a": 1}); return nil }); err != nil {
		t.Fatal(err)
	}
	fail = true
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.OperationalState = OperationalEnabled; return nil }); err == nil {
		t.Fatal("the hook's error did not fail the update")
	}
	if got, _ := db.GetPackage(ctx, p.ID); got.OperationalState != OperationalDisabled {
		t.Fatalf("the change committed without its outbox rows: %s", got.OperationalState)
	}
	fail = false
	if _, err := db.UpdatePackageIf(ctx, p.ID, Any, func(p *Package) error { p.OperationalState = OperationalEnabled; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeletePackage(ctx, p.ID, Any); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[DISABLED>ENABLED deleted]" {
		t.Fatalf("hook calls %v", seen)
	}
}

// TestClaimSubscriptionsExclusiveAndOrdered: concurrent workers never hold
// one subscription together; each subscription's rows come in order; a
// delayed head holds the rows behind it; a worker that lost its lease
// records nothing.
func TestClaimSubscriptionsExclusiveAndOrdered(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	c := useClock(db)
	a, b := mustSubscribe(t, db, "a"), mustSubscribe(t, db, "b")
	if err := db.CreateSubscription(ctx, &Subscription{CallbackURI: "x", DedupKey: "a"}, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate key: %v", err)
	}
	var rows []Notification
	for i := range 6 {
		sub := []*Subscription{a, b}[i%2]
		rows = append(rows, Notification{ID: fmt.Sprint(i), SubscriptionID: sub.ID, Type: "T", Body: MustJSON(i)})
	}
	if err := db.EnqueueNotifications(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Eight workers race: each subscription goes to exactly one.
	var mu sync.Mutex
	holders := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			claims, err := db.ClaimSubscriptions(ctx, fmt.Sprint("w", w), time.Minute, 16, 10)
			if errors.Is(err, ErrNoJob) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, cl := range claims {
				holders[cl.Subscription.ID]++
				if cl.Subscription.LeaseOwner != fmt.Sprint("w", w) || len(cl.Notifications) != 3 {
					t.Errorf("claim %+v", cl)
				}
				for i := 1; i < len(cl.Notifications); i++ {
					if cl.Notifications[i].Seq <= cl.Notifications[i-1].Seq {
						t.Errorf("rows out of order: %+v", cl.Notifications)
					}
				}
			}
		}()
	}
	wg.Wait()
	if holders[a.ID] != 1 || holders[b.ID] != 1 {
		t.Fatalf("claims per subscription: %v", holders)
	}
	// a's lease: held by someone; once it expires, w9 takes it over and
	// the old holder's outcome is ignored.
	c.t = c.t.Add(2 * time.Minute)
	claims, err := db.ClaimSubscriptions(ctx, "w9", time.Minute, 16, 10)
	if err != nil || len(claims) != 2 {
		t.Fatalf("after expiry: %v %v", claims, err)
	}
	var old string
	for w := range 8 {
		if err := db.RenewSubscriptionLease(ctx, a.ID, fmt.Sprint("w", w), time.Minute); err == nil {
			old = fmt.Sprint("w", w)
		}
	}
	if old != "" {
		t.Fatalf("an expired holder %s could renew", old)
	}
	var aRows, bRows []Notification
	for _, cl := range claims {
		if cl.Subscription.ID == a.ID {
			aRows = cl.Notifications
		} else {
			bRows = cl.Notifications
		}
	}
	if err := db.FinishDeliveries(ctx, "w0", []DeliveryOutcome{{SubscriptionID: a.ID, Done: []int64{aRows[0].Seq}}}); err != nil {
		t.Fatal(err)
	}
	// w9: a's first delivered, b's first delayed.
	err = db.FinishDeliveries(ctx, "w9", []DeliveryOutcome{
		{SubscriptionID: a.ID, Done: []int64{aRows[0].Seq}},
		{SubscriptionID: b.ID, Delayed: &bRows[0], LastError: "503", RetryAt: c.t.Add(time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := db.PendingNotifications(ctx); n != 5 {
		t.Fatalf("%d pending, want 5", n)
	}
	claims, err = db.ClaimSubscriptions(ctx, "w9", time.Minute, 16, 10)
	if err != nil || len(claims) != 1 || claims[0].Subscription.ID != a.ID || claims[0].Notifications[0].Seq != aRows[1].Seq {
		t.Fatalf("b's delayed head must hold b back: %+v %v", claims, err)
	}
	if err := db.FinishDeliveries(ctx, "w9", []DeliveryOutcome{{SubscriptionID: a.ID}}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Minute)
	claims, err = db.ClaimSubscriptions(ctx, "w9", time.Minute, 16, 10)
	if err != nil || len(claims) != 2 {
		t.Fatalf("after b's delay: %+v %v", claims, err)
	}
	for _, cl := range claims {
		if cl.Subscription.ID == b.ID && (cl.Notifications[0].Seq != bRows[0].Seq || cl.Notifications[0].Attempts != 1 || cl.Notifications[0].LastError != "503") {
			t.Fatalf("b's head after its delay: %+v", cl.Notifications[0])
		}
	}
	// A subscription whose NextRunAt was lost is found again by the repair.
	if err := db.FinishDeliveries(ctx, "w9", []DeliveryOutcome{{SubscriptionID: a.ID}, {SubscriptionID: b.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := db.g.Model(&Subscription{}).Where("id = ?", a.ID).Update("next_run_at", nil).Error; err != nil {
		t.Fatal(err)
	}
	if claims, err := db.ClaimSubscriptions(ctx, "w9", time.Minute, 16, 10); err != nil || len(claims) != 1 || claims[0].Subscription.ID != b.ID {
		t.Fatalf("without its NextRunAt, a is not claimable: %+v %v", claims, err)
	}
	if n, err := db.RepairNextRunAt(ctx); n != 1 || err != nil {
		t.Fatalf("repair: %d %v", n, err)
	}
	if claims, err := db.ClaimSubscriptions(ctx, "w9", time.Minute, 16, 10); err != nil || len(claims) != 1 || claims[0].Subscription.ID != a.ID {
		t.Fatalf("after the repair: %+v %v", claims, err)
	}
	// Deleting a subscription deletes its rows.
	if err := db.DeleteSubscription(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.PendingNotifications(ctx); n != 2 {
		t.Fatalf("%d pending after deleting b, want 2", n)
	}
}
