package vnfpkgm

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// propertySeed fixes the random packages and filters of
// TestWhereAgreesWithGoEvaluator, so that a failure reproduces.
const propertySeed = 20261204

// TestWhereAgreesWithGoEvaluator is the property test of the SQL filter
// compiler: random filters (every operator, nested paths, arrays, arrays
// of arrays, missing members, odd keys, numbers, strings, booleans) over
// random packages, run through the database (pushdown, storage.Where) and
// through the reference evaluator (sol013 Match on the filter view): the
// database must return exactly the packages the evaluator accepts, given
// the terms it evaluates (storage.DB.Evaluates; the rare others are left
// to the list handler, and the test makes sure some are generated).
func TestWhereAgreesWithGoEvaluator(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { whereAgreesWithGoEvaluator(t, filepath.Join(t.TempDir(), "property.db")) })
	t.Run("postgres", func(t *testing.T) {
		whereAgreesWithGoEvaluator(t, testenv.Postgres(t).Database(t))
	})
}

func whereAgreesWithGoEvaluator(t *testing.T, dsn string) {
	const packages, filters = 300, 400
	rng := rand.New(rand.NewPCG(propertySeed, 1))
	db, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	ps := make([]*storage.Package, packages)
	for i := range ps {
		ps[i] = randomPackage(rng)
	}
	if err := db.CreatePackages(ctx, ps); err != nil {
		t.Fatal(err)
	}
	var matched, pushed, left int
	for k := range filters {
		f := randomFilter(rng)
		where := pushdown(f)
		pushed += len(where)
		got := map[string]bool{}
		if _, err := db.ScanPackages(ctx, storage.Cursor{}, 64, where, func(p *storage.Package) (bool, error) {
			got[p.ID] = true
			return true, nil
		}); err != nil {
			t.Fatalf("seed %d, filter %d %s: %v", propertySeed, k, f, err)
		}
		// The reference: the terms the database evaluates (it leaves the
		// others, e.g. a value that is not UTF-8, to the list handler).
		ref := &sol013.Filter{}
		for _, term := range f.Terms {
			if c := pushdown(&sol013.Filter{Terms: []sol013.Term{term}}); len(c) == 1 && db.Evaluates(c[0]) {
				ref.Terms = append(ref.Terms, term)
			} else {
				left++
			}
		}
		view := newFilterView(f)
		for _, p := range ps {
			v := view.of(p)
			want := ref.Match(v)
			switch {
			case want && !got[p.ID]:
				t.Fatalf("seed %d, filter %d %s: the database drops package %s that matches:\n%s", propertySeed, k, f, p.ID, describe(v))
			case !want && got[p.ID]:
				t.Fatalf("seed %d, filter %d %s: the database returns package %s that does not match:\n%s", propertySeed, k, f, p.ID, describe(v))
			case want:
				matched++
			}
		}
	}
	t.Logf("seed %d: %d filters, %d terms pushed down, %d left to the evaluator, %d matches", propertySeed, filters, pushed, left, matched)
	if matched == 0 || left == 0 {
		t.Fatalf("seed %d: the generator is too narrow: nothing matches", propertySeed)
	}
}

