// Package oci serves the software images of onboarded VNF packages as OCI
// images, over the pull part of the OCI distribution spec v1.1: the base
// /v2/, manifests by tag and by digest, blobs (with Range), HEAD of both,
// the tags list, the referrers list and the /v2/_catalog extension. It is
// read-only: every push or delete is 405 UNSUPPORTED.
//
// Each software image held inside an ONBOARDED package (imagePath; not
// the external ones, imageUri) is the repository
// vnfpkg/<vnfdId>/<softwareImageId> (names mapped by RepositoryName),
// tagged with the package's vnfSoftwareVersion (mapped by Tag), laid out
// as KubeVirt's containerDisk: one uncompressed tar layer holding
// disk/<file of imagePath>, owned 107:107.
//
// A VDU's boot files (its VNFD artifacts named kernel and initrd, see
// vnfd.BootFile) are served the same way, for the VIMs that boot a kernel
// held in a container image (Flintlock): the repository
// vnfpkg/<vnfdId>/<vduId>/kernel (or /initrd), laid out alike, the file
// at disk/<file of its path>. A fourth component keeps them apart from
// the software images, whose names have three.
//
// The layer is never stored: it is streamed from the package (tar header,
// the image's bytes read from the stored package, padding, end blocks),
// and a Range reads only the part of the image it covers (for an image
// deflated in the zip, the decompressor runs forwards to the range's
// start, as for the artifacts of the SOL 005 API). Its digest
// needs every byte, so it is computed once, the first time the image is
// asked for, and stored (storage.OCILayer); the config and the manifest
// are small documents made from it, the same bytes every time.
package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// Media types of the image spec.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// Image is one software image of an onboarded package.
type Image struct {
	PackageID  string
	ContentKey string // the stored content it is read from
	VnfdID     string
	// SoftwareImageID is the VDU or storage node the image belongs to.
	SoftwareImageID string
	// Version is the package's vnfSoftwareVersion.
	Version   string
	ImagePath string // inside the package
	// Artifact is "" for a software image; for a boot file of the VDU
	// SoftwareImageID, the artifact's name: "kernel" or "initrd".
	Artifact string
}

// BootArtifacts are the artifact names served as boot files.
var BootArtifacts = []string{"kernel", "initrd"}

// Repository is the image's repository name: RepositoryName, followed by
// "/<artifact>" for a boot file.
func (img Image) Repository() (string, bool) {
	n, ok := RepositoryName(img.VnfdID, img.SoftwareImageID)
	if ok && img.Artifact != "" {
		n += "/" + img.Artifact
	}
	return n, ok
}

// key is what the image's layer digest is stored under
// (storage.OCILayer.SoftwareImageID): the software image id, or
// "<vduId>/<artifact>" for a boot file.
func (img Image) key() string {
	if img.Artifact == "" {
		return img.SoftwareImageID
	}
	return img.SoftwareImageID + "/" + img.Artifact
}

// ErrNotFound is what a Source answers for a vnfdId no ONBOARDED package has.
var ErrNotFound = errors.New("oci: not found")

// Source is where the registry finds images: the package catalogue.
type Source interface {
	// VnfdIDs lists the vnfdId of every ONBOARDED package.
	VnfdIDs(ctx context.Context) ([]string, error)
	// Images lists the software images inside the ONBOARDED package
	// with this vnfdId (ErrNotFound when there is none).
	Images(ctx context.Context, vnfdID string) ([]Image, error)
	// Open opens the bytes of an image and says how many there are.
	Open(ctx context.Context, img Image) (io.ReadSeekCloser, int64, error)
}

// LayerStore keeps the layer digests (storage.DB).
type LayerStore interface {
	GetOCILayer(ctx context.Context, packageID, softwareImageID string) (*storage.OCILayer, error)
	PutOCILayer(ctx context.Context, l *storage.OCILayer) error
}

