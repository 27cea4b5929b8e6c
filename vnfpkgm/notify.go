package vnfpkgm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
	"github.com/vnfpkgm/vnfpkgm/storage"
)

// Notification delivery, as data flows:
//
//  1. A change of a package's states (storage.UpdatePackageIf) or its
//     deletion calls outbox inside the same database transaction. outbox
//     decides which notification the change is, matches it against every
//     subscription's filter and writes one outbox row per matching
//     subscription (storage.Notification). The recipients are fixed when
//     the change commits: a subscription created later never receives
//     earlier changes, one deleted meanwhile receives nothing more.
//  2. Delivery workers (every replica runs some) claim a subscription whose
//     oldest row is due, with a lease (storage.ClaimSubscription), and POST
//     its rows in order. A delivered row is deleted. A failure delays the
//     row with exponential back-off and jitter, and the rows behind it wait
//     (per-subscription order). A row that keeps failing is dropped after
//     MaxAttempts or MaxAge, with a log line and a counter.
//  3. A process killed anywhere leaves rows and an expiring lease: the next
//     claim (here after a restart, or by another replica) sends them again
//     (at least once; a receiver may see a notification twice only when a
//     process died between its POST and the row's deletion).

// lease is how long a claimed subscription stays this worker's without
// renewal: it is renewed before each send, and one send (a token request,
// then the POST) takes at most two timeouts, so the lease cannot expire
// during a send and let another replica send the same notification. It
// is also how long a subscription of a process that died waits.
func (c NotifyConfig) lease() time.Duration { return 2*c.Timeout + 5*time.Second }

// claimBatch is how many of a subscription's rows one claim reads.
const claimBatch = 32

// notifyState is the Server's part for subscriptions and notifications.
type notifyState struct {
	secrets      secretKeeper
	notifyClient *http.Client
	// tokenSources caches one OAuth 2.0 token source per subscription.
	tokenSources sync.Map
	// wakeNotify tells an idle delivery worker that rows were written.
	wakeNotify chan struct{}
	linkRoot   atomic.Pointer[string]
	// notificationsDropped counts the notifications given up since start.
	notificationsDropped atomic.Int64
}

// PackageNotification is VnfPackageOnboardingNotification and
// VnfPackageChangeNotification (SOL 005 v2.6.1 clauses 9.5.2.5, 9.5.2.6).
type PackageNotification struct {
	ID               string `json:"id"`
	NotificationType string `json:"notificationType"`
	SubscriptionID   string `json:"subscriptionId"`
	TimeStamp        string `json:"timeStamp"`
	VnfPkgID         string `json:"vnfPkgId"`
	VnfdID           string `json:"vnfdId"`
	ChangeType       string `json:"changeType,omitempty"`
	OperationalState string `json:"operationalState,omitempty"`
	Links            struct {
		Subscription Link `json:"subscription"`
		VnfPackage   Link `json:"vnfPackage"`
	} `json:"_links"`
}

// PackageChangeType values of SOL 005 v2.6.1.
const (
	ChangeOpState   = "OP_STATE_CHANGE"
	ChangePkgDelete = "PKG_DELETE"
)

// initNotify opens the secrets key, builds the callback client and
// installs the outbox hook.
func (s *Server) initNotify() error {
	keyFile := s.cfg.Notify.SecretsKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(s.cfg.DataDir, "secrets.key")
	}
	s.secrets.path = keyFile
	if err := s.secrets.load(); err != nil {
		return err
	}
	client, err := s.newNotifyClient()
	if err != nil {
		return err
	}
	s.notifyClient = client
	s.wakeNotify = make(chan struct{}, 1)
	if s.cfg.PublicURL != "" {
		root, _ := publicRoot(s.cfg.PublicURL) // checked by ParseConfig
		s.linkRoot.Store(&root)
	}
	s.db.OnPackageChange(s.outbox)
	return nil
}

// alwaysDeniedToCallbacks are never reached by a callback, whatever the
// egress policy allows: a subscriber must not make the server POST to
// the cloud metadata service or link-local services.
var alwaysDeniedToCallbacks = []string{"link-local", "metadata"}

