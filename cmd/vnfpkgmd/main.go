// Command vnfpkgmd is the vnfpkgm server: ETSI NFV-SOL 005 VNF package
// management under /vnfpkgm/v1. Every flag has a VNFPKGM_* environment
// variable (run with -h for the list); it stops gracefully on SIGINT and
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	apiref "github.com/vnfpkgm/vnfpkgm/api-ref"
	"github.com/vnfpkgm/vnfpkgm/internal/version"
	_ "github.com/vnfpkgm/vnfpkgm/vim/kubevim"   // the "kubevim" VIM type
	_ "github.com/vnfpkgm/vnfpkgm/vim/local"     // the "local" VIM type
	_ "github.com/vnfpkgm/vnfpkgm/vim/openstack" // the "openstack" VIM type
	_ "github.com/vnfpkgm/vnfpkgm/vim/plankton"  // the "plankton" VIM type
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm"

	_ "github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor" // the "cloudhypervisor" VIM type (seed 002)
	_ "github.com/vnfpkgm/vnfpkgm/vim/flintlock"       // the "flintlock" VIM type (seed 004)
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// versionUsage completes the flag list ParseConfig prints for -h: --version
// is handled here, before the configuration is read.
const versionUsage = "  -version\n    \tprint the version and the commit of this build, and exit\n"

func run(args []string) int {
	if isClientCommand(args) {
		return runClient(args[1:], os.Getenv, os.Stdout, os.Stderr) // client.go
	}
	if wantsVersion(args) {
		fmt.Fprint(os.Stdout, version.Read().String("vnfpkgmd"))
		return 0
	}
	cfg, err := vnfpkgm.ParseConfig(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		// The flag package has printed the usage: asking for it is no error.
		io.WriteString(os.Stderr, versionUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vnfpkgmd:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "vnfpkgmd: log-level:", err)
		return 2
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	log := slog.New(h)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := vnfpkgm.NewServer(ctx, cfg, log)
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	defer srv.Close()
	srv.SetAPIDocument(apiref.MediaType, apiref.OpenAPI)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		log.Error("listen failed", "address", cfg.Listen, "error", err)
		return 1
	}
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// wantsVersion reports whether --version (or -version) is among the
// options. Every other option of vnfpkgmd takes a value, so an argument
// after "--flag" without "=" is that flag's value, not an option.
func wantsVersion(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return false
		case a == "-version" || a == "--version":
			return true
		case strings.HasPrefix(a, "-") && !strings.Contains(a, "="):
			i++ // its value
		}
	}
	return false
}
