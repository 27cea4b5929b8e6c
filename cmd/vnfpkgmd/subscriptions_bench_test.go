package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchReceiver is a fast notification endpoint that records, for each
// onboarding notification, the time from its timeStamp (taken in the
// transaction that made the package ONBOARDED) to its receipt.
type benchReceiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	onboarded int
	changes   int
	latencies []time.Duration
	lastAt    time.Time
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	rc := &benchReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			NotificationType string `json:"notificationType"`
			TimeStamp        string `json:"timeStamp"`
		}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &n); err != nil {
				b.Errorf("notification: %v", err)
			}
		}
		now := time.Now()
		rc.mu.Lock()
		switch n.NotificationType {
		case "VnfPackageOnboardingNotification":
			rc.onboarded++
			if ts, err := time.Parse(time.RFC3339Nano, n.TimeStamp); err == nil {
				rc.latencies = append(rc.latencies, now.Sub(ts))
			}
		case "VnfPackageChangeNotification":
			rc.changes++
		}
		rc.lastAt = now
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.srv.Close)
	return rc
}

// waitCounts waits until the receiver has at least onboarded onboarding
// and changes change notifications, and returns when the last arrived.
func (rc *benchReceiver) waitCounts(b *testing.B, onboarded, changes int) time.Time {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rc.mu.Lock()
		done, last := rc.onboarded >= onboarded && rc.changes >= changes, rc.lastAt
		have := fmt.Sprintf("%d onboarding, %d change", rc.onboarded, rc.changes)
		rc.mu.Unlock()
		if done {
			return last
		}
		if time.Now().After(deadline) {
			b.Fatalf("received %s notifications, want %d and %d", have, onboarded, changes)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkNotifications100Subscriptions: 100 subscriptions of one fast
// receiver. Each iteration onboards a package (100 onboarding
// notifications: their latency from ONBOARDED to receipt gives p50 and
// p99) and then changes its operational state twice in a row (200 change
// notifications: their delivery rate from the first PATCH to the last
// receipt gives notifications/s).
func BenchmarkNotifications100Subscriptions(b *testing.B) {
	const nsubs = 100
	rc := newBenchReceiver(b)
	dir := b.TempDir()
	s := startBenchServer(b, dir)
	for i := range nsubs {
		body := fmt.Sprintf(`{"callbackUri":"%s/s%d"}`, rc.srv.URL, i)
		s.expect(s.call("POST", subs, strings.NewReader(body), "Content-Type", "application/json"), 201, "subscribe")
	}
	files := make([]string, b.N)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("pkg%d.zip", i))
		writeRandomPackage(b, files[i], 16<<10, byte(i), fmt.Sprintf("b0b00000-0000-4000-8000-%012d", i))
	}
	var burst time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := s.create()
		s.put(id, files[i])
		rc.waitCounts(b, nsubs*(i+1), 2*nsubs*i)
		start := time.Now()
		for _, st := range []string{"DISABLED", "ENABLED"} {
			s.expect(s.call("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"`+st+`"}`), "Content-Type", "application/json"), 200, "patch")
		}
		burst += rc.waitCounts(b, nsubs*(i+1), 2*nsubs*(i+1)).Sub(start)
	}
	b.StopTimer()
	rc.mu.Lock()
	lat := slices.Clone(rc.latencies)
	rc.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(2*nsubs*b.N)/burst.Seconds(), "notifications/s")
}