// newNotifyClient is the client of callbacks and their token endpoints:
// the server's egress policy, then the callback deny-list, on every
// address connected to; no proxy; redirects not followed (a callback
// that redirects has not accepted the notification).
func (s *Server) newNotifyClient() (*http.Client, error) {
	deny, err := egress.ParseList(s.cfg.Notify.CallbackDeny)
	if err != nil {
		return nil, fmt.Errorf("callback-deny: %w", err)
	}
	for _, set := range alwaysDeniedToCallbacks {
		p, _ := egress.ParseList(set)
		deny = append(deny, p...)
	}
	callbacks := egress.New(nil, deny)
	timeout := s.cfg.Notify.Timeout
	t := s.egress.Transport(timeout, timeout)
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: func(network, address string, c syscall.RawConn) error {
		if err := s.egress.Control(network, address, c); err != nil {
			return err
		}
		return callbacks.Control(network, address, c)
	}}
	t.DialContext = d.DialContext
	t.MaxIdleConnsPerHost = s.cfg.Notify.Workers * claimSubs
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// rootForLinks is the base of the links in notifications: --public-url,
// else the address the server listens on.
func (s *Server) rootForLinks() string {
	if r := s.linkRoot.Load(); r != nil {
		return *r
	}
	return "http://" + s.cfg.Listen
}

// startNotifier runs the delivery workers until ctx ends.
func (s *Server) startNotifier(ctx context.Context, wg *sync.WaitGroup, ln net.Listener) {
	if s.linkRoot.Load() == nil {
		root := "http://" + s.cfg.Listen
		if host, port, err := net.SplitHostPort(s.cfg.Listen); err != nil || port == "0" || unspecifiedHost(host) {
			root = "http://" + ln.Addr().String()
		}
		s.linkRoot.Store(&root)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.repairOutboxEvery(ctx, time.Minute)
	}()
	for i := range s.cfg.Notify.Workers {
		owner := fmt.Sprintf("%s/notify%d", s.owner, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliverLoop(ctx, owner)
		}()
	}
}

