package vnfpkgm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// attrColumns are the VnfPkgInfo attributes a filter term can be pushed
// down on: the column that stores each. The JSON columns hold the
// attribute's representation as is (see filterView).
var attrColumns = map[string]storage.Column{
	"id":                              storage.ColID,
	"vnfdId":                          storage.ColVnfdID,
	"vnfProvider":                     storage.ColVnfProvider,
	"vnfProductName":                  storage.ColVnfProductName,
	"vnfSoftwareVersion":              storage.ColVnfSoftwareVersion,
	"vnfdVersion":                     storage.ColVnfdVersion,
	"onboardingState":                 storage.ColOnboardingState,
	"operationalState":                storage.ColOperationalState,
	"usageState":                      storage.ColUsageState,
	"packageSecurityOption":           storage.ColPackageSecurityOption,
	"signingCertificate":              storage.ColSigningCertificate,
	"checksum":                        storage.ColChecksum,
	"softwareImages":                  storage.ColSoftwareImages,
	"additionalArtifacts":             storage.ColAdditionalArtifacts,
	"userDefinedData":                 storage.ColUserDefinedData,
	"onboardingFailureDetails":        storage.ColOnboardingFailureDetails,
	"compatibleSpecificationVersions": storage.ColCompatibleSpecificationVersions,
	"vnfmInfo":                        storage.ColVnfmInfo,
}

// onboardedOnly makes the checksum absent before ONBOARDED, as toInfo does.
var onboardedOnly = &storage.Cond{Column: storage.ColOnboardingState, Op: storage.OpEq, Values: []string{storage.OnboardingOnboarded}}

// pushdown describes the filter's terms to the database, which evaluates
// them with the same semantics as sol013's Match (storage.Cond). A term on
// an attribute no column stores is left out; the filter is still applied
// to every row the scan returns, so pushdown only narrows.
func pushdown(f *sol013.Filter) storage.Where {
	if f == nil {
		return nil
	}
	where := make(storage.Where, 0, len(f.Terms))
	for i := range f.Terms {
		t := &f.Terms[i]
		path := t.Path()
		col, ok := attrColumns[path[0]]
		if !ok {
			continue
		}
		c := storage.Cond{Column: col, Path: path[1:], Op: storage.FilterOp(t.Op), Values: t.Values}
		if col == storage.ColChecksum {
			c.Guard = onboardedOnly
		}
		where = append(where, c)
	}
	return where
}

// listPackages is GET /vnf_packages with SOL 013 filter, attribute
// selectors and paging. A page ends at pageSize packages or before its JSON
// reaches cfg.ListPageBytes (it always holds at least one package), and is
// streamed: memory stays bounded by a database batch, one package and
// maxKeptPage, whatever the number and size of the packages.
//
// The Link header must precede the body, and whether there is a next page
// is only known once the page is cut, so a page takes up to two passes:
// the first scans the filtered rows, encoding each to count its bytes, and
// keeps the Seq of those that fit (and their encoding while it totals at
// most maxKeptPage, enough for a page of ordinary packages, which is then
// sent as is); for a larger page the second pass reads those rows again
// and encodes them to the response one by one.
func (s *Server) listPackages(c echo.Context) error {
	q, err := sol013.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	filter, err := sol013.FilterFromQuery(q, pkgSchema)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "%v", err)
	}
	sel, err := sol013.ParseSelector(q, defaultExcluded, "onboardingState", "operationalState", "usageState")
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "%v", err)
	}
	if err := sel.Validate(pkgSchema); err != nil {
		return sol013.Problemf(http.StatusBadRequest, "%v", err)
	}
	var after storage.Cursor
	if m := q.Get("nextpage_opaque_marker"); m != "" {
		pos, err := sol013.DecodeMarker(m)
		if err == nil {
			after, err = storage.ParseCursor(pos.SortKey)
		}
		if err != nil {
			return sol013.Problemf(http.StatusBadRequest, "nextpage_opaque_marker is not one this server issued: %v", err)
		}
	}
	l := newLister(filter, sel, apiRoot(c))
	plan, err := l.plan(s, c, after)
	if err != nil {
		return err
	}
	if plan.more {
		marker := sol013.EncodeMarker(sol013.Position{SortKey: plan.last.String()})
		c.Response().Header().Set("Link", sol013.NextLink(apiRoot(c), c.Request(), marker))
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(http.StatusOK)
	w := c.Response()
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	if plan.encoded != nil {
		if _, err := w.Write(plan.encoded.Bytes()); err != nil {
			return err
		}
	} else if err := l.send(s, c, plan.seqs); err != nil {
		// The status is sent: cut the connection so that the client sees
		// a failed response, not a short page.
		s.log.Error("list page interrupted", "error", err)
		panic(http.ErrAbortHandler)
	}
	_, err = io.WriteString(w, "]\n")
	return err
}