func describe(v map[string]any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// Pools the generators draw from: keys with characters JSON paths must
// quote (and a '"', which SQLite's path syntax cannot always name),
// strings that look like numbers, booleans or quoting, numbers of every
// JSON form (one beyond float64's range).
var (
	keyPool    = []string{"owner", "site", "a.b", "x[0]", "n", "flag", "tags", "deep", `q"k`, "é", "$", "*"}
	stringPool = []string{"a", "b", "ab", "A", "", "x,y", "it's", "1", "2.5", "true", "FALSE", "é", `a"b`, "[", "team-7"}
	numberPool = []string{"0", "1", "-3", "2.5", "100", "1e2", "-0.5", "12345678901234567890", "1e400", "9007199254740993"}
	valuePool  = []string{"a", "b", "ab", "A", "", "x,y", "it's", "1", "2.5", "-3", "100", "1e2", "0", "true", "TRUE", "False", "NaN", "Inf", "é", "[", "team", "QCOW2", "RAW", "SHA-256", `a"b`, "9007199254740992", "\xa9"}
	ops        = []sol013.Op{sol013.Eq, sol013.Neq, sol013.Gt, sol013.Lt, sol013.Gte, sol013.Lte, sol013.In, sol013.Nin, sol013.Cont, sol013.Ncont}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// randomJSON is a random JSON value, as Go values ready for MustJSON;
// json.Number keeps the number's text as written.
func randomJSON(rng *rand.Rand, depth int) any {
	switch r := rng.IntN(12); {
	case r < 3:
		return pick(rng, stringPool)
	case r < 5:
		return json.Number(pick(rng, numberPool))
	case r < 6:
		return rng.IntN(2) == 0
	case r < 7:
		return nil
	case r < 9 && depth > 0:
		return randomObject(rng, depth-1)
	case depth > 0:
		a := make([]any, rng.IntN(4))
		for i := range a {
			if rng.IntN(8) == 0 {
				a[i] = []any{randomJSON(rng, 0), randomObject(rng, 0)} // an array in an array
			} else {
				a[i] = randomJSON(rng, depth-1)
			}
		}
		return a
	}
	return pick(rng, stringPool)
}

func randomObject(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range rng.IntN(4) {
		m[pick(rng, keyPool)] = randomJSON(rng, depth)
	}
	return m
}

func randomPackage(rng *rand.Rand) *storage.Package {
	p := &storage.Package{
		VnfProvider:     pick(rng, []string{"", "a", "b", "ab", "Acme", "1"}),
		VnfProductName:  pick(rng, []string{"", "a", "vFW, edge", "it's"}),
		OnboardingState: pick(rng, []string{"CREATED", "ONBOARDED", "ERROR"}),
	}
	if rng.IntN(4) > 0 {
		p.UserDefinedData = storage.MustJSON(randomObject(rng, 3))
	}
	if rng.IntN(3) > 0 {
		images := make([]any, rng.IntN(3))
		for i := range images {
			images[i] = map[string]any{
				"diskFormat": pick(rng, []string{"QCOW2", "RAW", "VMDK"}), "size": json.Number(pick(rng, numberPool)),
				"isEncrypted": rng.IntN(2) == 0, "checksum": map[string]any{"algorithm": "SHA-256", "hash": pick(rng, stringPool)},
				"userMetadata": randomObject(rng, 1),
			}
		}
		p.SoftwareImages = storage.MustJSON(images)
	}
	if rng.IntN(2) == 0 {
		p.Checksum = storage.MustJSON(map[string]any{"algorithm": pick(rng, []string{"SHA-256", "SHA-512"}), "hash": pick(rng, stringPool)})
	}
	if rng.IntN(2) == 0 {
		p.VnfmInfo = storage.MustJSON([]any{pick(rng, stringPool), pick(rng, stringPool)})
	}
	if rng.IntN(3) == 0 { // JSON null stored: an absent attribute
		p.CompatibleSpecificationVersions = storage.JSON("null")
	}
	return p
}

var attrTemplates = []func(rng *rand.Rand) string{
	func(rng *rand.Rand) string {
		return pick(rng, []string{"vnfProvider", "vnfProductName", "onboardingState", "vnfdId", "vnfProvider/x", "compatibleSpecificationVersions"})
	},
	func(rng *rand.Rand) string {
		keys := []string{"userDefinedData"}
		for range 1 + rng.IntN(3) {
			keys = append(keys, pick(rng, keyPool))
		}
		return strings.Join(keys, "/")
	},
	func(rng *rand.Rand) string { return "userDefinedData" },
	func(rng *rand.Rand) string {
		return "softwareImages/" + pick(rng, []string{"diskFormat", "size", "isEncrypted", "checksum/hash", "userMetadata/" + pick(rng, keyPool), "missing"})
	},
	func(rng *rand.Rand) string {
		return pick(rng, []string{"checksum/algorithm", "checksum/hash", "vnfmInfo"})
	},
}

func randomFilter(rng *rand.Rand) *sol013.Filter {
	f := &sol013.Filter{}
	for range 1 + rng.IntN(2) {
		op := pick(rng, ops)
		n := 1
		if !op.SingleValued() {
			n = 1 + rng.IntN(3)
		}
		pool := valuePool
		if rng.IntN(4) == 0 { // booleans are rare in valuePool
			pool = []string{"true", "TRUE", "False", "fAlSe", "1"}
		}
		values := make([]string, n)
		for i := range values {
			values[i] = pick(rng, pool)
		}
		attr := pick(rng, attrTemplates)(rng)
		term, err := sol013.NewTerm(op, attr, values...)
		if err != nil {
			panic(fmt.Sprintf("seed %d: %s %s %q: %v", propertySeed, op, attr, values, err))
		}
		f.Terms = append(f.Terms, term)
	}
	return f
}

// TestPushdownCoversEveryColumn: every attribute the filter view can see
// in a column is pushed down (a missing entry would silently fall back to
// scanning every row in Go).
func TestPushdownCoversEveryColumn(t *testing.T) {
	for attr := range jsonColumns {
		if _, ok := attrColumns[attr]; !ok {
			t.Errorf("JSON attribute %s is not pushed down", attr)
		}
	}
	p := &storage.Package{ID: "i", VnfdID: "v", VnfProvider: "p", VnfProductName: "n", VnfSoftwareVersion: "s", VnfdVersion: "d",
		PackageSecurityOption: "o", SigningCertificate: "c", OnboardingState: "x", OperationalState: "y", UsageState: "z"}
	for _, attr := range pkgSchema.FieldNames() {
		_, isJSON := jsonColumns[attr]
		if _, ok := attrColumns[attr]; !ok && (isJSON || scalarAttr(p, attr) != "") {
			t.Errorf("attribute %s is not pushed down", attr)
		}
	}
}

// TestListerItemEqualsSelectedRepresentation: leaving out the columns of
// attributes the selector drops whole changes nothing in a list item.
func TestListerItemEqualsSelectedRepresentation(t *testing.T) {
	p := &storage.Package{
		ID: "0b5ae7a4-4c8a-4c5e-9f6b-7e0a3f0e2d11", VnfdID: "vnfd-1", VnfProvider: "Acme", OnboardingState: "ONBOARDED",
		OperationalState: "ENABLED", UsageState: "NOT_IN_USE",
		Checksum:                        storage.MustJSON(Checksum{Algorithm: "SHA-256", Hash: "ab"}),
		SoftwareImages:                  storage.MustJSON([]SoftwareImageInfo{{ID: "VDU1", DiskFormat: "QCOW2", Size: 1 << 30}}),
		AdditionalArtifacts:             storage.MustJSON([]ArtifactInfo{{ArtifactPath: "Scripts/install.sh"}}),
		UserDefinedData:                 storage.MustJSON(map[string]any{"owner": "nfvo", "n": 7}),
		VnfmInfo:                        storage.MustJSON([]string{"Tacker"}),
		CompatibleSpecificationVersions: storage.MustJSON([]string{"2.6.1"}),
		OnboardingFailureDetails:        storage.MustJSON(map[string]any{"status": 422, "detail": "x"}),
	}
	for _, query := range []string{"", "all_fields", "exclude_default", "fields=softwareImages/diskFormat,userDefinedData",
		"fields=checksum&exclude_default", "exclude_fields=vnfmInfo,onboardingFailureDetails/detail", "exclude_fields=softwareImages"} {
		q, err := sol013.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		sel, err := sol013.ParseSelector(q, defaultExcluded, "onboardingState", "operationalState", "usageState")
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		got, ok := newLister(nil, sel, "http://h").item(p)
		want := sel.Apply(asMap(toInfo(p, "http://h")))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", query, got, want)
		}
	}
}
