package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// VIM is a registered VIM: the driver type and what it needs to connect.
// Credentials are kept for reopening the driver and are never to be
// returned by an API.
type VIM struct {
	ID                 string    `gorm:"primaryKey;size:36"`
	Name               string    `gorm:"size:255;not null"`
	Type               string    `gorm:"size:64;not null"`
	Endpoint           string    `gorm:"size:1024;not null"`
	Credentials        JSON      // map[string]string
	Options            JSON      // map[string]string
	IsDefault          bool      `gorm:"not null"`
	AutoRegisterImages bool      `gorm:"not null"`
	CreatedAt          time.Time `gorm:"not null;autoCreateTime:false"`
}

// TableName is the SQL table of VIM.
func (VIM) TableName() string { return "vims" }

// VIMImage records a software image of a package registered with a VIM:
// at most one per (VIM, package, software image).
type VIMImage struct {
	ID              string `gorm:"primaryKey;size:36"`
	VimID           string `gorm:"size:36;not null;uniqueIndex:ux_vim_images_key,priority:1"`
	PackageID       string `gorm:"size:36;not null;uniqueIndex:ux_vim_images_key,priority:2"`
	SoftwareImageID string `gorm:"size:255;not null;uniqueIndex:ux_vim_images_key,priority:3"`
	// VimImageID is the image's id in the VIM.
	VimImageID string `gorm:"size:255;not null"`
	// Image is the vim.Image the VIM answered.
	Image     JSON
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
	// Orphaned is set when the package was deleted while the image could
	// not be removed from the VIM: the record stays, so that what is left in
	// the VIM is known and DELETE can try again.
	Orphaned bool `gorm:"not null;default:false"`
	// LeftInVIM, set on an orphaned record, says why its image stays in
	// the VIM for good: the VIM cannot delete images (KubeVim). The record
	// is kept to show what is left, and no sweep tries again.
	LeftInVIM string `gorm:"size:1024;not null;default:''"`
}

// TableName is the SQL table of VIMImage.
func (VIMImage) TableName() string { return "vim_images" }

// VIMCompute records a compute resource allocated in a VIM for a VDU of a
// package. While a package has any, it is IN_USE.
type VIMCompute struct {
	ID        string `gorm:"primaryKey;size:36"`
	VimID     string `gorm:"size:36;not null;index:ix_vim_computes_vim_id"`
	PackageID string `gorm:"size:36;not null;index:ix_vim_computes_package_id"`
	VduID     string `gorm:"size:255;not null"`
	FlavourID string `gorm:"size:255;not null"`
	Name      string `gorm:"size:255;not null"`
	// The ids in the VIM; VimComputeID is empty while it is allocated.
	VimComputeID string    `gorm:"size:255;not null"`
	VimImageID   string    `gorm:"size:255;not null"`
	VimFlavourID string    `gorm:"size:255;not null"`
	CreatedAt    time.Time `gorm:"not null;autoCreateTime:false"`
	// OwnerHost is the host id of the replica that allocated the compute
	// when the VIM runs on that replica's own host (the local QEMU VIM):
	// only a replica of that host can operate it. Empty for VIMs every
	// replica reaches alike, and for records older than migration 4.
	OwnerHost string `gorm:"size:255;not null;default:''"`
}

// TableName is the SQL table of VIMCompute.
func (VIMCompute) TableName() string { return "vim_computes" }

// CreateVIM stores a new VIM (ID chosen when empty). The first VIM is the
// default whatever it says; one created with IsDefault takes the default
// from the others.
func (db *DB) CreateVIM(ctx context.Context, v *VIM) error {
	if v.ID == "" {
		v.ID = uuid.NewString()
	}
	v.CreatedAt = db.now()
	return db.Tx(ctx, func(tx *DB) error {
		var n int64
		if err := tx.g.Model(&VIM{}).Count(&n).Error; err != nil {
			return dbErr("count VIMs", err)
		}
		if n == 0 {
			v.IsDefault = true
		} else if v.IsDefault {
			if err := tx.g.Model(&VIM{}).Where("is_default = ?", true).Update("is_default", false).Error; err != nil {
				return dbErr("clear the default VIM", err)
			}
		}
		return dbErr("create VIM", tx.g.Create(v).Error)
	})
}

// GetVIM reads a VIM.
func (db *DB) GetVIM(ctx context.Context, id string) (*VIM, error) {
	var v VIM
	if err := db.ctx(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return nil, dbErr("get VIM "+id, err)
	}
	return &v, nil
}

