package main_test

// Subscriptions and notifications against the real server and a real
// HTTP receiver on 127.0.0.1.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const subs = "/vnfpkgm/v1/subscriptions"

// received is one request a receiver got.
type received struct {
	path   string
	method string
	header http.Header
	body   map[string]any
	at     time.Time
}

// receiver is a notification endpoint: it answers GET (the callback test)
// with testStatus and POST with the status postStatus gives.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	got        []received
	testStatus int
	postStatus func(n int) int // n: POSTs received so far, this one included
	posts      int
	check      func(r *http.Request) bool // false: answer 401
}

func newReceiver(t *testing.T) *receiver { return newReceiverAt(t, "127.0.0.1:0") }

// newReceiverAt starts a receiver listening on addr.
func newReceiverAt(t *testing.T, addr string) *receiver {
	rc := &receiver{t: t, testStatus: http.StatusNoContent, postStatus: func(int) int { return http.StatusNoContent }}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Listener.Close()
	rc.srv.Listener = ln
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.check != nil && !rc.check(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodGet {
		w.WriteHeader(rc.testStatus)
		return
	}
	rc.posts++
	status := rc.postStatus(rc.posts)
	if status/100 == 2 {
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			rc.t.Errorf("notification body is not JSON: %v: %s", err, b)
		}
		rc.got = append(rc.got, received{path: r.URL.Path, method: r.Method, header: r.Header.Clone(), body: body, at: time.Now()})
	}
	w.WriteHeader(status)
}

func (rc *receiver) url(path string) string { return rc.srv.URL + path }

// notifications returns what was accepted so far.
func (rc *receiver) notifications() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// await waits until n notifications were accepted, then a little longer
// to catch any extra one, and returns them.
func (rc *receiver) await(n int, within time.Duration) []received {
	rc.t.Helper()
	deadline := time.Now().Add(within)
	for len(rc.notifications()) < n {
		if time.Now().After(deadline) {
			rc.t.Fatalf("received %d notifications, want %d: %v", len(rc.notifications()), n, rc.notifications())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	got := rc.notifications()
	if len(got) != n {
		rc.t.Fatalf("received %d notifications, want exactly %d: %v", len(got), n, got)
	}
	return got
}

// subscribe POSTs a PkgmSubscriptionRequest and returns the answer.
func (s *server) subscribe(t *testing.T, body string) response {
	t.Helper()
	return s.do("POST", subs, strings.NewReader(body), "Content-Type", "application/json")
}

// subscribeNoRedirect subscribes without following a 303.
func (s *server) subscribeNoRedirect(t *testing.T, body string) response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Post(s.base+subs, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// mustSubscribe subscribes and returns the new subscription's id.
func (s *server) mustSubscribe(t *testing.T, body string) string {
	t.Helper()
	r := s.subscribe(t, body)
	expectStatus(t, r, 201)
	var sub map[string]any
	r.json(t, &sub)
	id, _ := sub["id"].(string)
	if id == "" || r.header.Get("Location") != s.base+subs+"/"+id {
		t.Fatalf("subscription %s, Location %q", r.body, r.header.Get("Location"))
	}
	return id
}

func (s *server) patchState(t *testing.T, id, state string) {
	t.Helper()
	r := s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"`+state+`"}`), "Content-Type", "application/merge-patch+json")
	expectStatus(t, r, 200)
}

// checkNotification checks the members every notification carries.
func checkNotification(t *testing.T, s *server, n received, typ, subID, pkgID, vnfdID string) {
	t.Helper()
	b := n.body
	if b["notificationType"] != typ || b["subscriptionId"] != subID || b["vnfPkgId"] != pkgID || b["vnfdId"] != vnfdID {
		t.Fatalf("notification %v, want %s for subscription %s, package %s, vnfd %s", b, typ, subID, pkgID, vnfdID)
	}
	if id, _ := b["id"].(string); id == "" {
		t.Fatalf("notification without id: %v", b)
	}
	if ts, _ := b["timeStamp"].(string); ts == "" {
		t.Fatalf("notification without timeStamp: %v", b)
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Fatalf("timeStamp %q: %v", ts, err)
	}
	links, _ := b["_links"].(map[string]any)
	sub, _ := links["subscription"].(map[string]any)
	pkg, _ := links["vnfPackage"].(map[string]any)
	if sub["href"] != s.base+subs+"/"+subID || pkg["href"] != s.base+pkgs+"/"+pkgID {
		t.Fatalf("_links %v", links)
	}
	if n.header.Get("Version") != "2.6.1" || n.header.Get("Content-Type") != "application/json" {
		t.Fatalf("notification headers %v", n.header)
	}
}

// TestNotificationsOfEveryType: onboarding, operational state changes and
// deletion each reach a subscriber without filter, with every member.
func TestNotificationsOfEveryType(t *testing.T) {
	rc := newReceiver(t)
	s := startServer(t, "")
	subID := s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`)

	vnfd := newVnfdID(5001)
	id, _ := s.onboardBytes(t, testPkg{vnfdID: vnfd}.build(t).zip, `{}`)
	got := rc.await(1, 20*time.Second)
	checkNotification(t, s, got[0], "VnfPackageOnboardingNotification", subID, id, vnfd)

	s.patchState(t, id, "DISABLED")
	s.patchState(t, id, "ENABLED")
	s.patchState(t, id, "DISABLED")
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil), 204)
	got = rc.await(5, 20*time.Second)
	for i, want := range []struct{ change, state string }{{"OP_STATE_CHANGE", "DISABLED"}, {"OP_STATE_CHANGE", "ENABLED"}, {"OP_STATE_CHANGE", "DISABLED"}, {"PKG_DELETE", ""}} {
		n := got[i+1]
		checkNotification(t, s, n, "VnfPackageChangeNotification", subID, id, vnfd)
		if n.body["changeType"] != want.change || (want.state != "" && n.body["operationalState"] != want.state) {
			t.Fatalf("notification %d: %v, want %s %s", i+1, n.body, want.change, want.state)
		}
	}
	// An id is one change's: all differ here.
	seen := map[any]bool{}
	for _, n := range got {
		if seen[n.body["id"]] {
			t.Fatalf("notification id %v twice", n.body["id"])
		}
		seen[n.body["id"]] = true
	}
}

