// Package testenv lets tests find the components they need outside the
// repository (../shared/corpus, system tools) and decide what to do when
// one is missing: skip with a message saying what to install on a user's
// machine, fail under CI (CI=true), where .ci/run must have installed it.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Missing skips the test, or fails it under CI, saying what to install.
func Missing(t testing.TB, what, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; CI must provide it: %s", what, hint)
	}
	t.Skipf("%s is missing: %s", what, hint)
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Corpus returns the directory of the shared interop corpus
// (../shared/corpus beside the repository).
func Corpus(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		Missing(t, "the shared corpus "+dir, "check out ../shared beside the repository")
	}
	return dir
}

// Command returns the path of a system command.
func Command(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the command "+name, "apt-get install "+debianPackage)
	}
	return p
}
