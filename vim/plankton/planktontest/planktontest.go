// Package planktontest is a stand-in Plankton for tests: one HTTP server
// with the Plankton image API paths the driver uses and the Pithos+
// object paths its images live in, following the Plankton API guide of
// the seeds (shared/seeds/003_*: POST /images with the X-Image-Meta-*
// headers in Plankton's spelling, GET /images, HEAD /images/ID, the
// pithos://ACCOUNT/CONTAINER/OBJECT location, the disk formats diskdump,
// extdump, ntfsdump and the container formats aki, ari, ami, bare, ovf)
// and the Image API v1 that Plankton extends (DELETE /images/ID).
//
// It is strict as the real one is: a missing or wrong X-Auth-Token is
// 401; a registration without a name, with a header Plankton does not
// take (Glance's spellings such as X-Image-Meta-Disk_format included),
// with a format Plankton does not know, a location whose object is
// missing, or a size or checksum that differs from the object is 400; one
// without a location is 501. A location already registered updates that
// image, as the guide says. It keeps every object, streamed to a file of
// the test's temporary directory, so a test can check what was uploaded.
//
// Paths: the image API under /plankton (the driver's endpoint is
// URL+"/plankton"), Pithos+ under /pithos (its pithos_endpoint).
package planktontest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Server is a running stand-in Plankton with its Pithos+.
type Server struct {
	// URL is the server's base URL; ImageAPI and Pithos its two endpoints.
	URL, ImageAPI, Pithos string

	token string
	srv   *httptest.Server

	dir string // object files

	mu         sync.Mutex
	containers map[string]bool    // ACCOUNT/CONTAINER
	objects    map[string]object  // ACCOUNT/CONTAINER/OBJECT
	images     map[string]*Image  // by id
	faults     map[string][]fault // by "METHOD /plankton|/pithos"
	badETag    bool
}

// Image is a registered image.
type Image struct {
	ID, Name, Location, DiskFormat, ContainerFormat, Checksum, Status string
	Size                                                              int64
	Public                                                            bool
	Properties                                                        map[string]string
	CreatedAt                                                         time.Time
}

// object is a stored object: its file (bytes are streamed to disk, never
// held in memory), size and MD5.
type object struct {
	file string
	size int64
	md5  string
}

type fault struct {
	status int
	delay  time.Duration
}

// Start starts a stand-in on 127.0.0.1 that accepts token; it stops at the
// end of the test.
func Start(tb testing.TB, token string) *Server {
	s := &Server{token: token, dir: tb.TempDir(), containers: map[string]bool{}, objects: map[string]object{},
		images: map[string]*Image{}, faults: map[string][]fault{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.ImageAPI, s.Pithos = s.URL+"/plankton", s.URL+"/pithos"
	tb.Cleanup(s.srv.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next times requests of method to the service ("plankton"
// or "pithos") answer status.
func (s *Server) Fail(method, service string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.faults[method+" /"+service] = append(s.faults[method+" /"+service], fault{status: status})
	}
}

// Delay makes the next request of method to the service wait d first.
func (s *Server) Delay(method, service string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method+" /"+service] = append(s.faults[method+" /"+service], fault{delay: d})
}

// WrongETags makes later object PUTs answer an ETag that is not the MD5
// of what was stored, as a damaged store would.
func (s *Server) WrongETags(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badETag = on
}

// Object returns the bytes of an object (ACCOUNT/CONTAINER/OBJECT).
func (s *Server) Object(path string) ([]byte, bool) {
	s.mu.Lock()
	o, ok := s.objects[path]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	b, err := os.ReadFile(o.file)
	return b, err == nil
}

// ObjectInfo returns the size and MD5 of an object.
func (s *Server) ObjectInfo(path string) (size int64, md5hex string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[path]
	return o.size, o.md5, ok
}

// Objects lists the objects held.
func (s *Server) Objects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.objects))
	for k := range s.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Images returns copies of the registered images, by id.
func (s *Server) Images() map[string]Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Image{}
	for id, im := range s.images {
		out[id] = *im
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	service, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if s.applyFault(w, r, r.Method+" /"+service) {
		return
	}
	if r.Header.Get("X-Auth-Token") != s.token {
		http.Error(w, "missing or expired user token", http.StatusUnauthorized)
		return
	}
	switch service {
	case "pithos":
		s.pithos(w, r, rest)
	case "plankton":
		s.plankton(w, r, strings.TrimSuffix(rest, "/"))
	default:
		http.NotFound(w, r)
	}
}

// applyFault serves an injected failure or delay; true when it answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, key string) bool {
	s.mu.Lock()
	q := s.faults[key]
	var f fault
	if len(q) > 0 {
		f, s.faults[key] = q[0], q[1:]
	}
	s.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-r.Context().Done():
			return true
		case <-time.After(f.delay):
		}
	}
	if f.status != 0 {
		http.Error(w, "injected failure", f.status)
		return true
	}
	return false
}

