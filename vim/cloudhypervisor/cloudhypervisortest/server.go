// Package cloudhypervisortest is a stand-in for the Cloud Hypervisor
// Dataplane API, for tests: Cloud Hypervisor needs KVM, which this machine
// does not have.
//
// It follows openapi.yaml of github.com/kernel/hypeman at commit 98c320d
// ("Essential API setup"), the version whose README is the product's seed
// document (../shared/seeds/002_*): the paths /health, /images,
// /images/{id}, /instances, /instances/{id}, /instances/{id}/standby,
// /instances/{id}/restore, /instances/{id}/logs,
// /instances/{id}/volumes/{volumeId}, /volumes and /volumes/{id}, with
// their schemas (CreateImageRequest, Image, CreateInstanceRequest,
// Instance, InstanceState, VolumeAttachment, PortMapping,
// CreateVolumeRequest, Volume, AttachVolumeRequest, Error) and bearer
// authentication.
//
// It is strict where the real server would be: a body with a field the
// schema does not have, a missing required field or a value of the wrong
// type is 400; standby and restore in the wrong state are 409; deleting an
// attached volume is 409 (the document's "Conflict - volume is attached").
// The document gives a volume no state of its own: it is attached while
// attached_to and mount_path are set, by the instance's creation
// (CreateInstanceRequest.volumes, 400 volume_not_found or volume_attached
// otherwise) or POST /instances/{id}/volumes/{volumeId}, and detached by
// the instance's deletion or the DELETE of that path. It keeps its state, so that tests observe what a
// driver did. Images are really pulled: POST /images fetches the manifest
// and every blob of the OCI reference over HTTP (the registries it knows
// are plain-HTTP ones, as a dataplane configured with insecure registries
// would reach them), checks each digest while streaming, and takes the
// image's size from the disk/ file of a containerDisk layer.
package cloudhypervisortest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim/internal/ocipull"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/standin"
)

// InstanceState values (schema InstanceState).
const (
	Created  = "Created"
	Running  = "Running"
	Paused   = "Paused"
	Shutdown = "Shutdown"
	Stopped  = "Stopped"
	Standby  = "Standby"
)