// TestSubscriptionResources: create, show, list with filter and paging,
// duplicates, delete, 405, and what is never echoed.
func TestSubscriptionResources(t *testing.T) {
	rc := newReceiver(t)
	s := startServer(t, "")
	body := `{"callbackUri":"` + rc.url("/a") + `","filter":{"vnfdId":["x"],"notificationTypes":["VnfPackageChangeNotification"]},` +
		`"authentication":{"authType":["BASIC"],"paramsBasic":{"userName":"u","password":"s3cret-pw"}}}`
	id := s.mustSubscribe(t, body)
	if r := s.do("GET", subs+"/"+id, nil); r.status != 200 || strings.Contains(string(r.body), "s3cret") || strings.Contains(string(r.body), "authentication") {
		t.Fatalf("show: %d %s", r.status, r.body)
	}
	// The same callbackUri and filter (members in another order): 303.
	dup := s.subscribeNoRedirect(t, `{"filter":{"notificationTypes":["VnfPackageChangeNotification"],"vnfdId":["x"]},"callbackUri":"`+rc.url("/a")+`"}`)
	if dup.status != http.StatusSeeOther || dup.header.Get("Location") != s.base+subs+"/"+id {
		t.Fatalf("duplicate: %d Location %q", dup.status, dup.header.Get("Location"))
	}
	other := s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/b")+`"}`)

	var list []map[string]any
	r := s.do("GET", subs, nil)
	expectStatus(t, r, 200)
	r.json(t, &list)
	if len(list) != 2 {
		t.Fatalf("list: %s", r.body)
	}
	r = s.do("GET", subs+"?filter="+urlQueryEscape("(eq,filter/vnfdId,x)"), nil)
	expectStatus(t, r, 200)
	r.json(t, &list)
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("filtered list: %s", r.body)
	}
	r = s.do("GET", subs+"?filter="+urlQueryEscape("(eq,callbackUri,"+rc.url("/b")+")"), nil)
	r.json(t, &list)
	if len(list) != 1 || list[0]["id"] != other {
		t.Fatalf("filtered list: %s", r.body)
	}
	expectProblem(t, s.do("GET", subs+"?filter="+urlQueryEscape("(eq,nosuch,x)"), nil), 400)
	expectProblem(t, s.do("PUT", subs+"/"+id, nil), 405)
	if r := s.do("PATCH", subs, nil); r.status != 405 || !strings.Contains(r.header.Get("Allow"), "POST") {
		t.Fatalf("PATCH: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	expectStatus(t, s.do("DELETE", subs+"/"+id, nil), 204)
	expectProblem(t, s.do("GET", subs+"/"+id, nil), 404)
	expectProblem(t, s.do("DELETE", subs+"/"+id, nil), 404)

	for _, bad := range []struct {
		body   string
		status int
	}{
		{`{"callbackUri":"ftp://x/"}`, 400},
		{`{"callbackUri":"` + rc.url("/c") + `","filter":{"notificationTypes":["Nope"]}}`, 400},
		{`{"callbackUri":"` + rc.url("/c") + `","filter":{"vnfdIds":["x"]}}`, 400},
		{`{"callbackUri":"` + rc.url("/c") + `","authentication":{"authType":["TLS_CERT"]}}`, 422},
		{`{"callbackUri":"` + rc.url("/c") + `","authentication":{"authType":["BASIC"]}}`, 400},
		{`{"callbackUri":"http://169.254.169.254/latest"}`, 422},
	} {
		expectProblem(t, s.subscribe(t, bad.body), bad.status)
	}
	if strings.Contains(stoppedLog(s), "s3cret") {
		t.Fatalf("the password is in the log")
	}
}

// TestCallbackTestFails: a callback that does not answer 204 to GET is
// refused with 422 saying what it answered; nothing is stored.
func TestCallbackTestFails(t *testing.T) {
	rc := newReceiver(t)
	rc.testStatus = http.StatusNotFound
	s := startServer(t, "")
	pd := expectProblem(t, s.subscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`), 422)
	if !strings.Contains(fmt.Sprint(pd["detail"]), "404") {
		t.Fatalf("detail %v does not say what the endpoint answered", pd["detail"])
	}
	var list []map[string]any
	s.do("GET", subs, nil).json(t, &list)
	if len(list) != 0 {
		t.Fatalf("a failed subscription was stored: %v", list)
	}

	// --callback-deny: the receiver's address is refused, without saying
	// which address.
	rc.mu.Lock()
	rc.testStatus = http.StatusNoContent
	rc.mu.Unlock()
	s2 := startServer(t, "", "--callback-deny", "loopback")
	pd = expectProblem(t, s2.subscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`), 422)
	if !strings.Contains(fmt.Sprint(pd["detail"]), "egress policy") || strings.Contains(fmt.Sprint(pd["detail"]), "denied by") {
		t.Fatalf("detail %v", pd["detail"])
	}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23").Replace(s)
}

// kind names a notification: its type, or its changeType, and package.
func kind(n received, names map[string]string) string {
	k := "ONB"
	if c, ok := n.body["changeType"].(string); ok {
		k = c
	}
	return k + ":" + names[fmt.Sprint(n.body["vnfPkgId"])]
}

// TestNotificationFilters: every member of PkgmNotificationsFilter, each
// matching and not matching, over the same changes.
func TestNotificationFilters(t *testing.T) {
	rc := newReceiver(t)
	s := startServer(t, "")
	p := testPkg{vnfdID: newVnfdID(5101), provider: "Acme", product: "Router", version: "2.0"}.build(t)
	q := testPkg{vnfdID: newVnfdID(5102), provider: "Other", product: "Router", version: "2.0"}.build(t)
	pID := s.createPackage(t)
	acme := func(products string) string {
		return `{"vnfProductsFromProviders":[{"vnfProvider":"Acme"` + products + `}]}`
	}
	filters := map[string]struct {
		filter string
		want   []string
	}{
		"all":              {`{}`, []string{"ONB:P", "ONB:Q", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"onboarding":       {`{"notificationTypes":["VnfPackageOnboardingNotification"]}`, []string{"ONB:P", "ONB:Q"}},
		"change":           {`{"notificationTypes":["VnfPackageChangeNotification"]}`, []string{"OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"vnfd":             {`{"vnfdId":["` + newVnfdID(5101) + `"]}`, []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"vnfd-none":        {`{"vnfdId":["` + newVnfdID(5199) + `"]}`, nil},
		"pkg":              {`{"vnfPkgId":["` + pID + `"]}`, []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"pkg-none":         {`{"vnfPkgId":["00000000-0000-4000-8000-000000000000"]}`, nil},
		"disabled":         {`{"operationalState":["DISABLED"]}`, []string{"OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"enabled":          {`{"operationalState":["ENABLED"]}`, []string{"ONB:P", "ONB:Q"}},
		"in-use":           {`{"usageState":["IN_USE"]}`, nil},
		"not-in-use":       {`{"usageState":["NOT_IN_USE"]}`, []string{"ONB:P", "ONB:Q", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"provider":         {acme(""), []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"provider-none":    {`{"vnfProductsFromProviders":[{"vnfProvider":"Nobody"}]}`, nil},
		"product":          {acme(`,"vnfProducts":[{"vnfProductName":"Router"}]`), []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"product-none":     {acme(`,"vnfProducts":[{"vnfProductName":"Switch"}]`), nil},
		"version":          {acme(`,"vnfProducts":[{"vnfProductName":"Router","versions":[{"vnfSoftwareVersion":"2.0"}]}]`), []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"version-none":     {acme(`,"vnfProducts":[{"vnfProductName":"Router","versions":[{"vnfSoftwareVersion":"3.0"}]}]`), nil},
		"vnfdVersion":      {acme(`,"vnfProducts":[{"vnfProductName":"Router","versions":[{"vnfSoftwareVersion":"2.0","vnfdVersions":["0.9","1.0"]}]}]`), []string{"ONB:P", "OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
		"vnfdVersion-none": {acme(`,"vnfProducts":[{"vnfProductName":"Router","versions":[{"vnfSoftwareVersion":"2.0","vnfdVersions":["9.9"]}]}]`), nil},
		"and":              {`{"notificationTypes":["VnfPackageChangeNotification"],"operationalState":["DISABLED"],"vnfdId":["` + newVnfdID(5101) + `"]}`, []string{"OP_STATE_CHANGE:P", "PKG_DELETE:P"}},
	}
	total := 0
	for name, f := range filters {
		s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/"+name)+`","filter":`+f.filter+`}`)
		total += len(f.want)
	}
	s.uploadBytes(t, pID, p.zip, "application/zip")
	s.mustOnboard(t, pID)
	qID, _ := s.onboardBytes(t, q.zip, `{}`)
	s.patchState(t, pID, "DISABLED")
	expectStatus(t, s.do("DELETE", pkgs+"/"+pID, nil), 204)

	names := map[string]string{pID: "P", qID: "Q"}
	got := map[string][]string{}
	for _, n := range rc.await(total, 30*time.Second) {
		name := strings.TrimPrefix(n.path, "/")
		got[name] = append(got[name], kind(n, names))
	}
	for name, f := range filters {
		have := got[name]
		slices.Sort(have)
		want := slices.Clone(f.want)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("filter %s %s: received %v, want %v", name, f.filter, have, want)
		}
	}
}

