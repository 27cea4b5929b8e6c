package vnfpkgm

import (
	"io/fs"
	"net/http"
	"path"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// includeSignatures tells whether a read asks for the security
// information with the content (SOL 005 include_signatures).
func includeSignatures(c echo.Context) (bool, error) {
	q, err := sol013.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return false, sol013.Problemf(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	_, ok := q["include_signatures"]
	return ok, nil
}

// signatureFiles are the package files that prove the given artifacts
// (security option 1): the Signature of each one's manifest entry and
// its Certificate, else the package's certificate file when some
// artifact is signed.
func signatureFiles(pkg *csar.Package, artifacts []string) []string {
	if pkg.Manifest == nil {
		return nil
	}
	want := map[string]bool{}
	for _, n := range artifacts {
		want[n] = true
	}
	seen := map[string]bool{}
	var out []string
	add := func(ref string) {
		n := path.Clean(ref)
		if ref != "" && fs.ValidPath(n) && pkg.HasFile(n) && !seen[n] && !want[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, e := range pkg.Manifest.Entries {
		if e.Signature == "" || e.External || !want[path.Clean(e.Source)] {
			continue
		}
		add(e.Signature)
		if e.Certificate != "" {
			add(e.Certificate)
		} else {
			add(pkg.CertificatePath)
		}
	}
	sort.Strings(out)
	return out
}

// artifactWithSignatures answers GET .../artifacts/{path}?include_signatures:
// a zip of the artifact with its signature and certificate (the artifact
// alone when it is not signed).
func (s *Server) artifactWithSignatures(c echo.Context, a *csar.Archive, name string) error {
	pkg := csar.Inspect(a, csar.Options{})
	return streamZip(c, a, append([]string{name}, signatureFiles(pkg, []string{name})...), nil)
}
