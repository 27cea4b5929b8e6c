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
)

// Config is the server's configuration. Every field has a command-line
// flag and a VNFPKGM_* environment variable (the flag name upper-cased,
// '-' as '_'); a flag given on the command line wins over the variable.
type Config struct {
	Listen          string        // host:port
	DataDir         string        // SQLite file and blobs live here unless set apart
	Database        string        // SQLite file path; default DataDir/vnfpkgm.db
	BlobDir         string        // default DataDir/blobs
	LogLevel        string        // debug, info, warn, error
	LogFormat       string        // text or json
	MaxUploadSize   int64         // bytes of one package upload
	FetchTimeout    time.Duration // upload_from_uri: whole transfer
	FetchRedirects  int           // upload_from_uri: redirects followed
	ShutdownTimeout time.Duration
	Workers         int // onboarding jobs processed at once
	Limits          csar.Limits
	ListPageBytes   int64 // a list page ends before its JSON reaches this size (or at 100 packages)
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
		ListPageBytes:   8 << 20,
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
	fs.StringVar(&cfg.Database, "database", cfg.Database, "SQLite database file (default DATA_DIR/vnfpkgm.db)")
	fs.StringVar(&cfg.BlobDir, "blob-dir", cfg.BlobDir, "directory of the package blobs (default DATA_DIR/blobs)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.Int64Var(&cfg.MaxUploadSize, "max-upload-size", cfg.MaxUploadSize, "largest package accepted, in bytes")
	fs.DurationVar(&cfg.FetchTimeout, "fetch-timeout", cfg.FetchTimeout, "upload_from_uri: time allowed for the whole transfer")
	fs.IntVar(&cfg.FetchRedirects, "fetch-redirects", cfg.FetchRedirects, "upload_from_uri: redirects followed at most")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time given to requests in flight at shutdown")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "onboarding jobs processed at once")
	fs.IntVar(&cfg.Limits.MaxEntries, "max-entries", cfg.Limits.MaxEntries, "refuse packages with more archive entries")
	fs.Int64Var(&cfg.Limits.MaxTotalSize, "max-expanded-size", cfg.Limits.MaxTotalSize, "refuse packages expanding to more bytes")
	fs.Int64Var(&cfg.Limits.MaxEntrySize, "max-entry-size", cfg.Limits.MaxEntrySize, "refuse archive entries larger than this")
	fs.Float64Var(&cfg.Limits.MaxRatio, "max-ratio", cfg.Limits.MaxRatio, "refuse entries compressed beyond this ratio")
	fs.Int64Var(&cfg.ListPageBytes, "list-page-bytes", cfg.ListPageBytes, "a list page ends before its JSON reaches this many bytes (it always holds one package)")

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
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("workers must be at least 1, not %d", c.Workers)
	case c.MaxUploadSize < 1:
		return fmt.Errorf("max-upload-size must be positive")
	case c.ListPageBytes < 1:
		return fmt.Errorf("list-page-bytes must be positive")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("log-format must be text or json, not %q", c.LogFormat)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q: %v", c.Listen, err)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("listen address %q needs a numeric port", c.Listen)
	}
	return nil
}
