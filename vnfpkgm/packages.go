package vnfpkgm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// pageSize is how many packages one list response holds at most.
const pageSize = 100

// maxJSONBody bounds the JSON request bodies (create, patch, upload_from_uri).
const maxJSONBody = 1 << 20

type findFunc func(echo.Context) (*storage.Package, error)

// pathParam is a path parameter, percent-decoded. echo routes on the raw
// path whenever the request escapes it otherwise than Go would (URL.RawPath
// set: "odd%20name%20(1).txt" with its parentheses left raw) and then hands
// out the parameters still escaped; from URL.Path they are already decoded.
// A parameter that does not decode is returned as it came (it names nothing).
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// storageError maps repository errors to ProblemDetails.
func storageError(err error, what string) error {
	var pre *storage.PreconditionError
	switch {
	case errors.As(err, &pre):
		// "VNF package X is ONBOARDED; this needs its onboardingState to be CREATED"
		return sol013.Problemf(http.StatusConflict, "%s is %s; this needs its %s to be %s", what, pre.Actual, pre.Attribute, strings.Join(pre.Expected, " or "))
	case errors.Is(err, storage.ErrNotFound):
		return sol013.Problemf(http.StatusNotFound, "%s does not exist", what)
	case errors.Is(err, storage.ErrConflict):
		return sol013.Problemf(http.StatusConflict, "%s: %v", what, err)
	}
	return err
}

// packageWriteError says why a PATCH or DELETE of package id (done is
// "modified" or "deleted") did not hold: 412 when the package changed
// since its If-Match was evaluated, 409 with the state in the way.
func packageWriteError(err error, id, done string) error {
	var pre *storage.PreconditionError
	if !errors.As(err, &pre) {
		return storageError(err, "VNF package "+id)
	}
	switch pre.Attribute {
	case "revision":
		return sol013.Problemf(http.StatusPreconditionFailed, "VNF package %s changed while it was being %s: its If-Match no longer holds", id, done)
	case "operationalState":
		if done == "deleted" {
			return sol013.Problemf(http.StatusConflict, "VNF package %s is %s: disable it (operationalState DISABLED) before deleting it", id, pre.Actual)
		}
		return sol013.Problemf(http.StatusConflict, "VNF package %s is already %s", id, pre.Actual)
	case "onboardingState":
		return sol013.Problemf(http.StatusConflict, "VNF package %s is %s, not ONBOARDED: its operationalState changes only once it is onboarded", id, pre.Actual)
	case "usageState":
		return sol013.Problemf(http.StatusConflict, "VNF package %s is %s: it can be %s only when NOT_IN_USE", id, pre.Actual, done)
	}
	return storageError(err, "VNF package "+id)
}

func (s *Server) findByID(c echo.Context) (*storage.Package, error) {
	id := pathParam(c, "id")
	p, err := s.db.GetPackage(c.Request().Context(), id)
	if err != nil {
		return nil, storageError(err, "VNF package "+id)
	}
	return p, nil
}

// findOnboardedByVnfdID serves the SOL 003 view keyed by vnfdId.
func (s *Server) findOnboardedByVnfdID(c echo.Context) (*storage.Package, error) {
	id := pathParam(c, "id")
	p, err := s.db.GetOnboardedPackage(c.Request().Context(), id)
	if err != nil {
		return nil, storageError(err, "an onboarded VNF package with vnfdId "+id)
	}
	return p, nil
}

// onboardedRead wraps a read of package content: only an ONBOARDED
// package has content to read (409 otherwise).
func (s *Server) onboardedRead(find findFunc, h func(echo.Context, *storage.Package) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := find(c)
		if err != nil {
			return err
		}
		if p.OnboardingState != storage.OnboardingOnboarded {
			return sol013.Problemf(http.StatusConflict, "VNF package %s is %s, not ONBOARDED: its content cannot be read", p.ID, p.OnboardingState)
		}
		return h(c, p)
	}
}

