package vnfpkgm

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/console"
)

// consoleRoutes serves the web console (package console) at /console/.
// Its pages are public like /api-ref: they hold no data, and every API
// call they make carries the user's own token.
func consoleRoutes(e *echo.Echo) {
	h := echo.WrapHandler(console.Handler())
	e.GET(console.Prefix+"*", h)
	e.HEAD(console.Prefix+"*", h)
	e.GET("/console", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, console.Prefix)
	})
}
