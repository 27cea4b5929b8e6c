package vnfpkgm

import (
	"bytes"
	"encoding/json"
	"errors"
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
		return sol013.Problemf(http.StatusConflict, "%s: %s is %s, must be %s", what, pre.Attribute, pre.Actual, strings.Join(pre.Expected, " or "))
	case errors.Is(err, storage.ErrNotFound):
		return sol013.Problemf(http.StatusNotFound, "%s does not exist", what)
	case errors.Is(err, storage.ErrConflict):
		return sol013.Problemf(http.StatusConflict, "%s: %v", what, err)
	}
	return err
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

func (s *Server) writeInfo(c echo.Context, p *storage.Package) error {
	return c.JSON(http.StatusOK, toInfo(p, apiRoot(c)))
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
	}
	if err := s.db.CreatePackage(c.Request().Context(), p); err != nil {
		return err
	}
	info := toInfo(p, apiRoot(c))
	c.Response().Header().Set(echo.HeaderLocation, info.Links.Self.Href)
	return c.JSON(http.StatusCreated, info)
}

// deletePackage is DELETE /vnf_packages/{id}: only a DISABLED package not
// in use may go; its row goes first, then its content.
func (s *Server) deletePackage(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	p, err := s.db.DeletePackage(ctx, id, storage.Expect{
		OperationalState: []string{storage.OperationalDisabled},
		UsageState:       []string{storage.UsageNotInUse},
	})
	if err != nil {
		return storageError(err, "VNF package "+id)
	}
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
	_, err := s.db.UpdatePackageIf(c.Request().Context(), id, expect, func(p *storage.Package) error {
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
			}
		}
		return nil
	})
	if err != nil {
		return storageError(err, "VNF package "+id)
	}
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
