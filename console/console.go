// Package console serves the web console: static assets embedded in the
// binary, which talk to the server through its public API only
// (/vnfpkgm/v1, /vim/v1), exactly as any other client would. Nothing here
// reads the database: a console page shows what the API answers.
//
// The assets are plain HTML, CSS and JavaScript modules with no build step
// and no third-party code, so that `go build` alone produces a complete
// server and the console cannot drift from a bundle built elsewhere.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Prefix is where the console is served.
const Prefix = "/console/"

//go:embed web
var assets embed.FS

// asset is one embedded file with what its responses need.
type asset struct {
	body        []byte
	contentType string
	etag        string // strong, from the content
	version     string // short content hash, the cache-busting ?v= value
}

var loadAssets = sync.OnceValue(func() map[string]*asset {
	out := map[string]*asset{}
	fs.WalkDir(assets, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(name, "web/")] = &asset{
			body: body, contentType: ct,
			etag:    `"` + hex.EncodeToString(sum[:16]) + `"`,
			version: hex.EncodeToString(sum[:6]),
		}
		return nil
	})
	// index.html names every other asset with its content hash, so that
	// those can be cached for good and a new build is fetched at once.
	if idx := out["index.html"]; idx != nil {
		body := idx.body
		for name, a := range out {
			if name != "index.html" {
				body = bytes.ReplaceAll(body, []byte(`"`+name+`"`), []byte(`"`+name+`?v=`+a.version+`"`))
			}
		}
		sum := sha256.Sum256(body)
		idx.body, idx.etag = body, `"`+hex.EncodeToString(sum[:16])+`"`
	}
	return out
})

// securityPolicy keeps the console's pages to their own origin: no inline
// script, no third-party resource, no framing. The token a user signs in
// with lives in a script variable; this is what keeps other code from
// reading it.
const securityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console under Prefix. Every path that is not an asset
// serves index.html: the console routes in the page (location.hash), so a
// bookmarked /console/ URL always loads.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the console is read with GET", http.StatusMethodNotAllowed)
			return
		}
		all := loadAssets()
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a, ok := all[name]
		if !ok || name == "" {
			name, a = "index.html", all["index.html"]
		}
		h := w.Header()
		h.Set("Content-Security-Policy", securityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		switch {
		case name == "index.html":
			// Revalidated on every load: it names the current assets.
			h.Set("Cache-Control", "no-cache")
		case r.URL.Query().Get("v") == a.version:
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		default:
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
