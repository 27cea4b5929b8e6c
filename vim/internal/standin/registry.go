package standin

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
)

// Registry is a small plain-HTTP OCI registry holding single-layer images,
// for the container images a test needs besides the catalogue's own (a
// kernel, an initrd).
type Registry struct {
	srv   *httptest.Server
	blobs map[string][]byte // by URL path
	// Host is HOST:PORT, the registry part of a reference.
	Host string
}

// NewRegistry starts a registry on 127.0.0.1; Close stops it.
func NewRegistry() *Registry {
	r := &Registry{blobs: map[string][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// Add stores an image of one uncompressed tar layer holding files (path ->
// content) as repo:tag and returns its reference by digest,
// HOST:PORT/REPO@sha256:....
func (r *Registry) Add(repo, tag string, files map[string][]byte) string {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o444, Size: int64(len(files[n]))})
		tw.Write(files[n])
	}
	tw.Close()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digestOf(layer.Bytes()) + `"]}}`)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(config), "size": len(config)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digestOf(layer.Bytes()), "size": layer.Len()}},
	})
	base := "/v2/" + repo
	r.blobs[base+"/manifests/"+tag] = manifest
	r.blobs[base+"/manifests/"+digestOf(manifest)] = manifest
	r.blobs[base+"/blobs/"+digestOf(config)] = config
	r.blobs[base+"/blobs/"+digestOf(layer.Bytes())] = layer.Bytes()
	return r.Host + "/" + repo + "@" + digestOf(manifest)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	b, ok := r.blobs[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	if strings.Contains(req.URL.Path, "/manifests/") {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", digestOf(b))
	}
	w.Write(b)
}
