package samples_test

// The checks samples/build.sh makes before it builds anything.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// toolDir returns a directory for PATH holding the tools build.sh needs,
// linked to this machine's, with busybox replaced by busybox.
func toolDir(t *testing.T, busybox string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"bash", "mke2fs", "qemu-img", "zip", "sha512sum", "sha256sum", "od", "tr", "dirname", "rm", "mkdir", "cat"} {
		p := testenv.Command(t, name, "coreutils e2fsprogs qemu-utils zip")
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(busybox, filepath.Join(dir, "busybox")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runBuild runs build.sh with only the tools of dir on PATH, its output in
// a temporary directory.
func runBuild(t *testing.T, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "bash"), filepath.Join(testenv.RepoRoot(), "samples", "build.sh"))
	cmd.Env = []string{"PATH=" + dir, "SAMPLES_OUT=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBuildRefusesDynamicBusybox: a dynamically linked busybox (Debian's
// "busybox" package) cannot be the init of a guest without libc; build.sh
// says so and what to install, before building anything.
func TestBuildRefusesDynamicBusybox(t *testing.T) {
	dynamic := testenv.Command(t, "ls", "coreutils") // any dynamically linked program
	out, err := runBuild(t, toolDir(t, dynamic))
	if err == nil {
		t.Fatalf("build.sh accepted a dynamically linked busybox:\n%s", out)
	}
	if !strings.Contains(out, "dynamically linked") || !strings.Contains(out, "apt-get install busybox-static") {
		t.Fatalf("build.sh does not say the busybox is dynamic and what to install:\n%s", out)
	}
}

// TestBuildRefusesNonELFBusybox: a busybox that is no x86-64 program
// (here a shell script) is refused too.
func TestBuildRefusesNonELFBusybox(t *testing.T) {
	script := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runBuild(t, toolDir(t, script))
	if err == nil || !strings.Contains(out, "not an x86-64 ELF program") {
		t.Fatalf("build.sh accepted a busybox that is not an x86-64 program (err %v):\n%s", err, out)
	}
}