// send is the second pass: it reads the planned packages again and encodes
// them to the response one by one.
func (l *lister) send(s *Server, c echo.Context, seqs []int64) error {
	w := c.Response()
	enc := json.NewEncoder(w)
	n := 0
	return s.db.PackagesBySeq(c.Request().Context(), seqs, func(p *storage.Package) error {
		item, ok := l.item(p)
		if !ok { // changed since the first pass and no longer matches
			return nil
		}
		if n > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		n++
		return enc.Encode(item)
	})
}

// lister holds what both passes of a list page share.
type lister struct {
	filter *sol013.Filter
	view   *filterView
	sel    *sol013.Selector
	root   string
	// unselected clear the JSON columns of attributes the selector drops
	// whole (by default softwareImages, additionalArtifacts,
	// userDefinedData, checksum), so that toInfo does not decode them only
	// for the selector to throw them away.
	unselected []func(*storage.Package)
}

// jsonAttrs clear the JSON column of each VnfPkgInfo attribute stored as one.
var jsonAttrs = map[string]func(*storage.Package){
	"checksum":                        func(p *storage.Package) { p.Checksum = nil },
	"softwareImages":                  func(p *storage.Package) { p.SoftwareImages = nil },
	"additionalArtifacts":             func(p *storage.Package) { p.AdditionalArtifacts = nil },
	"userDefinedData":                 func(p *storage.Package) { p.UserDefinedData = nil },
	"onboardingFailureDetails":        func(p *storage.Package) { p.OnboardingFailureDetails = nil },
	"compatibleSpecificationVersions": func(p *storage.Package) { p.CompatibleSpecificationVersions = nil },
	"vnfmInfo":                        func(p *storage.Package) { p.VnfmInfo = nil },
}

func newLister(filter *sol013.Filter, sel *sol013.Selector, root string) *lister {
	l := &lister{filter: filter, view: newFilterView(filter), sel: sel, root: root}
	// Every such attribute is an object or array: the selector keeps it
	// (whole or in part) or drops it whatever its content, so an empty
	// object tells which.
	probe := make(map[string]any, len(jsonAttrs))
	for attr := range jsonAttrs {
		probe[attr] = map[string]any{}
	}
	kept := sel.Apply(probe)
	for attr, clear := range jsonAttrs {
		if _, ok := kept[attr]; !ok {
			l.unselected = append(l.unselected, clear)
		}
	}
	return l
}

// pagePlan is the extent of a page: the Seq of its packages, in order, the
// cursor of the last, and whether a further package matches. encoded is
// the page's items as the first pass encoded them, kept while they total
// at most maxKeptPage bytes (nil beyond): a page of ordinary packages is
// then sent without a second pass.
type pagePlan struct {
	seqs    []int64
	last    storage.Cursor
	more    bool
	encoded *bytes.Buffer
}

// maxKeptPage bounds the part of a page the first pass keeps; beyond it
// the page is streamed by the second pass.
const maxKeptPage = 1 << 20

// item is the selected representation of p, or false if p does not match
// the filter (the database narrowed the scan; the reference evaluator has
// the last word, and decides the terms the database left out).
func (l *lister) item(p *storage.Package) (map[string]any, bool) {
	if !l.filter.Match(l.view.of(p)) {
		return nil, false
	}
	if len(l.unselected) > 0 {
		trimmed := *p
		for _, clear := range l.unselected {
			clear(&trimmed)
		}
		p = &trimmed
	}
	return l.sel.Apply(asMap(toInfo(p, l.root))), true
}

// plan is the first pass.
func (l *lister) plan(s *Server, c echo.Context, after storage.Cursor) (pagePlan, error) {
	plan := pagePlan{encoded: &bytes.Buffer{}}
	budget := s.cfg.ListPageBytes - 2 // "[" and "]"
	var total int64
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	_, err := s.db.ScanPackages(c.Request().Context(), after, pageSize+1, pushdown(l.filter), func(p *storage.Package) (bool, error) {
		item, ok := l.item(p)
		if !ok {
			return true, nil
		}
		if len(plan.seqs) == pageSize {
			plan.more = true
			return false, nil
		}
		one.Reset()
		if len(plan.seqs) > 0 {
			one.WriteByte(',')
		}
		if err := enc.Encode(item); err != nil {
			return false, err
		}
		size := int64(one.Len())
		if len(plan.seqs) > 0 && total+size > budget {
			plan.more = true
			return false, nil
		}
		total += size
		plan.seqs = append(plan.seqs, p.Seq)
		plan.last = p.Cursor()
		if plan.encoded != nil && plan.encoded.Len()+one.Len() <= maxKeptPage {
			plan.encoded.Write(one.Bytes())
		} else {
			plan.encoded = nil
		}
		if one.Cap() > maxKeptPage {
			one = bytes.Buffer{} // do not keep a big package's buffer
		}
		return true, nil
	})
	return plan, err
}