// Schemas of the document.
type (
	CreateImageRequest struct {
		Name *string `json:"name"`
		ID   string  `json:"id,omitempty"`
	}
	Image struct {
		ID         string            `json:"id"`
		Name       string            `json:"name"`
		Version    *string           `json:"version"`
		SizeBytes  int64             `json:"size_bytes"`
		Entrypoint []string          `json:"entrypoint"`
		Cmd        []string          `json:"cmd"`
		Env        map[string]string `json:"env,omitempty"`
		WorkingDir *string           `json:"working_dir"`
		CreatedAt  time.Time         `json:"created_at"`
	}
	VolumeAttachment struct {
		VolumeID  *string `json:"volume_id"`
		MountPath *string `json:"mount_path"`
		Readonly  bool    `json:"readonly,omitempty"`
	}
	PortMapping struct {
		HostPort  *int   `json:"host_port"`
		GuestPort *int   `json:"guest_port"`
		Protocol  string `json:"protocol,omitempty"`
	}
	CreateInstanceRequest struct {
		ID             *string            `json:"id"`
		Name           *string            `json:"name"`
		Image          *string            `json:"image"`
		MemoryMB       *int               `json:"memory_mb"`
		MemoryMaxMB    *int               `json:"memory_max_mb"`
		VCPUs          *int               `json:"vcpus"`
		Env            map[string]string  `json:"env"`
		TimeoutSeconds *int               `json:"timeout_seconds"`
		Volumes        []VolumeAttachment `json:"volumes"`
		PortMappings   []PortMapping      `json:"port_mappings"`
	}
	Instance struct {
		ID             string             `json:"id"`
		Name           string             `json:"name"`
		Image          string             `json:"image"`
		State          string             `json:"state"`
		FQDN           *string            `json:"fqdn"`
		PrivateIP      *string            `json:"private_ip"`
		MemoryMB       int                `json:"memory_mb"`
		MemoryMaxMB    int                `json:"memory_max_mb"`
		VCPUs          int                `json:"vcpus"`
		Env            map[string]string  `json:"env,omitempty"`
		TimeoutSeconds int                `json:"timeout_seconds"`
		CreatedAt      time.Time          `json:"created_at"`
		StartedAt      *time.Time         `json:"started_at"`
		StoppedAt      *time.Time         `json:"stopped_at"`
		Volumes        []VolumeAttachment `json:"volumes"`
		PortMappings   []PortMapping      `json:"port_mappings"`
		HasSnapshot    bool               `json:"has_snapshot"`
	}
	CreateVolumeRequest struct {
		ID     string  `json:"id,omitempty"`
		Name   *string `json:"name"`
		SizeGB *int    `json:"size_gb"`
	}
	Volume struct {
		ID         string    `json:"id"`
		Name       string    `json:"name"`
		SizeGB     int       `json:"size_gb"`
		AttachedTo *string   `json:"attached_to"`
		MountPath  *string   `json:"mount_path"`
		CreatedAt  time.Time `json:"created_at"`
	}
	AttachVolumeRequest struct {
		MountPath *string `json:"mount_path"`
		Readonly  bool    `json:"readonly,omitempty"`
	}
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// Fault makes matching requests fail (Status), wait (Delay) or pull a
// corrupted layer (CorruptPull).
type Fault = standin.Fault

// Server is a running stand-in.
type Server struct {
	URL string
	// Token, when set, is the bearer token every request but /health needs.
	Token string

	// Recorder: Inject, ClearFaults, Requests, Pulls.
	*standin.Recorder

	srv    *httptest.Server
	client *http.Client

	mu        sync.Mutex
	images    map[string]*Image
	instances map[string]*Instance
	volumes   map[string]*Volume
	logs      map[string][]string
}

// New starts a stand-in on 127.0.0.1; Close stops it.
func New() *Server {
	s := &Server{
		Recorder:  &standin.Recorder{},
		client:    &http.Client{Timeout: time.Minute},
		images:    map[string]*Image{},
		instances: map[string]*Instance{},
		volumes:   map[string]*Volume{},
		logs:      map[string][]string{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Instances returns a copy of every instance, by id.
func (s *Server) Instances() map[string]Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Instance{}
	for id, in := range s.instances {
		out[id] = *in
	}
	return out
}

// Volumes returns a copy of every volume, by id.
func (s *Server) Volumes() map[string]Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Volume{}
	for id, v := range s.volumes {
		out[id] = *v
	}
	return out
}

// Images returns a copy of every image, by id.
func (s *Server) Images() map[string]Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Image{}
	for id, im := range s.images {
		out[id] = *im
	}
	return out
}

// apiError is an answer with the Error schema.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fault, ok := s.Begin(r)
	if !ok {
		return
	}
	if fault.Status != 0 {
		writeJSON(w, fault.Status, Error{Code: "injected", Message: http.StatusText(fault.Status)})
		return
	}
	corrupt := fault.CorruptPull
	if r.URL.Path != "/health" && s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, Error{Code: "unauthorized", Message: "a valid bearer token is required"})
		return
	}
	status, v, err := s.route(r, corrupt)
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.status, Error{Code: ae.code, Message: ae.message})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, Error{Code: "internal_error", Message: err.Error()})
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		if text, ok := v.(string); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, text)
			return
		}
		writeJSON(w, status, v)
	}
}

// route dispatches by path and method.
func (s *Server) route(r *http.Request, corrupt bool) (int, any, error) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	method := r.Method
	notAllowed := errf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s", method, r.URL.Path)
	switch {
	case len(parts) == 1 && parts[0] == "health":
		if method != http.MethodGet {
			return 0, nil, notAllowed
		}
		return 200, map[string]string{"status": "ok"}, nil
	case parts[0] == "images" && len(parts) <= 2:
		return s.imagesRoute(r, parts[1:], corrupt)
	case parts[0] == "instances" && len(parts) <= 4:
		return s.instancesRoute(r, parts[1:])
	case parts[0] == "volumes" && len(parts) <= 2:
		return s.volumesRoute(r, parts[1:])
	}
	return 0, nil, errf(http.StatusNotFound, "not_found", "no such path %s", r.URL.Path)
}

// decode reads a JSON body strictly: application/json, no unknown field,
// one document.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return errf(http.StatusBadRequest, "bad_request", "Content-Type %q is not application/json", ct)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "bad_request", "invalid request body: %v", err)
	}
	if dec.More() {
		return errf(http.StatusBadRequest, "bad_request", "invalid request body: more than one JSON document")
	}
	return nil
}

