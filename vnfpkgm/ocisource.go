package vnfpkgm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/oci"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// registerOCIRoutes serves the OCI pull API (package oci) under /v2.
func (s *Server) registerOCIRoutes(e *echo.Echo) {
	h := echo.WrapHandler(s.ociRegistry())
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		e.Add(m, "/v2", h)
	}
	// The writes of the spec reach the registry, which refuses them as
	// the spec words it (405 UNSUPPORTED).
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		e.Add(m, "/v2/*", h)
	}
	// The token endpoint of the registry token flow (ocitoken.go).
	e.GET(RegistryTokenPath, s.registryToken)
	e.POST(RegistryTokenPath, s.registryToken)
}

func (s *Server) ociRegistry() *oci.Registry {
	return oci.New(ociSource{s}, s.db, oci.DefaultPlatform, s.log)
}

// ociReference names a software image of an onboarded package on the OCI
// endpoint, for the VIMs that pull images (vim.ImageSpec.OCI), when a
// driver asks. It is nil when the server has no address a VIM can reach
// (listening on every interface without --public-url); an image the
// endpoint does not serve (outside the package, or a name shared with
// another image) is vim.ErrNotSupported, saying why.
func (s *Server) ociReference(p *storage.Package, swID string) func(context.Context) (*vim.OCIReference, error) {
	base := s.registryBase()
	if base == "" {
		return nil
	}
	return func(ctx context.Context) (*vim.OCIReference, error) {
		repo, tag, digest, err := s.ociRegistry().Reference(ctx, p.VnfdID, swID)
		if oci.NotServed(err) {
			return nil, fmt.Errorf("%w: software image %s of VNF package %s is not served by the OCI endpoint: %v", vim.ErrNotSupported, swID, p.ID, err)
		}
		if err != nil {
			return nil, err
		}
		return &vim.OCIReference{Registry: base, Repository: repo, Tag: tag, Digest: digest}, nil
	}
}

// registryBase is the scheme and authority of the OCI endpoint: registries
// live at the root of a host (/v2), so a path of --public-url is dropped.
func (s *Server) registryBase() string {
	if s.cfg.PublicURL != "" {
		u, err := url.Parse(s.cfg.PublicURL)
		if err != nil {
			return ""
		}
		return u.Scheme + "://" + u.Host
	}
	if host, port, err := net.SplitHostPort(s.cfg.Listen); err == nil && port != "0" && !unspecifiedHost(host) {
		return "http://" + s.cfg.Listen
	}
	return ""
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
	boot, err := o.s.packageBootFiles(ctx, p)
	if err != nil {
		// The software images are served all the same.
		o.s.log.Warn("the boot files of a package are not served: its VNFD could not be read", "package", p.ID, "error", err)
	}
	return append(out, boot...), nil
}

// bootFileCache holds the boot files of packages by content key: a
// package's content never changes under its key, so an entry is never
// stale, and the VNFD is processed once per content, not per request.
type bootFileCache struct {
	mu      sync.Mutex
	entries map[string][]oci.Image
}

// bootFileCacheSize bounds the cache; when full, an entry is dropped.
const bootFileCacheSize = 256

// packageBootFiles are the boot files of the package's VDUs (their VNFD
// artifacts named kernel and initrd, vnfd.BootFile) that are files of the
// package, as images of the OCI endpoint. The VNFD is processed again
// (the first time a package's content is asked for).
func (s *Server) packageBootFiles(ctx context.Context, p *storage.Package) ([]oci.Image, error) {
	key := *p.ContentKey
	c := &s.bootFiles
	c.mu.Lock()
	out, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	obj, err := s.openContent(ctx, p)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	rep, err := validate.Describe(ctx, obj, obj.Size(), validate.Options{Limits: s.cfg.Limits})
	if err != nil {
		return nil, err
	}
	out = []oci.Image{}
	seen := map[string]bool{}
	for _, fl := range rep.Flavours {
		for _, vdu := range fl.VDUs {
			for _, b := range []*validate.ReportBootFile{vdu.Kernel, vdu.Initrd} {
				// A VDU of several flavours with the same file is one
				// image; with different files, two, and the name they
				// share is ambiguous: neither is served.
				if b == nil || b.Path == "" {
					continue
				}
				k := vdu.ID + "/" + b.Artifact + "/" + b.Path
				if seen[k] {
					continue
				}
				seen[k] = true
				out = append(out, oci.Image{
					PackageID: p.ID, ContentKey: key, VnfdID: p.VnfdID, SoftwareImageID: vdu.ID,
					Version: p.VnfSoftwareVersion, ImagePath: b.Path, Artifact: b.Artifact,
				})
			}
		}
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string][]oci.Image{}
	}
	if len(c.entries) >= bootFileCacheSize {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = out
	c.mu.Unlock()
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
