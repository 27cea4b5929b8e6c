package main_test

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// replicaCounts is what the replicas test knows happened, to compare with
// the sum of the replicas' counters.
type replicaCounts struct {
	onboarded, failed int   // packages ONBOARDED and ERROR
	uploadedBytes     int64 // package bytes sent through PUT package_content
}

// checkReplicaMetrics scrapes /metrics of every replica (Prometheus text
// format, parsed with expfmt) and checks the agreed names: the cluster's
// totals over the replicas match what the test did.
func checkReplicaMetrics(t *testing.T, replicas []*server, want replicaCounts) {
	t.Helper()
	sum := map[string]float64{}
	for _, r := range replicas {
		resp := r.do("GET", "/metrics", nil)
		if resp.status != 200 {
			t.Fatalf("%s/metrics: %d", r.base, resp.status)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(string(resp.body)))
		if err != nil {
			t.Fatalf("%s/metrics is not the Prometheus text format: %v", r.base, err)
		}
		for _, name := range []string{
			"vnfpkgm_http_requests_total", "vnfpkgm_http_request_duration_seconds",
			"vnfpkgm_http_received_bytes_total", "vnfpkgm_http_sent_bytes_total",
			"vnfpkgm_onboarding_duration_seconds", "vnfpkgm_onboardings_total",
			"vnfpkgm_jobs", "vnfpkgm_jobs_claimed_total", "vnfpkgm_notifications_total",
			"go_sql_open_connections",
		} {
			if families[name] == nil {
				t.Errorf("%s/metrics lacks %s", r.base, name)
			}
		}
		for _, m := range metricsOf(families["vnfpkgm_http_requests_total"]) {
			// The route pattern, never the raw path with a package id.
			if url := label(m, "url"); strings.Count(url, "-") >= 4 {
				t.Errorf("%s: requests counted by raw path %q", r.base, url)
			}
		}
		add := func(key, family string, match func(*dto.Metric) bool) {
			for _, m := range metricsOf(families[family]) {
				if match(m) {
					sum[key] += value(m)
				}
			}
		}
		add("received", "vnfpkgm_http_received_bytes_total", func(m *dto.Metric) bool {
			return strings.HasSuffix(label(m, "url"), "/package_content")
		})
		add("onboarded", "vnfpkgm_onboardings_total", func(m *dto.Metric) bool { return label(m, "outcome") == "onboarded" })
		add("error", "vnfpkgm_onboardings_total", func(m *dto.Metric) bool { return label(m, "outcome") == "error" })
		add("claimed", "vnfpkgm_jobs_claimed_total", func(m *dto.Metric) bool { return label(m, "kind") == "onboard" })
		add("delivered", "vnfpkgm_notifications_total", func(m *dto.Metric) bool { return label(m, "result") == "delivered" })
		add("queued or running", "vnfpkgm_jobs", func(m *dto.Metric) bool { return label(m, "kind") == "onboard" })
		add("db connections", "go_sql_open_connections", func(m *dto.Metric) bool { return label(m, "db_name") == "vnfpkgm" })
	}
	switch {
	case sum["received"] < float64(want.uploadedBytes):
		t.Errorf("package_content bytes received by the replicas: %v, want at least the %d uploaded", sum["received"], want.uploadedBytes)
	case sum["onboarded"] != float64(want.onboarded) || sum["error"] != float64(want.failed):
		t.Errorf("onboardings counted: %v onboarded, %v error; want %d and %d", sum["onboarded"], sum["error"], want.onboarded, want.failed)
	case sum["claimed"] < float64(want.onboarded+want.failed):
		t.Errorf("onboarding jobs claimed: %v, want at least %d", sum["claimed"], want.onboarded+want.failed)
	case sum["delivered"] != float64(want.onboarded):
		t.Errorf("notifications delivered: %v, want %d", sum["delivered"], want.onboarded)
	case sum["queued or running"] != 0:
		t.Errorf("onboarding jobs queued or running after every package settled: %v", sum["queued or running"])
	case sum["db connections"] < 1:
		t.Errorf("no open database connection counted")
	}
}

func metricsOf(f *dto.MetricFamily) []*dto.Metric {
	if f == nil {
		return nil
	}
	return f.GetMetric()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}