func missing(field string) error {
	return errf(http.StatusBadRequest, "bad_request", "Missing required field: %s", field)
}

func newID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) imagesRoute(r *http.Request, rest []string, corrupt bool) (int, any, error) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		list := []Image{}
		for _, im := range s.images {
			list = append(list, *im)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		return 200, list, nil
	case len(rest) == 0 && r.Method == http.MethodPost:
		var req CreateImageRequest
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		if req.Name == nil || *req.Name == "" {
			return 0, nil, missing("name")
		}
		id := req.ID
		if id == "" {
			id = newID("img-")
		}
		s.mu.Lock()
		_, dup := s.images[id]
		s.mu.Unlock()
		if dup {
			return 0, nil, errf(http.StatusBadRequest, "already_exists", "image %s already exists", id)
		}
		im, err := s.pull(r, *req.Name, corrupt)
		if err != nil {
			return 0, nil, err
		}
		im.ID = id
		s.mu.Lock()
		defer s.mu.Unlock()
		s.images[id] = im
		s.Pulled(*req.Name)
		return http.StatusCreated, im, nil
	case len(rest) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		s.mu.Lock()
		defer s.mu.Unlock()
		im, ok := s.images[rest[0]]
		if !ok {
			return 0, nil, errf(http.StatusNotFound, "not_found", "Image not found")
		}
		if r.Method == http.MethodGet {
			return 200, im, nil
		}
		delete(s.images, rest[0])
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, errf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s", r.Method, r.URL.Path)
}

func (s *Server) instancesRoute(r *http.Request, rest []string) (int, any, error) {
	notAllowed := errf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s", r.Method, r.URL.Path)
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			defer s.mu.Unlock()
			list := []Instance{}
			for _, in := range s.instances {
				list = append(list, *in)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
			return 200, list, nil
		case http.MethodPost:
			return s.createInstance(r)
		}
		return 0, nil, notAllowed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[rest[0]]
	if !ok {
		return 0, nil, errf(http.StatusNotFound, "not_found", "Instance not found")
	}
	now := time.Now().UTC()
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		return 200, in, nil
	case len(rest) == 1 && r.Method == http.MethodDelete:
		for _, v := range in.Volumes {
			if vol, ok := s.volumes[*v.VolumeID]; ok {
				vol.AttachedTo, vol.MountPath = nil, nil
			}
		}
		delete(s.instances, in.ID)
		delete(s.logs, in.ID)
		return http.StatusNoContent, nil, nil
	case len(rest) == 2 && rest[1] == "standby" && r.Method == http.MethodPost:
		// Standby is pause, snapshot, delete the VMM: there must be a
		// running (or paused) VM to snapshot.
		if in.State != Running && in.State != Paused {
			return 0, nil, errf(http.StatusConflict, "invalid_state", "instance %s is %s: only a Running or Paused instance goes to standby", in.ID, in.State)
		}
		in.State, in.HasSnapshot, in.StoppedAt = Standby, true, &now
		s.logs[in.ID] = append(s.logs[in.ID], "snapshot taken, VMM deleted (standby)")
		return 200, in, nil
	case len(rest) == 2 && rest[1] == "restore" && r.Method == http.MethodPost:
		if in.State != Standby || !in.HasSnapshot {
			return 0, nil, errf(http.StatusConflict, "invalid_state", "instance %s is %s: only an instance in Standby with a snapshot is restored", in.ID, in.State)
		}
		in.State, in.HasSnapshot, in.StartedAt, in.StoppedAt = Running, false, &now, nil
		s.logs[in.ID] = append(s.logs[in.ID], "restored from snapshot")
		return 200, in, nil
	case len(rest) == 2 && rest[1] == "logs" && r.Method == http.MethodGet:
		return s.instanceLogs(r, in.ID)
	case len(rest) == 3 && rest[1] == "volumes" && (r.Method == http.MethodPost || r.Method == http.MethodDelete):
		return s.attachment(r, in, rest[2])
	}
	return 0, nil, notAllowed
}