// repairOutboxEvery runs storage.RepairNextRunAt now and every interval
// until ctx ends, and forgets the token sources (client secrets) of
// subscriptions deleted, here or through another replica.
func (s *Server) repairOutboxEvery(ctx context.Context, interval time.Duration) {
	for {
		s.forgetDeletedTokenSources(ctx)
		if n, err := s.db.RepairNextRunAt(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("repairing the outbox", "error", err)
		} else if n > 0 {
			s.log.Warn("subscriptions with pending notifications made due again", "count", n)
			s.wakeDelivery()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (s *Server) forgetDeletedTokenSources(ctx context.Context) {
	s.tokenSources.Range(func(k, _ any) bool {
		_, err := s.db.GetSubscription(ctx, k.(string))
		if errors.Is(err, storage.ErrNotFound) {
			s.tokenSources.Delete(k)
		}
		return err == nil || errors.Is(err, storage.ErrNotFound) // the database is away: next time
	})
}

// notificationOf says which notification a change is ("" for none) and
// the package state its filter is matched against.
//
// usageState changes are not notified: SOL 005 v2.6.1 clause 9.5.2.6 says
// of VnfPackageChangeNotification that a change of usageState is not
// reported, and PackageChangeType has no value for it. A subscription's
// usageState filter matches the package's usageState at the change.
func notificationOf(ch storage.PackageChange) (typ, changeType string, p *storage.Package) {
	b, a := ch.Before, ch.After
	switch {
	case a == nil:
		// Only a package that was onboarded (it has a vnfdId) was ever
		// announced; the deletion of one that never was is not news.
		if b.VnfdID == "" {
			return "", "", nil
		}
		return ChangeNotification, ChangePkgDelete, b
	case a.OnboardingState == storage.OnboardingOnboarded && b.OnboardingState != storage.OnboardingOnboarded:
		return OnboardingNotification, "", a
	case a.OnboardingState == storage.OnboardingOnboarded && a.OperationalState != b.OperationalState:
		return ChangeNotification, ChangeOpState, a
	}
	return "", "", nil
}

// outbox is the storage.PackageChangeHook: it writes the notification of
// the change for every subscription whose filter matches, in the
// change's transaction.
func (s *Server) outbox(ctx context.Context, tx *storage.DB, ch storage.PackageChange) error {
	typ, changeType, p := notificationOf(ch)
	if typ == "" {
		return nil
	}
	n := PackageNotification{
		ID: uuid.NewString(), NotificationType: typ, TimeStamp: time.Now().UTC().Format(time.RFC3339Nano),
		VnfPkgID: p.ID, VnfdID: p.VnfdID, ChangeType: changeType,
	}
	if changeType == ChangeOpState {
		n.OperationalState = p.OperationalState
	}
	root := s.rootForLinks()
	n.Links.VnfPackage.Href = root + BasePath + "/vnf_packages/" + p.ID
	var rows []storage.Notification
	err := tx.ScanSubscriptions(ctx, 0, func(sub *storage.Subscription) (bool, error) {
		var f *PkgmNotificationsFilter
		if len(sub.Filter) > 0 {
			f = &PkgmNotificationsFilter{}
			if err := json.Unmarshal(sub.Filter, f); err != nil {
				return false, fmt.Errorf("subscription %s: stored filter: %w", sub.ID, err)
			}
		}
		if !f.matches(typ, p) {
			return true, nil
		}
		n.SubscriptionID = sub.ID
		n.Links.Subscription.Href = subscriptionHref(root, sub.ID)
		rows = append(rows, storage.Notification{ID: n.ID, SubscriptionID: sub.ID, Type: typ, Body: storage.MustJSON(n)})
		return true, nil
	})
	if err != nil || len(rows) == 0 {
		return err
	}
	if err := tx.EnqueueNotifications(ctx, rows); err != nil {
		return err
	}
	s.wakeDelivery()
	return nil
}

func (s *Server) wakeDelivery() {
	select {
	case s.wakeNotify <- struct{}{}:
	default:
	}
}

// fastPoll is how long a woken worker keeps looking often: the outbox
// wakes it from inside the writing transaction, before the rows are
// visible, and a claim made before the commit finds nothing.
const fastPoll = 250 * time.Millisecond

// claimSubs is how many subscriptions a worker claims at once; it
// delivers to them concurrently.
const claimSubs = 32

// deliverLoop claims subscriptions with due notifications and delivers
// them until ctx ends.
func (s *Server) deliverLoop(ctx context.Context, owner string) {
	var fastUntil time.Time
	for ctx.Err() == nil {
		claims, err := s.db.ClaimSubscriptions(ctx, owner, s.cfg.Notify.lease(), claimSubs, claimBatch)
		if err != nil {
			if !errors.Is(err, storage.ErrNoJob) && ctx.Err() == nil {
				s.log.Error("claiming notifications", "error", err)
			}
			wait := s.cfg.Notify.PollInterval
			if time.Now().Before(fastUntil) {
				wait = 10 * time.Millisecond
			}
			select {
			case <-ctx.Done():
			case <-s.wakeNotify:
				fastUntil = time.Now().Add(fastPoll)
			case <-time.After(wait):
			}
			continue
		}
		// There may be more subscriptions to serve: let another idle
		// worker look too.
		s.wakeDelivery()
		outs := make([]storage.DeliveryOutcome, len(claims))
		var wg sync.WaitGroup
		for i := range claims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i] = s.deliverClaimed(ctx, owner, &claims[i])
			}()
		}
		wg.Wait()
		// Recorded even when shutting down: what was delivered must not
		// be sent again.
		if err := s.db.FinishDeliveries(context.WithoutCancel(ctx), owner, outs); err != nil {
			s.log.Error("recording deliveries (they will be sent again)", "error", err)
		}
	}
}

// deliverClaimed sends a claimed subscription's notifications in order,
// stopping at the first that fails (those behind it wait for it).
func (s *Server) deliverClaimed(ctx context.Context, owner string, c *storage.Claim) storage.DeliveryOutcome {
	sub := &c.Subscription
	out := storage.DeliveryOutcome{SubscriptionID: sub.ID}
	log := s.log.With("subscription", sub.ID)
	d, derr := s.deliveryFor(sub)
	renewed := time.Now()
	for i := range c.Notifications {
		n := &c.Notifications[i]
		now := time.Now()
		if n.RunAfter.After(now) || ctx.Err() != nil {
			return out
		}
		if now.Sub(n.CreatedAt) > s.cfg.Notify.MaxAge {
			s.logDropped(log, n, "older than notify-max-age")
			out.Done = append(out.Done, n.Seq)
			continue
		}
		if now.Sub(renewed) > time.Second {
			if err := s.db.RenewSubscriptionLease(ctx, sub.ID, owner, s.cfg.Notify.lease()); err != nil {
				log.Warn("subscription lease lost", "error", err)
				return out
			}
			renewed = now
		}
		err := derr
		if err == nil {
			err = s.post(ctx, d, n.Body)
		}
		if ctx.Err() != nil {
			return out // shutting down: the row stays for the next claim
		}
		if err == nil {
			s.metrics.notifications.WithLabelValues("delivered").Inc()
			out.Done = append(out.Done, n.Seq)
			continue
		}
		s.metrics.notifications.WithLabelValues("failed").Inc()
		attempts := n.Attempts + 1
		if attempts >= s.cfg.Notify.MaxAttempts {
			s.logDropped(log, n, fmt.Sprintf("%d attempts failed, the last: %v", attempts, err))
			out.Done = append(out.Done, n.Seq)
			continue
		}
		delay := s.cfg.Notify.backoff(attempts)
		log.Warn("notification not delivered, to be retried", "notification", n.ID, "type", n.Type, "attempt", attempts, "retry_in", delay, "error", err)
		out.Delayed, out.LastError, out.RetryAt = n, err.Error(), time.Now().Add(delay)
		return out
	}
	return out
}

