package storage

import (
	"context"
	"fmt"
	"time"
)

// SigningKey is a key of the built-in authorization server, shared by
// every replica through the database. The private half is sealed (the
// authorization server encrypts it with a key kept outside the database)
// so that a copy of the database alone cannot mint tokens.
type SigningKey struct {
	KID       string `gorm:"primaryKey;size:64"`
	Algorithm string `gorm:"size:16;not null"`
	PublicJWK []byte `gorm:"not null"`
	Sealed    []byte `gorm:"not null"`
	// SignUntil ends the key's use for new tokens; RetireAt ends its
	// publication (after the last token it signed has expired).
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
	SignUntil time.Time `gorm:"not null;index"`
	RetireAt  time.Time `gorm:"not null;index"`
}

// TableName is the SQL table of SigningKey.
func (SigningKey) TableName() string { return "auth_signing_keys" }

// SigningKeys returns the keys still published at now, newest first.
func (db *DB) SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	var keys []SigningKey
	if err := db.ctx(ctx).Where("retire_at > ?", now.UTC()).Order("created_at DESC").Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("storage: signing keys: %w", err)
	}
	return keys, nil
}

// AddSigningKey stores a new key.
func (db *DB) AddSigningKey(ctx context.Context, k SigningKey) error {
	if err := db.ctx(ctx).Create(&k).Error; err != nil {
		return fmt.Errorf("storage: add signing key: %w", err)
	}
	return nil
}

// DeleteRetiredSigningKeys removes the keys no longer published at now.
func (db *DB) DeleteRetiredSigningKeys(ctx context.Context, now time.Time) error {
	if err := db.ctx(ctx).Where("retire_at <= ?", now.UTC()).Delete(&SigningKey{}).Error; err != nil {
		return fmt.Errorf("storage: delete retired signing keys: %w", err)
	}
	return nil
}