// TestDeliveryRetriedInOrder: a receiver that fails several times gets
// every notification once,
// in order, once it recovers; a notification refused beyond
// --notify-max-attempts is dropped with a log line and does not block
// the ones behind it.
func TestDeliveryRetriedInOrder(t *testing.T) {
	rc := newReceiver(t)
	rc.postStatus = func(n int) int {
		if n <= 4 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}
	s := startServer(t, "", "--notify-backoff-min", "50ms", "--notify-backoff-max", "200ms")
	subID := s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`)
	id, _ := s.onboardBytes(t, testPkg{vnfdID: newVnfdID(5201)}.build(t).zip, `{}`)
	for _, st := range []string{"DISABLED", "ENABLED", "DISABLED"} {
		s.patchState(t, id, st)
	}
	got := rc.await(4, 30*time.Second)
	for i, want := range []string{"", "DISABLED", "ENABLED", "DISABLED"} {
		if got[i].body["subscriptionId"] != subID || (want != "" && got[i].body["operationalState"] != want) || (want == "" && got[i].body["notificationType"] != "VnfPackageOnboardingNotification") {
			t.Fatalf("notification %d out of order: %v", i, got[i].body)
		}
	}
	if !strings.Contains(stoppedLog(s), "to be retried") {
		t.Fatalf("the failures were not logged")
	}

	// Dropped after the attempts allowed.
	rc2 := newReceiver(t)
	s2 := startServer(t, "", "--notify-backoff-min", "50ms", "--notify-backoff-max", "100ms", "--notify-max-attempts", "3")
	s2.mustSubscribe(t, `{"callbackUri":"`+rc2.url("/cb")+`"}`)
	rc2.mu.Lock()
	rc2.postStatus = func(n int) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	rc2.mu.Unlock()
	id2, _ := s2.onboardBytes(t, testPkg{vnfdID: newVnfdID(5202)}.build(t).zip, `{}`)
	s2.patchState(t, id2, "DISABLED")
	got = rc2.await(1, 30*time.Second)
	if got[0].body["changeType"] != "OP_STATE_CHANGE" {
		t.Fatalf("after the dropped notification: %v", got[0].body)
	}
	if log := stoppedLog(s2); !strings.Contains(log, "notification dropped") || !strings.Contains(log, "dropped_total=1") {
		t.Fatalf("no log line for the dropped notification:\n%s", s2.log)
	}
}

// TestReceiverDownThenBack: while the receiver's address drops
// connections the notifications wait; once it listens again it gets them
// all, once each, in order.
func TestReceiverDownThenBack(t *testing.T) {
	rc := newReceiver(t)
	addr := rc.srv.Listener.Addr().String()
	s := startServer(t, "", "--notify-backoff-min", "100ms", "--notify-backoff-max", "400ms")
	s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`)
	rc.srv.Close()
	// Down: the address accepts connections and drops them at once.
	down, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int64
	go func() {
		for {
			conn, err := down.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			conn.Close()
		}
	}()
	id, _ := s.onboardBytes(t, testPkg{vnfdID: newVnfdID(5251)}.build(t).zip, `{}`)
	s.patchState(t, id, "DISABLED")
	s.patchState(t, id, "ENABLED")
	waitFor(t, "failed attempts", func() bool { return attempts.Load() >= 3 })
	down.Close()
	back := newReceiverAt(t, addr)
	got := back.await(3, 30*time.Second)
	if got[0].body["notificationType"] != "VnfPackageOnboardingNotification" || got[1].body["operationalState"] != "DISABLED" || got[2].body["operationalState"] != "ENABLED" {
		t.Fatalf("out of order: %v", got)
	}
}

