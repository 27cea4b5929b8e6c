package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

var (
	filterBenchOnce sync.Once
	filterBenchDB   *DB
	filterBenchErr  error
	filterBenchDir  string // removed by TestMain
)

// openFilterBench builds, once per test binary, benchRows packages shaped
// like onboarded ones (the shapes of cmd/vnfpkgmd's fillPackages): 100
// providers, 92% ONBOARDED; userDefinedData {"owner": "team-<0..39>",
// "site": "dc-<0..7>"}, 0.1% of owners "special-team-<n>"; one or two
// software images each with a checksum, 1% of packages with a RAW image;
// two additional artifacts.
func openFilterBench(b *testing.B) *DB {
	filterBenchOnce.Do(func() {
		filterBenchDir, filterBenchErr = os.MkdirTemp(os.Getenv("VNFPKGM_BENCHDIR"), "storage-filter-bench-")
		if filterBenchErr != nil {
			return
		}
		filterBenchDB, filterBenchErr = openBenchDB(filterBenchDir)
		if filterBenchErr != nil {
			return
		}
		filterBenchErr = fillShaped(filterBenchDB, benchRows)
		if filterBenchErr == nil && filterBenchDB.g.Dialector.Name() == "postgres" {
			// The steady state of a table autovacuum keeps: the
			// visibility map set, so the planner's costs (and plans) are
			// those a served database sees, not those of a fresh fill.
			filterBenchErr = filterBenchDB.g.Exec("VACUUM ANALYZE vnf_packages").Error
		}
		if filterBenchErr == nil {
			filterBenchErr = filterBenchDB.Optimize(context.Background())
		}
	})
	if filterBenchErr != nil {
		b.Fatal(filterBenchErr)
	}
	return filterBenchDB
}