// Platform is the platform the image config declares. The VNFD says
// nothing of it (SOL 001's SwImageData has no architecture), so it is
// the registry's setting.
type Platform struct {
	Architecture string
	OS           string
}

// DefaultPlatform is where KubeVirt runs containerDisks most: x86-64 Linux.
var DefaultPlatform = Platform{Architecture: "amd64", OS: "linux"}

// Registry is the pull API, an http.Handler for every path under /v2.
type Registry struct {
	src      Source
	store    LayerStore
	log      *slog.Logger
	platform Platform

	mu      sync.Mutex
	flights map[string]*flight
}

// flight is one computation of a layer digest that concurrent requests wait for.
type flight struct {
	done chan struct{}
	row  *storage.OCILayer
	err  error
}

// New returns the registry over src, keeping digests in store.
func New(src Source, store LayerStore, platform Platform, log *slog.Logger) *Registry {
	return &Registry{src: src, store: store, log: log, platform: platform, flights: map[string]*flight{}}
}

// ServeHTTP answers /v2 and every path under it.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &regError{http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only: only GET and HEAD are served"})
		return
	}
	rest, ok := strings.CutPrefix(req.URL.Path, "/v2")
	if !ok {
		writeError(w, notFound("NAME_UNKNOWN", "not a registry path"))
		return
	}
	var err error
	switch {
	case rest == "" || rest == "/":
		w.Header().Set("Content-Type", "application/json")
		_, err = io.WriteString(w, "{}")
	case rest == "/_catalog":
		err = r.catalog(w, req)
	default:
		err = r.route(w, req, rest[1:])
	}
	if err != nil {
		var re *regError
		if !errors.As(err, &re) {
			r.log.Error("registry request failed", "path", req.URL.Path, "error", err)
			re = &regError{http.StatusInternalServerError, "UNKNOWN", "internal error"}
		}
		writeError(w, re)
	}
}

// route splits "<name>/manifests/<ref>", "<name>/blobs/<digest>",
// "<name>/tags/list" and "<name>/referrers/<digest>". The name may have
// any number of components; the last one or two decide.
func (r *Registry) route(w http.ResponseWriter, req *http.Request, p string) error {
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return r.tags(w, req, name)
	}
	i := strings.LastIndexByte(p, '/')
	j := strings.LastIndexByte(p[:max(i, 0)], '/')
	if i < 0 || j < 0 {
		return notFound("NAME_UNKNOWN", "no such endpoint")
	}
	name, kind, ref := p[:j], p[j+1:i], p[i+1:]
	switch kind {
	case "manifests":
		return r.manifest(w, req, name, ref)
	case "blobs":
		return r.blob(w, req, name, ref)
	case "referrers":
		return r.referrers(w, req, name, ref)
	}
	return notFound("NAME_UNKNOWN", "no such endpoint")
}

// regError is an error of the spec's error format.
type regError struct {
	status  int
	code    string
	message string
}

func (e *regError) Error() string { return e.code + ": " + e.message }

func notFound(code, format string, args ...any) *regError {
	return &regError{http.StatusNotFound, code, fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *regError) {
	encodeError(w, e.status, e.code, e.message, nil)
}

// encodeError writes {"errors":[{"code","message","detail"}]}, detail
// omitted when nil.
func encodeError(w http.ResponseWriter, status int, code, message string, detail any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	entry := map[string]any{"code": code, "message": message}
	if detail != nil {
		entry["detail"] = detail
	}
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{entry}})
}