// ListVIMs lists the VIMs in creation order.
func (db *DB) ListVIMs(ctx context.Context) ([]VIM, error) {
	var out []VIM
	if err := db.ctx(ctx).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, dbErr("list VIMs", err)
	}
	return out, nil
}

// DeleteVIM deletes a VIM that has no compute (ErrConflict otherwise) and
// its image records; if it was the default, the oldest remaining VIM
// becomes the default. It returns the image records deleted.
func (db *DB) DeleteVIM(ctx context.Context, id string) ([]VIMImage, error) {
	var images []VIMImage
	err := db.Tx(ctx, func(tx *DB) error {
		v, err := tx.GetVIM(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.computeInUse(tx.g.Where("vim_id = ?", id), "VIM "+id); err != nil {
			return err
		}
		if err := tx.g.Where("vim_id = ?", id).Find(&images).Error; err != nil {
			return dbErr("list VIM images", err)
		}
		if err := tx.g.Where("vim_id = ?", id).Delete(&VIMImage{}).Error; err != nil {
			return dbErr("delete VIM images", err)
		}
		if err := tx.g.Where("id = ?", id).Delete(&VIM{}).Error; err != nil {
			return dbErr("delete VIM", err)
		}
		if v.IsDefault {
			var next VIM
			err := tx.g.Order("created_at, id").Take(&next).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			if err != nil {
				return dbErr("find the next default VIM", err)
			}
			return dbErr("set the default VIM", tx.g.Model(&VIM{}).Where("id = ?", next.ID).Update("is_default", true).Error)
		}
		return nil
	})
	return images, err
}

// FindVIMImage returns the record of a package's software image in a VIM.
func (db *DB) FindVIMImage(ctx context.Context, vimID, pkgID, swImageID string) (*VIMImage, error) {
	var im VIMImage
	err := db.ctx(ctx).Where("vim_id = ? AND package_id = ? AND software_image_id = ?", vimID, pkgID, swImageID).Take(&im).Error
	if err != nil {
		return nil, dbErr("find VIM image", err)
	}
	return &im, nil
}

// GetVIMImage reads an image record of a VIM.
func (db *DB) GetVIMImage(ctx context.Context, vimID, id string) (*VIMImage, error) {
	var im VIMImage
	if err := db.ctx(ctx).Where("vim_id = ? AND id = ?", vimID, id).Take(&im).Error; err != nil {
		return nil, dbErr("get VIM image "+id, err)
	}
	return &im, nil
}

// ListVIMImages lists the image records of a VIM in creation order.
func (db *DB) ListVIMImages(ctx context.Context, vimID string) ([]VIMImage, error) {
	var out []VIMImage
	if err := db.ctx(ctx).Where("vim_id = ?", vimID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, dbErr("list VIM images", err)
	}
	return out, nil
}

// CreateVIMImage stores an image record; a duplicate (VIM, package,
// software image) is ErrConflict, and so is a package deleted while its
// image was being added to the VIM (ErrNotFound): no record ever names a
// package that is gone, so the package deletion's ReleasePackageImages
// finds every record of it.
func (db *DB) CreateVIMImage(ctx context.Context, im *VIMImage) error {
	if im.ID == "" {
		im.ID = uuid.NewString()
	}
	im.CreatedAt = db.now()
	return db.Tx(ctx, func(tx *DB) error {
		var n int64
		if err := tx.g.Model(&Package{}).Where("id = ?", im.PackageID).Count(&n).Error; err != nil {
			return dbErr("look up package", err)
		}
		if n == 0 {
			return fmt.Errorf("storage: create VIM image: package %s: %w", im.PackageID, ErrNotFound)
		}
		return dbErr("create VIM image", tx.g.Create(im).Error)
	})
}

// VIMImageNamed reports whether any record names image vimImageID of VIM vimID.
func (db *DB) VIMImageNamed(ctx context.Context, vimID, vimImageID string) (bool, error) {
	var n int64
	if err := db.ctx(ctx).Model(&VIMImage{}).Where("vim_id = ? AND vim_image_id = ?", vimID, vimImageID).Count(&n).Error; err != nil {
		return false, dbErr("count VIM images", err)
	}
	return n > 0, nil
}

// ComputeInUseError is the ErrConflict of deleting what compute still
// uses: it names that compute.
type ComputeInUseError struct {
	What       string   // "VIM ID", "software image ID"
	ComputeIDs []string // the compute records' ids, in creation order
}

func (e *ComputeInUseError) Error() string {
	return fmt.Sprintf("storage: %s is used by %d compute resource(s): %s", e.What, len(e.ComputeIDs), strings.Join(e.ComputeIDs, ", "))
}

func (e *ComputeInUseError) Unwrap() error { return ErrConflict }

// computeInUse returns a ComputeInUseError naming the compute q selects,
// if any.
func (db *DB) computeInUse(q *gorm.DB, what string) error {
	var ids []string
	if err := q.Model(&VIMCompute{}).Order("created_at, id").Pluck("id", &ids).Error; err != nil {
		return dbErr("list compute", err)
	}
	if len(ids) > 0 {
		return &ComputeInUseError{What: what, ComputeIDs: ids}
	}
	return nil
}

// vimImageShared reports whether a record other than im names the same
// image of the same VIM (a VIM may store identical images once).
func (db *DB) vimImageShared(im *VIMImage) (bool, error) {
	var n int64
	err := db.g.Model(&VIMImage{}).Where("vim_id = ? AND vim_image_id = ? AND id <> ?", im.VimID, im.VimImageID, im.ID).Count(&n).Error
	if err != nil {
		return false, dbErr("count VIM images", err)
	}
	return n > 0, nil
}

// orphanPackageImages marks the image records of package pkgID orphaned,
// inside the transaction that deletes it.
func (db *DB) orphanPackageImages(ctx context.Context, pkgID string) error {
	return dbErr("orphan VIM images", db.ctx(ctx).Model(&VIMImage{}).Where("package_id = ?", pkgID).Update("orphaned", true).Error)
}

// PackagesWithOrphanedImages lists the (deleted) packages whose image
// records are still orphaned: their images could not be removed from their
// VIMs yet, or the process removing them died. Records left in their VIM
// for good (LeftInVIM) are done with.
func (db *DB) PackagesWithOrphanedImages(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.ctx(ctx).Model(&VIMImage{}).Where("orphaned = ? AND left_in_vim = ?", true, "").Distinct().Order("package_id").Limit(1000).Pluck("package_id", &ids).Error
	return ids, dbErr("list orphaned VIM images", err)
}

// ReleasePackageImages is called once package pkgID is deleted: it marks
// the image records of the package orphaned and returns them, each with
// whether its VIM image is also named by a live record of another package
// (it must then stay in the VIM; another deleted package's orphaned record
// does not count, or two packages deleted at once would each leave the
// image to the other). The caller removes the images from their
// VIMs and then the records (DeleteOrphanedVIMImage); a record whose image
// could not be removed stays, orphaned. Records already left in their VIM
// for good (MarkVIMImageLeft) are not returned: there is nothing to try.
func (db *DB) ReleasePackageImages(ctx context.Context, pkgID string) (images []VIMImage, shared []bool, err error) {
	err = db.Tx(ctx, func(tx *DB) error {
		if err := tx.g.Model(&VIMImage{}).Where("package_id = ?", pkgID).Update("orphaned", true).Error; err != nil {
			return dbErr("orphan VIM images", err)
		}
		if err := tx.g.Where("package_id = ? AND left_in_vim = ?", pkgID, "").Order("created_at, id").Find(&images).Error; err != nil {
			return dbErr("list VIM images", err)
		}
		shared = make([]bool, len(images))
		for i := range images {
			var n int64
			err := tx.g.Model(&VIMImage{}).Where("vim_id = ? AND vim_image_id = ? AND package_id <> ? AND orphaned = ?", images[i].VimID, images[i].VimImageID, pkgID, false).Count(&n).Error
			if err != nil {
				return dbErr("count VIM images", err)
			}
			shared[i] = n > 0
		}
		return nil
	})
	return images, shared, err
}

// maxLeftReason bounds LeftInVIM (its column's size).
const maxLeftReason = 1024

// MarkVIMImageLeft records on orphaned record id that its image stays in
// the VIM for good, and why: the record is kept, and the sweep no longer
// tries to remove the image. A record gone or not orphaned is left as it is.
func (db *DB) MarkVIMImageLeft(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "the VIM cannot delete images"
	}
	if len(reason) > maxLeftReason {
		reason = strings.ToValidUTF8(reason[:maxLeftReason-3], "") + "..."
	}
	return dbErr("mark VIM image left", db.ctx(ctx).Model(&VIMImage{}).Where("id = ? AND orphaned = ?", id, true).Update("left_in_vim", reason).Error)
}

