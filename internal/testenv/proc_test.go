package testenv

import (
	"os/exec"
	"testing"
)

// TestRunMeasuredIsTheChildsPeak: a child measured after this process
// touched 256 MiB (and dropped it) reports its own peak, not this
// process's: Linux hands the high-water mark of the memory left at exec
// to the child's ru_maxrss.
func TestRunMeasuredIsTheChildsPeak(t *testing.T) {
	big := make([]byte, 256<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	big = nil
	peak, code, out := RunMeasured(t, exec.Command(Command(t, "true", "coreutils")))
	if code != 0 {
		t.Fatalf("true exited %d: %s", code, out)
	}
	t.Logf("peak RSS of true: %.1f MiB", float64(peak)/(1<<20))
	if peak >= 128<<20 {
		t.Fatalf("true peaked at %.1f MiB: the parent's high-water mark, not the child's", float64(peak)/(1<<20))
	}
}
