package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// TestListBigPackagesBounded lists, with all_fields, 100 packages whose
// userDefinedData is ~1 MB each (written to the database before the
// server starts). The server streams each page and cuts it before it
// reaches --list-page-bytes (default 8 MiB): every page stays under it, the
// Link of each leads to the next, every package comes exactly once with its
// userDefinedData whole, and the server's peak RSS (VmHWM) stays under
// ceilingMiB. Before, the page held all 100 packages, built in memory
// several times over (about 1.5 GB).
func TestListBigPackagesBounded(t *testing.T) {
	const (
		packages   = 100
		dataBytes  = 1_000_000
		pageBytes  = 8 << 20 // the default of --list-page-bytes
		ceilingMiB = 128
	)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fillBigUserData(t, filepath.Join(dir, "vnfpkgm.db"), packages, dataBytes)
	s := startBenchServer(t, dir)
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
