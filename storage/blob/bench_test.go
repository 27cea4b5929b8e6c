package blob

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// benchDir is where benchmarks write: VNFPKGM_BENCHDIR (see the Makefile's
// BENCHDIR) or the test's temp dir.
func benchDir(b *testing.B) string {
	if d := os.Getenv("VNFPKGM_BENCHDIR"); d != "" {
		dir, err := os.MkdirTemp(d, "blob-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkWrite256MiB writes a 256 MiB object in 1 MiB writes and commits
// it (fsync of the file and of the directory included), then deletes it.
func BenchmarkWrite256MiB(b *testing.B) {
	const size = 256 << 20
	s, err := NewFS(benchDir(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*31 + i>>8)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w, err := s.Create(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for range size / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		key := fmt.Sprintf("bench/%d/content", i)
		if err := w.Commit(ctx, key); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
