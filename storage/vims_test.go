package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestVIMDefault(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	c := useClock(db)
	a := &VIM{Name: "a", Type: "local"}
	if err := db.CreateVIM(ctx, a); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Second)
	b := &VIM{Name: "b", Type: "local"}
	if err := db.CreateVIM(ctx, b); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Second)
	d := &VIM{Name: "d", Type: "local", IsDefault: true}
	if err := db.CreateVIM(ctx, d); err != nil {
		t.Fatal(err)
	}
	defaults := func() []string {
		vs, err := db.ListVIMs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			if v.IsDefault {
				out = append(out, v.Name)
			}
		}
		return out
	}
	if got := defaults(); len(got) != 1 || got[0] != "d" {
		t.Fatalf("defaults %v, want [d]", got)
	}
	if _, err := db.DeleteVIM(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if got := defaults(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("defaults after deleting the default %v, want [a]", got)
	}
}

func TestVIMComputeUsageState(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalEnabled, UsageState: UsageNotInUse, VnfdID: "v1"})
	v := &VIM{Name: "a", Type: "local"}
	if err := db.CreateVIM(ctx, v); err != nil {
		t.Fatal(err)
	}
	usage := func() string {
		got, err := db.GetPackage(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.UsageState
	}
	expect := Expect{OnboardingState: []string{OnboardingOnboarded}}
	c1 := &VIMCompute{VimID: v.ID, PackageID: p.ID, VduID: "VDU1"}
	c2 := &VIMCompute{VimID: v.ID, PackageID: p.ID, VduID: "VDU1"}
	for _, c := range []*VIMCompute{c1, c2} {
		if err := db.ReserveVIMCompute(ctx, c, expect); err != nil {
			t.Fatal(err)
		}
	}
	if u := usage(); u != UsageInUse {
		t.Fatalf("usage with compute %s", u)
	}
	_, err := db.DeleteVIM(ctx, v.ID)
	var inUse *ComputeInUseError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &inUse) || !slices.Equal(inUse.ComputeIDs, []string{c1.ID, c2.ID}) {
		t.Fatalf("deleting a VIM with compute: %v, want a ComputeInUseError naming %s and %s", err, c1.ID, c2.ID)
	}
	if err := db.DeleteVIMCompute(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	if u := usage(); u != UsageInUse {
		t.Fatalf("usage with one compute left %s", u)
	}
	if err := db.DeleteVIMCompute(ctx, c2.ID); err != nil {
		t.Fatal(err)
	}
	if u := usage(); u != UsageNotInUse {
		t.Fatalf("usage after the last compute %s", u)
	}
	// A package in the wrong state gets no compute and stays as it was.
	bad := Expect{OnboardingState: []string{OnboardingCreated}}
	if err := db.ReserveVIMCompute(ctx, &VIMCompute{VimID: v.ID, PackageID: p.ID}, bad); !errors.Is(err, ErrConflict) {
		t.Fatalf("reserve with a failing precondition: %v", err)
	}
	if u := usage(); u != UsageNotInUse {
		t.Fatalf("usage after a refused reservation %s", u)
	}
	// Image records: one per (VIM, package, image).
	im := &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU1", VimImageID: "x"}
	if err := db.CreateVIMImage(ctx, im); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateVIMImage(ctx, &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU1", VimImageID: "y"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate image record: %v, want ErrConflict", err)
	}
}

