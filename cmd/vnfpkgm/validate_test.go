package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateExitCodesAndJSON(t *testing.T) {
	corpus := testenv.Corpus(t)
	cases := []struct {
		pkg      string
		wantCode int
		wantErr  string // a problem code that must be listed
	}{
		{"helloworld3-multi.zip", exitOK, ""},
		{"practical-two-flavours.zip", exitOK, ""},
		{"bad-artifact-hash.zip", exitInvalid, "manifest-hash-mismatch"},
		{"missing-algorithm-key.zip", exitInvalid, "manifest-algorithm-missing"},
	}
	for _, c := range cases {
		t.Run(c.pkg, func(t *testing.T) {
			// Flags after the path, as operators type them.
			code, stdout, stderr := runCLI("validate", filepath.Join(corpus, c.pkg), "-o", "json")
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, c.wantCode, stderr)
			}
			dec := json.NewDecoder(strings.NewReader(stdout))
			var rep struct {
				Valid    *bool `json:"valid"`
				Problems []struct {
					Severity, Code, File, Message string
					Line, Column                  int
				} `json:"problems"`
			}
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			if dec.More() {
				t.Fatal("stdout holds more than one JSON value")
			}
			if rep.Valid == nil || *rep.Valid != (c.wantCode == exitOK) {
				t.Fatalf("valid = %v", rep.Valid)
			}
			if c.wantErr == "" {
				return
			}
			for _, p := range rep.Problems {
				if p.Code == c.wantErr && p.Severity == "error" && p.File != "" && p.Line > 0 {
					return
				}
			}
			t.Fatalf("no located error %s in %+v", c.wantErr, rep.Problems)
		})
	}
}

func TestValidateTextOutput(t *testing.T) {
	corpus := testenv.Corpus(t)
	code, stdout, _ := runCLI("validate", "-o", "text", filepath.Join(corpus, "bad-algorithm.zip"))
	if code != exitInvalid {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout, "INVALID") || !strings.Contains(stdout, `manifest.mf:6:12: error: Algorithm "SHA-255"`) {
		t.Fatalf("text report lacks the verdict or the located problem:\n%s", stdout)
	}
}

func TestValidateUsageAndIOErrors(t *testing.T) {
	dir := t.TempDir()
	notAPackage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notAPackage, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no path", []string{"validate"}, exitUsage},
		{"two paths", []string{"validate", "a", "b"}, exitUsage},
		{"bad format", []string{"validate", notAPackage, "-o", "xml"}, exitUsage},
		{"missing file", []string{"validate", filepath.Join(dir, "absent.zip")}, exitUsage},
		{"a directory", []string{"validate", dir}, exitUsage},
		{"unknown flag", []string{"validate", "--frobnicate", notAPackage}, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		// Not an archive at all: a verdict about the package, not an I/O error.
		{"not an archive", []string{"validate", notAPackage}, exitInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if c.code == exitUsage && stderr == "" {
				t.Fatal("a usage error must say what is wrong on stderr")
			}
		})
	}
}