// TestNotificationSurvivesKill: the server is killed (SIGKILL) after the
// change committed and before the receiver accepted its notification;
// after a restart the notification is delivered, once.
func TestNotificationSurvivesKill(t *testing.T) {
	rc := newReceiver(t)
	rc.postStatus = func(int) int { return http.StatusServiceUnavailable }
	dir := t.TempDir()
	// A short timeout makes a short lease: the killed process may hold
	// the subscription's lease, which the restarted one waits out.
	fast := []string{"--notify-backoff-min", "50ms", "--notify-backoff-max", "100ms", "--notify-timeout", "1s"}
	s := startServer(t, dir, fast...)
	s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`)
	id, _ := s.onboardBytes(t, testPkg{vnfdID: newVnfdID(5301)}.build(t).zip, `{}`)
	waitFor(t, "a delivery attempt", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return rc.posts > 0
	})
	s.kill()
	rc.mu.Lock()
	rc.postStatus = func(int) int { return http.StatusNoContent }
	rc.mu.Unlock()
	startServer(t, dir, fast...)
	got := rc.await(1, 30*time.Second)
	if got[0].body["vnfPkgId"] != id || got[0].body["notificationType"] != "VnfPackageOnboardingNotification" {
		t.Fatalf("after the restart: %v", got[0].body)
	}
}

// TestTwoProcessesDeliverOnce: two servers over one database; every
// notification reaches each subscription exactly once, in order.
func TestTwoProcessesDeliverOnce(t *testing.T) {
	rc := newReceiver(t)
	dir := t.TempDir()
	flags := []string{"--notify-poll-interval", "50ms"}
	a := startServer(t, dir, flags...)
	b := startServer(t, dir, flags...)
	const nsubs = 8
	for i := range nsubs {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		srv.mustSubscribe(t, `{"callbackUri":"`+rc.url(fmt.Sprintf("/s%d", i))+`"}`)
	}
	var ids []string
	for i := range 3 {
		srv := []*server{a, b}[i%2]
		id, _ := srv.onboardBytes(t, testPkg{vnfdID: newVnfdID(5401 + i)}.build(t).zip, `{}`)
		ids = append(ids, id)
		[]*server{b, a}[i%2].patchState(t, id, "DISABLED")
	}
	got := rc.await(nsubs*6, 30*time.Second)
	bySub := map[string][]string{}
	seen := map[string]bool{}
	for _, n := range got {
		key := n.path + " " + fmt.Sprint(n.body["id"])
		if seen[key] {
			t.Fatalf("notification %s delivered twice", key)
		}
		seen[key] = true
		bySub[n.path] = append(bySub[n.path], fmt.Sprint(n.body["vnfPkgId"], n.body["changeType"]))
	}
	var want []string
	for _, id := range ids {
		want = append(want, fmt.Sprint(id, nil), fmt.Sprint(id, "OP_STATE_CHANGE"))
	}
	for path, order := range bySub {
		if !slices.Equal(order, want) {
			t.Fatalf("%s received %v, want %v", path, order, want)
		}
	}
}

// stoppedLog stops the server and returns its whole log (read only once
// the process and the copy of its output have ended).
func stoppedLog(s *server) string {
	s.stop()
	return s.log.String()
}

// secretOnDisk reports whether any file under dir holds secret (the
// database, its WAL, the blobs).
func secretOnDisk(t *testing.T, dir, secret string) bool {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, rerr := os.ReadFile(path); rerr == nil && bytes.Contains(b, []byte(secret)) {
				found = true
			}
		}
		return nil
	})
	return found
}

// TestBasicAuthentication: the callback test and every notification carry
// the subscription's Basic credentials; wrong ones fail the callback
// test; the password is neither answered, logged nor stored in clear.
func TestBasicAuthentication(t *testing.T) {
	const user, password = "nfvo", "pw-basic-7d1e"
	rc := newReceiver(t)
	rc.check = func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == password
	}
	dir := t.TempDir()
	s := startServer(t, dir)
	auth := func(pw string) string {
		return `{"callbackUri":"` + rc.url("/cb") + `","authentication":{"authType":["BASIC"],"paramsBasic":{"userName":"` + user + `","password":"` + pw + `"}}}`
	}
	pd := expectProblem(t, s.subscribe(t, auth("wrong")), 422)
	if !strings.Contains(fmt.Sprint(pd["detail"]), "401") {
		t.Fatalf("detail %v", pd["detail"])
	}
	r := s.subscribe(t, auth(password))
	expectStatus(t, r, 201)
	if strings.Contains(string(r.body), password) {
		t.Fatalf("the password is answered: %s", r.body)
	}
	s.onboardBytes(t, testPkg{vnfdID: newVnfdID(5501)}.build(t).zip, `{}`)
	rc.await(1, 20*time.Second)
	if strings.Contains(stoppedLog(s), password) || secretOnDisk(t, dir, password) {
		t.Fatalf("the password is in the log or stored in clear")
	}
}

// tokenServer is an OAuth 2.0 token endpoint (client credentials grant,
// client_secret_basic) issuing tok-1, tok-2, ...
type tokenServer struct {
	srv          *httptest.Server
	mu           sync.Mutex
	issued       int
	valid        map[string]bool
	clientSecret string
}

func newTokenServer(t *testing.T, clientID, clientSecret string) *tokenServer {
	ts := &tokenServer{valid: map[string]bool{}, clientSecret: clientSecret}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if !ok || id != clientID || secret != clientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		ts.mu.Lock()
		ts.issued++
		tok := fmt.Sprintf("tok-%d", ts.issued)
		ts.valid[tok] = true
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) accepts(r *http.Request) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && ts.valid[tok]
}

// TestOAuth2Authentication: notifications carry a bearer token from the
// subscription's token endpoint, cached between notifications and
// renewed when the receiver answers 401; a refusing token endpoint fails
// the callback test; the client secret is never stored in clear.
func TestOAuth2Authentication(t *testing.T) {
	const clientID, secret = "vnfpkgm-notifier", "cs-9b2f0c"
	ts := newTokenServer(t, clientID, secret)
	rc := newReceiver(t)
	rc.check = ts.accepts
	dir := t.TempDir()
	s := startServer(t, dir)
	sub := func(cs string) string {
		return `{"callbackUri":"` + rc.url("/cb") + `","authentication":{"authType":["OAUTH2_CLIENT_CREDENTIALS"],` +
			`"paramsOauth2ClientCredentials":{"clientId":"` + clientID + `","clientPassword":"` + cs + `","tokenEndpoint":"` + ts.srv.URL + `/token"}}}`
	}
	pd := expectProblem(t, s.subscribe(t, sub("wrong")), 422)
	if !strings.Contains(fmt.Sprint(pd["detail"]), "invalid_client") {
		t.Fatalf("detail %v", pd["detail"])
	}
	s.mustSubscribe(t, sub(secret)) // the callback test fetches tok-1
	id, _ := s.onboardBytes(t, testPkg{vnfdID: newVnfdID(5601)}.build(t).zip, `{}`)
	got := rc.await(1, 20*time.Second) // tok-2, the subscription's own source
	ts.mu.Lock()
	revoked := strings.TrimPrefix(got[0].header.Get("Authorization"), "Bearer ")
	delete(ts.valid, revoked)
	ts.mu.Unlock()
	s.patchState(t, id, "DISABLED") // 401 with tok-2, then tok-3
	s.patchState(t, id, "ENABLED")  // tok-3 from the cache
	got = rc.await(3, 20*time.Second)
	ts.mu.Lock()
	issued := ts.issued
	ts.mu.Unlock()
	if issued != 3 || got[1].header.Get("Authorization") != "Bearer tok-3" || got[2].header.Get("Authorization") != "Bearer tok-3" {
		t.Fatalf("%d tokens issued; tokens used %q %q %q", issued, got[0].header.Get("Authorization"), got[1].header.Get("Authorization"), got[2].header.Get("Authorization"))
	}
	if strings.Contains(stoppedLog(s), secret) || secretOnDisk(t, dir, secret) {
		t.Fatalf("the client secret is in the log or stored in clear")
	}
}