// writeInfo answers a GET or HEAD of a package's VnfPkgInfo, or 304 when
// the client's If-None-Match names its current revision (RFC 9110
// 13.1.2): an NFVO polling a catalogue then re-reads only what changed.
func (s *Server) writeInfo(c echo.Context, p *storage.Package) error {
	etag := packageETag(p)
	c.Response().Header().Set("ETag", etag)
	if values := c.Request().Header.Values("If-None-Match"); len(values) > 0 {
		header := strings.Join(values, ",")
		match, err := etagListMatchesWeakly(header, etag)
		if err != nil {
			return sol013.Problemf(http.StatusBadRequest, "If-None-Match %q is %v", header, err)
		}
		if match {
			return c.NoContent(http.StatusNotModified)
		}
	}
	return c.JSON(http.StatusOK, toInfo(p, apiRoot(c)))
}

// packageETag is the strong entity tag of a package's VnfPkgInfo. Every
// update of the row increments its revision, so the revision names the
// representation; If-Match compares against it.
func packageETag(p *storage.Package) string {
	return fmt.Sprintf(`"r%d"`, p.Revision)
}

// ifMatch evaluates the request's If-Match (RFC 9110 13.1.1) against
// package id. Without one it returns the zero revision (no condition);
// with one that holds, the revision it held for, which the caller's
// update must still find (a compare-and-set: a write in between makes it
// fail); "*" holds for any revision. A package that does not exist is a
// 404 whatever the condition (13.2.1: conditions are ignored when the
// request would fail without them).
func (s *Server) ifMatch(c echo.Context, id string) (int64, error) {
	values := c.Request().Header.Values("If-Match")
	if len(values) == 0 {
		return 0, nil
	}
	header := strings.Join(values, ",")
	p, err := s.db.GetPackage(c.Request().Context(), id)
	if err != nil {
		return 0, storageError(err, "VNF package "+id)
	}
	etag := packageETag(p)
	ok, err := etagListMatches(header, etag)
	switch {
	case err != nil:
		return 0, sol013.Problemf(http.StatusBadRequest, "If-Match %q is %v", header, err)
	case !ok:
		return 0, sol013.Problemf(http.StatusPreconditionFailed, "If-Match %s does not match the current ETag %s of VNF package %s: it has changed since", header, etag, id)
	case strings.TrimSpace(header) == "*":
		return 0, nil
	}
	return p.Revision, nil
}

// checkUserDataSize refuses userDefinedData whose JSON encoding is
// larger than cfg.MaxUserDataSize: it is stored in the package's row and
// sent with every read of it.
func (s *Server) checkUserDataSize(data storage.JSON) error {
	if n := int64(len(data)); n > s.cfg.MaxUserDataSize {
		return sol013.Problemf(http.StatusRequestEntityTooLarge,
			"userDefinedData would be %d bytes of JSON, more than the limit of %d bytes per package (--max-user-data-size)", n, s.cfg.MaxUserDataSize)
	}
	return nil
}

func (s *Server) showPackage(c echo.Context) error {
	p, err := s.findByID(c)
	if err != nil {
		return err
	}
	return s.writeInfo(c, p)
}

// readJSON decodes a bounded JSON object body into v; contentTypes lists
// the media types accepted (an absent Content-Type is accepted as JSON).
func readJSON(c echo.Context, v any, contentTypes ...string) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && mt == "application/json"
		for _, t := range contentTypes {
			ok = ok || (err == nil && mt == t)
		}
		if !ok {
			return sol013.Problemf(http.StatusUnsupportedMediaType, "Content-Type %q is not accepted here (accepted: %s)", ct, strings.Join(append([]string{"application/json"}, contentTypes...), ", "))
		}
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSONBody+1))
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the request body cannot be read: %v", err)
	}
	if len(body) > maxJSONBody {
		return sol013.Problemf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", maxJSONBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the request body is not a valid JSON object of the expected form: %v", err)
	}
	if dec.More() {
		return sol013.NewProblem(http.StatusBadRequest, "the request body holds more than one JSON value")
	}
	return nil
}

