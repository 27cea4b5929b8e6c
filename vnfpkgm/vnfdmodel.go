package vnfpkgm

import (
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/tosca"
	"github.com/vnfpkgm/vnfpkgm/tosca/vnfd"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// VNFDModelType is an extension of GET .../vnfd, chosen by content
// negotiation so that SOL 005's own answers (text/plain, application/zip)
// are untouched: the VNFD as this server understood it at onboarding (its
// flavours, VDUs, storages, connection points, virtual links, external
// CPs, images, instantiation levels and scaling aspects), after type
// inheritance, imports and substitution mappings are resolved. The web
// console draws it; any client may use it instead of interpreting TOSCA a
// second time, with a second set of mistakes.
const VNFDModelType = "application/vnd.vnfpkgm.vnfd+json"

// asksFor reports whether an Accept header names mediaType itself with a
// non-zero quality: a wildcard never selects an extension type.
func asksFor(accept, mediaType string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != mediaType {
			continue
		}
		if q, has := params["q"]; has {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v <= 0 {
				return false
			}
		}
		return true
	}
	return false
}

// vnfdModel is the body of a VNFDModelType answer.
type vnfdModel struct {
	VnfPkgID   string          `json:"vnfPkgId"`
	*vnfd.VNFD                 // flattened: vnfdId, provider, product, flavours, ...
	Warnings   []tosca.Problem `json:"warnings,omitempty"`
}

func writeVNFDModel(c echo.Context, p *storage.Package, st *tosca.ServiceTemplate) error {
	if err := firstError(st.Problems); err != nil {
		// Onboarded packages were valid under the same budget; one that no
		// longer parses is a server fault, not the client's.
		return sol013.Problemf(http.StatusInternalServerError, "the VNFD of %s no longer parses: %s", p.ID, err)
	}
	model, problems := vnfd.Extract(st)
	if err := firstError(problems); err != nil || model == nil {
		return sol013.Problemf(http.StatusInternalServerError, "the VNFD of %s no longer yields a model: %v", p.ID, err)
	}
	var warnings []tosca.Problem
	for _, pr := range append(st.Problems, problems...) {
		if pr.Severity != tosca.SeverityError {
			warnings = append(warnings, pr)
		}
	}
	c.Response().Header().Set("Vary", "Accept")
	return c.JSON(http.StatusOK, vnfdModel{VnfPkgID: p.ID, VNFD: model, Warnings: warnings})
}

// firstError is the first error among problems, or nil.
func firstError(problems []tosca.Problem) error {
	for _, pr := range problems {
		if pr.Severity == tosca.SeverityError {
			return errors.New(pr.String())
		}
	}
	return nil
}
