package sol013

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// HeaderVersion is the HTTP header that carries the API version (SOL 013 clause 9.1).
const HeaderVersion = "Version"

// VersionConfig configures the Version middleware.
type VersionConfig struct {
	// Current is the version answered when the request names none. Required.
	Current string
	// Supported are further versions a request may name; Current is always supported.
	Supported []string
	// Skipper selects requests whose Version header is not checked (they are
	// answered with Version: Current whatever they asked). If nil, requests
	// whose path ends in "/api_versions" are skipped: SOL 013 has a client
	// discover the versions there, so it must answer whatever version the
	// client tried.
	Skipper func(c echo.Context) bool
}

// Version returns the middleware of SOL 013 clause 9.1 for an API whose
// version is current, also accepting the versions in supported.
func Version(current string, supported ...string) echo.MiddlewareFunc {
	return VersionWithConfig(VersionConfig{Current: current, Supported: supported})
}

// VersionWithConfig returns the Version middleware: every response carries
// "Version"; a request without the header (or with an empty one) is served
// with Version: Current; a request naming a supported version (exact
// match, surrounding blanks ignored) is served and answered with that
// version; any other answers 406 Not Acceptable with a ProblemDetails listing
// the supported versions. Register it with echo's Use (or Pre) so that it
// also covers 404 and 405 answers.
//
// The versions are the caller's: SOL 013 leaves each API's version string to
// the API's specification (for vnfpkgm v1, the value the api_versions
// resource advertises, e.g. "2.6.1" as OpenStack Tacker and the v2.6.1
// conformance suite use).
func VersionWithConfig(cfg VersionConfig) echo.MiddlewareFunc {
	if cfg.Current == "" {
		panic("sol013: VersionConfig.Current is required")
	}
	supported := append([]string{cfg.Current}, cfg.Supported...)
	skip := cfg.Skipper
	if skip == nil {
		skip = func(c echo.Context) bool {
			return strings.HasSuffix(strings.TrimRight(c.Request().URL.Path, "/"), "/api_versions")
		}
	}
	list := strings.Join(supported, ", ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(HeaderVersion, cfg.Current)
			requested := strings.TrimSpace(c.Request().Header.Get(HeaderVersion))
			if requested == "" || skip(c) {
				return next(c)
			}
			if !slices.Contains(supported, requested) {
				return Problemf(http.StatusNotAcceptable,
					"API version %q is not supported; supported versions: %s.", requested, list)
			}
			h.Set(HeaderVersion, requested)
			return next(c)
		}
	}
}

// CollapseLeadingSlashes returns a pre-router middleware (register it with
// echo's Pre) that rewrites a path starting with several slashes, such as
// "//vnfpkgm/v1/vnf_packages" which the ETSI conformance suite sends when its
// apiRoot ends in '/', to the same path with one slash. Only the leading run
// is collapsed: a doubled slash further in is left to routing (it would be
// part of an artifact path).
func CollapseLeadingSlashes() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := c.Request().URL
			if strings.HasPrefix(u.Path, "//") {
				u.Path = "/" + strings.TrimLeft(u.Path, "/")
			}
			if strings.HasPrefix(u.RawPath, "//") {
				u.RawPath = "/" + strings.TrimLeft(u.RawPath, "/")
			}
			return next(c)
		}
	}
}