// TestReleasePackageImages: the image records of a deleted package are
// orphaned and returned, with whether another package's record names the
// same VIM image; no record can be created for a package that is gone.
func TestReleasePackageImages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	onboarded := func(vnfdID string) *Package {
		return mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse, VnfdID: vnfdID})
	}
	p, other := onboarded("v1"), onboarded("v2")
	v := &VIM{Name: "a", Type: "local"}
	if err := db.CreateVIM(ctx, v); err != nil {
		t.Fatal(err)
	}
	own := &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU1", VimImageID: "own"}
	common := &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU2", VimImageID: "common"}
	otherCommon := &VIMImage{VimID: v.ID, PackageID: other.ID, SoftwareImageID: "VDU1", VimImageID: "common"}
	for _, im := range []*VIMImage{own, common, otherCommon} {
		if err := db.CreateVIMImage(ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.DeletePackage(ctx, p.ID, Any); err != nil {
		t.Fatal(err)
	}
	// The deletion itself orphans the records (a crash before the release
	// leaves them to the sweep), and lists the package for it.
	recs, err := db.ListVIMImages(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Orphaned != (r.PackageID == p.ID) {
			t.Fatalf("after the deletion: %+v", recs)
		}
	}
	if ids, err := db.PackagesWithOrphanedImages(ctx); err != nil || !slices.Equal(ids, []string{p.ID}) {
		t.Fatalf("packages with orphaned images: %v %v, want [%s]", ids, err, p.ID)
	}
	images, shared, err := db.ReleasePackageImages(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 || images[0].ID != own.ID || images[1].ID != common.ID || !images[0].Orphaned || !images[1].Orphaned {
		t.Fatalf("released %+v, want %s and %s orphaned", images, own.ID, common.ID)
	}
	if !slices.Equal(shared, []bool{false, true}) {
		t.Fatalf("shared = %v, want [false true]", shared)
	}
	if err := db.DeleteOrphanedVIMImage(ctx, own.ID); err != nil {
		t.Fatal(err)
	}
	// Only orphaned records go that way.
	if err := db.DeleteOrphanedVIMImage(ctx, otherCommon.ID); err != nil {
		t.Fatal(err)
	}
	left, err := db.ListVIMImages(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].ID != common.ID || !left[0].Orphaned || left[1].ID != otherCommon.ID || left[1].Orphaned {
		t.Fatalf("records left %+v, want %s orphaned and %s", left, common.ID, otherCommon.ID)
	}
	late := &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU3", VimImageID: "late"}
	if err := db.CreateVIMImage(ctx, late); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an image record for a deleted package: %v, want ErrNotFound", err)
	}
	// The other package goes too while the first one's record of the
	// common image is still there, orphaned: that record does not keep the
	// image (else each deletion would leave it to the other, and no one
	// would remove it from the VIM).
	if _, err := db.DeletePackage(ctx, other.ID, Any); err != nil {
		t.Fatal(err)
	}
	images, shared, err = db.ReleasePackageImages(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 || images[0].ID != otherCommon.ID || !slices.Equal(shared, []bool{false}) {
		t.Fatalf("released %+v shared %v, want %s not shared", images, shared, otherCommon.ID)
	}
}

// TestVIMImageLeftInVIM: an orphaned record whose VIM cannot delete
// images is marked left for good: kept and listed with its reason, and
// no longer handed to the sweep nor to a release.
func TestVIMImageLeftInVIM(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	p := mustCreate(t, db, &Package{OnboardingState: OnboardingOnboarded, OperationalState: OperationalDisabled, UsageState: UsageNotInUse, VnfdID: "v1"})
	v := &VIM{Name: "kv", Type: "kubevim"}
	if err := db.CreateVIM(ctx, v); err != nil {
		t.Fatal(err)
	}
	im := &VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: "VDU1", VimImageID: "kv-1"}
	if err := db.CreateVIMImage(ctx, im); err != nil {
		t.Fatal(err)
	}
	// A live record is not marked.
	if err := db.MarkVIMImageLeft(ctx, im.ID, "cannot delete"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetVIMImage(ctx, v.ID, im.ID); got.LeftInVIM != "" {
		t.Fatalf("a live record marked left: %+v", got)
	}
	if _, err := db.DeletePackage(ctx, p.ID, Any); err != nil {
		t.Fatal(err)
	}
	if images, _, err := db.ReleasePackageImages(ctx, p.ID); err != nil || len(images) != 1 {
		t.Fatalf("released %v %v", images, err)
	}
	long := strings.Repeat("é", 600) // 1200 bytes: cut to the column
	if err := db.MarkVIMImageLeft(ctx, im.ID, long); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetVIMImage(ctx, v.ID, im.ID)
	if err != nil || !got.Orphaned || len(got.LeftInVIM) > 1024 || !strings.HasPrefix(got.LeftInVIM, "éé") || !strings.HasSuffix(got.LeftInVIM, "...") || !utf8.ValidString(got.LeftInVIM) {
		t.Fatalf("left record %+v %v", got, err)
	}
	if ids, err := db.PackagesWithOrphanedImages(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("packages with orphaned images: %v %v, want none (the record is left for good)", ids, err)
	}
	if images, _, err := db.ReleasePackageImages(ctx, p.ID); err != nil || len(images) != 0 {
		t.Fatalf("released again %v %v, want nothing", images, err)
	}
	if list, err := db.ListVIMImages(ctx, v.ID); err != nil || len(list) != 1 || list[0].LeftInVIM == "" {
		t.Fatalf("listed %+v %v", list, err)
	}
}
