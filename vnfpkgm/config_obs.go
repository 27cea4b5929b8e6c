package vnfpkgm

import "flag"

// ObsConfig configures the observability endpoints (metrics.go).
type ObsConfig struct {
	// MetricsPublic serves /metrics without a token when authentication
	// is on, for a scraper on a private network. Off by default: the
	// metrics reveal operations data (routes used, job backlog, errors).
	MetricsPublic bool
}

func (c *ObsConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.MetricsPublic, "metrics-public", c.MetricsPublic, "serve /metrics without a token when authentication is on (default: the read scope is needed)")
}