// createInstance is POST /instances: create and start.
func (s *Server) createInstance(r *http.Request) (int, any, error) {
	var req CreateInstanceRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	for name, v := range map[string]*string{"id": req.ID, "name": req.Name, "image": req.Image} {
		if v == nil || *v == "" {
			return 0, nil, missing(name)
		}
	}
	// The schema's defaults.
	intOr := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	in := &Instance{
		ID: *req.ID, Name: *req.Name, Image: *req.Image, State: Running,
		MemoryMB: intOr(req.MemoryMB, 1024), MemoryMaxMB: intOr(req.MemoryMaxMB, 4096), VCPUs: intOr(req.VCPUs, 2),
		Env: req.Env, TimeoutSeconds: intOr(req.TimeoutSeconds, 3600), Volumes: req.Volumes, PortMappings: req.PortMappings,
	}
	switch {
	case in.MemoryMB < 1:
		return 0, nil, errf(http.StatusBadRequest, "bad_request", "memory_mb must be positive, not %d", in.MemoryMB)
	case in.MemoryMaxMB < in.MemoryMB:
		return 0, nil, errf(http.StatusBadRequest, "bad_request", "memory_max_mb %d is below memory_mb %d", in.MemoryMaxMB, in.MemoryMB)
	case in.VCPUs < 1:
		return 0, nil, errf(http.StatusBadRequest, "bad_request", "vcpus must be positive, not %d", in.VCPUs)
	}
	for _, pm := range in.PortMappings {
		if pm.HostPort == nil || pm.GuestPort == nil {
			return 0, nil, missing("port_mappings[].host_port and guest_port")
		}
		if pm.Protocol != "" && pm.Protocol != "tcp" && pm.Protocol != "udp" {
			return 0, nil, errf(http.StatusBadRequest, "bad_request", "protocol %q is not tcp or udp", pm.Protocol)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.instances[in.ID]; dup {
		return 0, nil, errf(http.StatusBadRequest, "already_exists", "instance %s already exists", in.ID)
	}
	if _, ok := s.images[in.Image]; !ok {
		return 0, nil, errf(http.StatusBadRequest, "image_not_found", "Image not found: %s", in.Image)
	}
	for _, v := range in.Volumes {
		if v.VolumeID == nil || v.MountPath == nil {
			return 0, nil, missing("volumes[].volume_id and mount_path")
		}
		vol, ok := s.volumes[*v.VolumeID]
		if !ok {
			return 0, nil, errf(http.StatusBadRequest, "volume_not_found", "Volume not found: %s", *v.VolumeID)
		}
		if vol.AttachedTo != nil {
			return 0, nil, errf(http.StatusBadRequest, "volume_attached", "volume %s is attached to %s", vol.ID, *vol.AttachedTo)
		}
	}
	for _, v := range in.Volumes {
		vol := s.volumes[*v.VolumeID]
		vol.AttachedTo, vol.MountPath = &in.ID, v.MountPath
	}
	now := time.Now().UTC()
	in.CreatedAt, in.StartedAt = now, &now
	s.instances[in.ID] = in
	s.logs[in.ID] = []string{
		fmt.Sprintf("cloud-hypervisor: booting %s from image %s (%d vCPUs, %d MiB)", in.ID, in.Image, in.VCPUs, in.MemoryMB),
		"guest: init started",
	}
	return http.StatusCreated, in, nil
}

// instanceLogs is GET /instances/{id}/logs: the last tail lines, as text
// or, with follow, as server-sent events (the stand-in's guest writes no
// more, so the stream ends after them).
func (s *Server) instanceLogs(r *http.Request, id string) (int, any, error) {
	q := r.URL.Query()
	tail := 100
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, errf(http.StatusBadRequest, "bad_request", "tail %q is not a number of lines", v)
		}
		tail = n
	}
	follow := false
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, errf(http.StatusBadRequest, "bad_request", "follow %q is not a boolean", v)
		}
		follow = b
	}
	lines := s.logs[id]
	if len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	var b strings.Builder
	for _, l := range lines {
		if follow {
			b.WriteString("data: " + l + "\n\n")
		} else {
			b.WriteString(l + "\n")
		}
	}
	return 200, b.String(), nil
}

