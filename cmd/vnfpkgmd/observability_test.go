package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

// scrape parses the server's /metrics.
func (s *server) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r := s.do("GET", "/metrics", nil)
	if r.status != 200 {
		t.Fatalf("/metrics: %d %s", r.status, r.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(r.body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// metricValue is the counter, gauge or histogram count of the series of
// family name whose labels include want; 0 when there is none.
func metricValue(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.Metric {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.Label {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMetricsCountExactly onboards a valid and an invalid package with a
// subscription and checks that every counter moved by exactly what
// happened.
func TestMetricsCountExactly(t *testing.T) {
	rc := newReceiver(t)
	s := startServer(t, "")
	before := s.scrape(t)
	for _, name := range []string{"vnfpkgm_jobs", "go_sql_open_connections", "process_resident_memory_bytes", "go_goroutines"} {
		if before[name] == nil {
			t.Fatalf("/metrics has no %s", name)
		}
	}
	s.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`"}`)

	valid := testPkg{vnfdID: newVnfdID(7001)}.build(t).zip
	if _, info := s.onboardBytes(t, valid, `{}`); info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("valid package: %v", info["onboardingState"])
	}
	invalidFile := corpusFile(t, "bad-algorithm.zip")
	invalid, err := os.ReadFile(invalidFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, info := s.onboard(t, invalidFile); info["onboardingState"] != "ERROR" {
		t.Fatalf("invalid package: %v", info["onboardingState"])
	}
	rc.await(1, 20*time.Second) // the onboarding notification

	// Delivered is counted once the receiver has answered: wait for the
	// count to reach what the receiver got.
	var after map[string]*dto.MetricFamily
	deadline := time.Now().Add(20 * time.Second)
	for {
		after = s.scrape(t)
		delivered := metricValue(after, "vnfpkgm_notifications_total", map[string]string{"result": "delivered"}) -
			metricValue(before, "vnfpkgm_notifications_total", map[string]string{"result": "delivered"})
		if int(delivered) == len(rc.notifications()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications delivered: %v counted, %d received", delivered, len(rc.notifications()))
		}
		time.Sleep(50 * time.Millisecond)
	}

	content := "/vnfpkgm/v1/vnf_packages/:id/package_content"
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"vnfpkgm_onboardings_total", map[string]string{"outcome": "onboarded"}, 1},
		{"vnfpkgm_onboardings_total", map[string]string{"outcome": "error"}, 1},
		{"vnfpkgm_onboarding_duration_seconds", map[string]string{"outcome": "onboarded"}, 1},
		{"vnfpkgm_onboarding_duration_seconds", map[string]string{"outcome": "error"}, 1},
		{"vnfpkgm_jobs_claimed_total", map[string]string{"kind": "onboard"}, 2},
		// An invalid package is the job's result, not its failure.
		{"vnfpkgm_jobs_failed_total", map[string]string{"kind": "onboard"}, 0},
		{"vnfpkgm_jobs", map[string]string{"kind": "onboard"}, 0},
		{"vnfpkgm_http_requests_total", map[string]string{"url": content, "method": "PUT", "code": "202"}, 2},
		{"vnfpkgm_http_requests_total", map[string]string{"url": "/vnfpkgm/v1/vnf_packages", "method": "POST", "code": "201"}, 2},
		{"vnfpkgm_http_request_duration_seconds", map[string]string{"url": content, "method": "PUT"}, 2},
		{"vnfpkgm_http_received_bytes_total", map[string]string{"url": content}, float64(len(valid) + len(invalid))},
		{"vnfpkgm_notifications_total", map[string]string{"result": "failed"}, 0},
		{"vnfpkgm_notifications_total", map[string]string{"result": "dropped"}, 0},
		{"vnfpkgm_blob_errors_total", nil, 0},
	} {
		if got := metricValue(after, c.name, c.labels) - metricValue(before, c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if metricValue(after, "vnfpkgm_notifications_total", map[string]string{"result": "delivered"}) < 1 {
		t.Errorf("no notification counted as delivered")
	}
	// The bytes sent: what the client received for a known route.
	r := s.do("GET", "/vnfpkgm/v1/api_versions", nil)
	sent := metricValue(s.scrape(t), "vnfpkgm_http_sent_bytes_total", map[string]string{"url": "/vnfpkgm/v1/api_versions"})
	if sent != float64(len(r.body)) {
		t.Errorf("sent bytes of /vnfpkgm/v1/api_versions: %v, want %d", sent, len(r.body))
	}
}

// TestReadyzFollowsTheBlobStore: /readyz is 200, then 503 naming the
// blob store once its directory is replaced by a symbolic link to itself
// (every Stat then fails with ELOOP, even as root: a missing directory
// would only mean a missing object), while /healthz, liveness, stays 200.
func TestReadyzFollowsTheBlobStore(t *testing.T) {
	s := startServer(t, "")
	expectStatus(t, s.do("GET", "/readyz", nil), 200)
	blobs := filepath.Join(s.dir, "blobs")
	if err := os.Rename(blobs, blobs+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("blobs", blobs); err != nil {
		t.Fatal(err)
	}
	r := s.do("GET", "/readyz", nil)
	expectStatus(t, r, 503)
	if !strings.Contains(string(r.body), "blob store") {
		t.Fatalf("/readyz does not name the blob store: %s", r.body)
	}
	expectStatus(t, s.do("GET", "/healthz", nil), 200)
	os.Remove(blobs)
	if err := os.Rename(blobs+".away", blobs); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.do("GET", "/readyz", nil), 200)
}

// TestJobLogsCarryTheRequestID: the onboarding job of an upload logs,
// on every line, the X-Request-Id the client sent with the upload, and
// the log's lines of another request do not carry it.
func TestJobLogsCarryTheRequestID(t *testing.T) {
	s := startServer(t, "", "--log-format", "json")
	const requestID = "obs-test-upload-4242"
	id := s.createPackage(t)
	data := testPkg{vnfdID: newVnfdID(7002)}.build(t).zip
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", bytes.NewReader(data),
		"Content-Type", "application/zip", "X-Request-Id", requestID), 202)
	s.mustOnboard(t, id)

	jobLines, done := 0, false
	for _, line := range strings.Split(stoppedLog(s), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["package"] != id || rec["job"] == nil {
			continue
		}
		jobLines++
		if rec["request_id"] != requestID {
			t.Errorf("job log line without the upload's request id: %s", line)
		}
		if rec["msg"] == "job done" && rec["kind"] == "onboard" {
			done = true
		}
	}
	if jobLines == 0 || !done {
		t.Fatalf("no onboarding job line in the log (%d job lines)", jobLines)
	}
}

// TestReadyzFollowsTheDatabase: on PostgreSQL, /readyz is 200, then 503
// naming the database once the cluster is stopped.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	if os.Getenv(testenv.PostgresEnv) != "" {
		t.Skip("stops its PostgreSQL cluster: needs one of its own, not " + testenv.PostgresEnv)
	}
	pg := testenv.Postgres(t)
	dsn, _, err := pg.NewDatabase(context.Background()) // gone with the cluster
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--database", dsn)
	expectStatus(t, s.do("GET", "/readyz", nil), 200)
	pg.Stop()
	r := s.do("GET", "/readyz", nil)
	expectStatus(t, r, 503)
	if !strings.Contains(string(r.body), "database") {
		t.Fatalf("/readyz does not name the database: %s", r.body)
	}
}

// TestMetricsNeedATokenUnlessPublic: with authentication on, /metrics
// answers 401 without a token, and 200 with --metrics-public; /readyz is
// public either way.
func TestMetricsNeedATokenUnlessPublic(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	_, hash, err := authserver.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	if err := authserver.AddClient(clients, authserver.Client{ID: "scraper", SecretHash: hash, Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	anonymous := &http.Client{} // never the suite's token transport
	status := func(s *server, path string) int {
		t.Helper()
		resp, err := anonymous.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	closed := startServer(t, "", "--clients-file", clients)
	if got := status(closed, "/metrics"); got != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", got)
	}
	if got := status(closed, "/readyz"); got != http.StatusOK {
		t.Errorf("/readyz without a token: %d, want 200", got)
	}
	open := startServer(t, "", "--clients-file", clients, "--metrics-public")
	if got := status(open, "/metrics"); got != http.StatusOK {
		t.Errorf("/metrics without a token, --metrics-public: %d, want 200", got)
	}
	if got := status(open, pkgs); got != http.StatusUnauthorized {
		t.Errorf("the API without a token, --metrics-public: %d, want 401", got)
	}
}

// TestMetricsSeriesStayBounded: requests to paths no route matches, with
// Host headers the server does not answer to, add no series per path or
// per host (a scanner would otherwise grow the registry without end).
func TestMetricsSeriesStayBounded(t *testing.T) {
	s := startServer(t, "")
	for i := 0; i < 5; i++ {
		req, err := http.NewRequest("GET", s.base+fmt.Sprintf("/no-such-path-%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = fmt.Sprintf("scanner-%d.example", i) // Go sends req.Host, not a Host header field
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unmatched path: %d", resp.StatusCode)
		}
	}
	for _, m := range s.scrape(t)["vnfpkgm_http_requests_total"].GetMetric() {
		for _, l := range m.Label {
			if strings.Contains(l.GetValue(), "no-such-path") || strings.Contains(l.GetValue(), "scanner-") {
				t.Fatalf("a series per unmatched path or unknown host: %v", m.Label)
			}
		}
	}
}
