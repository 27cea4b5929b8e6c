package vnfpkgm

import (
	"strings"
	"testing"
)

func TestStorageFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	cfg, err := ParseConfig([]string{"--blob-store", "s3://bkt/pkgs?endpoint=http://127.0.0.1:9000&region=eu-west-1",
		"--s3-part-size", "8388608", "--database", "postgres://vnfpkgm:s3cret@db.example:5432/vnfpkgm"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := cfg.s3Config()
	if err != nil || s3.Bucket != "bkt" || s3.Prefix != "pkgs" || s3.PartSize != 8<<20 || s3.Region != "eu-west-1" {
		t.Fatalf("%+v %v", s3, err)
	}
	if name := cfg.databaseName(); strings.Contains(name, "s3cret") || !strings.Contains(name, "db.example") {
		t.Fatalf("database named %q", name)
	}
	for _, args := range [][]string{
		{"--blob-store", "s3://bkt?endpoint=http://h:1", "--s3-part-size", "1024"},
		{"--blob-store", "s3://bkt?endpoint=http://h:1", "--s3-stale-upload", "0s"},
		{"--blob-store", "s3://bkt?bucket-size=1"},
		{"--blob-store", "/var/lib/blobs"},
	} {
		if _, err := ParseConfig(args, noEnv); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	def, err := ParseConfig(nil, noEnv)
	if err != nil || def.BlobStore != "" || def.S3PartSize != 16<<20 {
		t.Fatalf("defaults: %+v %v", def.StorageConfig, err)
	}
}
