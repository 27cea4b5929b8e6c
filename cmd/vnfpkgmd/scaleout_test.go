package main_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// TestPostgresAndS3 runs vnfpkgmd on PostgreSQL and an S3 blob store
// (versitygw): a package onboards, its content and a range of it come
// back byte for byte, an artifact is read out of the stored zip, a filter
// on userDefinedData is evaluated by PostgreSQL, and deleting the package
// deletes its object from the bucket.
func TestPostgresAndS3(t *testing.T) {
	dsn := testenv.Postgres(t).Database(t)
	s3 := testenv.VersityGW(t)
	ctx := context.Background()
	admin, err := minio.New(strings.TrimPrefix(s3.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s3.Access, s3.Secret, ""), Region: s3.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.MakeBucket(ctx, "packages", minio.MakeBucketOptions{Region: s3.Region}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", s3.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.Secret)
	s := startServer(t, "", "--database", dsn, "--blob-store", "s3://packages/vnfpkgm?endpoint="+s3.Endpoint)

	hw := corpusFile(t, "helloworld3-multi.zip")
	whole, err := os.ReadFile(hw)
	if err != nil {
		t.Fatal(err)
	}
	id, info := s.onboard(t, hw)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("onboarding on PostgreSQL and S3: %v\n%s", info, s.log)
	}
	content := pkgs + "/" + id + "/package_content"
	r := s.do("GET", content, nil)
	expectStatus(t, r, 200)
	if !bytes.Equal(r.body, whole) {
		t.Fatalf("content: %d bytes, want %d", len(r.body), len(whole))
	}
	r = s.do("GET", content, nil, "Range", "bytes=1000-100999")
	expectStatus(t, r, 206)
	if !bytes.Equal(r.body, whole[1000:101000]) {
		t.Fatalf("range: %d bytes", len(r.body))
	}
	zr, _ := zip.NewReader(bytes.NewReader(whole), int64(len(whole)))
	f, _ := zr.Open("Scripts/install.sh")
	script, _ := io.ReadAll(f)
	r = s.do("GET", pkgs+"/"+id+"/artifacts/Scripts/install.sh", nil)
	expectStatus(t, r, 200)
	if !bytes.Equal(r.body, script) {
		t.Fatalf("artifact: %q, want %q", r.body, script)
	}

	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"userDefinedData":{"team":"nfv"}}`), "Content-Type", "application/merge-patch+json"), 200)
	for filter, want := range map[string]int{"(eq,userDefinedData/team,nfv)": 1, "(eq,userDefinedData/team,other)": 0} {
		var list []map[string]any
		r = s.do("GET", pkgs+"?filter="+url.QueryEscape(filter), nil)
		expectStatus(t, r, 200)
		r.json(t, &list)
		if len(list) != want {
			t.Fatalf("filter %s: %d packages, want %d", filter, len(list), want)
		}
	}

	objects := func() int {
		n := 0
		for oi := range admin.ListObjects(ctx, "packages", minio.ListObjectsOptions{Prefix: "vnfpkgm/", Recursive: true}) {
			if oi.Err != nil {
				t.Fatal(oi.Err)
			}
			n++
		}
		return n
	}
	if n := objects(); n != 1 {
		t.Fatalf("%d objects in the bucket, want the package's content", n)
	}
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil), 204)
	if n := objects(); n != 0 {
		t.Fatalf("%d objects left after deleting the package", n)
	}
	if strings.Contains(s.log.String(), s3.Secret) {
		t.Fatal("the server logged the S3 secret")
	}
}
