package main

// Tests of the CLI as a build: what it links, and what --version says.

import (
	"debug/elf"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// The CLI must not link the server, its database or the VIM clients:
// they cost start-up time and binary size for commands that are HTTP
// calls or a local validation.
func TestLeanDependencies(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		if forbiddenDependency(pkg) {
			bad = append(bad, pkg)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("cmd/vnfpkgm links packages it must not: %s", strings.Join(bad, ", "))
	}
}

// forbiddenDependency: gorm, the SQLite driver, echo, gophercloud, the
// server package (exactly: vnfpkgm/validate and vnfpkgm/sol013 are fine)
// and storage with its subpackages.
func forbiddenDependency(pkg string) bool {
	for _, prefix := range []string{"gorm.io/", "github.com/mattn/go-sqlite3", "github.com/labstack/echo", "github.com/gophercloud/"} {
		if strings.HasPrefix(pkg, prefix) {
			return true
		}
	}
	const storage = "github.com/vnfpkgm/vnfpkgm/storage"
	return pkg == "github.com/vnfpkgm/vnfpkgm/vnfpkgm" || pkg == storage || strings.HasPrefix(pkg, storage+"/")
}

func TestForbiddenDependency(t *testing.T) {
	for pkg, want := range map[string]bool{
		"gorm.io/gorm":                                true,
		"gorm.io/driver/sqlite":                       true,
		"github.com/mattn/go-sqlite3":                 true,
		"github.com/labstack/echo/v4":                 true,
		"github.com/gophercloud/gophercloud/v2":       true,
		"github.com/vnfpkgm/vnfpkgm/vnfpkgm":          true,
		"github.com/vnfpkgm/vnfpkgm/storage":          true,
		"github.com/vnfpkgm/vnfpkgm/storage/blob":     true,
		"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate": false,
		"github.com/vnfpkgm/vnfpkgm/csar":             false,
		"github.com/vnfpkgm/vnfpkgm/storagex":         false,
		"net/http":                                    false,
	} {
		if got := forbiddenDependency(pkg); got != want {
			t.Errorf("forbiddenDependency(%q) = %v", pkg, got)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}, {"--endpoint", "http://x", "--version"}} {
		code, stdout, stderr := runCLI(args...)
		if code != exitOK || !strings.HasPrefix(stdout, "vnfpkgm ") || !strings.Contains(stdout, "\nmodule: github.com/vnfpkgm/vnfpkgm\n") || !strings.Contains(stdout, "\ncommit: ") || stderr != "" {
			t.Errorf("vnfpkgm %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
	if code, _, stderr := runCLI("version", "extra"); code != exitUsage || !strings.Contains(stderr, "no arguments") {
		t.Errorf("vnfpkgm version extra: exit %d: %s", code, stderr)
	}
}

// `make build` gives both binaries the commit of the work tree, even in a
// linked git worktree where the go command stamps none, and builds the CLI
// as a static binary (no dynamic loader to run at each start).
func TestMakeBuild(t *testing.T) {
	t.Parallel()
	mk := testenv.Command(t, "make", "make")
	git := testenv.Command(t, "git", "git")
	root := testenv.RepoRoot()
	head, err := exec.Command(git, "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("the source is not a git work tree: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	bin := t.TempDir()
	if out, err := exec.Command(mk, "-s", "-C", root, "BIN="+bin, "build").CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	for _, prog := range []string{"vnfpkgm", "vnfpkgmd"} {
		out, err := exec.Command(filepath.Join(bin, prog), "--version").Output()
		if err != nil {
			t.Fatalf("%s --version: %v", prog, err)
		}
		if !strings.HasPrefix(string(out), prog+" ") || !strings.Contains(string(out), "\ncommit: "+commit) {
			t.Errorf("%s --version does not name commit %s:\n%s", prog, commit, out)
		}
	}
	if interp := interpreter(t, filepath.Join(bin, "vnfpkgm")); interp != "" {
		t.Errorf("bin/vnfpkgm is dynamically linked (interpreter %s)", interp)
	}
}

// interpreter is the dynamic loader an ELF executable names (PT_INTERP),
// "" for a static one.
func interpreter(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}
