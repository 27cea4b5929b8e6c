package main

// Start-up cost of the CLI (issue 14: `vnfpkgm help` under 2 ms). Every
// package the CLI links runs its initialisers before main, whatever the
// command, so the packages of this module build their tables on first use
// (internal/lazy) and archives are read with the standard library alone.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	cliBin      string
	cliOnce     sync.Once
	cliBuildErr error
)

// cliBinary builds this command once per test binary, as `make build`
// does (static, no cgo).
func cliBinary(tb testing.TB) string {
	tb.Helper()
	cliOnce.Do(func() {
		cliBin = filepath.Join(buildDir, "vnfpkgm")
		cmd := exec.Command("go", "build", "-o", cliBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			cliBuildErr = fmt.Errorf("building vnfpkgm: %v\n%s", err, out)
		}
	})
	if cliBuildErr != nil {
		tb.Fatal(cliBuildErr)
	}
	return cliBin
}

// initRecord is one line of GODEBUG=inittrace=1 output:
// "init PKG @T ms, C ms clock, B bytes, A allocs".
type initRecord struct {
	pkg           string
	bytes, allocs int64
}

func parseInitTrace(t *testing.T, stderr []byte) []initRecord {
	t.Helper()
	var recs []initRecord
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		b, err1 := strconv.ParseInt(f[7], 10, 64)
		a, err2 := strconv.ParseInt(f[9], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("unreadable inittrace line %q", sc.Text())
		}
		recs = append(recs, initRecord{pkg: f[1], bytes: b, allocs: a})
	}
	return recs
}

// heavyInitPackages are the compressors a general archive library
// registers at start-up; a package is a zip, tar or tar.gz, which the
// standard library reads.
var heavyInitPackages = []string{
	"github.com/mholt/archives", "github.com/klauspost/", "github.com/bodgit/",
	"github.com/ulikunitz/xz", "github.com/dsnet/compress", "github.com/pierrec/lz4",
	"github.com/andybalholm/brotli", "github.com/nwaples/rardecode",
	"github.com/mikelolasagasti/xz", "github.com/sorairolake/lzip-go", "github.com/minio/minlz",
}

// TestHelpRunsNoPackageInitWork runs `vnfpkgm help` (and the other
// commands that only print) with GODEBUG=inittrace=1: no compressor
// package initialises, and no package of this module allocates anything
// before main (their tables are lazy.Values). Allocations are counted,
// not time, so the test holds on a loaded machine. package main itself is
// left out: command files declare their own small tables.
func TestHelpRunsNoPackageInitWork(t *testing.T) {
	t.Parallel()
	bin := cliBinary(t)
	for _, args := range [][]string{{"help"}, {"--version"}, {"validate", "--help"}, {"package", "list", "--help"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("vnfpkgm %v: %v\n%s", args, err, stderr.Bytes())
		}
		recs := parseInitTrace(t, stderr.Bytes())
		if len(recs) < 10 {
			t.Fatalf("vnfpkgm %v: inittrace printed %d records; the runtime's format changed?\n%s", args, len(recs), stderr.Bytes())
		}
		for _, r := range recs {
			pkg := strings.ReplaceAll(r.pkg, "%2e", ".")
			for _, heavy := range heavyInitPackages {
				if strings.HasPrefix(pkg, heavy) {
					t.Errorf("vnfpkgm %v: %s runs an initialiser (%d bytes, %d allocs)", args, pkg, r.bytes, r.allocs)
				}
			}
			if strings.HasPrefix(pkg, "github.com/vnfpkgm/vnfpkgm/") && (r.allocs != 0 || r.bytes != 0) {
				t.Errorf("vnfpkgm %v: %s allocates %d bytes in %d allocations at start-up; build its tables on first use (internal/lazy)", args, pkg, r.bytes, r.allocs)
			}
		}
	}
}

// TestPrintingCommandsWatchNoSignals: the commands that only print do not
// start the SIGINT/SIGTERM watcher (two goroutines and a thread, a tenth
// of their run); a command that talks to the server does.
func TestPrintingCommandsWatchNoSignals(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--version"}, {"validate", "--help"}, {"package", "list", "--help"}} {
		ic := &interruptContext{}
		var out, errOut bytes.Buffer
		if code := run(ic, args, &out, &errOut); code != exitOK {
			t.Fatalf("vnfpkgm %v: exit %d: %s", args, code, errOut.Bytes())
		}
		if ic.ctx != nil {
			t.Errorf("vnfpkgm %v started the signal watcher", args)
		}
	}
	ic := &interruptContext{}
	var out, errOut bytes.Buffer
	// Nothing listens on port 1: the request fails, after asking the context.
	if code := run(ic, []string{"--endpoint", "http://127.0.0.1:1", "package", "list"}, &out, &errOut); code != exitUnreachable {
		t.Fatalf("package list against a closed port: exit %d: %s", code, errOut.Bytes())
	}
	if ic.ctx == nil {
		t.Fatal("package list sent a request without watching for SIGINT")
	}
	ic.stop()
}

// BenchmarkStartup runs the CLI as a process per iteration for commands
// that only print, next to two references: a Go program that only prints
// (what any Go binary pays here) and testdata/startupfloor, which links
// what the CLI needs from outside this module (net/http with TLS, YAML,
// BLAKE2, os/signal) and only prints. ns/op is the wall time of one
// process.
//
//	go test -run '^$' -bench Startup -benchtime 200x ./cmd/vnfpkgm/
func BenchmarkStartup(b *testing.B) {
	bin := cliBinary(b)
	hello := helloBinary(b)
	floor := filepath.Join(b.TempDir(), "startupfloor")
	build := exec.Command("go", "build", "-o", floor, "./testdata/startupfloor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building testdata/startupfloor: %v\n%s", err, out)
	}
	cases := []struct {
		name string
		argv []string
	}{
		{"reference=go-hello", []string{hello}},
		{"reference=go-net-http-yaml", []string{floor}},
		{"help", []string{bin, "help"}},
		{"version", []string{bin, "--version"}},
		{"validate-help", []string{bin, "validate", "--help"}},
		{"package-list-help", []string{bin, "package", "list", "--help"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if out, err := exec.Command(c.argv[0], c.argv[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", c.argv, err, out)
				}
			}
		})
	}
}

// helloBinary builds a Go program that prints one line, statically.
func helloBinary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the reference program: %v\n%s", err, out)
	}
	return bin
}
