package main

// The vim and compute commands against the real server and its local
// (QEMU) VIM.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/kubevim"
	"github.com/vnfpkgm/vnfpkgm/vim/local"
	"github.com/vnfpkgm/vnfpkgm/vim/openstack"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton"
)

// sampleVNF returns the sample package and the kernel its image boots
// with, skipping (failing under CI) when they or QEMU are missing.
func sampleVNF(t *testing.T) (zip, kernel string) {
	t.Helper()
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	testenv.Command(t, "qemu-img", "qemu-utils")
	dir := filepath.Join(testenv.RepoRoot(), "samples", "build")
	zip, kernel = filepath.Join(dir, "sample-vnf.zip"), filepath.Join(dir, "vmlinuz")
	for _, p := range []string{zip, kernel} {
		if _, err := os.Stat(p); err != nil {
			testenv.Missing(t, p, "run make samples")
		}
	}
	return zip, kernel
}

// qemuPIDs lists the QEMU processes whose command line names dir.
func qemuPIDs(dir string) []int {
	var pids []int
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("qemu-system")) && bytes.Contains(b, []byte(dir)) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// decodeRecord decodes a -f json record.
func decodeRecord(t *testing.T, r cliResult) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("not a JSON record: %v\n%s", err, r)
	}
	return rec
}

