package main

import (
	"os"
	"runtime/debug"
)

// Garbage collection settings of `vnfpkgm validate`.
//
// The process lives for a few milliseconds and its live heap while it
// validates a package is a few MiB (the VNFD's YAML trees; images are
// hashed through fixed buffers). With the default GOGC=100 the runtime
// starts a collection when the heap first reaches 4 MiB, which a typical
// package such as Tacker's helloworld3 crosses once: one cycle whose
// marking and assists cost a quarter of the process's CPU and free memory
// the exiting process would give back anyway. GOGC=400 moves the first
// goal to 16 MiB; the soft memory limit keeps a package whose YAML makes
// a large live heap from growing to five times it: near validateMemoryLimit
// the runtime collects as often as it must, whatever GOGC says, so the
// peak stays where the default settings would have put it for such a heap.
const (
	validateGCPercent   = 400
	validateMemoryLimit = 64 << 20
)

// beforeValidate runs when the validate command starts: main sets it to
// relaxGCForValidate, so that the settings apply to the vnfpkgm process
// and not to a test binary calling run.
var beforeValidate = func() {}

// relaxGCForValidate applies those settings unless the operator chose
// their own through GOGC or GOMEMLIMIT, which always win.
func relaxGCForValidate() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(validateGCPercent)
	debug.SetMemoryLimit(validateMemoryLimit)
}
