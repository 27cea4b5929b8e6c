package vnfpkgm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/tosca/vnfd"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/oci"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// VIMBasePath is the URI prefix of the VIM resources.
const VIMBasePath = "/vim/v1"

// vimState is the server's VIM driver state: open drivers by VIM id and
// locks serialising the registration of one image.
type vimState struct {
	mu      sync.Mutex
	drivers map[string]vim.Driver
	keys    map[string]*sync.Mutex
}

// vimRoutes registers the VIM resources.
func (s *Server) vimRoutes(e *echo.Echo) {
	g := e.Group(VIMBasePath)
	g.POST("/vims", s.registerVIM)
	g.GET("/vims", s.listVIMs)
	g.GET("/vims/:vimId", s.showVIM)
	g.DELETE("/vims/:vimId", s.deleteVIM)
	g.POST("/vims/:vimId/software_images", s.registerSoftwareImage)
	g.GET("/vims/:vimId/software_images", s.listSoftwareImages)
	g.GET("/vims/:vimId/software_images/:id", s.showSoftwareImage)
	g.DELETE("/vims/:vimId/software_images/:id", s.deleteSoftwareImage)
	g.POST("/vims/:vimId/compute", s.allocateCompute)
	g.GET("/vims/:vimId/compute", s.listCompute)
	g.GET("/vims/:vimId/compute/:id", s.showCompute)
	g.DELETE("/vims/:vimId/compute/:id", s.terminateCompute)
	g.POST("/vims/:vimId/compute/:id/operate", s.operateCompute)
	g.GET("/vims/:vimId/compute/:id/console", s.computeConsole)
}

// vimError maps the typed errors of the VIM layer to ProblemDetails.
func vimError(err error, what string) error {
	status := 0
	var optErr *vim.OptionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &optErr):
		// An option the type does not have is a malformed request; a value
		// that cannot work on this VIM is well-formed but unprocessable.
		status = http.StatusUnprocessableEntity
		if optErr.Unknown {
			status = http.StatusBadRequest
		}
		return sol013.Problemf(status, "%s: %v", what, err).With("option", optErr.Option)
	case errors.Is(err, vim.ErrChecksum):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, vim.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, vim.ErrConflict), errors.Is(err, vim.ErrNotSupported):
		status = http.StatusConflict
	case errors.Is(err, vim.ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, vim.ErrAuth):
		status = http.StatusBadGateway
	case errors.Is(err, vim.ErrInvalid):
		status = http.StatusBadRequest
	default:
		var pd *sol013.ProblemDetails
		if errors.As(err, &pd) {
			return pd
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return sol013.Problemf(status, "%s: %v", what, err)
}

// stringMap turns a JSON object of scalars into the string map a driver
// takes: strings as they are, other values in their JSON form.
func stringMap(name string, m map[string]any) (map[string]string, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case map[string]any, []any:
			return nil, sol013.Problemf(http.StatusBadRequest, "%s.%s must be a string, number or boolean", name, k)
		case nil:
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out, nil
}

func decodeStrings(j storage.JSON) map[string]string {
	var m map[string]string
	decode(j, &m)
	return m
}

// driverConfig is the driver configuration of a VIM row.
func (s *Server) driverConfig(v *storage.VIM) vim.Config {
	return vim.Config{
		Name: v.Name, Endpoint: v.Endpoint,
		Credentials: decodeStrings(v.Credentials),
		Options:     decodeStrings(v.Options),
		DataDir:     filepath.Join(s.cfg.DataDir, "vims", v.ID),
		// The egress policy of upload_from_uri covers VIM endpoints too;
		// the drivers bound their calls with timeouts of their own.
		HTTPClient: &http.Client{Transport: s.Egress().Transport(s.cfg.FetchConnectTimeout, 0)},
	}
}

// driver returns the open driver of a VIM, opening it on first use.
func (s *Server) driver(ctx context.Context, v *storage.VIM) (vim.Driver, error) {
	s.vims.mu.Lock()
	defer s.vims.mu.Unlock()
	if d, ok := s.vims.drivers[v.ID]; ok {
		return d, nil
	}
	d, err := vim.Open(ctx, v.Type, s.driverConfig(v))
	if err != nil {
		return nil, vimError(err, "opening VIM "+v.ID)
	}
	if s.vims.drivers == nil {
		s.vims.drivers = map[string]vim.Driver{}
	}
	s.vims.drivers[v.ID] = d
	return d, nil
}

// closeDrivers closes every open driver.
func (s *Server) closeDrivers() {
	s.vims.mu.Lock()
	defer s.vims.mu.Unlock()
	for id, d := range s.vims.drivers {
		d.Close()
		delete(s.vims.drivers, id)
	}
}

