// Command vnfpkgmd is the vnfpkgm server: ETSI NFV-SOL 005 VNF package
// management under /vnfpkgm/v1. Every flag has a VNFPKGM_* environment
// variable (run with -h for the list); it stops gracefully on SIGINT and
// SIGTERM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	apiref "github.com/vnfpkgm/vnfpkgm/api-ref"
	_ "github.com/vnfpkgm/vnfpkgm/vim/local"     // the "local" VIM type
	_ "github.com/vnfpkgm/vnfpkgm/vim/openstack" // the "openstack" VIM type
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg, err := vnfpkgm.ParseConfig(args, os.Getenv)
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
