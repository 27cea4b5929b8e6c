package main_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// runBinary runs the vnfpkgmd built by TestMain and returns its exit code
// and outputs.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// Asking for the usage is no error: exit 0, the usage printed, no
// "flag: help requested".
func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		code, _, stderr := runBinary(t, arg)
		if code != 0 || !strings.Contains(stderr, "-listen") || !strings.Contains(stderr, "-version") || strings.Contains(stderr, "help requested") {
			t.Errorf("vnfpkgmd %s: exit %d\n%s", arg, code, stderr)
		}
	}
	// A flag that does not exist is still a usage error.
	if code, _, stderr := runBinary(t, "--no-such-flag"); code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("vnfpkgmd --no-such-flag: exit %d\n%s", code, stderr)
	}
}

// --version prints the build's identity and exits before reading the
// configuration (a bad one is not looked at), wherever it appears among
// the options; the value of another option is never taken for it.
func TestVersionOption(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--listen", "127.0.0.1:0", "--version"}, {"--workers=0", "--version"}} {
		code, stdout, stderr := runBinary(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "vnfpkgmd ") || !strings.Contains(stdout, "\nmodule: github.com/vnfpkgm/vnfpkgm\n") || !strings.Contains(stdout, "\ncommit: ") {
			t.Errorf("vnfpkgmd %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
	// Here --version is the value of --data-dir: the server would start,
	// so the configuration is made invalid to end the run at once.
	if code, stdout, _ := runBinary(t, "--data-dir", "--version", "--workers", "0"); code != 2 || strings.Contains(stdout, "commit:") {
		t.Errorf("vnfpkgmd --data-dir --version: exit %d, %q", code, stdout)
	}
}
