package testenv

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// RunChild runs the test named test of the current test binary in a child
// process, with env added to the environment, and returns the child's peak
// resident memory in bytes (getrusage's ru_maxrss, KiB on Linux) and its
// output. Memory ceilings are asserted this way: the child's peak is not
// mixed with the parent's test data or with other tests. A child that fails
// fails the calling test.
func RunChild(tb testing.TB, test string, env ...string) (peakRSS int64, out []byte) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("child %s: %v: %s", test, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatalf("child %s: no resource usage on this system", test)
	}
	return ru.Maxrss * 1024, out
}

// CPUTime is the user and system CPU time this process has used. On a
// shared machine a benchmark's CPU time per operation is steadier than its
// wall time, which counts the time other processes hold the cores.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
