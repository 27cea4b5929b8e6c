package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

var providers = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "aperture"}

// fill creates n packages in bulk: provider i%10, every third ONBOARDED
// (with a unique vnfdId), the rest CREATED.
func fill(t testing.TB, db *DB, n int) []*Package {
	t.Helper()
	ps := make([]*Package, n)
	for i := range ps {
		p := &Package{VnfProvider: providers[i%len(providers)], VnfProductName: fmt.Sprint("product-", i%37)}
		if i%3 == 0 {
			p.OnboardingState = OnboardingOnboarded
			p.VnfdID = fmt.Sprintf("vnfd-%06d", i)
			p.SoftwareImages = JSON(`[{"id":"VDU1","name":"image","size":1024}]`)
		}
		ps[i] = p
	}
	for lo := 0; lo < n; lo += 5000 {
		if err := db.CreatePackages(context.Background(), ps[lo:min(lo+5000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

func collect(t *testing.T, db *DB, after Cursor, batch int, where IndexedFilter) []*Package {
	t.Helper()
	var out []*Package
	_, err := db.ScanPackages(context.Background(), after, batch, where, func(p *Package) (bool, error) {
		out = append(out, p)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScanPackages(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 10000
	ps := fill(t, db, n)

	// Everything, in Seq order, each once.
	all := collect(t, db, Cursor{}, 300, nil)
	if len(all) != n {
		t.Fatalf("scan of all: %d rows", len(all))
	}
	for i, p := range all {
		if p.ID != ps[i].ID || p.Seq != ps[i].Seq || (i > 0 && p.Seq <= all[i-1].Seq) {
			t.Fatalf("row %d: %s seq %d, want %s seq %d", i, p.ID, p.Seq, ps[i].ID, ps[i].Seq)
		}
	}

	// Pushdown: equality, IN, two columns.
	cases := []struct {
		where IndexedFilter
		want  func(i int) bool
	}{
		{Eq(ColVnfProvider, "acme"), func(i int) bool { return i%10 == 0 }},
		{Eq(ColVnfProvider, "acme", "hooli"), func(i int) bool { return i%10 == 0 || i%10 == 4 }},
		{IndexedFilter{ColVnfProvider: {"acme", "hooli"}, ColOnboardingState: {OnboardingOnboarded}},
			func(i int) bool { return (i%10 == 0 || i%10 == 4) && i%3 == 0 }},
		{Eq(ColOnboardingState, OnboardingCreated), func(i int) bool { return i%3 != 0 }},
		{Eq(ColVnfdID, "vnfd-000042", "vnfd-000043", "vnfd-009999"), func(i int) bool { return i == 42 || i == 9999 }},
		{Eq(ColVnfdID, ""), func(i int) bool { return i%3 != 0 }}, // absent attribute
		{Eq(ColID, ps[7].ID, ps[8].ID), func(i int) bool { return i == 7 || i == 8 }},
		{Eq(ColVnfProvider, "nobody"), func(int) bool { return false }},
		{IndexedFilter{ColVnfProvider: {}}, func(int) bool { return false }},
	}
	for _, c := range cases {
		var want []string
		for i, p := range ps {
			if c.want(i) {
				want = append(want, p.ID)
			}
		}
		for _, batch := range []int{1, 7, 256, 20000} {
			got := collect(t, db, Cursor{}, batch, c.where)
			if len(got) != len(want) {
				t.Fatalf("%v batch %d: %d rows, want %d", c.where, batch, len(got), len(want))
			}
			for i := range got {
				if got[i].ID != want[i] {
					t.Fatalf("%v batch %d: row %d is %s, want %s", c.where, batch, i, got[i].ID, want[i])
				}
			}
		}
		if cnt, err := db.CountPackages(ctx, c.where); err != nil || cnt != int64(len(want)) {
			t.Fatalf("CountPackages(%v) = %d, %v; want %d", c.where, cnt, err, len(want))
		}
	}
	if _, err := db.ScanPackages(ctx, Cursor{}, 0, IndexedFilter{"user_defined_data": {"x"}}, nil); !errors.Is(err, ErrBadFilter) {
		t.Fatalf("filter on a non-indexed column: %v", err)
	}
	if _, err := db.ScanPackages(ctx, Cursor{}, 0, IndexedFilter{"vnf_provider; DROP TABLE vnf_packages": {"x"}}, nil); !errors.Is(err, ErrBadFilter) {
		t.Fatalf("filter on a hostile column: %v", err)
	}

	// Stop mid-way, then resume from the cursor's text form: the two
	// halves are exactly the whole.
	where := Eq(ColVnfProvider, "globex", "stark")
	whole := collect(t, db, Cursor{}, 100, where)
	var first []*Package
	cur, err := db.ScanPackages(ctx, Cursor{}, 64, where, func(p *Package) (bool, error) {
		first = append(first, p)
		return len(first) < 777, nil
	})
	if err != nil || len(first) != 777 || cur != first[776].Cursor() {
		t.Fatalf("stopped scan: %d rows, cursor %v, %v", len(first), cur, err)
	}
	parsed, err := ParseCursor(cur.String())
	if err != nil || parsed != cur {
		t.Fatalf("cursor round trip %q: %v %v", cur.String(), parsed, err)
	}
	rest := collect(t, db, parsed, 64, where)
	if len(first)+len(rest) != len(whole) {
		t.Fatalf("resumed scan: %d + %d rows, want %d", len(first), len(rest), len(whole))
	}
	for i, p := range append(first, rest...) {
		if p.ID != whole[i].ID {
			t.Fatalf("resumed scan: row %d differs", i)
		}
	}
	for _, bad := range []string{"", "-1", "zz!", "9999999999999999999999"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}

	// An error from fn stops the scan and is returned.
	boom := errors.New("boom")
	calls := 0
	if _, err := db.ScanPackages(ctx, Cursor{}, 10, nil, func(*Package) (bool, error) { calls++; return true, boom }); err != boom || calls != 1 {
		t.Fatalf("fn error: %v after %d calls", err, calls)
	}
	// A canceled context stops it between batches.
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	_, err = db.ScanPackages(cctx, Cursor{}, 10, nil, func(*Package) (bool, error) { calls++; cancel(); return true, nil })
	if !errors.Is(err, context.Canceled) || calls > 10 {
		t.Fatalf("canceled scan: %v after %d calls", err, calls)
	}
}

// TestScanConcurrentInserts scans (in small batches, resuming from a
// cursor half-way as a pager would) while other goroutines insert packages
// and update existing ones: every package that existed when the scan
// started is seen exactly once, and no package is seen twice.
func TestScanConcurrentInserts(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	pre := fill(t, db, 10000)
	preIDs := make(map[string]bool, len(pre))
	for _, p := range pre {
		preIDs[p.ID] = true
	}

	var stop atomic.Bool
	var inserted atomic.Int64
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				p := &Package{VnfProvider: providers[(i+w)%len(providers)]}
				if err := db.CreatePackage(ctx, p); err != nil {
					t.Error(err)
					return
				}
				inserted.Add(1)
				// Also move old rows around in ways a scan must not mind.
				old := pre[(i*7919+w)%len(pre)]
				if _, err := db.UpdatePackageIf(ctx, old.ID, Any, func(p *Package) error {
					p.UserDefinedData = MustJSON(map[string]int{"touched": i})
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}

	seen := map[string]int{}
	var last Cursor
	page := func(after Cursor) Cursor {
		n := 0
		cur, err := db.ScanPackages(ctx, after, 50, nil, func(p *Package) (bool, error) {
			seen[p.ID]++
			if p.Seq <= last.Seq {
				t.Errorf("seq went back: %d after %d", p.Seq, last.Seq)
			}
			last = p.Cursor()
			n++
			if n%500 == 0 {
				// Make sure rows are inserted while this scan is under way.
				target := inserted.Load() + 2
				for inserted.Load() < target {
					time.Sleep(100 * time.Microsecond)
				}
			}
			return n < 4000, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return cur
	}
	cur := Cursor{}
	for range 5 { // pages of 4000, each a new scan resumed from the cursor
		cur = page(cur)
	}
	stop.Store(true)
	wg.Wait()
	for id := range preIDs {
		if seen[id] != 1 {
			t.Fatalf("pre-existing package %s seen %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("package %s seen %d times", id, n)
		}
	}
	if inserted.Load() == 0 {
		t.Fatal("no concurrent inserts happened")
	}
	t.Logf("%d pre-existing, %d inserted concurrently, %d seen", len(pre), inserted.Load(), len(seen))
}

// TestScanUsesIndexes checks SQLite's plans for the scan queries after
// Optimize: the seq index for a full scan, the (column, seq) index for an
// equality, walked in scan order (no sort), and the selective index when
// there is a choice. (This test is SQLite-specific; the queries are not.)
func TestScanUsesIndexes(t *testing.T) {
	sqliteOnly(t) // EXPLAIN QUERY PLAN
	db := openTest(t)
	fill(t, db, 5000)
	if err := db.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan := func(where IndexedFilter) string {
		q, _, err := where.apply(db.g.Session(&gorm.Session{DryRun: true}).Model(&Package{}))
		if err != nil {
			t.Fatal(err)
		}
		stmt := q.Where("seq > ?", 0).Order("seq").Limit(100).Find(&[]Package{}).Statement
		var rows []struct {
			Detail string
		}
		if err := db.g.Raw("EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, r := range rows {
			parts = append(parts, r.Detail)
		}
		return strings.Join(parts, "; ")
	}
	for _, c := range []struct {
		where     IndexedFilter
		index     string
		allowSort bool // sorting the few rows a selective IN finds is fine
	}{
		{nil, "ux_vnf_packages_seq", false},
		{Eq(ColVnfProvider, "acme"), "ix_vnf_packages_vnf_provider", false},
		{Eq(ColOnboardingState, OnboardingOnboarded), "ix_vnf_packages_onboarding_state", false},
		{IndexedFilter{ColVnfdID: {"vnfd-000003"}, ColUsageState: {UsageNotInUse}}, "ix_vnf_packages_vnfd_id", false},
		{IndexedFilter{ColVnfdID: {"vnfd-000003", "vnfd-000006"}, ColOnboardingState: {OnboardingOnboarded}}, "ix_vnf_packages_vnfd_id", true},
	} {
		p := plan(c.where)
		if !strings.Contains(p, c.index) || (!c.allowSort && strings.Contains(p, "TEMP B-TREE")) {
			t.Errorf("%v: plan %q, want index %s (sort allowed: %v)", c.where, p, c.index, c.allowSort)
		}
	}
}

// TestPackageColumns keeps the hand-written scan list in step with the
// model: every column once, in the order of scanDest's pointers.
func TestPackageColumns(t *testing.T) {
	db := openTest(t)
	stmt := &gorm.Statement{DB: db.g}
	if err := stmt.Parse(&Package{}); err != nil {
		t.Fatal(err)
	}
	model := map[string]bool{}
	for _, c := range stmt.Schema.DBNames {
		model[c] = true
	}
	seen := map[string]bool{}
	for _, c := range packageColumns {
		if !model[c] || seen[c] {
			t.Errorf("scan column %q: in model %v, repeated %v", c, model[c], seen[c])
		}
		seen[c] = true
	}
	if len(packageColumns) != len(model) {
		t.Errorf("scan reads %d columns, the model has %d: %v", len(packageColumns), len(model), stmt.Schema.DBNames)
	}
	// Each pointer goes to the field of its column.
	p := &Package{}
	dest := p.scanDest()
	if len(dest) != len(packageColumns) {
		t.Fatalf("%d destinations for %d columns", len(dest), len(packageColumns))
	}
	rv := reflect.ValueOf(p).Elem()
	for i, c := range packageColumns {
		f := stmt.Schema.LookUpField(c)
		if want := rv.FieldByName(f.Name).Addr().Interface(); reflect.ValueOf(want).Pointer() != reflect.ValueOf(dest[i]).Pointer() {
			t.Errorf("column %s is read into the wrong field", c)
		}
	}
	// And a full round trip through the hand-written scan keeps every field.
	now := time.Now().UTC()
	key := "packages/x/content-1"
	in := &Package{VnfdID: "d", VnfProvider: "p", VnfProductName: "n", VnfSoftwareVersion: "s", VnfdVersion: "v",
		OnboardingState: OnboardingOnboarded, OperationalState: OperationalEnabled, UsageState: UsageInUse,
		PackageSecurityOption: "OPTION_1", SigningCertificate: "cert",
		Checksum: JSON(`{"a":1}`), SoftwareImages: JSON(`[1]`), AdditionalArtifacts: JSON(`[2]`), UserDefinedData: JSON(`{"u":3}`),
		OnboardingFailureDetails: JSON(`{"f":4}`), CompatibleSpecificationVersions: JSON(`["2.6.1"]`), VnfmInfo: JSON(`["x"]`),
		ContentKey: &key, ContentSize: 7, ContentChecksum: "sha-256:ab", ContentETag: `"ab"`, ContentUploadedAt: &now}
	mustCreate(t, db, in)
	out := collect(t, db, Cursor{}, 0, nil)[0]
	if !reflect.DeepEqual(normalizeTimes(in), normalizeTimes(out)) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
}

func normalizeTimes(p *Package) Package {
	c := *p
	c.CreatedAt = c.CreatedAt.Round(0).UTC()
	c.UpdatedAt = c.UpdatedAt.Round(0).UTC()
	if c.ContentUploadedAt != nil {
		t := c.ContentUploadedAt.Round(0).UTC()
		c.ContentUploadedAt = &t
	}
	return c
}

// TestPostgresFilterUsesTrigramIndex checks PostgreSQL's plan for JSON
// member conditions on shaped data: indexes find the candidate rows (the
// trigram and escape indexes for cont, the jsonb_path_ops and irregular
// ones for eq), rather than a scan of every row.
func TestPostgresFilterUsesTrigramIndex(t *testing.T) {
	if testPG == nil {
		t.Skip("PostgreSQL-specific; runs in the PostgreSQL pass")
	}
	db := openTest(t)
	if err := fillShaped(db, 20000); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	// eq on a member: the jsonb_path_ops index and the index of irregular
	// documents (migrations 5 and 7); cont: the trigram and escape indexes.
	for _, c := range []struct {
		cond    Cond
		indexes []string
	}{
		{Cond{Column: ColUserDefinedData, Path: []string{"owner"}, Op: OpEq, Values: []string{"nobody"}}, []string{"_jsonb", "_irregular"}},
		{Cond{Column: ColUserDefinedData, Path: []string{"owner"}, Op: OpCont, Values: []string{"special"}}, []string{"_trgm", "_escaped"}},
		{Cond{Column: ColSoftwareImages, Path: []string{"diskFormat"}, Op: OpEq, Values: []string{"RAW"}}, []string{"_jsonb", "_irregular"}},
	} {
		// ToSQL inlines the arguments: gorm reads a Raw with an '@' (the
		// jsonpath operator @@) and arguments as named ones.
		query := db.g.ToSQL(func(tx *gorm.DB) *gorm.DB {
			q, _, err := Where{c.cond}.apply(tx.Model(&Package{}).Select("seq"))
			if err != nil {
				t.Fatal(err)
			}
			return q.Where("seq > ?", 0).Order("seq").Limit(101).Find(&[]int64{})
		})
		var lines []string
		if err := db.g.Raw("EXPLAIN " + query).Scan(&lines).Error; err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		// By index name: the stored columns (migration 7) are named with
		// the same suffixes, and appear in any plan's filter.
		ix := " on ix_vnf_packages_" + string(c.cond.Column)
		if !strings.Contains(plan, ix+c.indexes[0]) || !strings.Contains(plan, ix+c.indexes[1]) {
			t.Errorf("%s %s %s: plan without the indexes %v:\n%s", c.cond.Column, c.cond.Op, c.cond.Values, c.indexes, plan)
		}
	}
}
