package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// gcCycles runs `vnfpkgm validate` on a corpus package with
// GODEBUG=gctrace=1 and the extra environment, and counts the collections
// the runtime reports.
func gcCycles(t *testing.T, pkg string, env ...string) int {
	t.Helper()
	cmd := exec.Command(cliBinary(t), "validate", pkg)
	cmd.Env = append(append(os.Environ(), "GODEBUG=gctrace=1", "GOGC=", "GOMEMLIMIT="), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vnfpkgm validate %s: %v\n%s", pkg, err, stderr.Bytes())
	}
	n := 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "gc ") {
			n++
		}
	}
	return n
}

// The validate process collects no garbage for a package like Tacker's
// helloworld3 (relaxGCForValidate), while an operator's GOGC still
// decides when they set one.
func TestValidateProcessGC(t *testing.T) {
	t.Parallel()
	pkg := filepath.Join(testenv.Corpus(t), "helloworld3-multi.zip")
	if n := gcCycles(t, pkg); n != 0 {
		t.Errorf("vnfpkgm validate ran %d garbage collections; the CLI's GC settings are not applied", n)
	}
	if n := gcCycles(t, pkg, "GOGC=1"); n == 0 {
		t.Errorf("with GOGC=1 vnfpkgm validate ran no garbage collection: the operator's GOGC was overridden")
	}
}

// BenchmarkValidateProcess runs `vnfpkgm validate` of helloworld3 as a
// process per iteration, with the CLI's GC settings and with the runtime's
// defaults (GOGC=100). ns/op is the wall time of one process; cpu-ns/op
// the CPU time of the children (user + system). Tosca-parser takes about
// 360 ms for the same package here (issue 14).
//
//	go test -run '^$' -bench ValidateProcess -benchtime 200x ./cmd/vnfpkgm/
func BenchmarkValidateProcess(b *testing.B) {
	pkg := filepath.Join(testenv.Corpus(b), "helloworld3-multi.zip")
	bin := cliBinary(b)
	for _, c := range []struct{ name, env string }{{"cli-gc", ""}, {"GOGC=100", "GOGC=100"}} {
		b.Run(c.name, func(b *testing.B) {
			var cpu int64
			for b.Loop() {
				cmd := exec.Command(bin, "validate", pkg)
				if c.env != "" {
					cmd.Env = append(os.Environ(), c.env)
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("vnfpkgm validate: %v\n%s", err, out)
				}
				cpu += int64(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
			}
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
