package apiref

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPackageConditionsAndLimits checks against the document the answers
// of the package resource's ETag, If-Match and userDefinedData limit.
func TestPackageConditionsAndLimits(t *testing.T) {
	srv := newServer(t, context.Background(), "--max-user-data-size", "64")
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c := &client{base: hs.URL, http: hs.Client()}

	big := []byte(`{"userDefinedData":{"k":"` + strings.Repeat("x", 64) + `"}}`)
	c.do(t, 413, "POST", tPackages, tPackages, big, "Content-Type: application/json")
	id := c.create(t, []byte(`{"userDefinedData":{"a":"b"}}`))
	path := "/vnfpkgm/v1/vnf_packages/" + id
	etag := c.do(t, 200, "GET", tPackage, path, nil).header.Get("ETag")
	if etag == "" {
		t.Fatal("GET without ETag")
	}
	patch := func(want int, body string, hdr ...string) reply {
		t.Helper()
		return c.do(t, want, "PATCH", tPackage, path, []byte(body), append([]string{"Content-Type: application/merge-patch+json"}, hdr...)...)
	}
	patch(413, `{"userDefinedData":{"k":"`+strings.Repeat("x", 64)+`"}}`)
	patch(412, `{"userDefinedData":{"c":"d"}}`, `If-Match: "stale"`)
	patch(400, `{"userDefinedData":{"c":"d"}}`, `If-Match: stale`)
	if r := patch(200, `{"userDefinedData":{"c":"d"}}`, "If-Match: "+etag); r.header.Get("ETag") == etag {
		t.Errorf("PATCH kept the ETag %s", etag)
	}
	c.do(t, 412, "DELETE", tPackage, path, nil, "If-Match: "+etag)
	c.do(t, 400, "DELETE", tPackage, path, nil, "If-Match: W/")
	c.do(t, 204, "DELETE", tPackage, path, nil, "If-Match: *")
	c.do(t, 404, "DELETE", tPackage, path, nil, "If-Match: *")
	if r := c.send(t, "GET", path, nil); r.status != http.StatusNotFound {
		t.Errorf("the package is still there: %s", r)
	}
}
