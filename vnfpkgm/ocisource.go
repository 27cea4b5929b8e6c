package vnfpkgm

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/oci"
)

// registerOCIRoutes serves the OCI pull API (package oci) under /v2.
func (s *Server) registerOCIRoutes(e *echo.Echo) {
	h := echo.WrapHandler(oci.New(ociSource{s}, s.db, oci.DefaultPlatform, s.log))
	e.Any("/v2", h)
	e.Any("/v2/*", h)
}

// ociSource gives the registry the software images of onboarded packages.
type ociSource struct{ s *Server }

func (o ociSource) VnfdIDs(ctx context.Context) ([]string, error) {
	return o.s.db.OnboardedVnfdIDs(ctx)
}

func (o ociSource) Images(ctx context.Context, vnfdID string) ([]oci.Image, error) {
	p, err := o.s.db.GetOnboardedPackage(ctx, vnfdID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oci.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !p.HasContent() {
		return nil, fmt.Errorf("onboarded package %s has no content", p.ID)
	}
	var infos []SoftwareImageInfo
	decode(p.SoftwareImages, &infos)
	var out []oci.Image
	for _, sw := range infos {
		if sw.ImagePath == "" {
			continue // external (imageUri): not in the package to serve
		}
		out = append(out, oci.Image{
			PackageID: p.ID, ContentKey: *p.ContentKey, VnfdID: p.VnfdID,
			SoftwareImageID: sw.ID, Version: p.VnfSoftwareVersion, ImagePath: sw.ImagePath,
		})
	}
	return out, nil
}

// Open opens the image's member of the stored package, seekable whether it
// is stored or compressed in the archive (seekableMember).
func (o ociSource) Open(ctx context.Context, img oci.Image) (io.ReadSeekCloser, int64, error) {
	p, err := o.s.db.GetPackage(ctx, img.PackageID)
	if err != nil {
		return nil, 0, err
	}
	if p.OnboardingState != storage.OnboardingOnboarded || !p.HasContent() || *p.ContentKey != img.ContentKey {
		return nil, 0, fmt.Errorf("package %s changed while its image %s was being served", p.ID, img.SoftwareImageID)
	}
	a, obj, err := o.s.openArchive(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	e, ok := a.Lookup(img.ImagePath)
	if !ok || e.IsDir() {
		obj.Close()
		return nil, 0, fmt.Errorf("package %s has no file %s for software image %s", p.ID, img.ImagePath, img.SoftwareImageID)
	}
	m, err := seekableMember(a, img.ImagePath, e.Size)
	if err != nil {
		obj.Close()
		return nil, 0, err
	}
	return memberCloser{m, obj}, e.Size, nil
}

// memberCloser closes a member and the stored package it was read from.
type memberCloser struct {
	io.ReadSeekCloser
	pkg io.Closer
}

func (m memberCloser) Close() error {
	err := m.ReadSeekCloser.Close()
	if perr := m.pkg.Close(); err == nil {
		err = perr
	}
	return err
}