// createPackage is POST /vnf_packages (CreateVnfPkgInfoRequest).
func (s *Server) createPackage(c echo.Context) error {
	var req struct {
		UserDefinedData map[string]any `json:"userDefinedData"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	p := &storage.Package{
		OnboardingState:  storage.OnboardingCreated,
		OperationalState: storage.OperationalDisabled,
		UsageState:       storage.UsageNotInUse,
	}
	if req.UserDefinedData != nil {
		p.UserDefinedData = storage.MustJSON(req.UserDefinedData)
		if err := s.checkUserDataSize(p.UserDefinedData); err != nil {
			return err
		}
	}
	if err := s.db.CreatePackage(c.Request().Context(), p); err != nil {
		return err
	}
	info := toInfo(p, apiRoot(c))
	c.Response().Header().Set(echo.HeaderLocation, info.Links.Self.Href)
	c.Response().Header().Set("ETag", packageETag(p))
	return c.JSON(http.StatusCreated, info)
}

// deletePackage is DELETE /vnf_packages/{id}: only a DISABLED package not
// in use may go; its row goes first, then its content.
func (s *Server) deletePackage(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	rev, err := s.ifMatch(c, id)
	if err != nil {
		return err
	}
	p, err := s.db.DeletePackage(ctx, id, storage.Expect{
		OperationalState: []string{storage.OperationalDisabled},
		UsageState:       []string{storage.UsageNotInUse},
		Revision:         rev,
	})
	if err != nil {
		return packageWriteError(err, id, "deleted")
	}
	s.releasePackageImages(ctx, id) // its software images in VIMs (vims.go)
	if p.HasContent() {
		if err := s.blobs.Delete(ctx, *p.ContentKey); err != nil {
			// The row is gone: the blob is an orphan Reconcile removes.
			s.log.Warn("package content left for clean-up", "package", id, "error", err)
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// patchPackage is PATCH /vnf_packages/{id} (VnfPkgInfoModifications).
func (s *Server) patchPackage(c echo.Context) error {
	var req struct {
		OperationalState *string        `json:"operationalState"`
		UserDefinedData  map[string]any `json:"userDefinedData"`
	}
	if err := readJSON(c, &req, "application/merge-patch+json"); err != nil {
		return err
	}
	if req.OperationalState == nil && req.UserDefinedData == nil {
		return sol013.NewProblem(http.StatusBadRequest, "the modification names neither operationalState nor userDefinedData")
	}
	expect := storage.Expect{}
	if op := req.OperationalState; op != nil {
		if *op != storage.OperationalEnabled && *op != storage.OperationalDisabled {
			return sol013.Problemf(http.StatusBadRequest, "operationalState must be ENABLED or DISABLED, not %q", *op)
		}
		expect.OnboardingState = []string{storage.OnboardingOnboarded}
		other := storage.OperationalEnabled
		if *op == storage.OperationalEnabled {
			other = storage.OperationalDisabled
		}
		// Changing to the state it already has is a conflict (SOL 005).
		expect.OperationalState = []string{other}
	}
	id := pathParam(c, "id")
	rev, err := s.ifMatch(c, id)
	if err != nil {
		return err
	}
	expect.Revision = rev
	updated, err := s.db.UpdatePackageIf(c.Request().Context(), id, expect, func(p *storage.Package) error {
		if req.OperationalState != nil {
			p.OperationalState = *req.OperationalState
		}
		if req.UserDefinedData != nil {
			var current map[string]any
			decode(p.UserDefinedData, &current)
			merged := mergePatch(current, req.UserDefinedData)
			if len(merged) == 0 {
				p.UserDefinedData = nil
			} else {
				p.UserDefinedData = storage.MustJSON(merged)
				return s.checkUserDataSize(p.UserDefinedData)
			}
		}
		return nil
	})
	if err != nil {
		return packageWriteError(err, id, "modified")
	}
	c.Response().Header().Set("ETag", packageETag(updated))
	out := map[string]any{}
	if req.OperationalState != nil {
		out["operationalState"] = *req.OperationalState
	}
	if req.UserDefinedData != nil {
		out["userDefinedData"] = req.UserDefinedData
	}
	return c.JSON(http.StatusOK, out)
}

// mergePatch applies an RFC 7396 merge patch to an object: null deletes a
// key, objects merge recursively, anything else replaces.
func mergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, _ := target[k].(map[string]any)
			target[k] = mergePatch(tv, pv)
		default:
			target[k] = v
		}
	}
	return target
}
