package vnfpkgm

// This file is /metrics: a Prometheus registry of the server's own (not
// the process-global default, so that several servers run in one test
// process), fed where things happen: HTTP requests (echoprometheus, plus
// the bytes actually streamed), onboarding ends, job claims and failures,
// notification outcomes, blob store errors (metricsblob.go), and, read at
// scrape time, the jobs of the whole cluster and the database pool.
// The names are agreed with the replicated end-to-end test: do not
// rename them.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/auth"
)

const metricsNamespace = "vnfpkgm"

// Label values known in advance: their series exist (at 0) from the
// start, so that a scraper computes rates from the first sample.
var (
	jobKinds             = []string{storage.JobOnboard, JobUpload, JobFetch}
	onboardingOutcomes   = []string{"onboarded", "error"}
	notificationResults  = []string{"delivered", "failed", "dropped"}
	blobOperations       = []string{"create", "write", "commit", "open", "read", "stat", "delete", "list"}
	activeJobStates      = []storage.JobState{storage.JobQueued, storage.JobRunning}
	jobsGaugeScrapeLimit = 5 * time.Second
)

// serverMetrics are the server's collectors.
type serverMetrics struct {
	registry           *prometheus.Registry
	httpMiddleware     echo.MiddlewareFunc
	receivedBytes      *prometheus.CounterVec
	sentBytes          *prometheus.CounterVec
	onboardingDuration *prometheus.HistogramVec
	onboardings        *prometheus.CounterVec
	jobsClaimed        *prometheus.CounterVec
	jobsFailed         *prometheus.CounterVec
	notifications      *prometheus.CounterVec
	blobErrors         *prometheus.CounterVec
}

// newServerMetrics builds the collectors. knownHosts are the Host values
// the host label keeps (the server's own names); any other is "other".
func newServerMetrics(db *storage.DB, knownHosts []string) (*serverMetrics, error) {
	pool, err := db.Gorm().DB()
	if err != nil {
		return nil, fmt.Errorf("metrics: the database pool: %w", err)
	}
	reg := prometheus.NewRegistry()
	counter := func(name, help string, label string, values []string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help}, []string{label})
		for _, lv := range values {
			v.WithLabelValues(lv)
		}
		reg.MustRegister(v)
		return v
	}
	m := &serverMetrics{
		registry:      reg,
		receivedBytes: counter("http_received_bytes_total", "Request body bytes read by the handlers, by route.", "url", nil),
		sentBytes:     counter("http_sent_bytes_total", "Response bytes written, by route.", "url", nil),
		onboardings:   counter("onboardings_total", "Onboardings ended, by outcome (onboarded or error: an invalid package).", "outcome", onboardingOutcomes),
		jobsClaimed:   counter("jobs_claimed_total", "Jobs claimed by this replica, by kind.", "kind", jobKinds),
		jobsFailed:    counter("jobs_failed_total", "Jobs of this replica that failed, by kind.", "kind", jobKinds),
		notifications: counter("notifications_total", "Notification delivery outcomes: delivered, failed (one attempt), dropped (given up).", "result", notificationResults),
		blobErrors:    counter("blob_errors_total", "Blob store operations that failed (a missing object is not a failure), by operation.", "op", blobOperations),
		onboardingDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "onboarding_duration_seconds",
			Help:    "Time from the claim of an onboarding job to the package's final state, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50 ms .. ~7 min
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.onboardingDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(pool, metricsNamespace),
		&jobsCollector{db: db, desc: prometheus.NewDesc(metricsNamespace+"_jobs",
			"Jobs queued or running in the whole cluster (read from the database at scrape time), by kind and state.",
			[]string{"kind", "state"}, nil)},
	)
	mw, err := echoprometheus.MiddlewareConfig{
		Namespace: metricsNamespace, Subsystem: "http", Registerer: reg,
		// Series must stay bounded whatever clients send: an unmatched
		// path is not a label value (url is "" then), nor is a Host
		// header the server does not answer to.
		DoNotUseRequestPathFor404: true,
		LabelFuncs:                map[string]echoprometheus.LabelValueFunc{"host": boundedHostLabel(knownHosts)},
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	m.httpMiddleware = mw
	return m, nil
}

// boundedHostLabel keeps the Host of requests addressed to one of the
// server's names and says "other" for the rest.
func boundedHostLabel(known []string) echoprometheus.LabelValueFunc {
	return func(c echo.Context, _ error) string {
		if host := c.Request().Host; slices.Contains(known, host) {
			return host
		}
		return "other"
	}
}

// jobsCollector reads the active jobs from the database at each scrape,
// so that every replica reports the cluster's backlog, not its own.
type jobsCollector struct {
	db   *storage.DB
	desc *prometheus.Desc
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), jobsGaugeScrapeLimit)
	defer cancel()
	counts, err := c.db.CountActiveJobs(ctx)
	if err != nil {
		// The scrape shows the error; the other metrics are still served.
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	byKey := map[[2]string]int64{}
	for _, k := range jobKinds {
		for _, st := range activeJobStates {
			byKey[[2]string{k, string(st)}] = 0
		}
	}
	for _, jc := range counts {
		byKey[[2]string{jc.Kind, string(jc.State)}] += jc.Count
	}
	for key, n := range byKey {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), key[0], key[1])
	}
}

// countBytes counts the request body bytes the handler reads and the
// response bytes written, by route pattern (c.Path(), never the raw path:
// package ids would make a series per package). Counted as they stream,
// so a multi-GiB upload counts exactly whatever its end.
func (m *serverMetrics) countBytes(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		var body *countingReader
		if req.Body != nil && req.Body != http.NoBody {
			body = &countingReader{r: req.Body}
			req.Body = body
		}
		err := next(c)
		route := c.Path()
		if body != nil {
			m.receivedBytes.WithLabelValues(route).Add(float64(body.n.Load()))
		}
		m.sentBytes.WithLabelValues(route).Add(float64(c.Response().Size))
		return err
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReadCloser
	n atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}

func (cr *countingReader) Close() error { return cr.r.Close() }

// onboardingEnded records an onboarding that reached its final state.
func (m *serverMetrics) onboardingEnded(outcome string, started time.Time) {
	m.onboardings.WithLabelValues(outcome).Inc()
	m.onboardingDuration.WithLabelValues(outcome).Observe(time.Since(started).Seconds())
}

// handler serves the registry in the Prometheus text (or negotiated)
// format. A collector that fails (the database away) does not hide the
// others.
func (m *serverMetrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
}

// setupMetrics builds the collectors, wraps the blob store, and with
// --metrics-public lets /metrics through the authentication policy.
func (s *Server) setupMetrics() error {
	known := []string{s.cfg.Listen}
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Host != "" {
		known = append(known, u.Host)
	}
	m, err := newServerMetrics(s.db, known)
	if err != nil {
		return err
	}
	s.metrics = m
	s.blobs = instrumentBlobs(s.blobs, m.blobErrors)
	if s.cfg.Obs.MetricsPublic && s.auth.guard != nil {
		s.auth.guard.Policy.Rules = append([]auth.Rule{{Prefix: "/metrics", Public: true}}, s.auth.guard.Policy.Rules...)
	}
	return nil
}
