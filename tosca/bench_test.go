package tosca

import (
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// BenchmarkProcessHelloworld3 processes the helloworld3-multi VNFD of the
// corpus (its VNFD files plus the SOL 001 types it ships, ~90 KB of YAML).
// "cold-yaml" parses every file as YAML each time (the processor before
// precompiled profiles); "cold" loads the profile files (the embedded
// normative types and the package's copies of ETSI's SOL 001 files) from
// their precompiled form, as one CLI run does; "warm" reuses the parsed
// profile files of the process-wide cache, as a server onboarding
// Tacker-style packages does. Run with:
//
//	go test -run '^$' -bench ProcessHelloworld3 -benchmem -cpu 1 ./tosca/
//
// cpu-ns/op (the process's CPU time, GC included, per call) is the figure
// to compare on a shared machine.
func BenchmarkProcessHelloworld3(b *testing.B) {
	fsys, entry := corpusPackage(b, "helloworld3-multi.zip")
	run := func(b *testing.B) {
		b.ReportAllocs()
		cpu := testenv.CPUTime()
		for b.Loop() {
			st := Process(fsys, entry, Options{})
			if st.HasErrors() {
				b.Fatal(st.Problems)
			}
		}
		b.ReportMetric(float64(testenv.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
	}
	b.Run("cold-yaml", func(b *testing.B) {
		cacheDisabled.Store(true)
		precompiledDisabled.Store(true)
		defer cacheDisabled.Store(false)
		defer precompiledDisabled.Store(false)
		run(b)
	})
	b.Run("cold", func(b *testing.B) {
		cacheDisabled.Store(true)
		defer cacheDisabled.Store(false)
		run(b)
	})
	b.Run("warm", func(b *testing.B) {
		Process(fsys, entry, Options{}) // fill the cache
		run(b)
	})
}

// TestConcurrentProcessing runs Process concurrently on packages sharing
// their type files through the cache (run with -race).
func TestConcurrentProcessing(t *testing.T) {
	fsys, entry := corpusPackage(t, "helloworld3-multi.zip")
	bad, badEntry := corpusPackage(t, "image-checksum-blake2b.zip")
	done := make(chan *ServiceTemplate)
	for i := 0; i < 8; i++ {
		go func(i int) {
			if i%2 == 0 {
				done <- Process(fsys, entry, Options{})
			} else {
				done <- Process(bad, badEntry, Options{})
			}
		}(i)
	}
	for i := 0; i < 8; i++ {
		st := <-done
		algo := node(t, st, "VDU1").Properties["sw_image_data"].V.(map[string]any)["checksum"].(map[string]any)["algorithm"]
		if (algo == "blake2b") != st.HasErrors() {
			t.Fatalf("results mixed up: %v %v", algo, st.Problems)
		}
	}
}
