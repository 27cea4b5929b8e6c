package vnfpkgm

// This file is the configuration of the storage engines: PostgreSQL
// through --database postgres://..., and the S3 blob store through
// --blob-store s3://....

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

// StorageConfig chooses the blob store beyond the default directory.
type StorageConfig struct {
	// BlobStore is "" for the filesystem store in BlobDir, or
	// s3://bucket/prefix?endpoint=URL&region=R[&path-style=false].
	BlobStore string
	// S3PartSize is the part size of S3 multipart uploads: the memory
	// each upload in progress holds.
	S3PartSize int64
	// S3CredentialsFile is an AWS shared credentials file; "" for the
	// standard AWS variables and files. S3Profile is its section.
	S3CredentialsFile, S3Profile string
	// S3StaleUpload: an unfinished S3 upload without a new part for this
	// long is taken for one whose process died, and aborted by the sweep.
	S3StaleUpload time.Duration
}

func defaultStorageConfig() StorageConfig {
	return StorageConfig{S3PartSize: blob.DefaultS3PartSize, S3StaleUpload: time.Hour}
}

func (c *StorageConfig) registerFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.BlobStore, "blob-store", c.BlobStore, "s3://bucket/prefix?endpoint=URL&region=R to keep package blobs in S3 (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or --s3-credentials-file); default: the directory --blob-dir")
	fs.Int64Var(&c.S3PartSize, "s3-part-size", c.S3PartSize, "S3 multipart upload part size in bytes, 5 MiB to 5 GiB (the memory an upload holds; an object has at most 10000 parts)")
	fs.StringVar(&c.S3CredentialsFile, "s3-credentials-file", c.S3CredentialsFile, "AWS shared credentials file for the S3 blob store (default: the AWS variables, then ~/.aws/credentials)")
	fs.StringVar(&c.S3Profile, "s3-profile", c.S3Profile, "section of the S3 credentials file (default AWS_PROFILE or default)")
	fs.DurationVar(&c.S3StaleUpload, "s3-stale-upload", c.S3StaleUpload, "an unfinished S3 upload without a new part for this long is aborted by the sweep")
}

func (c StorageConfig) validate() error {
	if c.BlobStore == "" {
		return nil
	}
	_, err := c.s3Config()
	return err
}

func (c StorageConfig) s3Config() (blob.S3Config, error) {
	cfg, err := blob.ParseS3URL(c.BlobStore)
	if err != nil {
		return cfg, err
	}
	if c.S3PartSize < blob.MinS3PartSize || c.S3PartSize > blob.MaxS3PartSize {
		return cfg, fmt.Errorf("s3-part-size must be between %d and %d bytes, not %d", blob.MinS3PartSize, int64(blob.MaxS3PartSize), c.S3PartSize)
	}
	if c.S3StaleUpload <= 0 {
		return cfg, fmt.Errorf("s3-stale-upload must be positive, not %s", c.S3StaleUpload)
	}
	cfg.PartSize, cfg.StaleUpload = c.S3PartSize, c.S3StaleUpload
	cfg.CredentialsFile, cfg.Profile = c.S3CredentialsFile, c.S3Profile
	return cfg, nil
}

// openBlobStore opens the blob store cfg names.
func (c Config) openBlobStore(ctx context.Context) (blob.Store, error) {
	if c.BlobStore == "" {
		s, err := blob.NewFS(c.BlobDir)
		if err != nil {
			return nil, fmt.Errorf("blob store %s: %w", c.BlobDir, err)
		}
		return s, nil
	}
	cfg, err := c.s3Config()
	if err != nil {
		return nil, err
	}
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", c.BlobStore, err)
	}
	return s, nil
}

// databaseName is the database for messages: a PostgreSQL URL without
// its password.
func (c Config) databaseName() string {
	if storage.IsPostgresDSN(c.Database) {
		return storage.RedactDSN(c.Database)
	}
	return c.Database
}