func fillShaped(db *DB, n int) error {
	rng := rand.New(rand.NewPCG(42, 4242))
	hex := func(nbytes int) string {
		var sb strings.Builder
		for range nbytes / 8 {
			fmt.Fprintf(&sb, "%016x", rng.Uint64())
		}
		return sb.String()
	}
	batch := make([]*Package, 0, 2000)
	for i := range n {
		owner := fmt.Sprintf("team-%d", rng.IntN(40))
		if rng.IntN(1000) == 0 {
			owner = "special-" + owner
		}
		p := &Package{
			UserDefinedData: JSON(fmt.Sprintf(`{"owner":%q,"site":"dc-%d"}`, owner, rng.IntN(8))),
			OnboardingState: OnboardingCreated, OperationalState: OperationalDisabled, UsageState: UsageNotInUse,
		}
		if rng.IntN(100) < 92 {
			provider := fmt.Sprintf("provider-%d", rng.IntN(100))
			p.OnboardingState, p.OperationalState = OnboardingOnboarded, OperationalEnabled
			p.VnfdID, p.VnfProvider = fmt.Sprintf("vnfd-%06d", i), provider
			p.VnfProductName, p.VnfSoftwareVersion, p.VnfdVersion = provider+" vnf", "1.0.0", "1.0"
			p.Checksum = JSON(`{"algorithm":"SHA-256","hash":"` + hex(32) + `"}`)
			p.VnfmInfo = JSON(`["etsivnfm"]`)
			p.CompatibleSpecificationVersions = JSON(`["2.6.1","3.3.1"]`)
			raw := rng.IntN(100) == 0
			images := make([]string, 1+rng.IntN(2))
			for j := range images {
				format := []string{"QCOW2", "QCOW2", "QCOW2", "VMDK"}[rng.IntN(4)]
				if raw && j == len(images)-1 {
					format = "RAW"
				}
				images[j] = fmt.Sprintf(`{"id":"VDU%d","name":"image-%d","provider":%q,"version":"1.0.0",`+
					`"checksum":{"algorithm":"SHA-512","hash":"%s"},"isEncrypted":false,"containerFormat":"BARE",`+
					`"diskFormat":%q,"createdAt":"2024-03-01T12:00:00Z","minDisk":%d,"minRam":%d,"size":%d,"imagePath":"Files/images/vdu%d.img"}`,
					j+1, j+1, provider, hex(64), format, rng.IntN(40)<<30, rng.IntN(16)<<30, (100+rng.IntN(4000))<<20, j+1)
			}
			p.SoftwareImages = JSON("[" + strings.Join(images, ",") + "]")
			p.AdditionalArtifacts = JSON(`[{"artifactPath":"Scripts/install.sh","checksum":{"algorithm":"SHA-256","hash":"` + hex(32) +
				`"},"isEncrypted":false},{"artifactPath":"Files/ChangeLog.txt","checksum":{"algorithm":"SHA-256","hash":"` + hex(32) + `"},"isEncrypted":false}]`)
		}
		batch = append(batch, p)
		if len(batch) == cap(batch) || i == n-1 {
			if err := db.CreatePackages(context.Background(), batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// BenchmarkFilterFirstPage100k is the database side of a list's first
// page over 100,000 packages: ScanPackages with the filter pushed down,
// stopping after 101 matches (a page and the look-ahead for its next
// link), as the list handler does. Each sub-benchmark reports p50 and p99
// latency over its requests, and how many packages the page got.
//
//   - indexed-eq: vnfProvider eq provider-42 (~920 match; (column, seq) index)
//   - udd-eq-none: userDefinedData/owner eq nobody (no match: a full scan)
//   - udd-cont-few: userDefinedData/owner cont special (~100 match)
//   - images-member: softwareImages/diskFormat eq RAW (~1% match)
//   - combined: provider-42, ONBOARDED and a RAW image (~10 match)
//   - images-bare: softwareImages/containerFormat eq BARE (92% match)
//   - artifacts-in-none: additionalArtifacts/artifactPath in two paths
//     no package has (no match)
//   - images-neq-raw: softwareImages/diskFormat neq RAW (~91% match)
//   - reference-json-extract: SELECT count(*) ... WHERE
//     json_extract(user_defined_data, '$.owner') = 'nobody', SQLite's own
//     scan with no paging, measured in the same run for comparison (on
//     PostgreSQL: (user_defined_data::jsonb) ->> 'owner' = 'nobody').
//
// The benchmarks run on SQLite, then on PostgreSQL (runOnEngines);
// VNFPKGM_BENCH_ROWS sets the table size.
func BenchmarkFilterFirstPage100k(b *testing.B) {
	db := openFilterBench(b)
	ctx := context.Background()
	cond := func(col Column, op FilterOp, path string, values ...string) Cond {
		var p []string
		if path != "" {
			p = strings.Split(path, "/")
		}
		return Cond{Column: col, Path: p, Op: op, Values: values}
	}
	provider42 := cond(ColVnfProvider, OpEq, "", "provider-42")
	raw := cond(ColSoftwareImages, OpEq, "diskFormat", "RAW")
	for _, c := range []struct {
		name  string
		where Where
	}{
		{"indexed-eq", Where{provider42}},
		{"udd-eq-none", Where{cond(ColUserDefinedData, OpEq, "owner", "nobody")}},
		{"udd-cont-few", Where{cond(ColUserDefinedData, OpCont, "owner", "special")}},
		{"images-member", Where{raw}},
		{"combined", Where{provider42, cond(ColOnboardingState, OpEq, "", OnboardingOnboarded), raw}},
		{"images-bare", Where{cond(ColSoftwareImages, OpEq, "containerFormat", "BARE")}},
		{"artifacts-in-none", Where{cond(ColAdditionalArtifacts, OpIn, "artifactPath", "Files/none", "Scripts/none")}},
		{"images-neq-raw", Where{cond(ColSoftwareImages, OpNeq, "diskFormat", "RAW")}},
	} {
		explainPlan(b, db, c.name, c.where)
		b.Run(c.name, func(b *testing.B) {
			var rows int
			measure(b, func() {
				rows = 0
				_, err := db.ScanPackages(ctx, Cursor{}, 101, c.where, func(*Package) (bool, error) {
					rows++
					return rows < 101, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(rows), "page-rows")
		})
	}
	reference := `SELECT count(*) FROM vnf_packages WHERE json_extract(user_defined_data, '$.owner') = 'nobody'`
	if testPG != nil {
		reference = `SELECT count(*) FROM vnf_packages WHERE (user_defined_data::jsonb) ->> 'owner' = 'nobody'`
	}
	b.Run("reference-json-extract", func(b *testing.B) {
		measure(b, func() {
			var n int64
			if err := db.g.Raw(reference).Scan(&n).Error; err != nil || n != 0 {
				b.Fatal(n, err)
			}
		})
	})
}

// explainPlan logs PostgreSQL's plan of where's first page (the query of
// ScanPackages, as the list handler's first page runs it) when
// VNFPKGM_BENCH_EXPLAIN is set.
func explainPlan(b *testing.B, db *DB, name string, where Where) {
	if testPG == nil || os.Getenv("VNFPKGM_BENCH_EXPLAIN") == "" {
		return
	}
	query := db.g.ToSQL(func(tx *gorm.DB) *gorm.DB {
		q, _, err := where.apply(tx.Table("vnf_packages").Select("id"))
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		return q.Order("seq").Limit(101).Find(&ids)
	})
	var plan []string
	if err := db.g.Raw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query).Scan(&plan).Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("plan of %s:\n%s", name, strings.Join(plan, "\n"))
}

// measure runs fn at least 20 times per op (more within a second) and
// reports the p50 and p99 of its latencies, and the process's CPU time per
// call (less sensitive than wall time to other work on a shared machine).
func measure(b *testing.B, fn func()) {
	var lat []time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		start := time.Now()
		for k := 0; k < 20 || (k < 200 && time.Since(start) < time.Second); k++ {
			t := time.Now()
			fn()
			lat = append(lat, time.Since(t))
		}
	}
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(cpu)/float64(len(lat)), "cpu-ms/req")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