// ---- Pithos+ ----

func (s *Server) pithos(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.SplitN(path, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		http.Error(w, "an account and a container are required", http.StatusBadRequest)
		return
	}
	container := parts[0] + "/" + parts[1]
	if len(parts) == 2 {
		if r.Method != http.MethodPut {
			http.Error(w, "only container PUT is served", http.StatusMethodNotAllowed)
			return
		}
		s.mu.Lock()
		exists := s.containers[container]
		s.containers[container] = true
		s.mu.Unlock()
		if exists {
			w.WriteHeader(http.StatusAccepted)
		} else {
			w.WriteHeader(http.StatusCreated)
		}
		return
	}
	if parts[2] == "" {
		http.Error(w, "empty object name", http.StatusBadRequest)
		return
	}
	key := path
	switch r.Method {
	case http.MethodPut:
		s.mu.Lock()
		ok := s.containers[container]
		s.mu.Unlock()
		if !ok {
			http.Error(w, "container not found", http.StatusNotFound)
			return
		}
		if r.URL.RawQuery != "" {
			http.Error(w, "only plain object PUT is served (no hashmap, no copy)", http.StatusBadRequest)
			return
		}
		o, err := s.store(r.Body)
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		etag := o.md5
		s.mu.Lock()
		if old, ok := s.objects[key]; ok {
			os.Remove(old.file)
		}
		s.objects[key] = o
		if s.badETag {
			etag = strings.Repeat("0", 32)
		}
		s.mu.Unlock()
		w.Header().Set("ETag", `"`+etag+`"`)
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		s.mu.Lock()
		o, ok := s.objects[key]
		delete(s.objects, key)
		s.mu.Unlock()
		os.Remove(o.file)
		if !ok {
			http.Error(w, "object not found", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method not served", http.StatusMethodNotAllowed)
	}
}

// store streams a body to a new file, computing its MD5.
func (s *Server) store(body io.Reader) (object, error) {
	f, err := os.CreateTemp(s.dir, "object-")
	if err != nil {
		return object{}, err
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err != nil {
		os.Remove(f.Name())
		return object{}, err
	}
	return object{file: f.Name(), size: n, md5: hex.EncodeToString(h.Sum(nil))}, nil
}

// ---- Plankton ----

func (s *Server) plankton(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "images" && r.Method == http.MethodPost:
		s.register(w, r)
	case path == "images" && r.Method == http.MethodGet:
		s.list(w, r)
	case strings.HasPrefix(path, "images/") && !strings.Contains(path[len("images/"):], "/"):
		id := path[len("images/"):]
		switch r.Method {
		case http.MethodHead:
			s.head(w, id)
		case http.MethodDelete:
			s.delete(w, id)
		default:
			http.Error(w, "method not served", http.StatusMethodNotAllowed)
		}
	default:
		http.NotFound(w, r)
	}
}

// registerHeaders are the X-Image-Meta-* headers Plankton takes (the
// guide's Plankton column), canonical form, besides Property-*.
var registerHeaders = map[string]bool{
	"X-Image-Meta-Name": true, "X-Image-Meta-Location": true, "X-Image-Meta-Store": true,
	"X-Image-Meta-Disk-Format": true, "X-Image-Meta-Container-Format": true, "X-Image-Meta-Size": true,
	"X-Image-Meta-Checksum": true, "X-Image-Meta-Is-Public": true, "X-Image-Meta-Owner": true,
}

var (
	diskFormats      = map[string]bool{"diskdump": true, "extdump": true, "ntfsdump": true}
	containerFormats = map[string]bool{"aki": true, "ari": true, "ami": true, "bare": true, "ovf": true}
)

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	bad := func(format string, args ...any) { http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest) }
	props := map[string]string{}
	for k, v := range r.Header {
		if !strings.HasPrefix(k, "X-Image-Meta-") {
			continue
		}
		if p, ok := strings.CutPrefix(k, "X-Image-Meta-Property-"); ok && p != "" {
			props[strings.ToLower(p)] = v[0]
			continue
		}
		if !registerHeaders[k] {
			bad("illegal header %s", k)
			return
		}
	}
	h := r.Header
	name, loc := h.Get("X-Image-Meta-Name"), h.Get("X-Image-Meta-Location")
	if name == "" {
		bad("no name header")
		return
	}
	if loc == "" {
		http.Error(w, "location header is empty or omitted", http.StatusNotImplemented)
		return
	}
	if st := h.Get("X-Image-Meta-Store"); st != "" && st != "pithos" {
		bad("illegal store %q", st)
		return
	}
	disk, cont := h.Get("X-Image-Meta-Disk-Format"), h.Get("X-Image-Meta-Container-Format")
	if disk == "" {
		disk = "diskdump"
	}
	if cont == "" {
		cont = "bare"
	}
	if !diskFormats[disk] || !containerFormats[cont] {
		bad("illegal disk format %q or container format %q", disk, cont)
		return
	}
	public := false
	if v := h.Get("X-Image-Meta-Is-Public"); v != "" {
		switch strings.ToLower(v) {
		case "true":
			public = true
		case "false":
		default:
			bad("illegal is-public %q", v)
			return
		}
	}
	path, ok := strings.CutPrefix(loc, "pithos://")
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, found := s.objects[path]
	if !ok || !found {
		bad("file not found on given location %s", loc)
		return
	}
	md5hex := obj.md5
	if v := h.Get("X-Image-Meta-Size"); v != "" && v != strconv.FormatInt(obj.size, 10) {
		bad("invalid size %s: the file has %d bytes", v, obj.size)
		return
	}
	if v := h.Get("X-Image-Meta-Checksum"); v != "" && strings.ToLower(v) != md5hex {
		bad("invalid checksum %s", v)
		return
	}
	var im *Image
	for _, x := range s.images {
		if x.Location == loc {
			im = x // the location is the image's key: an update
		}
	}
	if im == nil {
		im = &Image{ID: uuid.NewString(), CreatedAt: time.Now().UTC()}
		s.images[im.ID] = im
	}
	im.Name, im.Location, im.DiskFormat, im.ContainerFormat = name, loc, disk, cont
	im.Checksum, im.Size, im.Public, im.Properties, im.Status = md5hex, obj.size, public, props, "AVAILABLE"
	writeMeta(w.Header(), im)
	w.WriteHeader(http.StatusOK)
}