// keyLock locks a named key (one image registration at a time per key).
func (s *Server) keyLock(key string) func() {
	s.vims.mu.Lock()
	if s.vims.keys == nil {
		s.vims.keys = map[string]*sync.Mutex{}
	}
	m, ok := s.vims.keys[key]
	if !ok {
		m = &sync.Mutex{}
		s.vims.keys[key] = m
	}
	s.vims.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// ---- representations ----

type vimInfo struct {
	ID                 string            `json:"id"`
	Type               string            `json:"type"`
	Name               string            `json:"name"`
	Endpoint           string            `json:"endpoint,omitempty"`
	Options            map[string]string `json:"options,omitempty"`
	Default            bool              `json:"default"`
	AutoRegisterImages bool              `json:"autoRegisterImages"`
	CreatedAt          time.Time         `json:"createdAt"`
	Links              map[string]Link   `json:"_links"`
}

func vimHref(c echo.Context, vimID string, rest ...string) string {
	return apiRoot(c) + VIMBasePath + "/vims/" + strings.Join(append([]string{vimID}, rest...), "/")
}

// toVIMInfo never includes the credentials.
func toVIMInfo(c echo.Context, v *storage.VIM) vimInfo {
	return vimInfo{
		ID: v.ID, Type: v.Type, Name: v.Name, Endpoint: v.Endpoint,
		Options: decodeStrings(v.Options), Default: v.IsDefault, AutoRegisterImages: v.AutoRegisterImages,
		CreatedAt: v.CreatedAt,
		Links: map[string]Link{
			"self":           {vimHref(c, v.ID)},
			"softwareImages": {vimHref(c, v.ID, "software_images")},
			"compute":        {vimHref(c, v.ID, "compute")},
		},
	}
}

// vimImageInfo is a software image record. LeftInVim: the package is
// deleted and the image stays in the VIM for good, which cannot delete
// images; LeftInVimReason says why.
type vimImageInfo struct {
	ID              string          `json:"id"`
	VimID           string          `json:"vimId"`
	VnfPkgID        string          `json:"vnfPkgId"`
	SoftwareImageID string          `json:"softwareImageId"`
	VimImageID      string          `json:"vimImageId"`
	Image           storage.JSON    `json:"image,omitempty"`
	Orphaned        bool            `json:"orphaned"`
	LeftInVim       bool            `json:"leftInVim"`
	LeftInVimReason string          `json:"leftInVimReason,omitempty"`
	CreatedAt       time.Time       `json:"createdAt"`
	Links           map[string]Link `json:"_links"`
}

func toVIMImageInfo(c echo.Context, im *storage.VIMImage) vimImageInfo {
	return vimImageInfo{
		ID: im.ID, VimID: im.VimID, VnfPkgID: im.PackageID, SoftwareImageID: im.SoftwareImageID,
		VimImageID: im.VimImageID, Image: im.Image, Orphaned: im.Orphaned,
		LeftInVim: im.LeftInVIM != "", LeftInVimReason: im.LeftInVIM, CreatedAt: im.CreatedAt,
		Links: map[string]Link{"self": {vimHref(c, im.VimID, "software_images", im.ID)}},
	}
}

type computeInfo struct {
	ID           string          `json:"id"`
	VimID        string          `json:"vimId"`
	VnfPkgID     string          `json:"vnfPkgId"`
	VduID        string          `json:"vduId"`
	FlavourID    string          `json:"flavourId"`
	Name         string          `json:"name"`
	VimComputeID string          `json:"vimComputeId"`
	VimImageID   string          `json:"vimImageId"`
	VimFlavourID string          `json:"vimFlavourId"`
	Volumes      []string        `json:"volumes,omitempty"`
	State        string          `json:"state"`
	StateReason  string          `json:"stateReason,omitempty"`
	Detail       string          `json:"detail,omitempty"`
	CreatedAt    time.Time       `json:"createdAt"`
	OwnerHost    string          `json:"ownerHost,omitempty"` // computehost.go
	Links        map[string]Link `json:"_links"`
}

func toComputeInfo(c echo.Context, r *storage.VIMCompute, vc *vim.Compute) computeInfo {
	info := computeInfo{
		ID: r.ID, VimID: r.VimID, VnfPkgID: r.PackageID, VduID: r.VduID, FlavourID: r.FlavourID,
		Name: r.Name, VimComputeID: r.VimComputeID, VimImageID: r.VimImageID, VimFlavourID: r.VimFlavourID,
		CreatedAt: r.CreatedAt, OwnerHost: r.OwnerHost,
		Links: map[string]Link{
			"self":    {vimHref(c, r.VimID, "compute", r.ID)},
			"operate": {vimHref(c, r.VimID, "compute", r.ID, "operate")},
			"console": {vimHref(c, r.VimID, "compute", r.ID, "console")},
		},
	}
	info.State, info.StateReason, info.Detail, info.Volumes = vc.State, vc.StateReason, vc.Detail, vc.Volumes
	return info
}

// ---- VIMs ----

func (s *Server) findVIM(c echo.Context) (*storage.VIM, error) {
	id := pathParam(c, "vimId")
	v, err := s.db.GetVIM(c.Request().Context(), id)
	if err != nil {
		return nil, storageError(err, "VIM "+id)
	}
	return v, nil
}

// registerVIM is POST /vims. The configuration is checked (vim.CheckConfig:
// unknown options 400, values that cannot work 422, naming the option) and
// the driver opened before the VIM is stored, so a VIM that cannot be
// opened is not registered.
func (s *Server) registerVIM(c echo.Context) error {
	var req struct {
		Type               string         `json:"type"`
		Name               string         `json:"name"`
		Endpoint           string         `json:"endpoint"`
		Credentials        map[string]any `json:"credentials"`
		Options            map[string]any `json:"options"`
		Default            bool           `json:"default"`
		AutoRegisterImages bool           `json:"autoRegisterImages"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	known := vim.Types()
	found := false
	for _, t := range known {
		found = found || t == req.Type
	}
	if !found {
		return sol013.Problemf(http.StatusBadRequest, "type %q is not a known VIM type (known: %s)", req.Type, strings.Join(known, ", ")).
			With("knownTypes", known)
	}
	creds, err := stringMap("credentials", req.Credentials)
	if err != nil {
		return err
	}
	opts, err := stringMap("options", req.Options)
	if err != nil {
		return err
	}
	v := &storage.VIM{
		ID: uuid.NewString(), Type: req.Type, Name: req.Name, Endpoint: req.Endpoint,
		IsDefault: req.Default, AutoRegisterImages: req.AutoRegisterImages,
	}
	if v.Name == "" {
		v.Name = req.Type
	}
	if creds != nil {
		v.Credentials = storage.MustJSON(creds)
	}
	if opts != nil {
		v.Options = storage.MustJSON(opts)
	}
	ctx := c.Request().Context()
	if err := vim.CheckConfig(ctx, v.Type, s.driverConfig(v)); err != nil {
		return vimError(err, "registering a VIM of type "+v.Type)
	}
	if _, err := s.driver(ctx, v); err != nil {
		return err
	}
	if err := s.db.CreateVIM(ctx, v); err != nil {
		s.forgetDriver(v.ID)
		return err
	}
	s.log.Info("VIM registered", "vim", v.ID, "type", v.Type, "name", v.Name, "default", v.IsDefault)
	c.Response().Header().Set(echo.HeaderLocation, vimHref(c, v.ID))
	return c.JSON(http.StatusCreated, toVIMInfo(c, v))
}

func (s *Server) forgetDriver(id string) {
	s.vims.mu.Lock()
	defer s.vims.mu.Unlock()
	if d, ok := s.vims.drivers[id]; ok {
		d.Close()
		delete(s.vims.drivers, id)
	}
}

func (s *Server) listVIMs(c echo.Context) error {
	vs, err := s.db.ListVIMs(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]vimInfo, 0, len(vs))
	for i := range vs {
		out = append(out, toVIMInfo(c, &vs[i]))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) showVIM(c echo.Context) error {
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	out := vimDetail{vimInfo: toVIMInfo(c, v)}
	// What the VIM can do is asked of its driver: a VIM that does not
	// answer is still shown, with why its capabilities are unknown.
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	d, err := s.driver(ctx, v)
	if err == nil {
		var info vim.Info
		if info, err = d.Info(ctx); err == nil {
			out.Info = &info
		}
	}
	if err != nil {
		out.InfoError = err.Error()
	}
	return c.JSON(http.StatusOK, out)
}

// vimDetail is GET /vims/{vimId}: the VIM and what its driver says it is
// and can do (vim.Info: capabilities), or why the driver did not answer.
type vimDetail struct {
	vimInfo
	Info      *vim.Info `json:"info,omitempty"`
	InfoError string    `json:"infoError,omitempty"`
}

// deleteVIM is DELETE /vims/{vimId}: 409 while it has compute; the images
// registered are deleted from the VIM (best effort).
func (s *Server) deleteVIM(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	images, err := s.db.DeleteVIM(ctx, v.ID)
	if err != nil {
		return vimStorageError(err, "VIM "+v.ID, v.ID)
	}
	if d, err := s.driver(ctx, v); err == nil {
		if !canDeleteImages(ctx, d) {
			if len(images) > 0 {
				ids := make([]string, len(images))
				for i, im := range images {
					ids[i] = im.VimImageID
				}
				s.log.Warn("VIM deleted; its software images stay in it: the VIM cannot delete images", "vim", v.ID, "type", v.Type, "images", ids)
			}
			images = nil
		}
		done := map[string]bool{}
		for _, im := range images {
			if done[im.VimImageID] {
				continue
			}
			done[im.VimImageID] = true
			if err := d.DeleteImage(ctx, im.VimImageID); err != nil {
				s.log.Warn("VIM image left behind", "vim", v.ID, "image", im.VimImageID, "error", err)
			}
		}
	}
	s.forgetDriver(v.ID)
	return c.NoContent(http.StatusNoContent)
}

// vimStorageError is storageError, except that deleting what compute
// still uses answers 409 naming that compute (computeIds) and how to
// terminate it.
func vimStorageError(err error, what, vimID string) error {
	var inUse *storage.ComputeInUseError
	if errors.As(err, &inUse) {
		return sol013.Problemf(http.StatusConflict, "%s is used by %d compute resource(s): %s; terminate them first (vnfpkgm compute delete %s %s)",
			what, len(inUse.ComputeIDs), strings.Join(inUse.ComputeIDs, ", "), vimID, strings.Join(inUse.ComputeIDs, " ")).
			With("computeIds", inUse.ComputeIDs)
	}
	return storageError(err, what)
}

// ---- software images ----

// registerImage registers software image swID of package p with VIM v,
// unless it already is: the existing record is returned with created false.
func (s *Server) registerImage(ctx context.Context, v *storage.VIM, p *storage.Package, swID string) (*storage.VIMImage, bool, error) {
	unlock := s.keyLock(v.ID + "/" + p.ID + "/" + swID)
	defer unlock()
	if im, err := s.db.FindVIMImage(ctx, v.ID, p.ID, swID); err == nil {
		return im, false, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, false, err
	}
	if p.OnboardingState != storage.OnboardingOnboarded {
		return nil, false, sol013.Problemf(http.StatusConflict, "VNF package %s is %s, not ONBOARDED", p.ID, p.OnboardingState)
	}
	var images []SoftwareImageInfo
	decode(p.SoftwareImages, &images)
	var sw *SoftwareImageInfo
	for i := range images {
		if images[i].ID == swID {
			sw = &images[i]
		}
	}
	if sw == nil {
		return nil, false, sol013.Problemf(http.StatusNotFound, "VNF package %s has no software image %q", p.ID, swID)
	}
	if sw.ImagePath == "" {
		return nil, false, sol013.Problemf(http.StatusConflict, "software image %s of VNF package %s is external (%s): only images inside the package can be registered", swID, p.ID, sw.ImageURI)
	}
	d, err := s.driver(ctx, v)
	if err != nil {
		return nil, false, err
	}
	if err := vim.Require(ctx, d, vim.CapImages); err != nil {
		return nil, false, vimError(err, "VIM "+v.ID)
	}
	a, obj, err := s.openArchive(ctx, p)
	if err != nil {
		return nil, false, err
	}
	defer obj.Close()
	f, err := a.Open(sw.ImagePath)
	if err != nil {
		return nil, false, fmt.Errorf("opening %s in package %s: %w", sw.ImagePath, p.ID, err)
	}
	defer f.Close()
	img, err := d.AddImage(ctx, vim.ImageSpec{
		Name: sw.Name, Version: sw.Version,
		ContainerFormat: strings.ToLower(sw.ContainerFormat), DiskFormat: strings.ToLower(sw.DiskFormat),
		MinDisk: sw.MinDisk, MinRAM: sw.MinRAM, Size: sw.Size, SourceURL: s.artifactURL(p.ID, sw.ImagePath),
		Checksum: vim.Checksum{Algorithm: sw.Checksum.Algorithm, Hash: sw.Checksum.Hash},
		Content:  f,
		Labels:   map[string]string{"vnfPkgId": p.ID, "softwareImageId": swID},
		OCI:      s.ociReference(p, swID), // ocisource.go
	})
	if err != nil {
		return nil, false, vimError(err, fmt.Sprintf("adding software image %s of package %s to VIM %s", swID, p.ID, v.ID))
	}
	rec := &storage.VIMImage{VimID: v.ID, PackageID: p.ID, SoftwareImageID: swID, VimImageID: img.ID, Image: storage.MustJSON(img)}
	if err := s.db.CreateVIMImage(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			// The package was deleted while its image was being added.
			s.removeUnnamedImage(context.WithoutCancel(ctx), d, v.ID, img.ID)
			return nil, false, sol013.Problemf(http.StatusConflict, "VNF package %s was deleted while its software image %s was being added to VIM %s", p.ID, swID, v.ID)
		}
		return nil, false, err
	}
	s.log.Info("software image registered", "vim", v.ID, "package", p.ID, "softwareImage", swID, "vimImage", img.ID)
	return rec, true, nil
}

func (s *Server) registerSoftwareImage(c echo.Context) error {
	var req struct {
		VnfPkgID        string `json:"vnfPkgId"`
		SoftwareImageID string `json:"softwareImageId"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.VnfPkgID == "" || req.SoftwareImageID == "" {
		return sol013.NewProblem(http.StatusBadRequest, "vnfPkgId and softwareImageId are required")
	}
	v, p, err := s.vimAndPackage(c, req.VnfPkgID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rec, created, err := s.registerImage(ctx, v, p, req.SoftwareImageID)
	if err != nil {
		return err
	}
	info := toVIMImageInfo(c, rec)
	c.Response().Header().Set(echo.HeaderLocation, info.Links["self"].Href)
	if !created {
		return c.JSON(http.StatusOK, info)
	}
	return c.JSON(http.StatusCreated, info)
}

func (s *Server) listSoftwareImages(c echo.Context) error {
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	ims, err := s.db.ListVIMImages(c.Request().Context(), v.ID)
	if err != nil {
		return err
	}
	out := make([]vimImageInfo, 0, len(ims))
	for i := range ims {
		out = append(out, toVIMImageInfo(c, &ims[i]))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) showSoftwareImage(c echo.Context) error {
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	id := pathParam(c, "id")
	im, err := s.db.GetVIMImage(c.Request().Context(), v.ID, id)
	if err != nil {
		return storageError(err, "software image "+id+" of VIM "+v.ID)
	}
	return c.JSON(http.StatusOK, toVIMImageInfo(c, im))
}

// deleteSoftwareImage removes the record, and the image from the VIM
// unless another record names the same VIM image; 409 while compute of
// the VIM uses it. A VIM that cannot delete images (no
// vim.CapDeleteImages: KubeVim) keeps the record of a package that
// exists: 409, since the image would stay untracked. The record of a
// deleted package (orphaned, or left in the VIM for good) is forgotten.
func (s *Server) deleteSoftwareImage(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	id := pathParam(c, "id")
	what := "software image " + id + " of VIM " + v.ID
	rec, err := s.db.GetVIMImage(ctx, v.ID, id)
	if err != nil {
		return storageError(err, what)
	}
	if !rec.Orphaned {
		if err := s.refuseUndeletable(ctx, v, rec, what); err != nil {
			return err
		}
	}
	im, shared, err := s.db.DeleteVIMImage(ctx, v.ID, id)
	if err != nil {
		return vimStorageError(err, what, v.ID)
	}
	switch {
	case im.LeftInVIM != "":
		s.log.Info("record of a software image left in its VIM forgotten; the image stays", "vim", v.ID, "image", im.VimImageID, "record", im.ID, "reason", im.LeftInVIM)
	case !shared:
		d, err := s.driver(ctx, v)
		if err == nil {
			err = d.DeleteImage(ctx, im.VimImageID)
		}
		if err != nil {
			s.log.Warn("VIM image left behind", "vim", v.ID, "image", im.VimImageID, "error", err)
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// refuseUndeletable answers 409 for the record of an existing package's
// image in a VIM that cannot delete images, unless another record names
// the same VIM image: removing the record would leave the image in the
// VIM with nothing to show it. A driver that cannot be asked lets the
// deletion go on (it then fails in the VIM, logged, as before).
func (s *Server) refuseUndeletable(ctx context.Context, v *storage.VIM, rec *storage.VIMImage, what string) error {
	d, err := s.driver(ctx, v)
	if err != nil || canDeleteImages(ctx, d) {
		return nil
	}
	shared, err := s.db.VIMImageShared(ctx, rec)
	if err != nil || shared {
		return err
	}
	return sol013.Problemf(http.StatusConflict,
		"%s: VIM type %s cannot delete images (its driver has no %s capability): image %s would stay in the VIM with no record of it. "+
			"The record stays while VNF package %s exists; deleting the package keeps it, marked leftInVim, and a DELETE then forgets it",
		what, v.Type, vim.CapDeleteImages, rec.VimImageID, rec.PackageID).
		With("vimImageId", rec.VimImageID).With("vnfPkgId", rec.PackageID)
}

// canDeleteImages reports whether a driver says it can delete images; a
// driver that does not answer is given the benefit of the doubt (its
// DeleteImage then says what happened).
func canDeleteImages(ctx context.Context, d vim.Driver) bool {
	info, err := d.Info(ctx)
	return err != nil || info.Has(vim.CapDeleteImages)
}

// removeUnnamedImage deletes an image from a VIM unless a record names it
// (the VIM may hold identical images once for several packages).
func (s *Server) removeUnnamedImage(ctx context.Context, d vim.Driver, vimID, vimImageID string) {
	named, err := s.db.VIMImageNamed(ctx, vimID, vimImageID)
	if err == nil && !named {
		err = d.DeleteImage(ctx, vimImageID)
	}
	if err != nil {
		s.log.Warn("VIM image left behind", "vim", vimID, "image", vimImageID, "error", err)
	}
}

// releasePackageImages removes the software images of a deleted package
// from the VIMs they were registered with (through their drivers, best
// effort) and then their records. An image another package's record also
// names stays in the VIM. A record whose image the VIM could not remove
// stays, marked orphaned: what is left in the VIM remains known, listed,
// and DELETE of the record tries again, as does the sweep. A VIM that
// cannot delete images at all (DeleteImage is vim.ErrNotSupported:
// KubeVim) ends that at once: the record is marked left in the VIM with
// the driver's reason, logged once, and never tried again. Records are
// never left pointing at a package as if it still existed.
func (s *Server) releasePackageImages(ctx context.Context, pkgID string) {
	ctx = context.WithoutCancel(ctx)
	images, shared, err := s.db.ReleasePackageImages(ctx, pkgID)
	if err != nil {
		s.log.Warn("software image records of a deleted package not released", "package", pkgID, "error", err)
		return
	}
	for i, im := range images {
		if !shared[i] {
			if err := s.deleteFromVIM(ctx, im.VimID, im.VimImageID); err != nil {
				var kept *keptInVIMError
				if errors.As(err, &kept) {
					s.leaveInVIM(ctx, pkgID, &im, kept.err)
					continue
				}
				s.log.Warn("software image of a deleted package left in its VIM, record kept as orphaned",
					"package", pkgID, "vim", im.VimID, "image", im.VimImageID, "record", im.ID, "error", err)
				continue
			}
		}
		if err := s.db.DeleteOrphanedVIMImage(ctx, im.ID); err != nil {
			s.log.Warn("orphaned software image record not deleted", "record", im.ID, "error", err)
		}
	}
}

// releaseTimeout bounds the removal of one image of a deleted package
// from its VIM: a VIM that does not answer leaves the record orphaned
// rather than holding the package's DELETE.
const releaseTimeout = 30 * time.Second

// leaveInVIM marks the record of an image that stays in a VIM which
// cannot delete images: kept, listed with the reason, never tried again.
func (s *Server) leaveInVIM(ctx context.Context, pkgID string, im *storage.VIMImage, why error) {
	if err := s.db.MarkVIMImageLeft(ctx, im.ID, why.Error()); err != nil {
		s.log.Warn("software image record not marked as left in its VIM (the sweep tries again)", "record", im.ID, "error", err)
		return
	}
	s.log.Warn("software image of a deleted package stays in its VIM for good: the VIM cannot delete images; record kept, marked leftInVim",
		"package", pkgID, "vim", im.VimID, "image", im.VimImageID, "record", im.ID, "reason", why.Error())
}

// keptInVIMError is deleteFromVIM's answer when the driver cannot delete
// images at all (vim.ErrNotSupported from DeleteImage): final, unlike a
// VIM that refused or did not answer this time.
type keptInVIMError struct{ err error }

func (e *keptInVIMError) Error() string { return e.err.Error() }
func (e *keptInVIMError) Unwrap() error { return e.err }

// deleteFromVIM deletes one image from a VIM through its driver; a
// driver that cannot delete images answers *keptInVIMError.
func (s *Server) deleteFromVIM(ctx context.Context, vimID, vimImageID string) error {
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	v, err := s.db.GetVIM(ctx, vimID)
	if err != nil {
		return err
	}
	d, err := s.driver(ctx, v)
	if err != nil {
		return err
	}
	err = d.DeleteImage(ctx, vimImageID)
	switch {
	case err == nil, errors.Is(err, vim.ErrNotFound):
		return nil // an image already gone (an earlier attempt) is removed
	case errors.Is(err, vim.ErrNotSupported):
		return &keptInVIMError{err}
	}
	return err
}

// retryOrphanedImages runs releasePackageImages again for the deleted
// packages whose images are still orphaned (a VIM that refused or did not
// answer, a process that died before removing them).
func (s *Server) retryOrphanedImages(ctx context.Context) {
	ids, err := s.db.PackagesWithOrphanedImages(ctx)
	if err != nil {
		s.log.Warn("listing orphaned software images", "error", err)
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		s.releasePackageImages(ctx, id)
	}
}

// autoRegisterImages gives the images of a package just onboarded to every
// VIM registered with autoRegisterImages. Failures are logged only.
func (s *Server) autoRegisterImages(ctx context.Context, pkgID string) {
	vs, err := s.db.AutoRegisterVIMs(ctx)
	if err != nil || len(vs) == 0 {
		if err != nil {
			s.logFor(ctx).Warn("auto-registering images: listing VIMs", "package", pkgID, "error", err)
		}
		return
	}
	p, err := s.db.GetPackage(ctx, pkgID)
	if err != nil {
		s.logFor(ctx).Warn("auto-registering images: reading the package", "package", pkgID, "error", err)
		return
	}
	var images []SoftwareImageInfo
	decode(p.SoftwareImages, &images)
	for i := range vs {
		for _, im := range images {
			if im.ImagePath == "" {
				continue
			}
			if _, _, err := s.registerImage(ctx, &vs[i], p, im.ID); err != nil {
				s.logFor(ctx).Warn("auto-registering a software image failed", "vim", vs[i].ID, "package", pkgID, "softwareImage", im.ID, "error", err)
			}
		}
	}
}

// ---- compute ----

func (s *Server) findCompute(c echo.Context) (*storage.VIM, *storage.VIMCompute, vim.Driver, error) {
	v, err := s.findVIM(c)
	if err != nil {
		return nil, nil, nil, err
	}
	id := pathParam(c, "id")
	rec, err := s.db.GetVIMCompute(c.Request().Context(), v.ID, id)
	if err != nil {
		return nil, nil, nil, storageError(err, "compute "+id+" of VIM "+v.ID)
	}
	d, err := s.driver(c.Request().Context(), v)
	if err != nil {
		return nil, nil, nil, err
	}
	return v, rec, d, nil
}

// defaultMemory is the memory of a VDU whose VNFD gives none.
const defaultMemory = 512 << 20

// vimAndPackage finds the VIM of the path and the package a request names.
func (s *Server) vimAndPackage(c echo.Context, pkgID string) (*storage.VIM, *storage.Package, error) {
	v, err := s.findVIM(c)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.db.GetPackage(c.Request().Context(), pkgID)
	if err != nil {
		return nil, nil, storageError(err, "VNF package "+pkgID)
	}
	return v, p, nil
}

// allocateCompute is POST /vims/{vimId}/compute: the VDU's image is
// registered if needed, a flavour made from its virtual_compute, the
// package put IN_USE and the compute allocated.
func (s *Server) allocateCompute(c echo.Context) error {
	var req struct {
		VnfPkgID  string `json:"vnfPkgId"`
		VduID     string `json:"vduId"`
		FlavourID string `json:"flavourId"`
		Name      string `json:"name"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.VnfPkgID == "" || req.VduID == "" {
		return sol013.NewProblem(http.StatusBadRequest, "vnfPkgId and vduId are required")
	}
	v, p, err := s.vimAndPackage(c, req.VnfPkgID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p.OnboardingState != storage.OnboardingOnboarded || p.OperationalState != storage.OperationalEnabled {
		return sol013.Problemf(http.StatusConflict, "VNF package %s is %s and %s: compute needs an ONBOARDED, ENABLED package", p.ID, p.OnboardingState, p.OperationalState)
	}
	d, err := s.driver(ctx, v)
	if err != nil {
		return err
	}
	if err := vim.Require(ctx, d, vim.CapImages, vim.CapFlavors, vim.CapCompute); err != nil {
		return vimError(err, "VIM "+v.ID)
	}
	vdu, flavourID, err := s.findVDU(ctx, p, req.FlavourID, req.VduID)
	if err != nil {
		return err
	}
	if vdu.SoftwareImage == "" {
		return sol013.Problemf(http.StatusConflict, "VDU %s of VNF package %s has no software image", vdu.ID, p.ID)
	}
	if err := checkStorage(ctx, d, v, p, vdu); err != nil {
		return err
	}
	img, _, err := s.registerImage(ctx, v, p, vdu.SoftwareImage)
	if err != nil {
		return err
	}
	volumes, err := s.storageSpecs(ctx, v, p, vdu)
	if err != nil {
		return err
	}
	kernel, err := s.bootFile(p, vdu, vdu.Kernel)
	if err != nil {
		return err
	}
	initrd, err := s.bootFile(p, vdu, vdu.Initrd)
	if err != nil {
		return err
	}
	var images []SoftwareImageInfo
	decode(p.SoftwareImages, &images)
	spec := vim.FlavourSpec{Name: p.ID + "-" + vdu.ID, VCPUs: max(vdu.NumVirtualCPU, 1), MemoryBytes: vdu.MemoryBytes}
	for _, im := range images {
		if im.ID == vdu.SoftwareImage {
			spec.DiskBytes = im.MinDisk
			if spec.MemoryBytes == 0 {
				spec.MemoryBytes = im.MinRAM
			}
		}
	}
	if spec.MemoryBytes <= 0 {
		spec.MemoryBytes = defaultMemory
	}
	fl, err := d.CreateFlavour(ctx, spec)
	if err != nil {
		return vimError(err, "creating a flavour in VIM "+v.ID)
	}
	name := req.Name
	if name == "" {
		name = vdu.ID
	}
	rec := &storage.VIMCompute{
		VimID: v.ID, PackageID: p.ID, VduID: vdu.ID, FlavourID: flavourID, Name: name,
		VimImageID: img.VimImageID, VimFlavourID: fl.ID, OwnerHost: s.computeOwnerHost(v),
	}
	err = s.db.ReserveVIMCompute(ctx, rec, storage.Expect{
		OnboardingState:  []string{storage.OnboardingOnboarded},
		OperationalState: []string{storage.OperationalEnabled},
	})
	if err != nil {
		s.deleteFlavour(d, v.ID, fl.ID)
		return storageError(err, "VNF package "+p.ID)
	}
	vc, err := d.AllocateCompute(ctx, vim.ComputeSpec{
		Name: name, ImageID: img.VimImageID, FlavourID: fl.ID,
		Labels:  map[string]string{"vnfPkgId": p.ID, "vduId": vdu.ID, "computeId": rec.ID},
		Storage: volumes,
		Kernel:  kernel,
		Initrd:  initrd,
	})
	if err == nil {
		err = s.db.SetVIMComputeID(ctx, rec.ID, vc.ID)
		if err != nil {
			if terr := d.TerminateCompute(context.WithoutCancel(ctx), vc.ID); terr != nil {
				s.log.Error("compute left running", "vim", v.ID, "compute", vc.ID, "error", terr)
			}
		}
	}
	if err != nil {
		s.deleteFlavour(d, v.ID, fl.ID)
		if derr := s.db.DeleteVIMCompute(context.WithoutCancel(ctx), rec.ID); derr != nil {
			s.log.Error("removing the record of a failed allocation", "compute", rec.ID, "error", derr)
		}
		return vimError(err, "allocating compute in VIM "+v.ID)
	}
	rec.VimComputeID = vc.ID
	s.log.Info("compute allocated", "vim", v.ID, "compute", rec.ID, "vimCompute", vc.ID, "package", p.ID, "vdu", vdu.ID)
	info := toComputeInfo(c, rec, vc)
	c.Response().Header().Set(echo.HeaderLocation, info.Links["self"].Href)
	return c.JSON(http.StatusCreated, info)
}

// checkStorage refuses, before anything is registered or created, a VDU
// whose virtual storage the VIM cannot make: object and file storage (no
// driver makes them), blank block volumes without vim.CapStorage, volumes
// from an image without vim.CapStorageImage, an image that is not in the
// package.
func checkStorage(ctx context.Context, d vim.Driver, v *storage.VIM, p *storage.Package, vdu *validate.ReportVDU) error {
	if len(vdu.VirtualStorages) == 0 {
		return nil
	}
	info, err := d.Info(ctx)
	if err != nil {
		return vimError(err, "VIM "+v.ID)
	}
	for _, st := range vdu.VirtualStorages {
		if st.Kind != vnfd.StorageBlock {
			return sol013.Problemf(http.StatusConflict, "VDU %s of VNF package %s requires %s storage %s: only block storage (tosca.nodes.nfv.Vdu.VirtualBlockStorage) is made in a VIM", vdu.ID, p.ID, st.Kind, st.ID)
		}
		what, capability := "a blank block volume", vim.CapStorage
		if st.SoftwareImage != "" {
			what, capability = "a block volume from a software image", vim.CapStorageImage
			if !st.ImageInPackage {
				return sol013.Problemf(http.StatusConflict, "the software image of virtual storage %s (VDU %s, VNF package %s) is not in the package (sw_image_data without a SwImage artifact): it cannot be registered with a VIM", st.ID, vdu.ID, p.ID)
			}
		}
		if !info.Has(capability) {
			return sol013.Problemf(http.StatusConflict, "VDU %s of VNF package %s requires virtual storage %s, %s of %d bytes: VIM %s (type %s) has no %s capability", vdu.ID, p.ID, st.ID, what, st.SizeBytes, v.ID, info.Type, capability)
		}
	}
	return nil
}

// storageSpecs are the block volumes of a VDU, their images registered
// with the VIM (if they are not yet).
func (s *Server) storageSpecs(ctx context.Context, v *storage.VIM, p *storage.Package, vdu *validate.ReportVDU) ([]vim.StorageSpec, error) {
	var out []vim.StorageSpec
	for _, st := range vdu.VirtualStorages {
		spec := vim.StorageSpec{Name: st.ID, SizeBytes: st.SizeBytes}
		if st.SoftwareImage != "" {
			img, _, err := s.registerImage(ctx, v, p, st.SoftwareImage)
			if err != nil {
				return nil, err
			}
			spec.ImageID = img.VimImageID
		}
		out = append(out, spec)
	}
	return out, nil
}

// bootFile is a boot file of a VDU as the drivers take it: named on the
// OCI endpoint (ociReference). One that is not a file of the package (a
// URL, a file on the VNFM host) cannot be served: 409.
func (s *Server) bootFile(p *storage.Package, vdu *validate.ReportVDU, b *validate.ReportBootFile) (*vim.BootFile, error) {
	if b == nil {
		return nil, nil
	}
	if b.Path == "" {
		where := "a file on the VNFM host"
		if b.URI != "" {
			where = "at " + b.URI
		}
		return nil, sol013.Problemf(http.StatusConflict, "the %s artifact of VDU %s (VNF package %s) is %s, not in the package: this server cannot serve it to a VIM", b.Artifact, vdu.ID, p.ID, where)
	}
	out := &vim.BootFile{Path: b.Path, File: oci.LayerPath(b.Path)}
	if base := s.registryBase(); base != "" {
		out.OCI = func(ctx context.Context) (*vim.OCIReference, error) {
			repo, tag, digest, err := s.ociRegistry().BootFileReference(ctx, p.VnfdID, vdu.ID, b.Artifact)
			if oci.NotServed(err) {
				return nil, fmt.Errorf("%w: the %s artifact of VDU %s (VNF package %s, %s) is not served by the OCI endpoint: %v", vim.ErrNotSupported, b.Artifact, vdu.ID, p.ID, b.Path, err)
			}
			if err != nil {
				return nil, err
			}
			return &vim.OCIReference{Registry: base, Repository: repo, Tag: tag, Digest: digest}, nil
		}
	}
	return out, nil
}

func (s *Server) deleteFlavour(d vim.Driver, vimID, id string) {
	if err := d.DeleteFlavour(context.Background(), id); err != nil {
		s.log.Warn("VIM flavour left behind", "vim", vimID, "flavour", id, "error", err)
	}
}

// findVDU processes the package's VNFD again and returns the VDU of the
// deployment flavour (the first when flavourID is empty).
func (s *Server) findVDU(ctx context.Context, p *storage.Package, flavourID, vduID string) (*validate.ReportVDU, string, error) {
	obj, err := s.openContent(ctx, p)
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	// The package was verified at onboarding: only its VNFD is needed here,
	// not another read of every image.
	rep, err := validate.Describe(ctx, obj, obj.Size(), validate.Options{Limits: s.cfg.Limits})
	if err != nil {
		return nil, "", err
	}
	if len(rep.Flavours) == 0 {
		return nil, "", sol013.Problemf(http.StatusConflict, "the VNFD of package %s has no deployment flavour", p.ID)
	}
	fl := &rep.Flavours[0]
	if flavourID != "" {
		fl = nil
		for i := range rep.Flavours {
			if rep.Flavours[i].ID == flavourID {
				fl = &rep.Flavours[i]
			}
		}
		if fl == nil {
			return nil, "", sol013.Problemf(http.StatusNotFound, "the VNFD of package %s has no deployment flavour %q", p.ID, flavourID)
		}
	}
	for i := range fl.VDUs {
		if fl.VDUs[i].ID == vduID {
			return &fl.VDUs[i], fl.ID, nil
		}
	}
	return nil, "", sol013.Problemf(http.StatusNotFound, "deployment flavour %s of package %s has no VDU %q", fl.ID, p.ID, vduID)
}

// listQueries bounds the VIM queries a compute list makes at once.
const listQueries = 8

// listCompute answers every compute of the VIM with its state, as show
// does. One compute whose query fails does not fail the list: it is
// UNKNOWN with stateReason QUERY_FAILED and the error in detail.
func (s *Server) listCompute(c echo.Context) error {
	v, err := s.findVIM(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	recs, err := s.db.ListVIMComputes(ctx, v.ID)
	if err != nil {
		return err
	}
	out := make([]computeInfo, len(recs))
	if len(recs) == 0 {
		return c.JSON(http.StatusOK, out)
	}
	d, err := s.driver(ctx, v)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, listQueries)
	for i := range recs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			vc, err := s.computeState(ctx, d, &recs[i])
			if err != nil {
				vc = &vim.Compute{State: vim.StateUnknown, StateReason: vim.ReasonQueryFailed, Detail: err.Error()}
			}
			out[i] = toComputeInfo(c, &recs[i], vc)
		}()
	}
	wg.Wait()
	return c.JSON(http.StatusOK, out)
}

// queryCompute is the state of a compute record: BUILDING while it is
// allocated, else the VIM's answer; a compute the VIM no longer has is
// ERROR (NOT_FOUND_IN_VIM).
func queryCompute(ctx context.Context, d vim.Driver, rec *storage.VIMCompute) (*vim.Compute, error) {
	if rec.VimComputeID == "" {
		return &vim.Compute{State: vim.StateBuilding, Detail: "being allocated"}, nil
	}
	vc, err := d.QueryCompute(ctx, rec.VimComputeID)
	if errors.Is(err, vim.ErrNotFound) {
		return &vim.Compute{State: vim.StateError, StateReason: vim.ReasonNotFoundInVIM, Detail: "the VIM no longer has this compute"}, nil
	}
	return vc, err
}

// showCompute reads the record and the compute's state from the VIM.
func (s *Server) showCompute(c echo.Context) error {
	_, rec, d, err := s.findCompute(c)
	if err != nil {
		return err
	}
	vc, err := s.computeState(c.Request().Context(), d, rec)
	if err != nil {
		return vimError(err, "compute "+rec.ID)
	}
	return c.JSON(http.StatusOK, toComputeInfo(c, rec, vc))
}

// terminateCompute is DELETE: terminate in the VIM (idempotent there),
// drop the flavour and the record; the package is NOT_IN_USE again after
// its last compute.
func (s *Server) terminateCompute(c echo.Context) error {
	v, rec, d, err := s.findCompute(c)
	if err != nil {
		return err
	}
	if err := s.requireComputeHost(rec); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if rec.VimComputeID == "" {
		return sol013.Problemf(http.StatusConflict, "compute %s is still being allocated", rec.ID)
	}
	if err := d.TerminateCompute(ctx, rec.VimComputeID); err != nil {
		return vimError(err, "terminating compute "+rec.ID)
	}
	s.deleteFlavour(d, v.ID, rec.VimFlavourID)
	if err := s.db.DeleteVIMCompute(ctx, rec.ID); err != nil {
		return storageError(err, "compute "+rec.ID)
	}
	s.log.Info("compute terminated", "vim", v.ID, "compute", rec.ID, "vimCompute", rec.VimComputeID)
	return c.NoContent(http.StatusNoContent)
}

var actionCaps = map[string]vim.Capability{
	vim.ActionStart: vim.CapStart, vim.ActionStop: vim.CapStop, vim.ActionPause: vim.CapPause,
	vim.ActionResume: vim.CapResume, vim.ActionReboot: vim.CapReboot,
}

// operateCompute is POST .../operate {action}: an unknown action is 400,
// one the VIM cannot do 409, both before anything changes.
func (s *Server) operateCompute(c echo.Context) error {
	var req struct {
		Action string `json:"action"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	capability, ok := actionCaps[req.Action]
	if !ok {
		return sol013.Problemf(http.StatusBadRequest, "action %q is not one of start, stop, pause, resume, reboot", req.Action)
	}
	_, rec, d, err := s.findCompute(c)
	if err != nil {
		return err
	}
	if err := s.requireComputeHost(rec); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if rec.VimComputeID == "" {
		return sol013.Problemf(http.StatusConflict, "compute %s is still being allocated", rec.ID)
	}
	if err := vim.Require(ctx, d, capability); err != nil {
		return vimError(err, "compute "+rec.ID)
	}
	vc, err := d.OperateCompute(ctx, rec.VimComputeID, req.Action)
	if err != nil {
		return vimError(err, req.Action+" compute "+rec.ID)
	}
	return c.JSON(http.StatusOK, toComputeInfo(c, rec, vc))
}

// computeConsole is GET .../console: the console log as text/plain, when
// the driver keeps one (409 otherwise).
func (s *Server) computeConsole(c echo.Context) error {
	_, rec, d, err := s.findCompute(c)
	if err != nil {
		return err
	}
	if err := s.requireComputeHost(rec); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cr, ok := d.(vim.ConsoleReader)
	if !ok {
		return vimError(fmt.Errorf("%w: this VIM keeps no console log", vim.ErrNotSupported), "compute "+rec.ID)
	}
	if err := vim.Require(ctx, d, vim.CapConsole); err != nil {
		return vimError(err, "compute "+rec.ID)
	}
	if rec.VimComputeID == "" {
		return sol013.Problemf(http.StatusConflict, "compute %s is still being allocated", rec.ID)
	}
	r, err := cr.ConsoleLog(ctx, rec.VimComputeID)
	if err != nil {
		return vimError(err, "console of compute "+rec.ID)
	}
	defer r.Close()
	return c.Stream(http.StatusOK, "text/plain; charset=utf-8", r)
}