func TestVIMComputeFlow(t *testing.T) {
	zip, kernel := sampleVNF(t)
	t.Parallel()
	// Registered first, so it runs last, once the server has stopped: no
	// QEMU may be left; any that is gets terminated.
	var s *testServer
	t.Cleanup(func() {
		if s == nil {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(qemuPIDs(s.dir)) > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if left := qemuPIDs(s.dir); len(left) > 0 {
			t.Errorf("QEMU processes left: %v; terminating them", left)
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	s = startServer(t)
	pkgID := s.apiCreate(t, nil)
	if st := s.apiOnboard(t, pkgID, zip); st != "ONBOARDED" {
		t.Fatalf("sample package: %s\n%s", st, s.log)
	}

	// Register: the credentials go to the server and are never printed.
	const secret = "s3cr3t-Pa55w0rd"
	r := s.mustCLI(t, "vim", "register", "--type", "local", "--name", "lab",
		"--option", "kernel="+kernel, "--option", "powerdown_timeout=5s", "--credential", "password="+secret)
	for _, want := range []string{"| Field ", "| Type ", "| local ", "| Name ", "| lab ", "| Default ", "| True "} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("register table lacks %q:\n%s", want, r.stdout)
		}
	}
	vimID := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Split(line, "|"); len(f) == 4 && strings.TrimSpace(f[1]) == "ID" {
			vimID = strings.TrimSpace(f[2])
		}
	}
	if !uuidRE.MatchString(vimID) {
		t.Fatalf("no VIM ID in:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"vim", "list"}, {"vim", "list", "-f", "json"}, {"vim", "show", vimID}, {"vim", "show", vimID, "-f", "yaml"}} {
		r := s.mustCLI(t, args...)
		if !strings.Contains(r.stdout, vimID) || strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("vnfpkgm %s: %s", strings.Join(args, " "), r)
		}
	}
	// A kernel that is not there: refused by the server, naming the option;
	// nothing registered.
	if r := s.cli(t, "vim", "register", "--type", "local", "--name", "broken", "--option", "kernel=/nonexistent/vmlinuz"); r.code != exitFailed ||
		!strings.Contains(r.stderr, "option kernel") || !strings.Contains(r.stderr, "/nonexistent/vmlinuz") {
		t.Fatalf("vim register with a missing kernel: %s", r)
	}
	if got := strings.TrimSpace(s.mustCLI(t, "vim", "list", "-f", "value", "-c", "id", "-c", "Type").stdout); got != vimID+" local" {
		t.Fatalf("vim list -f value -c id -c Type: %q", got)
	}

	// Image registration is idempotent.
	im1 := decodeRecord(t, s.mustCLI(t, "vim", "image", "register", vimID, "--package", pkgID, "--image", "VDU1", "-f", "json"))
	im2 := decodeRecord(t, s.mustCLI(t, "vim", "image", "register", vimID, "--package", pkgID, "--image", "VDU1", "-f", "json"))
	if im1["ID"] == nil || im1["ID"] != im2["ID"] || im1["VIM Image ID"] != im2["VIM Image ID"] || im1["Software Image ID"] != "VDU1" {
		t.Fatalf("image registrations: %v then %v", im1, im2)
	}
	if got := strings.TrimSpace(s.mustCLI(t, "vim", "image", "list", vimID, "-f", "value", "-c", "id").stdout); got != im1["ID"] {
		t.Fatalf("vim image list: %q, want %v", got, im1["ID"])
	}

	// Allocate the VDU's compute; it is terminated whatever happens.
	comp := decodeRecord(t, s.mustCLI(t, "compute", "allocate", vimID, "--package", pkgID, "--vdu", "VDU1", "--name", "sample", "-f", "json"))
	compID, _ := comp["ID"].(string)
	if compID == "" || comp["VDU ID"] != "VDU1" || comp["Flavour ID"] != "simple" || comp["Name"] != "sample" {
		t.Fatalf("compute allocate: %v", comp)
	}
	terminated := false
	t.Cleanup(func() {
		if !terminated {
			s.cli(t, "compute", "delete", vimID, compID)
		}
	})
	if r := s.mustCLI(t, "compute", "list", vimID); !strings.Contains(r.stdout, compID) || !strings.Contains(r.stdout, "| State ") {
		t.Fatalf("compute list:\n%s", r.stdout)
	}

	// The guest's marker on the console.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := s.mustCLI(t, "compute", "console", vimID, compID)
		if strings.Contains(r.stdout, "VNFPKGM-SAMPLE-BOOTED") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no marker on the console after 60 s:\n%s", r.stdout)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The list shows each compute's state, as show does.
	if got := strings.TrimSpace(s.mustCLI(t, "compute", "list", vimID, "-f", "value", "-c", "id", "-c", "state").stdout); got != compID+" RUNNING" {
		t.Fatalf("compute list -f value -c id -c state: %q, want %q", got, compID+" RUNNING")
	}
	if r := s.mustCLI(t, "compute", "list", vimID); !strings.Contains(r.stdout, "| RUNNING ") || !strings.Contains(r.stdout, "| State Reason ") {
		t.Fatalf("compute list table without the state and its reason:\n%s", r.stdout)
	}

	state := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(s.mustCLI(t, append(args, "-f", "value", "-c", "state")...).stdout)
	}
	if st := state("compute", "show", vimID, compID); st != "RUNNING" {
		t.Fatalf("state after boot: %q", st)
	}
	if st := state("compute", "operate", vimID, compID, "--action", "pause"); st != "PAUSED" {
		t.Fatalf("state after pause: %q", st)
	}
	if st := state("compute", "show", vimID, compID); st != "PAUSED" {
		t.Fatalf("state shown after pause: %q", st)
	}
	if st := state("compute", "operate", vimID, compID, "--action", "resume"); st != "RUNNING" {
		t.Fatalf("state after resume: %q", st)
	}

	// A VIM with compute cannot go: the server's conflict, exit 1.
	if r := s.cli(t, "vim", "delete", vimID); r.code != exitFailed || !strings.Contains(r.stderr, "HTTP 409") {
		t.Fatalf("vim delete with compute: %s", r)
	}

	r = s.mustCLI(t, "compute", "delete", vimID, compID)
	terminated = true
	if !strings.Contains(r.stdout, "deleted successfully") {
		t.Fatalf("compute delete: %s", r)
	}
	if r := s.cli(t, "compute", "show", vimID, compID); r.code != exitFailed || !strings.Contains(r.stderr, "HTTP 404") {
		t.Fatalf("compute show after delete: %s", r)
	}
	if r := s.cli(t, "compute", "delete", vimID, compID); r.code != exitFailed {
		t.Fatalf("compute delete again: %s", r)
	}
	if left := qemuPIDs(s.dir); len(left) > 0 {
		t.Fatalf("QEMU still running after compute delete: %v", left)
	}
	s.mustCLI(t, "vim", "image", "delete", vimID, im1["ID"].(string))
	if got := s.mustCLI(t, "vim", "image", "list", vimID, "-f", "json").stdout; strings.TrimSpace(got) != "[]" {
		t.Fatalf("images after delete: %s", got)
	}
	s.mustCLI(t, "vim", "delete", vimID)
	if r := s.cli(t, "vim", "show", vimID); r.code != exitFailed {
		t.Fatalf("vim show after delete: %s", r)
	}
	if strings.Contains(s.log.String(), secret) {
		t.Fatalf("the server log holds the credential")
	}
}

func TestVIMErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	// An unknown type: the server's message, exit 1.
	r := s.cli(t, "vim", "register", "--type", "vmware", "--name", "x")
	if r.code != exitFailed || !strings.Contains(r.stderr, `type "vmware" is not a known VIM type`) ||
		!strings.Contains(r.stderr, "local") || !strings.Contains(r.stderr, "HTTP 400") {
		t.Fatalf("unknown type: %s", r)
	}
	if r := s.cli(t, "vim", "show", "no-such-vim"); r.code != exitFailed || !strings.Contains(r.stderr, "HTTP 404") {
		t.Fatalf("unknown VIM: %s", r)
	}
	if r := s.cli(t, "compute", "list", "no-such-vim"); r.code != exitFailed {
		t.Fatalf("compute list of an unknown VIM: %s", r)
	}
	if r := s.cli(t, "vim", "list", "-f", "json"); r.code != exitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("empty vim list: %s", r)
	}

	// Usage errors: exit 2, nothing sent.
	const secret = "hunter2-secret"
	for _, args := range [][]string{
		{"vim"},
		{"compute"},
		{"vim", "levitate"},
		{"vim", "image"},
		{"vim", "image", "levitate"},
		{"vim", "register", "--name", "x"},
		{"vim", "register", "--type", "local"},
		{"vim", "register", "--type", "local", "--name", "x", "--option", "novalue"},
		{"vim", "register", "--type", "local", "--name", "x", "--credential", secret},
		{"vim", "register", "--type", "local", "--name", "x", "-f", "xml"},
		{"vim", "show"},
		{"vim", "show", "a", "b"},
		{"vim", "delete"},
		{"vim", "image", "register", "V", "--package", "P"},
		{"vim", "image", "list"},
		{"vim", "image", "delete", "V"},
		{"compute", "allocate", "V", "--package", "P", "--vdu", "VDU1"},
		{"compute", "allocate", "--package", "P", "--vdu", "VDU1", "--name", "n"},
		{"compute", "show", "V"},
		{"compute", "operate", "V", "C", "--action", "levitate"},
		{"compute", "operate", "V", "C"},
		{"compute", "delete", "V"},
		{"compute", "console", "V"},
		{"compute", "list", "V", "--nope"},
	} {
		r := s.cli(t, args...)
		if r.code != exitUsage || r.stdout != "" {
			t.Errorf("vnfpkgm %s: want exit 2: %s", strings.Join(args, " "), r)
		}
		if strings.Contains(r.stderr, secret) {
			t.Errorf("vnfpkgm %s printed the credential: %s", strings.Join(args, " "), r)
		}
	}
	if r := s.mustCLI(t, "vim", "list"); r.stdout != "" {
		t.Fatalf("a usage error registered a VIM:\n%s", r.stdout)
	}

	// Help exits 0 on stdout.
	for _, args := range [][]string{{"vim", "-h"}, {"vim", "image", "help"}, {"compute", "operate", "-h"}, {"vim", "register", "-h"}} {
		if r := s.cli(t, args...); r.code != exitOK || r.stdout == "" {
			t.Errorf("vnfpkgm %s: %s", strings.Join(args, " "), r)
		}
	}

	// An unreachable server: exit 3.
	if r := cliAt(t, "http://127.0.0.1:1", "vim", "list"); r.code != exitUnreachable {
		t.Fatalf("unreachable server: %s", r)
	}
}

// TestVIMRegisterHelpDocumentsEveryOption: `vim register --help` names
// every option the local and openstack drivers declare, with its value and
// default (the CLI does not link the drivers: the text is its own).
func TestVIMRegisterHelpDocumentsEveryOption(t *testing.T) {
	code, stdout, stderr := runCLI("vim", "register", "--help")
	help := strings.Join(strings.Fields(stdout+stderr), " ")
	if code != 0 && code != 2 {
		t.Fatalf("vim register --help: exit %d\n%s%s", code, stdout, stderr)
	}
	for typ, opts := range map[string][]vim.Option{local.Type: local.Options, openstack.Type: openstack.Options, kubevim.Type: kubevim.Options, plankton.Type: plankton.Options} {
		if !strings.Contains(help, "Driver options of --type "+typ) {
			t.Errorf("the help has no section for --type %s", typ)
		}
		for _, o := range opts {
			name := o.Name
			if strings.HasSuffix(name, ".") {
				name += "NAME"
			}
			if !strings.Contains(help, " "+name+"="+o.Value+" ") {
				t.Errorf("--type %s: the help does not document %s=%s", typ, name, o.Value)
			}
			if o.Default != "" && !strings.Contains(help, "(default "+strings.Join(strings.Fields(o.Default), " ")+")") {
				t.Errorf("--type %s: the help does not give the default of %s (%s)", typ, o.Name, o.Default)
			}
		}
	}
}
