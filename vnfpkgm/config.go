package vnfpkgm

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/storage"
)

// Config is the server's configuration. Every field has a command-line
// flag and a VNFPKGM_* environment variable (the flag name upper-cased,
// '-' as '_'); a flag given on the command line wins over the variable.
type Config struct {
	Listen         string        // host:port
	DataDir        string        // SQLite file and blobs live here unless set apart
	Database       string        // SQLite file path or postgres:// URL; default DataDir/vnfpkgm.db
	BlobDir        string        // default DataDir/blobs
	LogLevel       string        // debug, info, warn, error
	LogFormat      string        // text or json
	MaxUploadSize  int64         // bytes of one package upload
	FetchTimeout   time.Duration // upload_from_uri: whole transfer
	FetchRedirects int           // upload_from_uri: redirects followed
	// upload_from_uri fetches run on their own workers, so that origins
	// that answer slowly or never cannot hold up onboarding.
	FetchWorkers        int
	FetchConnectTimeout time.Duration // TCP connect to the origin
	FetchHeaderTimeout  time.Duration // TLS handshake, then the response headers
	FetchIdleTimeout    time.Duration // between two reads of the response body
	// EgressAllow and EgressDeny are comma-separated CIDRs or set names
	// (loopback, private, link-local, metadata) the server may or may
	// not connect to when it fetches (internal/egress).
	EgressAllow, EgressDeny string
	// UploadIdleTimeout cuts a package upload whose body sends nothing
	// for this long (a stalled client holds a connection, a temp file
	// and the package).
	UploadIdleTimeout time.Duration
	// UploadLease is how long an upload in progress holds its package
	// without renewal: a package UPLOADING whose lease expired lost its
	// writer (a process killed) and returns to CREATED.
	UploadLease time.Duration
	// SweepInterval is how often every replica repairs what crashes of
	// others leave: temp files of dead writers, content of deleted
	// packages. (Uploads whose lease expired are taken over by the
	// workers, which poll every second.)
	SweepInterval   time.Duration
	ShutdownTimeout time.Duration
	Workers         int // onboarding jobs processed at once
	Limits          csar.Limits
	PublicURL       string // base of Location and _links; default http://LISTEN (edge.go)
	MaxUserDataSize int64  // bytes of one package's userDefinedData as JSON
	MaxRanges       int    // ranges served in one request; more get the whole content
	DBPool          storage.Pool
	ListPageBytes   int64 // a list page ends before its JSON reaches this size (or at 100 packages)

	// Notify configures subscriptions and notifications (config_subscriptions.go).
	Notify        NotifyConfig
	Sign          SignConfig
	Auth          AuthConfig // config_auth.go
	StorageConfig            // blob store choice (config_storage.go)
	Obs           ObsConfig  // config_obs.go
	ReplicaConfig            // host id of this replica (config_replicas.go)
}

// DefaultConfig is what `make run` starts with.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:9890",
		DataDir:         "./data",
		LogLevel:        "info",
		LogFormat:       "text",
		MaxUploadSize:   64 << 30,
		FetchTimeout:    30 * time.Minute,
		FetchRedirects:  5,
		ShutdownTimeout: 30 * time.Second,
		Workers:         2,
		Limits:          csar.DefaultLimits,
		MaxUserDataSize: 64 << 10,
		MaxRanges:       200,

		FetchWorkers:        2,
		FetchConnectTimeout: 30 * time.Second,
		FetchHeaderTimeout:  time.Minute,
		FetchIdleTimeout:    2 * time.Minute,
		UploadIdleTimeout:   2 * time.Minute,
		UploadLease:         30 * time.Second,
		SweepInterval:       30 * time.Second,
		DBPool:              storage.DefaultPool,
		ListPageBytes:       8 << 20,
		Notify:              defaultNotifyConfig(),
		Sign:                defaultSignConfig(),
		Auth:                defaultAuthConfig(),
		StorageConfig:       defaultStorageConfig(),
		ReplicaConfig:       defaultReplicaConfig(),
	}
}

