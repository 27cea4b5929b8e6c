package oci

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestScopeOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v2":                                     "",
		"/v2/":                                    "",
		"/v2/_catalog":                            CatalogScope,
		"/v2/vnfpkg/a/vdu1/manifests/1.0":         "repository:vnfpkg/a/vdu1:pull",
		"/v2/vnfpkg/a/vdu1/blobs/sha256:ab":       "repository:vnfpkg/a/vdu1:pull",
		"/v2/vnfpkg/a/vdu1/blobs/uploads/":        "repository:vnfpkg/a/vdu1:pull",
		"/v2/vnfpkg/a/vdu1/tags/list":             "repository:vnfpkg/a/vdu1:pull",
		"/v2/vnfpkg/a/vdu1/referrers/sha256:ab":   "repository:vnfpkg/a/vdu1:pull",
		"/v2/x/blobs/y/manifests/1":               "repository:x/blobs/y:pull",
		"/v2/x/manifests/y/blobs/sha256:ab":       "repository:x/manifests/y:pull",
		"/v2/Upper/manifests/1":                   "", // not a name of the grammar
		"/v2/a\"b/manifests/1":                    "",
		"/v2/manifests/1":                         "",
		"/v2/token":                               "",
		"/vnfpkgm/v1/vnf_packages/x/manifests/1/": "",
	} {
		if got := ScopeOf(path); got != want {
			t.Errorf("ScopeOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestChallenge(t *testing.T) {
	for _, c := range []struct{ scope, code, want string }{
		{"", "", `Bearer realm="https://h:1/v2/token",service="vnfpkgm"`},
		{"repository:a/b:pull", "", `Bearer realm="https://h:1/v2/token",service="vnfpkgm",scope="repository:a/b:pull"`},
		{"repository:a/b:pull", "invalid_token", `Bearer realm="https://h:1/v2/token",service="vnfpkgm",scope="repository:a/b:pull",error="invalid_token"`},
	} {
		if got := Challenge("https://h:1/v2/token", "vnfpkgm", c.scope, c.code); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestParseAndGrantScopes(t *testing.T) {
	asked, err := ParseScopes([]string{
		"repository:vnfpkg/a/vdu1:pull,push",
		"repository:vnfpkg/a/vdu2:push repository:vnfpkg/a/vdu3:*",
		"registry:catalog:*",
		"repository:localhost:5000/x/y:pull", // a host with a port in the name
		"repository(plugin):vnfpkg/a/p:pull",
		"repository:Not/Valid:pull",
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked[4].Name != "localhost:5000/x/y" || !reflect.DeepEqual(asked[4].Actions, []string{"pull"}) {
		t.Fatalf("scope with a port parsed as %+v", asked[4])
	}
	var got []string
	for _, s := range Grant(asked) {
		got = append(got, s.String())
	}
	want := []string{"repository:vnfpkg/a/vdu1:pull", "repository:vnfpkg/a/vdu3:pull", CatalogScope}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("granted %q, want %q", got, want)
	}
	for _, bad := range []string{"repository", "repository:x", ":x:pull", "repository::pull", "repository:x:", "repository:x:pull,,push"} {
		if _, err := ParseScopes([]string{bad}); err != ErrScopeSyntax {
			t.Errorf("ParseScopes(%q): %v, want ErrScopeSyntax", bad, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, 401, "UNAUTHORIZED", "authentication required", "no credentials")
	var body struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"code": "UNAUTHORIZED", "message": "authentication required", "detail": "no credentials"}}
	if w.Code != 401 || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Docker-Distribution-API-Version") != "registry/2.0" || !reflect.DeepEqual(body.Errors, want) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}
