package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// OCILayer records the layer the OCI pull endpoint serves for one software
// image of a package: its digest and size, computed once by reading the
// image (the first time the image is asked for) and kept here so that no
// later request reads the image only to name it.
//
// A row is valid for one layout of the layer (Layout) and one stored
// content (ContentKey): a change of either makes it stale, and the layer is
// computed again. Deleting the package deletes its rows.
type OCILayer struct {
	PackageID string `gorm:"primaryKey;size:36"`
	// Package only declares the foreign key; it is never loaded.
	Package         *Package `gorm:"foreignKey:PackageID;references:ID;constraint:OnDelete:CASCADE" json:"-"`
	SoftwareImageID string   `gorm:"primaryKey;size:255"`
	Layout          string   `gorm:"size:64;not null"`
	ContentKey      string   `gorm:"size:1024;not null"`
	// Digest is "sha256:<hex>" of the whole layer; Size its length in bytes.
	Digest    string    `gorm:"size:100;not null"`
	Size      int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
}

// TableName is the SQL table of OCILayer.
func (OCILayer) TableName() string { return "oci_layers" }

// GetOCILayer returns the layer recorded for a software image of a package
// (ErrNotFound when none is).
func (db *DB) GetOCILayer(ctx context.Context, packageID, softwareImageID string) (*OCILayer, error) {
	var l OCILayer
	err := db.ctx(ctx).Where("package_id = ? AND software_image_id = ?", packageID, softwareImageID).Take(&l).Error
	if err != nil {
		return nil, dbErr("get OCI layer "+packageID+"/"+softwareImageID, err)
	}
	return &l, nil
}

// PutOCILayer records a layer, replacing the row of the same image. Two
// processes computing the same layer write the same values. A package
// deleted meanwhile makes it fail (the foreign key): nothing is left behind.
func (db *DB) PutOCILayer(ctx context.Context, l *OCILayer) error {
	l.CreatedAt = db.now()
	err := db.ctx(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "package_id"}, {Name: "software_image_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"layout", "content_key", "digest", "size", "created_at"}),
	}).Create(l).Error
	return dbErr("put OCI layer "+l.PackageID+"/"+l.SoftwareImageID, err)
}

// OnboardedVnfdIDs lists the vnfdId of every ONBOARDED package, sorted.
func (db *DB) OnboardedVnfdIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.ctx(ctx).Model(&Package{}).Where("onboarded_vnfd_id IS NOT NULL").
		Order("onboarded_vnfd_id").Pluck("onboarded_vnfd_id", &ids).Error
	if err != nil {
		return nil, dbErr("list onboarded vnfdIds", err)
	}
	return ids, nil
}