// VIMImageShared reports whether a record other than im names the same
// image of the same VIM.
func (db *DB) VIMImageShared(ctx context.Context, im *VIMImage) (bool, error) {
	return (&DB{g: db.ctx(ctx), now: db.now, onChange: db.onChange}).vimImageShared(im)
}

// DeleteOrphanedVIMImage deletes an orphaned image record once its image
// is gone from the VIM; a record already gone is no error.
func (db *DB) DeleteOrphanedVIMImage(ctx context.Context, id string) error {
	return dbErr("delete VIM image", db.ctx(ctx).Where("id = ? AND orphaned = ?", id, true).Delete(&VIMImage{}).Error)
}

// DeleteVIMImage deletes an image record unless compute of its VIM uses
// its image (ErrConflict). It reports whether another record of the VIM
// still names the same VIM image (the VIM may share identical images).
func (db *DB) DeleteVIMImage(ctx context.Context, vimID, id string) (im *VIMImage, shared bool, err error) {
	err = db.Tx(ctx, func(tx *DB) error {
		im, err = tx.GetVIMImage(ctx, vimID, id)
		if err != nil {
			return err
		}
		if err := tx.computeInUse(tx.g.Where("vim_id = ? AND vim_image_id = ?", vimID, im.VimImageID), "software image "+id); err != nil {
			return err
		}
		if err := tx.g.Where("id = ?", id).Delete(&VIMImage{}).Error; err != nil {
			return dbErr("delete VIM image", err)
		}
		shared, err = tx.vimImageShared(im)
		return err
	})
	return im, shared, err
}

