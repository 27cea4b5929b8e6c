package tosca

import (
	"testing"
)

// BenchmarkProcessHelloworld3 processes the helloworld3-multi VNFD of the
// corpus (its VNFD files plus the SOL 001 types it ships, ~90 KB of YAML).
// "cold" parses every file each time; "warm" reuses the parsed files of
// the process-wide cache, as a server onboarding Tacker-style packages
// does. Run with:
//
//	go test -run '^$' -bench ProcessHelloworld3 -benchmem -cpu 1 ./tosca/
func BenchmarkProcessHelloworld3(b *testing.B) {
	fsys, entry := corpusPackage(b, "helloworld3-multi.zip")
	run := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st := Process(fsys, entry, Options{})
			if st.HasErrors() {
				b.Fatal(st.Problems)
			}
		}
	}
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