func writeMeta(h http.Header, im *Image) {
	h.Set("X-Image-Meta-Id", im.ID)
	h.Set("X-Image-Meta-Name", im.Name)
	h.Set("X-Image-Meta-Disk-Format", im.DiskFormat)
	h.Set("X-Image-Meta-Container-Format", im.ContainerFormat)
	h.Set("X-Image-Meta-Size", strconv.FormatInt(im.Size, 10))
	h.Set("X-Image-Meta-Checksum", im.Checksum)
	h.Set("X-Image-Meta-Location", im.Location)
	h.Set("X-Image-Meta-Created_at", im.CreatedAt.Format(time.RFC3339))
	h.Set("X-Image-Meta-Status", im.Status)
	h.Set("X-Image-Meta-Is-Public", strconv.FormatBool(im.Public))
	for k, v := range im.Properties {
		h.Set("X-Image-Meta-Property-"+k, v)
	}
}

// sortKeys are the guide's sort_key values.
var sortKeys = map[string]bool{"id": true, "name": true, "status": true, "size": true, "disk_format": true,
	"container_format": true, "created_at": true, "updated_at": true}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if k := q.Get("sort_key"); k != "" && !sortKeys[k] {
		http.Error(w, "invalid sort_key", http.StatusBadRequest)
		return
	}
	if d := q.Get("sort_dir"); d != "" && d != "asc" && d != "desc" {
		http.Error(w, "invalid sort_dir", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	out := []map[string]any{}
	for _, im := range s.images {
		out = append(out, map[string]any{"id": im.ID, "name": im.Name, "status": strings.ToLower(im.Status),
			"disk_format": im.DiskFormat, "container_format": im.ContainerFormat, "size": im.Size})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (s *Server) head(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.images[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	writeMeta(w.Header(), im)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) delete(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.images[id]; !ok {
		http.Error(w, "image not found", http.StatusNotFound)
		return
	}
	delete(s.images, id)
	w.WriteHeader(http.StatusNoContent)
}