// AutoRegisterVIMs lists the VIMs that receive the images of every
// package onboarded.
func (db *DB) AutoRegisterVIMs(ctx context.Context) ([]VIM, error) {
	var out []VIM
	if err := db.ctx(ctx).Where("auto_register_images = ?", true).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, dbErr("list VIMs", err)
	}
	return out, nil
}

// ReserveVIMCompute stores a compute record before the VIM allocates it,
// in one transaction with putting its package IN_USE; the package must
// satisfy expect.
func (db *DB) ReserveVIMCompute(ctx context.Context, c *VIMCompute, expect Expect) error {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	c.CreatedAt = db.now()
	return db.Tx(ctx, func(tx *DB) error {
		if _, err := tx.UpdatePackageIf(ctx, c.PackageID, expect, func(p *Package) error {
			p.UsageState = UsageInUse
			return nil
		}); err != nil {
			return err
		}
		return dbErr("create compute", tx.g.Create(c).Error)
	})
}

// SetVIMComputeID records the VIM's id of an allocated compute.
func (db *DB) SetVIMComputeID(ctx context.Context, id, vimComputeID string) error {
	res := db.ctx(ctx).Model(&VIMCompute{}).Where("id = ?", id).Update("vim_compute_id", vimComputeID)
	if res.Error != nil {
		return dbErr("update compute "+id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: update compute %s: %w", id, ErrNotFound)
	}
	return nil
}

// GetVIMCompute reads a compute record of a VIM.
func (db *DB) GetVIMCompute(ctx context.Context, vimID, id string) (*VIMCompute, error) {
	var c VIMCompute
	if err := db.ctx(ctx).Where("vim_id = ? AND id = ?", vimID, id).Take(&c).Error; err != nil {
		return nil, dbErr("get compute "+id, err)
	}
	return &c, nil
}

// ListVIMComputes lists the compute records of a VIM in creation order.
func (db *DB) ListVIMComputes(ctx context.Context, vimID string) ([]VIMCompute, error) {
	var out []VIMCompute
	if err := db.ctx(ctx).Where("vim_id = ?", vimID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, dbErr("list compute", err)
	}
	return out, nil
}

// DeleteVIMCompute deletes a compute record and, when it was the last
// of its package, puts the package back to NOT_IN_USE (a package deleted
// meanwhile is no error).
func (db *DB) DeleteVIMCompute(ctx context.Context, id string) error {
	return db.Tx(ctx, func(tx *DB) error {
		var c VIMCompute
		if err := tx.g.Where("id = ?", id).Take(&c).Error; err != nil {
			return dbErr("get compute "+id, err)
		}
		if err := tx.g.Where("id = ?", id).Delete(&VIMCompute{}).Error; err != nil {
			return dbErr("delete compute "+id, err)
		}
		var n int64
		if err := tx.g.Model(&VIMCompute{}).Where("package_id = ?", c.PackageID).Count(&n).Error; err != nil {
			return dbErr("count compute", err)
		}
		if n > 0 {
			return nil
		}
		_, err := tx.UpdatePackageIf(ctx, c.PackageID, Any, func(p *Package) error {
			p.UsageState = UsageNotInUse
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}
