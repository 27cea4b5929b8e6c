package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchRows is the size of the table the scan and filter benchmarks
// read: 100,000, or VNFPKGM_BENCH_ROWS (e.g. 1000000: the PostgreSQL
// target of issue 12; filling takes minutes).
var benchRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("VNFPKGM_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

var (
	benchOnce sync.Once
	benchDB   *DB
	benchErr  error
	benchTmp  string
)

func TestMain(m *testing.M) {
	code := runOnEngines(m)
	closeBenchDBs()
	os.Exit(code)
}

// closeBenchDBs closes and forgets the benchmark databases, at the end
// and between the passes of runOnEngines (each engine builds its own).
func closeBenchDBs() {
	if benchDB != nil {
		benchDB.Close()
	}
	if benchTmp != "" {
		os.RemoveAll(benchTmp)
	}
	if filterBenchDB != nil {
		filterBenchDB.Close()
	}
	if filterBenchDir != "" {
		os.RemoveAll(filterBenchDir)
	}
	benchOnce, benchDB, benchErr, benchTmp = sync.Once{}, nil, nil, ""
	filterBenchOnce, filterBenchDB, filterBenchErr, filterBenchDir = sync.Once{}, nil, nil, ""
}

// openBenchDB opens a new benchmark database on the engine of the pass:
// a file in dir, or a database of the PostgreSQL cluster.
func openBenchDB(dir string) (*DB, error) {
	if testPG != nil {
		dsn, _, err := testPG.NewDatabase(context.Background()) // dropped with the cluster
		if err != nil {
			return nil, err
		}
		return OpenPostgres(dsn, DefaultPostgresPool)
	}
	return Open(filepath.Join(dir, "bench.db"))
}

// scanBenchDB builds, once per test binary, a database of benchRows
// packages shaped like real ones (see fill), under VNFPKGM_BENCHDIR or the
// temp dir.
func scanBenchDB(b *testing.B) *DB {
	benchOnce.Do(func() {
		benchTmp, benchErr = os.MkdirTemp(os.Getenv("VNFPKGM_BENCHDIR"), "storage-bench-")
		if benchErr != nil {
			return
		}
		benchDB, benchErr = openBenchDB(benchTmp)
		if benchErr != nil {
			return
		}
		fill(b, benchDB, benchRows)
		benchErr = benchDB.Optimize(context.Background())
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDB
}

// BenchmarkScanPackages100k scans a 100,000-package table. ns/row, allocs/row
// and cpu-ns/row (user+system CPU time of the process, which stays
// meaningful on a loaded machine where wall time does not) are per package
// given to fn; rows/op is how many that is.
//
//   - all: every package, no filter.
//   - pushdown: vnfProvider eq one of 10 providers, evaluated by the
//     database through the (vnf_provider, seq) index.
//   - no-pushdown: the same filter evaluated in Go on every package (what
//     a caller would do for a condition storage cannot push down).
//   - pushdown-selective: vnfdId in three values plus onboardingState eq.
func BenchmarkScanPackages100k(b *testing.B) {
	db := scanBenchDB(b)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		where IndexedFilter
		keep  func(*Package) bool
	}{
		{"all", nil, nil},
		{"pushdown", Eq(ColVnfProvider, "acme"), nil},
		{"no-pushdown", nil, func(p *Package) bool { return p.VnfProvider == "acme" }},
		{"pushdown-selective", IndexedFilter{ColVnfdID: {"vnfd-000042", "vnfd-050001", "vnfd-099999"},
			ColOnboardingState: {OnboardingOnboarded}}, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			var rows int
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				rows = 0
				_, err := db.ScanPackages(ctx, Cursor{}, DefaultScanBatch, c.where, func(p *Package) (bool, error) {
					if c.keep == nil || c.keep(p) {
						rows++
					}
					return true, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			if rows == 0 {
				b.Fatal("no rows")
			}
			total := float64(rows) * float64(b.N)
			b.ReportMetric(float64(rows), "rows/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/total, "allocs/row")
			b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/row")
		})
	}
}

// BenchmarkCreatePackage is the cost of one CreatePackage (a transaction
// with an fsync'd commit).
func BenchmarkCreatePackage(b *testing.B) {
	db, err := openBenchDB(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if err := db.CreatePackage(ctx, &Package{VnfProvider: fmt.Sprint("p", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