// resolve finds the image of a repository name. A name that two vnfdIds
// (or two software image ids) map to is ambiguous: neither is served
// under it, and the error says so.
func (r *Registry) resolve(ctx context.Context, name string) (*Image, error) {
	if !validName(name) {
		return nil, &regError{http.StatusBadRequest, "NAME_INVALID", fmt.Sprintf("%q is not a repository name", name)}
	}
	parts := strings.Split(name, "/")
	artifact := ""
	if len(parts) == 4 && slices.Contains(BootArtifacts, parts[3]) {
		artifact = parts[3]
	} else if len(parts) != 3 || parts[0] != RepositoryPrefix {
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: repositories are %s/<vnfdId>/<softwareImageId> and %s/<vnfdId>/<vduId>/kernel or initrd", name, RepositoryPrefix, RepositoryPrefix)
	}
	if parts[0] != RepositoryPrefix {
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: repositories start with %s/", name, RepositoryPrefix)
	}
	ids, err := r.src.VnfdIDs(ctx)
	if err != nil {
		return nil, err
	}
	var vnfdIDs []string
	for _, id := range ids {
		if c, ok := NameComponent(id); ok && c == parts[1] {
			vnfdIDs = append(vnfdIDs, id)
		}
	}
	switch len(vnfdIDs) {
	case 0:
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: no onboarded package has a vnfdId that maps to %s", name, parts[1])
	case 1:
	default:
		return nil, notFound("NAME_UNKNOWN", "repository %s is ambiguous: the vnfdIds %q all map to it", name, vnfdIDs)
	}
	images, err := r.src.Images(ctx, vnfdIDs[0])
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: the package of vnfdId %s is no longer onboarded", name, vnfdIDs[0])
	}
	if err != nil {
		return nil, err
	}
	var found []Image
	for _, im := range images {
		if c, ok := NameComponent(im.SoftwareImageID); ok && c == parts[2] && im.Artifact == artifact {
			found = append(found, im)
		}
	}
	switch {
	case len(found) == 0 && artifact != "":
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: the package of vnfdId %s has no VDU that maps to %s with a %s artifact inside the package", name, vnfdIDs[0], parts[2], artifact)
	case len(found) == 0:
		return nil, notFound("NAME_UNKNOWN", "repository %s is unknown: the package of vnfdId %s has no software image inside it that maps to %s", name, vnfdIDs[0], parts[2])
	case len(found) == 1:
		return &found[0], nil
	}
	return nil, notFound("NAME_UNKNOWN", "repository %s is ambiguous: several images of vnfdId %s map to it", name, vnfdIDs[0])
}

// described is what an image is served as.
type described struct {
	img                          *Image
	tag                          string
	layer                        *storage.OCILayer
	config, manifest             []byte
	configDigest, manifestDigest string
}

// describeName resolves a repository name and describes its image.
func (r *Registry) describeName(ctx context.Context, name string) (*described, error) {
	img, err := r.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.describe(ctx, img)
}

// describe makes the config and manifest of an image, from its layer.
func (r *Registry) describe(ctx context.Context, img *Image) (*described, error) {
	row, err := r.layerOf(ctx, img)
	if err != nil {
		return nil, err
	}
	d := &described{img: img, layer: row}
	d.tag, _ = Tag(img.Version)
	d.config, err = json.Marshal(imageConfig{
		Architecture: r.platform.Architecture, OS: r.platform.OS,
		RootFS: rootFS{Type: "layers", DiffIDs: []string{row.Digest}},
	})
	if err != nil {
		return nil, err
	}
	d.configDigest = sha256Digest(d.config)
	annotations := map[string]string{
		"org.opencontainers.image.version":       img.Version,
		"com.github.vnfpkgm.vnfd-id":             img.VnfdID,
		"com.github.vnfpkgm.software-image-id":   img.SoftwareImageID,
		"com.github.vnfpkgm.vnf-package-id":      img.PackageID,
		"com.github.vnfpkgm.software-image-path": img.ImagePath,
	}
	if img.Artifact != "" {
		// A boot file: the VDU and the artifact, not a software image.
		annotations = map[string]string{
			"org.opencontainers.image.version":  img.Version,
			"com.github.vnfpkgm.vnfd-id":        img.VnfdID,
			"com.github.vnfpkgm.vdu-id":         img.SoftwareImageID,
			"com.github.vnfpkgm.artifact":       img.Artifact,
			"com.github.vnfpkgm.vnf-package-id": img.PackageID,
			"com.github.vnfpkgm.artifact-path":  img.ImagePath,
		}
	}
	d.manifest, err = json.Marshal(manifest{
		SchemaVersion: 2, MediaType: MediaTypeManifest,
		Config:      descriptor{MediaType: MediaTypeConfig, Digest: d.configDigest, Size: int64(len(d.config))},
		Layers:      []descriptor{{MediaType: MediaTypeLayer, Digest: row.Digest, Size: row.Size}},
		Annotations: annotations,
	})
	if err != nil {
		return nil, err
	}
	d.manifestDigest = sha256Digest(d.manifest)
	return d, nil
}

