package storage

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Values of the SOL 005 state columns as stored.
const (
	OnboardingCreated    = "CREATED"
	OnboardingUploading  = "UPLOADING"
	OnboardingProcessing = "PROCESSING"
	OnboardingOnboarded  = "ONBOARDED"
	OnboardingError      = "ERROR"

	OperationalEnabled  = "ENABLED"
	OperationalDisabled = "DISABLED"

	UsageInUse    = "IN_USE"
	UsageNotInUse = "NOT_IN_USE"
)

// Package is one VNF package: the facts of its SOL 005 VnfPkgInfo and where
// its uploaded content is. The columns that lists filter or sort on often
// are real, indexed columns; the nested parts of VnfPkgInfo are JSON
// documents the SOL 005 layer encodes and decodes (storage never looks
// inside them).
//
// Empty strings stand for absent attributes (a package in CREATED has no
// vnfdId yet). Seq, OnboardedVnfdID, Revision, CreatedAt and UpdatedAt are
// kept by the repository; what callers set there is ignored.
type Package struct {
	// ID is the package id (a UUID string), chosen by CreatePackage when empty.
	ID string `gorm:"primaryKey;size:36"`
	// Seq increases with every package created, in commit order: the
	// paging order of ScanPackages.
	Seq int64 `gorm:"not null;uniqueIndex:ux_vnf_packages_seq;index:ix_vnf_packages_vnfd_id,priority:2;index:ix_vnf_packages_vnf_provider,priority:2;index:ix_vnf_packages_vnf_product_name,priority:2;index:ix_vnf_packages_vnf_software_version,priority:2;index:ix_vnf_packages_vnfd_version,priority:2;index:ix_vnf_packages_onboarding_state,priority:2;index:ix_vnf_packages_operational_state,priority:2;index:ix_vnf_packages_usage_state,priority:2"`
	// Revision is incremented by every update: UpdatePackageIf and
	// DeletePackage use it for compare-and-set.
	Revision int64 `gorm:"not null"`

	VnfdID             string `gorm:"size:255;not null;index:ix_vnf_packages_vnfd_id,priority:1"`
	VnfProvider        string `gorm:"size:255;not null;index:ix_vnf_packages_vnf_provider,priority:1"`
	VnfProductName     string `gorm:"size:255;not null;index:ix_vnf_packages_vnf_product_name,priority:1"`
	VnfSoftwareVersion string `gorm:"size:255;not null;index:ix_vnf_packages_vnf_software_version,priority:1"`
	VnfdVersion        string `gorm:"size:255;not null;index:ix_vnf_packages_vnfd_version,priority:1"`
	OnboardingState    string `gorm:"size:16;not null;index:ix_vnf_packages_onboarding_state,priority:1"`
	OperationalState   string `gorm:"size:16;not null;index:ix_vnf_packages_operational_state,priority:1"`
	UsageState         string `gorm:"size:16;not null;index:ix_vnf_packages_usage_state,priority:1"`
	// OnboardedVnfdID equals VnfdID while the package is ONBOARDED and is
	// NULL otherwise. Its unique index makes a vnfdId unique among
	// onboarded packages (NULLs never collide), and serves the SOL 003
	// lookup of an onboarded package by vnfdId.
	OnboardedVnfdID *string `gorm:"size:255;uniqueIndex:ux_vnf_packages_onboarded_vnfd_id"`

	// PackageSecurityOption is OPTION_1 or OPTION_2 (or empty).
	PackageSecurityOption string `gorm:"size:16;not null"`
	// SigningCertificate is the certificate text (or empty).
	SigningCertificate string `gorm:"type:text;not null"`

	// JSON documents of VnfPkgInfo (NULL when absent).
	Checksum                        JSON // ChecksumData of the whole package
	SoftwareImages                  JSON // []VnfPackageSoftwareImageInfo
	AdditionalArtifacts             JSON // []VnfPackageArtifactInfo
	UserDefinedData                 JSON // KeyValuePairs
	OnboardingFailureDetails        JSON // ProblemDetails
	CompatibleSpecificationVersions JSON // []Version
	VnfmInfo                        JSON // []string

	// The uploaded content in the blob store. ContentKey is nil until the
	// content is committed to the store; a non-nil key always names an
	// existing blob (Reconcile repairs rows where that stopped being true).
	ContentKey *string `gorm:"size:1024;uniqueIndex:ux_vnf_packages_content_key"`
	// ContentSize is the content's length in bytes.
	ContentSize int64 `gorm:"not null"`
	// ContentChecksum is "<algorithm>:<lower-case hex>" of the content,
	// e.g. "sha-256:9f86d0...", as computed while it was stored.
	ContentChecksum string `gorm:"size:200;not null"`
	// ContentETag is the strong entity tag served with the content,
	// including its double quotes.
	ContentETag string `gorm:"column:content_etag;size:200;not null"`
	// ContentUploadedAt is when the content was committed (Last-Modified).
	ContentUploadedAt *time.Time
	// UploadDigests are the member digests computed while the content
	// streamed in, for the onboarding job (a JSON document the SOL 005
	// layer writes and reads, bound to ContentKey; never part of
	// VnfPkgInfo). NULL once onboarding is over.
	UploadDigests JSON

	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"not null;autoUpdateTime:false"`
}

// TableName is the SQL table of Package.
func (Package) TableName() string { return "vnf_packages" }

// Cursor is the position of this package in ScanPackages order.
func (p *Package) Cursor() Cursor { return Cursor{Seq: p.Seq} }

// HasContent reports whether the package has committed content.
func (p *Package) HasContent() bool { return p.ContentKey != nil && *p.ContentKey != "" }

// ClearContent forgets the package's content (it does not delete the blob).
func (p *Package) ClearContent() {
	p.ContentKey = nil
	p.ContentSize = 0
	p.ContentChecksum = ""
	p.ContentETag = ""
	p.ContentUploadedAt = nil
	p.UploadDigests = nil
}

// normalize derives the columns the repository maintains from the others.
func (p *Package) normalize() {
	if p.OnboardingState == OnboardingOnboarded && p.VnfdID != "" {
		v := p.VnfdID
		p.OnboardedVnfdID = &v
	} else {
		p.OnboardedVnfdID = nil
	}
	if p.ContentKey != nil && *p.ContentKey == "" {
		p.ContentKey = nil
	}
	if p.ContentUploadedAt != nil {
		t := storedTime(*p.ContentUploadedAt)
		p.ContentUploadedAt = &t
	}
}

// ContentKeyPrefix is the blob key prefix of package contents. Reconcile
// treats every blob under it that no package row references as an orphan.
const ContentKeyPrefix = "packages/"

// NewContentKey returns a fresh blob key for the content of package id:
// "packages/<id>/content-<random>". A new key per upload means a committed
// blob is never overwritten, so a slow or stale uploader can never replace
// content another request has recorded, and orphan clean-up can never
// delete a blob that is being re-written under the same name.
func NewContentKey(id string) string {
	return ContentKeyPrefix + id + "/content-" + uuid.NewString()
}

// Job kinds known to storage. The SOL 005 layer may use others.
const (
	// JobOnboard processes an uploaded package (PROCESSING -> ONBOARDED
	// or ERROR). Reconcile enqueues one for a PROCESSING package that has
	// no active job.
	JobOnboard = "onboard"
)

// JobState is the state of a Job.
type JobState string

// Job states.
const (
	JobQueued  JobState = "queued"
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobFailed  JobState = "failed"
)

// Job is a persisted unit of background work on a package (onboarding),
// shared by every replica: a worker claims it with a lease (LeaseOwner,
// LeaseExpiresAt), renews the lease while working and completes or fails it;
// if the worker dies, the lease expires and another worker claims the job
// again (Attempts counts the claims).
type Job struct {
	ID        string `gorm:"primaryKey;size:36"`
	PackageID string `gorm:"size:36;not null;index:ix_jobs_package_id"`
	// Package only declares the foreign key (deleting a package deletes
	// its jobs); it is never loaded.
	Package *Package `gorm:"foreignKey:PackageID;references:ID;constraint:OnDelete:CASCADE" json:"-"`
	Kind    string   `gorm:"size:32;not null"`
	State   JobState `gorm:"size:16;not null;index:ix_jobs_state_run_after,priority:1;index:ix_jobs_state_lease,priority:1"`
	// ActiveKey is "<package id>/<kind>" while the job is queued or
	// running and NULL afterwards: its unique index allows at most one
	// active job of a kind per package.
	ActiveKey *string `gorm:"size:80;uniqueIndex:ux_jobs_active_key" json:"-"`
	// Payload is the kind's input (e.g. the address of upload_from_uri).
	Payload  JSON
	Attempts int `gorm:"not null"`
	// RunAfter delays a queued job (retry back-off).
	RunAfter       time.Time  `gorm:"not null;index:ix_jobs_state_run_after,priority:2"`
	LeaseOwner     string     `gorm:"size:200;not null"`
	LeaseExpiresAt *time.Time `gorm:"index:ix_jobs_state_lease,priority:2"`
	LastError      string     `gorm:"type:text;not null"`
	CreatedAt      time.Time  `gorm:"not null;autoCreateTime:false"`
	UpdatedAt      time.Time  `gorm:"not null;autoUpdateTime:false"`
	// RequestID is the X-Request-Id of the request that queued the job
	// (or of the job that queued it), for its log lines (migration 3).
	RequestID string `gorm:"size:128;not null;default:''"`
}

// TableName is the SQL table of Job.
func (Job) TableName() string { return "jobs" }

func activeKey(pkgID, kind string) *string {
	k := pkgID + "/" + kind
	return &k
}

// ContentDeletion records that the content blob Key lost its package at
// DeletedAt (written in the transaction that deletes the row). The blob is
// deleted right after the row; if the process dies in between, the sweep
// (SweepDeletedContent) finds the blob here and deletes it, however young:
// a deleted package's key is never referenced again, so no grace counted
// from the blob's write time is needed.
type ContentDeletion struct {
	Key       string    `gorm:"column:blob_key;primaryKey;size:1024"`
	DeletedAt time.Time `gorm:"not null;index:ix_content_deletions_deleted_at"`
}

// TableName is the SQL table of ContentDeletion.
func (ContentDeletion) TableName() string { return "content_deletions" }

// sequence is a named counter (Package.Seq comes from "vnf_packages").
type sequence struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value int64  `gorm:"not null"`
}

func (sequence) TableName() string { return "sequences" }

// JSON is a JSON document stored as text; nil is stored as NULL. Storage
// checks that it is well-formed and nothing more.
type JSON []byte

// MustJSON encodes v, panicking on error (for tests and literals).
func MustJSON(v any) JSON {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Value implements driver.Valuer.
func (j JSON) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	if !json.Valid(j) {
		return nil, errors.New("storage: malformed JSON document")
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = bytes.Clone(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into JSON", src)
	}
	return nil
}

// GormDataType makes the column portable text.
func (JSON) GormDataType() string { return "text" }

// MarshalJSON emits the document itself (null when nil).
func (j JSON) MarshalJSON() ([]byte, error) {
	if j == nil {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*j = nil
		return nil
	}
	*j = bytes.Clone(b)
	return nil
}