// attachment is POST/DELETE /instances/{id}/volumes/{volumeId}.
func (s *Server) attachment(r *http.Request, in *Instance, volID string) (int, any, error) {
	vol, ok := s.volumes[volID]
	if !ok {
		return 0, nil, errf(http.StatusNotFound, "not_found", "Volume not found")
	}
	if r.Method == http.MethodPost {
		var req AttachVolumeRequest
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		if req.MountPath == nil {
			return 0, nil, missing("mount_path")
		}
		if vol.AttachedTo != nil {
			return 0, nil, errf(http.StatusConflict, "volume_attached", "volume %s is attached to %s", vol.ID, *vol.AttachedTo)
		}
		vol.AttachedTo, vol.MountPath = &in.ID, req.MountPath
		in.Volumes = append(in.Volumes, VolumeAttachment{VolumeID: &vol.ID, MountPath: req.MountPath, Readonly: req.Readonly})
		return 200, in, nil
	}
	if vol.AttachedTo == nil || *vol.AttachedTo != in.ID {
		return 0, nil, errf(http.StatusNotFound, "not_found", "volume %s is not attached to %s", vol.ID, in.ID)
	}
	vol.AttachedTo, vol.MountPath = nil, nil
	kept := in.Volumes[:0]
	for _, v := range in.Volumes {
		if *v.VolumeID != vol.ID {
			kept = append(kept, v)
		}
	}
	in.Volumes = kept
	return 200, in, nil
}

func (s *Server) volumesRoute(r *http.Request, rest []string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		list := []Volume{}
		for _, v := range s.volumes {
			list = append(list, *v)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		return 200, list, nil
	case len(rest) == 0 && r.Method == http.MethodPost:
		var req CreateVolumeRequest
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		switch {
		case req.Name == nil || *req.Name == "":
			return 0, nil, missing("name")
		case req.SizeGB == nil:
			return 0, nil, missing("size_gb")
		case *req.SizeGB < 1:
			return 0, nil, errf(http.StatusBadRequest, "bad_request", "size_gb must be positive, not %d", *req.SizeGB)
		}
		id := req.ID
		if id == "" {
			id = newID("vol-")
		}
		if _, dup := s.volumes[id]; dup {
			return 0, nil, errf(http.StatusBadRequest, "already_exists", "volume %s already exists", id)
		}
		v := &Volume{ID: id, Name: *req.Name, SizeGB: *req.SizeGB, CreatedAt: time.Now().UTC()}
		s.volumes[id] = v
		return http.StatusCreated, v, nil
	case len(rest) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		v, ok := s.volumes[rest[0]]
		if !ok {
			return 0, nil, errf(http.StatusNotFound, "not_found", "Volume not found")
		}
		if r.Method == http.MethodGet {
			return 200, v, nil
		}
		if v.AttachedTo != nil {
			return 0, nil, errf(http.StatusConflict, "volume_attached", "volume %s is attached to %s", v.ID, *v.AttachedTo)
		}
		delete(s.volumes, v.ID)
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, errf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s", r.Method, r.URL.Path)
}

// pull fetches an OCI image (HOST[:PORT]/REPO:TAG or HOST[:PORT]/REPO@DIGEST)
// from a plain-HTTP registry, checking every digest (ocipull); the
// image's size is that of the disk/ files of its containerDisk layer.
func (s *Server) pull(r *http.Request, ref string, corrupt bool) (*Image, error) {
	got, err := ocipull.Pull(r.Context(), s.client, ref, ocipull.Options{Corrupt: corrupt})
	if err != nil {
		pe := err.(*ocipull.Error)
		status := http.StatusBadRequest
		if pe.Kind == ocipull.PullFailed {
			status = http.StatusInternalServerError
		}
		return nil, errf(status, pe.Kind, "%s", pe.Message)
	}
	im := &Image{Name: ref, Version: &got.ManifestDigest, CreatedAt: time.Now().UTC()}
	for name, size := range got.Files {
		if strings.HasPrefix(name, "disk/") {
			im.SizeBytes += size
		}
	}
	if im.SizeBytes == 0 {
		return nil, errf(http.StatusBadRequest, "invalid_image", "%s has no disk/ file: not a containerDisk", ref)
	}
	return im, nil
}

// SetState changes an instance's state as the VMM would on its own (the
// guest shut down, the VMM exited): the API has no call for these.
func (s *Server) SetState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.instances[id]; ok {
		in.State = state
	}
}
