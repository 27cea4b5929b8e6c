package main_test

// Subscriptions and notifications against the real server and a real
// HTTP receiver on 127.0.0.1.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const subs = "/vnfpkgm/v1/subscriptions"

// received is one request a receiver got.
type received struct {
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

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, testStatus: http.StatusNoContent, postStatus: func(int) int { return http.StatusNoContent }}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
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
		rc.got = append(rc.got, received{method: r.Method, header: r.Header.Clone(), body: body, at: time.Now()})
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
	if strings.Contains(s.log.String(), "s3cret") {
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
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23").Replace(s)
}