// ParseConfig reads flags (args, without the program name) over the
// VNFPKGM_* environment (getenv) over the defaults.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("vnfpkgmd", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve on (host:port)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the database and the package blobs")
	fs.StringVar(&cfg.Database, "database", cfg.Database, "SQLite database file (default DATA_DIR/vnfpkgm.db), or postgres://user:password@host:port/database for PostgreSQL")
	cfg.StorageConfig.registerFlags(fs)
	cfg.ReplicaConfig.registerReplicaFlags(fs)
	fs.StringVar(&cfg.BlobDir, "blob-dir", cfg.BlobDir, "directory of the package blobs (default DATA_DIR/blobs)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.Int64Var(&cfg.MaxUploadSize, "max-upload-size", cfg.MaxUploadSize, "largest package accepted, in bytes")
	fs.DurationVar(&cfg.FetchTimeout, "fetch-timeout", cfg.FetchTimeout, "upload_from_uri: time allowed for the whole transfer")
	fs.IntVar(&cfg.FetchRedirects, "fetch-redirects", cfg.FetchRedirects, "upload_from_uri: redirects followed at most")
	fs.IntVar(&cfg.FetchWorkers, "fetch-workers", cfg.FetchWorkers, "upload_from_uri: fetches run at once (apart from onboarding)")
	fs.DurationVar(&cfg.FetchConnectTimeout, "fetch-connect-timeout", cfg.FetchConnectTimeout, "upload_from_uri: time allowed to connect to the origin")
	fs.DurationVar(&cfg.FetchHeaderTimeout, "fetch-header-timeout", cfg.FetchHeaderTimeout, "upload_from_uri: time allowed for the TLS handshake and then for the response headers")
	fs.DurationVar(&cfg.FetchIdleTimeout, "fetch-idle-timeout", cfg.FetchIdleTimeout, "upload_from_uri: longest pause of the origin while it sends the package")
	fs.StringVar(&cfg.EgressAllow, "egress-allow", cfg.EgressAllow, "addresses the server may fetch from although denied by default: CIDRs or loopback, private, link-local, metadata, comma-separated")
	fs.StringVar(&cfg.EgressDeny, "egress-deny", cfg.EgressDeny, "addresses the server never fetches from (wins over --egress-allow): CIDRs or loopback, private, link-local, metadata, comma-separated")
	fs.DurationVar(&cfg.UploadIdleTimeout, "upload-idle-timeout", cfg.UploadIdleTimeout, "cut an upload whose client sends nothing for this long")
	fs.DurationVar(&cfg.UploadLease, "upload-lease", cfg.UploadLease, "an upload renews its hold on the package this often; a package UPLOADING without renewal returns to CREATED")
	fs.DurationVar(&cfg.SweepInterval, "sweep-interval", cfg.SweepInterval, "how often temp files of dead writers and the content of deleted packages are cleaned up")
	fs.IntVar(&cfg.DBPool.MaxOpen, "db-max-open-conns", cfg.DBPool.MaxOpen, "database connections at most (SQLite WAL has one writer at a time whatever this is)")
	fs.IntVar(&cfg.DBPool.MaxIdle, "db-max-idle-conns", cfg.DBPool.MaxIdle, "database connections kept open while idle")
	fs.DurationVar(&cfg.DBPool.MaxIdleTime, "db-conn-max-idle-time", cfg.DBPool.MaxIdleTime, "an idle database connection is closed after this")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time given to requests in flight at shutdown")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "onboarding jobs processed at once")
	fs.IntVar(&cfg.Limits.MaxEntries, "max-entries", cfg.Limits.MaxEntries, "refuse packages with more archive entries")
	fs.Int64Var(&cfg.Limits.MaxTotalSize, "max-expanded-size", cfg.Limits.MaxTotalSize, "refuse packages expanding to more bytes")
	fs.Int64Var(&cfg.Limits.MaxEntrySize, "max-entry-size", cfg.Limits.MaxEntrySize, "refuse archive entries larger than this")
	fs.Float64Var(&cfg.Limits.MaxRatio, "max-ratio", cfg.Limits.MaxRatio, "refuse entries compressed beyond this ratio")
	fs.Float64Var(&cfg.Limits.MaxArchiveRatio, "max-archive-ratio", cfg.Limits.MaxArchiveRatio, "refuse zip packages whose members expand in all beyond this ratio of the package size")
	fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "base URL clients reach the server at, for Location and _links (default http://LISTEN)")
	fs.Int64Var(&cfg.MaxUserDataSize, "max-user-data-size", cfg.MaxUserDataSize, "largest userDefinedData of a package, in bytes of JSON")
	fs.IntVar(&cfg.MaxRanges, "max-ranges", cfg.MaxRanges, "ranges served in one request (after merging); more get the whole content")
	fs.Int64Var(&cfg.ListPageBytes, "list-page-bytes", cfg.ListPageBytes, "a list page ends before its JSON reaches this many bytes (it always holds one package)")
	registerSignFlags(fs, &cfg.Sign)

	registerNotifyFlags(fs, &cfg.Notify)
	cfg.Auth.register(fs)
	cfg.Obs.register(fs)

	// The environment first, so that flags parsed afterwards override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "VNFPKGM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Database == "" {
		cfg.Database = filepath.Join(cfg.DataDir, "vnfpkgm.db")
	}
	if cfg.BlobDir == "" {
		cfg.BlobDir = filepath.Join(cfg.DataDir, "blobs")
	}
	if err := cfg.Notify.validate(); err != nil {
		return cfg, err
	}
	if err := cfg.Sign.load(); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("workers must be at least 1, not %d", c.Workers)
	case c.MaxUploadSize < 1:
		return fmt.Errorf("max-upload-size must be positive")
	case c.FetchWorkers < 1:
		return fmt.Errorf("fetch-workers must be at least 1, not %d", c.FetchWorkers)
	case c.DBPool.MaxOpen < 1:
		return fmt.Errorf("db-max-open-conns must be at least 1, not %d", c.DBPool.MaxOpen)
	case c.DBPool.MaxIdle < 0 || c.DBPool.MaxIdle > c.DBPool.MaxOpen:
		return fmt.Errorf("db-max-idle-conns must be between 0 and db-max-open-conns (%d), not %d", c.DBPool.MaxOpen, c.DBPool.MaxIdle)
	case c.ListPageBytes < 1:
		return fmt.Errorf("list-page-bytes must be positive")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("log-format must be text or json, not %q", c.LogFormat)
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := c.StorageConfig.validate(); err != nil {
		return err
	}
	if err := c.ReplicaConfig.validateReplica(); err != nil {
		return err
	}
	if err := c.validateEdge(); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"fetch-timeout", c.FetchTimeout}, {"fetch-connect-timeout", c.FetchConnectTimeout},
		{"fetch-header-timeout", c.FetchHeaderTimeout}, {"fetch-idle-timeout", c.FetchIdleTimeout},
		{"upload-idle-timeout", c.UploadIdleTimeout}, {"upload-lease", c.UploadLease},
		{"sweep-interval", c.SweepInterval}, {"db-conn-max-idle-time", c.DBPool.MaxIdleTime},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive, not %s", d.name, d.v)
		}
	}
	if _, err := c.egressPolicy(); err != nil {
		return err
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q: %v", c.Listen, err)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("listen address %q needs a numeric port", c.Listen)
	}
	return nil
}

// egressPolicy is the policy of every connection the server opens to an
// address a client gave (upload_from_uri).
func (c Config) egressPolicy() (*egress.Policy, error) {
	allow, err := egress.ParseList(c.EgressAllow)
	if err != nil {
		return nil, fmt.Errorf("egress-allow: %w", err)
	}
	deny, err := egress.ParseList(c.EgressDeny)
	if err != nil {
		return nil, fmt.Errorf("egress-deny: %w", err)
	}
	return egress.New(allow, deny), nil
}