// The documents of the image spec, with their fields in the spec's order.
type (
	descriptor struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	manifest struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Config        descriptor        `json:"config"`
		Layers        []descriptor      `json:"layers"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}
	rootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	}
	imageConfig struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		// The layer is not compressed: its diff id is its digest.
		RootFS rootFS `json:"rootfs"`
	}
)

// layerOf returns the stored layer of an image, computing and storing it
// when there is none yet for its content and layout. Concurrent requests
// for the same image wait for one computation.
func (r *Registry) layerOf(ctx context.Context, img *Image) (*storage.OCILayer, error) {
	row, err := r.store.GetOCILayer(ctx, img.PackageID, img.key())
	if err == nil && row.Layout == Layout && row.ContentKey == img.ContentKey {
		return row, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	key := img.PackageID + "/" + img.key()
	r.mu.Lock()
	f, running := r.flights[key]
	if !running {
		// A flight may have ended, storing the row, between the read
		// above and the lock: read again rather than compute twice.
		if row, err := r.store.GetOCILayer(ctx, img.PackageID, img.key()); err == nil && row.Layout == Layout && row.ContentKey == img.ContentKey {
			r.mu.Unlock()
			return row, nil
		}
		f = &flight{done: make(chan struct{})}
		r.flights[key] = f
		// The computation outlives the request that started it: the
		// others wait for it, and its result is kept for every later one.
		go func() {
			f.row, f.err = r.computeLayer(context.WithoutCancel(ctx), img)
			r.mu.Lock()
			delete(r.flights, key)
			r.mu.Unlock()
			close(f.done)
		}()
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.row, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// computeLayer reads the image once through the layer and stores its digest.
func (r *Registry) computeLayer(ctx context.Context, img *Image) (*storage.OCILayer, error) {
	content, size, err := r.src.Open(ctx, *img)
	if err != nil {
		return nil, err
	}
	defer content.Close()
	l, err := newLayer(img.ImagePath, size)
	if err != nil {
		return nil, err
	}
	digest, err := l.digest(ctx, content)
	if err != nil {
		return nil, fmt.Errorf("layer of %s in package %s: %w", img.ImagePath, img.PackageID, err)
	}
	row := &storage.OCILayer{PackageID: img.PackageID, SoftwareImageID: img.key(),
		Layout: Layout, ContentKey: img.ContentKey, Digest: digest, Size: l.size()}
	if err := r.store.PutOCILayer(ctx, row); err != nil {
		return nil, err
	}
	r.log.Info("OCI layer digest computed", "package", img.PackageID, "softwareImage", img.key(), "digest", digest, "size", row.Size)
	return row, nil
}

// manifest serves GET/HEAD /v2/<name>/manifests/<reference>.
func (r *Registry) manifest(w http.ResponseWriter, req *http.Request, name, ref string) error {
	isDigest := strings.Contains(ref, ":")
	switch {
	case isDigest && !validDigest(ref):
		return &regError{http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("%q is not a digest", ref)}
	case !isDigest && !validTag(ref):
		return &regError{http.StatusBadRequest, "MANIFEST_INVALID", fmt.Sprintf("%q is neither a tag nor a digest", ref)}
	}
	d, err := r.describeName(req.Context(), name)
	if err != nil {
		return err
	}
	if (isDigest && ref != d.manifestDigest) || (!isDigest && ref != d.tag) {
		return notFound("MANIFEST_UNKNOWN", "repository %s has no manifest %s (its tag is %s)", name, ref, d.tag)
	}
	h := w.Header()
	h.Set("Content-Type", MediaTypeManifest)
	h.Set("Docker-Content-Digest", d.manifestDigest)
	h.Set("ETag", `"`+d.manifestDigest+`"`)
	h.Set("Content-Length", strconv.Itoa(len(d.manifest)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		// A failed write is a client that left: the status is sent,
		// nothing more can be answered.
		w.Write(d.manifest)
	}
	return nil
}

// blob serves GET/HEAD /v2/<name>/blobs/<digest>: the config, or the
// layer streamed from the package, with ranges.
func (r *Registry) blob(w http.ResponseWriter, req *http.Request, name, digest string) error {
	if !validDigest(digest) {
		return &regError{http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("%q is not a digest", digest)}
	}
	ctx := req.Context()
	d, err := r.describeName(ctx, name)
	if err != nil {
		return err
	}
	img := d.img
	var content io.ReadSeeker
	switch digest {
	case d.configDigest:
		w.Header().Set("Content-Type", "application/octet-stream")
		content = strings.NewReader(string(d.config))
	case d.layer.Digest:
		image, size, err := r.src.Open(ctx, *img)
		if err != nil {
			return err
		}
		defer image.Close()
		l, err := newLayer(img.ImagePath, size)
		if err != nil {
			return err
		}
		if l.size() != d.layer.Size {
			return fmt.Errorf("layer of %s in package %s is %d bytes, %d recorded", img.ImagePath, img.PackageID, l.size(), d.layer.Size)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		content = l.reader(image)
	default:
		return notFound("BLOB_UNKNOWN", "repository %s has no blob %s", name, digest)
	}
	h := w.Header()
	h.Set("Docker-Content-Digest", digest)
	h.Set("ETag", `"`+digest+`"`)
	// Blobs are content-addressed: they never change.
	h.Set("Cache-Control", "max-age=31536000, immutable")
	// ServeContent answers Range (single and multiple), If-Range and
	// conditional requests; the zero time sends no Last-Modified.
	http.ServeContent(w, req, "", time.Time{}, content)
	return nil
}

// referrers serves GET /v2/<name>/referrers/<digest>: this registry holds
// no artifact that refers to a manifest, so the index is empty, for any
// subject digest (the spec: a registry with the referrers API answers 200
// for a repository it has, never 404).
func (r *Registry) referrers(w http.ResponseWriter, req *http.Request, name, digest string) error {
	if !validDigest(digest) {
		return &regError{http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("%q is not a digest", digest)}
	}
	if _, err := r.resolve(req.Context(), name); err != nil {
		return err
	}
	if req.URL.Query().Has("artifactType") {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, req, MediaTypeIndex, map[string]any{"schemaVersion": 2, "mediaType": MediaTypeIndex, "manifests": []any{}})
}

// tags serves GET /v2/<name>/tags/list: the one tag of the repository.
func (r *Registry) tags(w http.ResponseWriter, req *http.Request, name string) error {
	img, err := r.resolve(req.Context(), name)
	if err != nil {
		return err
	}
	var all []string
	if tag, ok := Tag(img.Version); ok {
		all = append(all, tag)
	}
	page, next, err := paginate(req, all)
	if err != nil {
		return err
	}
	if next != "" {
		setNextLink(w, "/v2/"+name+"/tags/list", req, next)
	}
	return writeJSON(w, req, "application/json", map[string]any{"name": name, "tags": page})
}

// catalog serves GET /v2/_catalog: every repository served, sorted.
// Names that two images map to are left out (they are ambiguous).
func (r *Registry) catalog(w http.ResponseWriter, req *http.Request) error {
	ctx := req.Context()
	ids, err := r.src.VnfdIDs(ctx)
	if err != nil {
		return err
	}
	byName := map[string][]string{}
	for _, id := range ids {
		if c, ok := NameComponent(id); ok {
			byName[c] = append(byName[c], id)
		}
	}
	var names []string
	for _, vnfdIDs := range byName {
		if len(vnfdIDs) != 1 {
			continue
		}
		images, err := r.src.Images(ctx, vnfdIDs[0])
		if errors.Is(err, ErrNotFound) {
			continue // no longer onboarded
		}
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, im := range images {
			if n, ok := im.Repository(); ok {
				count[n]++
			}
		}
		for n, c := range count {
			if c == 1 {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	page, next, err := paginate(req, names)
	if err != nil {
		return err
	}
	if next != "" {
		setNextLink(w, "/v2/_catalog", req, next)
	}
	return writeJSON(w, req, "application/json", map[string]any{"repositories": page})
}

// paginate applies n (page size) and last (the entry the page follows)
// to a sorted list, and returns the last entry of the page when more
// follow.
func paginate(req *http.Request, all []string) (page []string, next string, err error) {
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i := 0
		for i < len(all) && all[i] <= last {
			i++
		}
		all = all[i:]
	}
	page = all
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, "", &regError{http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", fmt.Sprintf("n=%q is not a number of entries", s)}
		}
		if n < len(all) {
			page = all[:n]
			if n > 0 {
				next = page[n-1]
			}
		}
	}
	if page == nil {
		page = []string{}
	}
	return page, next, nil
}

// setNextLink sets the Link header of the next page (RFC 5988, as the spec
// shows it).
func setNextLink(w http.ResponseWriter, path string, req *http.Request, last string) {
	q := req.URL.Query()
	q.Set("last", last)
	w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, q.Encode()))
}

func writeJSON(w http.ResponseWriter, req *http.Request, mediaType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		w.Write(b) // a failed write is a client that left
	}
	return nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NotServed reports whether err says an image is not served (a name
// unknown or shared, a reference malformed), rather than that serving it
// failed.
func NotServed(err error) bool {
	var re *regError
	return errors.As(err, &re)
}

// Reference returns the repository, tag and manifest digest under which
// the software image softwareImageID of the onboarded package of vnfdID
// is served (computing its layer digest if it was never asked for).
func (r *Registry) Reference(ctx context.Context, vnfdID, softwareImageID string) (repo, tag, digest string, err error) {
	return r.reference(ctx, Image{VnfdID: vnfdID, SoftwareImageID: softwareImageID})
}

// BootFileReference is Reference for the boot file artifact ("kernel" or
// "initrd") of the VDU vduID.
func (r *Registry) BootFileReference(ctx context.Context, vnfdID, vduID, artifact string) (repo, tag, digest string, err error) {
	return r.reference(ctx, Image{VnfdID: vnfdID, SoftwareImageID: vduID, Artifact: artifact})
}

func (r *Registry) reference(ctx context.Context, want Image) (repo, tag, digest string, err error) {
	repo, ok := want.Repository()
	if !ok {
		return "", "", "", notFound("NAME_UNKNOWN", "image %s of vnfdId %s has no repository name", want.key(), want.VnfdID)
	}
	img, err := r.resolve(ctx, repo)
	if err != nil {
		return "", "", "", err
	}
	if img.VnfdID != want.VnfdID || img.SoftwareImageID != want.SoftwareImageID || img.Artifact != want.Artifact {
		return "", "", "", notFound("NAME_UNKNOWN", "repository %s serves image %s of vnfdId %s", repo, img.key(), img.VnfdID)
	}
	d, err := r.describe(ctx, img)
	if err != nil {
		return "", "", "", err
	}
	return repo, d.tag, d.manifestDigest, nil
}