// logDropped counts and logs a notification given up.
func (s *Server) logDropped(log interface{ Error(string, ...any) }, n *storage.Notification, why string) {
	total := s.notificationsDropped.Add(1)
	s.metrics.notifications.WithLabelValues("dropped").Inc()
	log.Error("notification dropped", "notification", n.ID, "type", n.Type, "reason", why, "dropped_total", total)
}

// NotificationsDropped is how many notifications this process gave up.
func (s *Server) NotificationsDropped() int64 { return s.notificationsDropped.Load() }

// backoff is the delay after the attempt-th failure: BackoffMin doubled
// per failure up to BackoffMax, of which a random half ("equal jitter"),
// so that subscribers of one receiver that failed together do not retry
// together.
func (c NotifyConfig) backoff(attempt int) time.Duration {
	d := c.BackoffMax
	if shift := attempt - 1; shift < 32 {
		if x := c.BackoffMin << shift; x > 0 && x < d {
			d = x
		}
	}
	return d/2 + rand.N(d/2+1)
}

// deliveryFor unseals a stored subscription's credentials.
func (s *Server) deliveryFor(sub *storage.Subscription) (*delivery, error) {
	d := &delivery{id: sub.ID, callback: sub.CallbackURI, authType: sub.AuthType}
	if len(sub.AuthParams) > 0 {
		if err := json.Unmarshal(sub.AuthParams, &d.params); err != nil {
			return nil, fmt.Errorf("stored authentication: %w", err)
		}
	}
	if len(sub.SealedSecret) > 0 {
		secret, err := s.secrets.open(sub.ID, sub.SealedSecret)
		if err != nil {
			return nil, err
		}
		d.secret = string(secret)
	}
	return d, nil
}

// post sends one notification; any 2xx answer delivers it (SOL 013
// expects 204 No Content).
func (s *Server) post(ctx context.Context, d *delivery, body []byte) error {
	resp, err := s.sendToCallback(ctx, d, http.MethodPost, body)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the callback answered %s", resp.Status)
	}
	return nil
}

// tokenError is a failure to get a token for a callback.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "no access token for the callback: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// sendToCallback sends a request to the subscription's callback with its
// credentials and the Version header. With OAuth 2.0, a 401 answer drops
// the token and the request is sent once more with a new one.
func (s *Server) sendToCallback(ctx context.Context, d *delivery, method string, body []byte) (*http.Response, error) {
	var src *tokensource.Source
	if d.authType == AuthOAuth2 {
		var err error
		if src, err = s.tokenSource(d); err != nil {
			return nil, &tokenError{err}
		}
	}
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, d.callback, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Version", APIVersion)
		var token string
		switch d.authType {
		case AuthBasic:
			req.SetBasicAuth(d.params.UserName, d.secret)
		case AuthOAuth2:
			tok, err := src.Token(ctx)
			if err != nil {
				return nil, &tokenError{err}
			}
			token = tok.AccessToken
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := s.notifyClient.Do(req)
		if err != nil {
			return nil, err
		}
		if src == nil || resp.StatusCode != http.StatusUnauthorized || try > 0 {
			return resp, nil
		}
		resp.Body.Close()
		src.Invalidate(token)
	}
}

// tokenSource returns the subscription's token source (cached while the
// process runs; a callback test gets its own, uncached).
func (s *Server) tokenSource(d *delivery) (*tokensource.Source, error) {
	if d.id != "" {
		if v, ok := s.tokenSources.Load(d.id); ok {
			return v.(*tokensource.Source), nil
		}
	}
	src, err := tokensource.New(tokensource.Config{
		TokenURL: d.params.TokenEndpoint, ClientID: d.params.ClientID, ClientSecret: d.secret,
		HTTPClient: s.notifyClient,
	})
	if err != nil || d.id == "" {
		return src, err
	}
	v, _ := s.tokenSources.LoadOrStore(d.id, src)
	return v.(*tokensource.Source), nil
}
