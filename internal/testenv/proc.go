package testenv

import (
	"errors"
	"os"
	"os/exec"
	"runtime/debug"
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
	peakRSS, code, out := RunMeasured(tb, cmd)
	if code != 0 {
		tb.Fatalf("child %s: exit status %d: %s", test, code, out)
	}
	return peakRSS, out
}

// RunMeasured runs cmd (not started yet, without Stdout or Stderr) to its
// end and returns its peak resident memory in bytes, its exit code and its
// combined output. A non-zero exit is the caller's to judge (a command
// refusing its input exits 1 on purpose); a command that cannot be started
// or is killed by a signal fails the calling test.
//
// The peak is an upper bound: Linux records, in the child's ru_maxrss, the
// high-water mark of the memory it leaves at exec, which is this process's
// (Go starts children with vfork, which shares it). Unchecked, a child
// measured after the test built a large input in memory reported this
// process's peak, not its own. So this process's high-water mark is first
// brought down to what it holds now (clear_refs 5, Linux >= 4.0); a
// figure above that is the child's own peak.
func RunMeasured(tb testing.TB, cmd *exec.Cmd) (peakRSS int64, exitCode int, out []byte) {
	tb.Helper()
	resetPeakRSS()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() < 0) {
		tb.Fatalf("%s: %v: %s", cmd.Path, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatalf("%s: no resource usage on this system", cmd.Path)
	}
	return ru.Maxrss * 1024, cmd.ProcessState.ExitCode(), out
}

// resetPeakRSS returns the memory this process no longer uses to the
// system and resets its high-water mark to its current resident size. On
// a kernel without clear_refs the mark stays, and measured children are
// overestimated, never underestimated.
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
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
