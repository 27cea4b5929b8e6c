package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// TestListBigPackagesBounded lists, with all_fields, 100 packages whose
// userDefinedData is ~1 MB each (written to the database before the
// server starts). The server streams each page and cuts it before it
// reaches --list-page-bytes (4 MiB here): every page stays under it, the
// Link of each leads to the next, every package comes exactly once with its
// userDefinedData whole, and the server's peak RSS (VmHWM) stays under
// ceilingMiB. Before, the page held all 100 packages, built in memory
// several times over (about 1.5 GB).
func TestListBigPackagesBounded(t *testing.T) {
	const (
		packages   = 100
		dataBytes  = 1_000_000
		pageBytes  = 4 << 20
		ceilingMiB = 128
	)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fillBigUserData(t, filepath.Join(dir, "vnfpkgm.db"), packages, dataBytes)
	s := startBenchServer(t, dir, "--list-page-bytes", strconv.Itoa(pageBytes))
	pid := s.cmd.Process.Pid

	seen := map[string]bool{}
	pages, largest := 0, 0
	next := pkgs + "?all_fields"
	for next != "" {
		pages++
		if pages > packages {
			t.Fatalf("more pages than packages: the Link does not advance")
		}
		r := s.call("GET", next, nil)
		s.expect(r, 200, "GET "+next)
		largest = max(largest, len(r.body))
		var page []struct {
			ID              string
			UserDefinedData map[string]string
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(page) == 0 {
			t.Fatalf("page %d is empty", pages)
		}
		for _, p := range page {
			if seen[p.ID] {
				t.Fatalf("package %s on two pages", p.ID)
			}
			seen[p.ID] = true
			if len(p.UserDefinedData["blob"]) != dataBytes {
				t.Fatalf("package %s: userDefinedData/blob of %d bytes, want %d", p.ID, len(p.UserDefinedData["blob"]), dataBytes)
			}
		}
		next = nextLink(t, r.header.Get("Link"), s.base)
	}
	peak := procStatusMiB(t, pid, "VmHWM")
	t.Logf("%d pages, the largest %d bytes; server peak RSS %.1f MiB", pages, largest, peak)
	if peak > ceilingMiB {
		t.Errorf("server peak RSS %.1f MiB, over %d MiB", peak, ceilingMiB)
	}
	if largest >= pageBytes {
		t.Errorf("a page is %d bytes, not under %d", largest, pageBytes)
	}
	if len(seen) != packages {
		t.Fatalf("%d packages listed over %d pages, want %d", len(seen), pages, packages)
	}
	if pages < packages*dataBytes/pageBytes {
		t.Fatalf("%d pages: not cut by bytes", pages)
	}
}

// nextLink is the path and query of a Link: <...>; rel="next" header, ""
// when there is none.
func nextLink(t *testing.T, link, base string) string {
	t.Helper()
	if link == "" {
		return ""
	}
	start, end := strings.Index(link, "<"), strings.Index(link, ">")
	if start < 0 || end < start || !strings.Contains(link, `rel="next"`) {
		t.Fatalf("malformed Link %q", link)
	}
	u := link[start+1 : end]
	if !strings.HasPrefix(u, base) {
		t.Fatalf("Link %q is not on %s", link, base)
	}
	return strings.TrimPrefix(u, base)
}

// fillBigUserData creates n packages whose userDefinedData is
// {"blob": "<size characters>"} in the database at dbPath.
func fillBigUserData(t *testing.T, dbPath string, n, size int) {
	t.Helper()
	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		blob := strings.Repeat(fmt.Sprintf("%x", i%16), size)
		p := &storage.Package{UserDefinedData: storage.MustJSON(map[string]string{"blob": blob})}
		if err := db.CreatePackage(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkListShapes100k lists the first page of a server's 100,000
// packages (fillPackages) per filter shape, including those inside JSON
// documents that the database now evaluates, and reports p50 and p99
// latency, the server's CPU time per request, and the page size:
//
//		go test -run '^$' -bench BenchmarkListShapes100k -benchtime 1x ./cmd/vnfpkgmd/
//
//	  - indexed: (eq,vnfProvider,provider-42)
//	  - udd-eq-none: (eq,userDefinedData/owner,nobody), no match
//	  - udd-cont: (cont,userDefinedData/owner,team-39), ~2.5% match
//	  - images-member: (eq,softwareImages/diskFormat,RAW), ~1% match
//	  - combined: provider-42, ONBOARDED and a RAW image
func BenchmarkListShapes100k(b *testing.B) {
	const requests = 50
	dir := filepath.Join(benchDir(b), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	fillPackages(b, filepath.Join(dir, "vnfpkgm.db"), listBenchPackages)
	s := startBenchServer(b, dir)
	pid := s.cmd.Process.Pid
	for _, c := range []struct{ name, filter string }{
		{"indexed", "(eq,vnfProvider,provider-42)"},
		{"udd-eq-none", "(eq,userDefinedData/owner,nobody)"},
		{"udd-cont", "(cont,userDefinedData/owner,team-39)"},
		{"images-member", "(eq,softwareImages/diskFormat,RAW)"},
		{"combined", "(eq,vnfProvider,provider-42);(eq,onboardingState,ONBOARDED);(eq,softwareImages/diskFormat,RAW)"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			var items int
			cpu0 := procCPU(pid)
			for b.Loop() {
				for range requests {
					t := time.Now()
					r := s.call("GET", pkgs+"?filter="+c.filter, nil)
					lat = append(lat, time.Since(t))
					s.expect(r, 200, c.filter)
					var page []json.RawMessage
					if err := json.Unmarshal(r.body, &page); err != nil {
						b.Fatal(err)
					}
					items = len(page)
				}
			}
			cpu := procCPU(pid) - cpu0
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99-ms")
			b.ReportMetric(ms(cpu)/float64(len(lat)), "server-cpu-ms/req")
			b.ReportMetric(float64(items), "page-items")
			b.ReportMetric(0, "ns/op")
		})
	}
}
