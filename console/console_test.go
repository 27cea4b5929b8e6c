package console

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, req)
	return w
}

// TestAssetsVersionedAndCached: the page names each asset with its content
// hash, so assets are cached for good and the page itself is revalidated.
func TestAssetsVersionedAndCached(t *testing.T) {
	idx := get(t, Prefix)
	if idx.Code != 200 || idx.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("index: %d, Cache-Control %q", idx.Code, idx.Header().Get("Cache-Control"))
	}
	refs := regexp.MustCompile(`"(app\.js|style\.css)\?v=([0-9a-f]{12})"`).FindAllStringSubmatch(idx.Body.String(), -1)
	if len(refs) != 2 {
		t.Fatalf("index names %d versioned assets, want app.js and style.css: %s", len(refs), idx.Body)
	}
	for _, ref := range refs {
		a := get(t, Prefix+ref[1]+"?v="+ref[2])
		if a.Code != 200 || !strings.Contains(a.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", ref[1], a.Code, a.Header().Get("Cache-Control"))
		}
		if ct := a.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") && !strings.Contains(ct, "css") {
			t.Errorf("%s served as %q", ref[1], ct)
		}
		stale := get(t, Prefix+ref[1]+"?v=000000000000")
		if stale.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s with a stale version is cached: %q", ref[1], stale.Header().Get("Cache-Control"))
		}
		again := get(t, Prefix+ref[1]+"?v="+ref[2], "If-None-Match", a.Header().Get("ETag"))
		if again.Code != http.StatusNotModified {
			t.Errorf("%s revalidation: %d, want 304", ref[1], again.Code)
		}
	}
	// Modules imported by app.js are fetched without ?v=: never cached blindly.
	if m := get(t, Prefix+"api.js"); m.Code != 200 || m.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("api.js: %d, Cache-Control %q", m.Code, m.Header().Get("Cache-Control"))
	}
}

// TestSecurityHeaders: no inline script, no other origin, no framing.
func TestSecurityHeaders(t *testing.T) {
	w := get(t, Prefix)
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	if strings.Contains(w.Body.String(), "<script>") || strings.Contains(w.Body.String(), " onclick=") {
		t.Error("index.html has inline script, which the CSP would block")
	}
}

// TestUnknownPathsServeThePage: the console routes in the page, so any
// path under the prefix loads it; other methods are refused.
func TestUnknownPathsServeThePage(t *testing.T) {
	w := get(t, Prefix+"packages/123")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<main") {
		t.Fatalf("deep path: %d", w.Code)
	}
	req := httptest.NewRequest(http.MethodPost, Prefix, nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}
