package vnfpkgm

import (
	"net/netip"
	"testing"
	"time"
)

func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{
		"VNFPKGM_LISTEN":      "127.0.0.1:7000",
		"VNFPKGM_DATA_DIR":    "/var/lib/vnfpkgm",
		"VNFPKGM_MAX_ENTRIES": "50",
		"VNFPKGM_WORKERS":     "3",
	}
	cfg, err := ParseConfig([]string{"--workers", "4", "--fetch-timeout", "1m"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:7000" || cfg.Limits.MaxEntries != 50 {
		t.Fatalf("environment not applied: %+v", cfg)
	}
	if cfg.Workers != 4 || cfg.FetchTimeout != time.Minute {
		t.Fatalf("flags must win over the environment: %+v", cfg)
	}
	if cfg.Database != "/var/lib/vnfpkgm/vnfpkgm.db" || cfg.BlobDir != "/var/lib/vnfpkgm/blobs" {
		t.Fatalf("paths derive from the data dir: %q %q", cfg.Database, cfg.BlobDir)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9890" || cfg.Database != "data/vnfpkgm.db" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--workers", "0"}, nil},
		{[]string{"--listen", "nowhere"}, nil},
		{[]string{"--log-format", "xml"}, nil},
		{[]string{"stray"}, nil},
		{nil, map[string]string{"VNFPKGM_WORKERS": "many"}},
		{[]string{"--fetch-workers", "0"}, nil},
		{[]string{"--db-max-open-conns", "0"}, nil},
		{[]string{"--db-max-open-conns", "2", "--db-max-idle-conns", "3"}, nil},
		{[]string{"--upload-idle-timeout", "0s"}, nil},
		{[]string{"--upload-lease", "-1s"}, nil},
		{[]string{"--egress-deny", "intranet"}, nil},
		{[]string{"--egress-allow", "10.0.0.0/40"}, nil},
	} {
		if _, err := ParseConfig(c.args, func(k string) string { return c.env[k] }); err == nil {
			t.Errorf("args %v env %v: want an error", c.args, c.env)
		}
	}
}

func TestConfigHardeningFlags(t *testing.T) {
	env := map[string]string{"VNFPKGM_EGRESS_DENY": "loopback,private", "VNFPKGM_FETCH_WORKERS": "3"}
	cfg, err := ParseConfig([]string{"--db-max-open-conns", "4", "--upload-idle-timeout", "5s", "--fetch-idle-timeout", "1m"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBPool.MaxOpen != 4 || cfg.UploadIdleTimeout != 5*time.Second || cfg.FetchIdleTimeout != time.Minute || cfg.FetchWorkers != 3 {
		t.Fatalf("flags and environment: %+v", cfg)
	}
	p, err := cfg.egressPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if p.Check(netip.MustParseAddrPort("127.0.0.1:80")) == nil || p.Check(netip.MustParseAddrPort("10.1.1.1:80")) == nil {
		t.Fatalf("VNFPKGM_EGRESS_DENY=loopback,private not applied")
	}
}
