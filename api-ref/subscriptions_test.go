package apiref

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

const (
	tSubscriptions = "/vnfpkgm/v1/subscriptions"
	tSubscription  = "/vnfpkgm/v1/subscriptions/{subscriptionId}"
)

// TestSubscriptionResponses checks the subscription resources' answers,
// and the notifications the server POSTs, against the document.
func TestSubscriptionResponses(t *testing.T) {
	hello, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "helloworld3-multi.zip"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notifications [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			notifications = append(notifications, b)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	ctx, cancel := context.WithCancel(context.Background())
	srv := newServer(t, ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := &client{base: "http://" + ln.Addr().String(), http: noRedirect}

	body := []byte(`{"callbackUri":"` + rc.URL + `/cb","filter":{"notificationTypes":["VnfPackageOnboardingNotification"]},` +
		`"authentication":{"authType":["BASIC"],"paramsBasic":{"userName":"u","password":"p"}}}`)
	r := c.do(t, 201, "POST", tSubscriptions, tSubscriptions, body, "Content-Type: application/json")
	id, _ := object(t, r)["id"].(string)
	c.do(t, 303, "POST", tSubscriptions, tSubscriptions, body, "Content-Type: application/json")
	c.do(t, 200, "GET", tSubscription, tSubscriptions+"/"+id, nil)
	c.do(t, 200, "HEAD", tSubscription, tSubscriptions+"/"+id, nil)
	c.do(t, 200, "GET", tSubscriptions, tSubscriptions+"?filter=(eq,id,"+id+")", nil)
	c.do(t, 200, "HEAD", tSubscriptions, tSubscriptions, nil)
	c.do(t, 400, "GET", tSubscriptions, tSubscriptions+"?filter=(eq,nosuch,1)", nil)
	c.do(t, 400, "POST", tSubscriptions, tSubscriptions, []byte(`{"callbackUri":"ftp://x/"}`), "Content-Type: application/json")
	c.do(t, 415, "POST", tSubscriptions, tSubscriptions, body, "Content-Type: text/plain")
	c.do(t, 422, "POST", tSubscriptions, tSubscriptions, []byte(`{"callbackUri":"`+rc.URL+`/x","authentication":{"authType":["TLS_CERT"]}}`), "Content-Type: application/json")
	c.do(t, 404, "GET", tSubscription, tSubscriptions+"/nosuch", nil)
	c.do(t, 405, "PUT", tSubscription, tSubscriptions+"/"+id, nil)

	pkg := c.create(t, nil)
	c.do(t, 202, "PUT", tContent, "/vnfpkgm/v1/vnf_packages/"+pkg+"/package_content", hello, "Content-Type: application/zip")
	if st := c.await(t, pkg); st != "ONBOARDED" {
		t.Fatalf("the package is %s", st)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		got := len(notifications)
		mu.Unlock()
		if got > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	n := notifications[0]
	mu.Unlock()
	if err := ValidateSchema("VnfPackageNotification", n); err != nil {
		t.Errorf("%v: %s", err, n)
	}
	c.do(t, 204, "DELETE", tSubscription, tSubscriptions+"/"+id, nil)
}
