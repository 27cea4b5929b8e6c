package lazy

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Build runs once, on the first Get, however many goroutines ask at once,
// and every caller sees what it built.
func TestBuildRunsOnceOnFirstGet(t *testing.T) {
	var builds atomic.Int32
	v := &Value[map[string]int]{Build: func() map[string]int {
		builds.Add(1)
		return map[string]int{"a": 1}
	}}
	if builds.Load() != 0 {
		t.Fatal("built before the first Get")
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v.Get()["a"] != 1 {
				t.Error("Get returned another value")
			}
		}()
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Fatalf("Build ran %d times", n)
	}
}
