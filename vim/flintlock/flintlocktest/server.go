// Package flintlocktest is a stand-in for Flintlock's MicroVM service
// (v1alpha1) over its grpc-gateway REST API, for tests: Flintlock needs
// KVM and containerd, which this machine does not have.
//
// It follows the swagger 2.0 document of the gateway that is the
// product's seed document 004 (../shared/seeds/004_*): POST
// /v1alpha1/microvm with a typesMicroVMSpec body, GET
// /v1alpha1/microvm/{uid} and DELETE /v1alpha1/microvm/{uid}, GET
// /v1alpha1/microvm/{namespace} (the list), answers
// v1alpha1CreateMicroVMResponse, v1alpha1GetMicroVMResponse and
// v1alpha1ListMicroVMsResponse, errors as rpcStatus {code, message,
// details} with the gateway's HTTP status for the gRPC code. The
// document gives the get and the list the same path template; the
// stand-in answers the get when the segment is a MicroVM's uid and the
// list otherwise.
//
// It is strict: a field the document does not define, a value of the
// wrong type, a missing namespace, kernel image, root volume source, vcpu
// or memoryInMb, an additional volume without an id or a source, two
// volumes with one id, a negative sizeInMb, or a uid given at creation is
// INVALID_ARGUMENT (400); a second MicroVM with the same namespace and id
// is ALREADY_EXISTS (409). Creation is asynchronous as in Flintlock: the
// answer is PENDING, and the MicroVM is CREATED on the next read once its
// root volume, additional volumes (those with a containerSource), kernel
// and initrd images were pulled (over plain HTTP, every digest checked,
// package ocipull) and the kernel and initrd files found in them, or
// FAILED otherwise (the state has no reason field; Failures says why).
// Booted records what the kernel and initrd files held (their sha256), so
// that a test checks the bytes a MicroVM would boot.
// A deleted MicroVM is DELETING on the next read, then gone.
package flintlocktest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim/internal/ocipull"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/standin"
)

// MicroVMState values (MicroVMStatusMicroVMState).
const (
	Pending  = "PENDING"
	Created  = "CREATED"
	Failed   = "FAILED"
	Deleting = "DELETING"
)

// Definitions of the document the stand-in reads and writes. Pointers
// tell a missing field from a zero one.
type (
	Kernel struct {
		Image            *string           `json:"image"`
		Cmdline          map[string]string `json:"cmdline,omitempty"`
		Filename         string            `json:"filename,omitempty"`
		AddNetworkConfig bool              `json:"addNetworkConfig,omitempty"`
	}
	Initrd struct {
		Image    *string `json:"image"`
		Filename string  `json:"filename,omitempty"`
	}
	VolumeSource struct {
		ContainerSource *string `json:"containerSource,omitempty"`
		VirtiofsSource  *string `json:"virtiofsSource,omitempty"`
	}
	Volume struct {
		ID          *string       `json:"id"`
		IsReadOnly  bool          `json:"isReadOnly,omitempty"`
		MountPoint  string        `json:"mountPoint,omitempty"`
		Source      *VolumeSource `json:"source"`
		PartitionID string        `json:"partitionId,omitempty"`
		SizeInMb    int32         `json:"sizeInMb,omitempty"`
	}
	StaticAddress struct {
		Address     string   `json:"address,omitempty"`
		Gateway     string   `json:"gateway,omitempty"`
		Nameservers []string `json:"nameservers,omitempty"`
	}
	NetworkOverrides struct {
		BridgeName string `json:"bridgeName,omitempty"`
	}
	NetworkInterface struct {
		DeviceID  string            `json:"deviceId,omitempty"`
		Type      string            `json:"type,omitempty"`
		GuestMac  string            `json:"guestMac,omitempty"`
		Address   *StaticAddress    `json:"address,omitempty"`
		Overrides *NetworkOverrides `json:"overrides,omitempty"`
	}
	MicroVMSpec struct {
		ID                string             `json:"id,omitempty"`
		Namespace         *string            `json:"namespace"`
		Labels            map[string]string  `json:"labels,omitempty"`
		VCPU              *int32             `json:"vcpu"`
		MemoryInMb        *int32             `json:"memoryInMb"`
		Kernel            *Kernel            `json:"kernel"`
		Initrd            *Initrd            `json:"initrd,omitempty"`
		RootVolume        *Volume            `json:"rootVolume"`
		AdditionalVolumes []Volume           `json:"additionalVolumes,omitempty"`
		Interfaces        []NetworkInterface `json:"interfaces,omitempty"`
		Metadata          map[string]string  `json:"metadata,omitempty"`
		CreatedAt         *time.Time         `json:"createdAt,omitempty"`
		UpdatedAt         *time.Time         `json:"updatedAt,omitempty"`
		DeletedAt         *time.Time         `json:"deletedAt,omitempty"`
		UID               string             `json:"uid,omitempty"`
		Provider          string             `json:"provider,omitempty"`
	}
	MicroVMStatus struct {
		State string `json:"state"`
		Retry int32  `json:"retry,omitempty"`
	}
	MicroVM struct {
		Version int32         `json:"version"`
		Spec    MicroVMSpec   `json:"spec"`
		Status  MicroVMStatus `json:"status"`
	}
	RPCStatus struct {
		Code    int32  `json:"code"`
		Message string `json:"message"`
		Details []any  `json:"details"`
	}
)

// gRPC codes and the gateway's HTTP status for each.
var grpcStatus = map[int32]int{3: 400, 4: 504, 5: 404, 6: 409, 9: 400, 12: 501, 13: 500, 14: 503, 16: 401}

func codeFor(status int) int32 {
	switch status {
	case 400:
		return 3
	case 404:
		return 5
	case 409:
		return 6
	case 401:
		return 16
	case 503:
		return 14
	}
	return 13
}

// Fault makes matching requests fail (Status), wait (Delay) or pull a
// corrupted layer (CorruptPull).
type Fault = standin.Fault

// Server is a running stand-in.
type Server struct {
	URL string

	// Recorder: Inject, ClearFaults, Requests, Pulls.
	*standin.Recorder

	srv    *httptest.Server
	client *http.Client

	mu       sync.Mutex
	vms      map[string]*MicroVM // by uid
	outcome  map[string]string   // uid -> the state the next read shows
	failures map[string]string   // uid -> why it FAILED
	booted   map[string]Boot     // uid -> the boot files pulled
}

// Boot is what a MicroVM's kernel and initrd files held, as pulled.
type Boot struct {
	KernelSHA256, InitrdSHA256 string // hex; "" when there is none
	KernelSize, InitrdSize     int64
}

// New starts a stand-in on 127.0.0.1; Close stops it.
func New() *Server {
	s := &Server{
		Recorder: &standin.Recorder{},
		client:   &http.Client{Timeout: time.Minute},
		vms:      map[string]*MicroVM{}, outcome: map[string]string{}, failures: map[string]string{},
		booted: map[string]Boot{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// MicroVMs returns a copy of every MicroVM, by uid.
func (s *Server) MicroVMs() map[string]MicroVM {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]MicroVM{}
	for uid, vm := range s.vms {
		out[uid] = *vm
	}
	return out
}

// Booted returns what the kernel and initrd of a MicroVM held.
func (s *Server) Booted(uid string) Boot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.booted[uid]
}

// Failure says why a MicroVM FAILED.
func (s *Server) Failure(uid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures[uid]
}

type rpcError struct {
	code int32
	msg  string
}

func (e *rpcError) Error() string { return e.msg }

func rpcErrf(code int32, format string, args ...any) *rpcError {
	return &rpcError{code, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeRPCError(w http.ResponseWriter, e *rpcError) {
	status, ok := grpcStatus[e.code]
	if !ok {
		status = 500
	}
	writeJSON(w, status, RPCStatus{Code: e.code, Message: e.msg, Details: []any{}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fault, ok := s.Begin(r)
	if !ok {
		return
	}
	if fault.Status != 0 {
		writeRPCError(w, &rpcError{codeFor(fault.Status), "injected: " + http.StatusText(fault.Status)})
		return
	}
	corrupt := fault.CorruptPull
	v, err := s.route(r, corrupt)
	if err != nil {
		writeRPCError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) route(r *http.Request, corrupt bool) (any, *rpcError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1alpha1/microvm")
	if !ok {
		return nil, rpcErrf(5, "Not Found")
	}
	switch {
	case rest == "" && r.Method == http.MethodPost:
		return s.create(r, corrupt)
	case strings.Count(rest, "/") == 1 && len(rest) > 1:
		seg := rest[1:]
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, isUID := s.vms[seg]; isUID {
				vm := s.read(seg)
				if vm == nil {
					return nil, rpcErrf(5, "microvm %s not found", seg)
				}
				return map[string]any{"microvm": vm}, nil
			}
			return s.list(seg, r.URL.Query().Get("name")), nil
		case http.MethodDelete:
			s.mu.Lock()
			defer s.mu.Unlock()
			vm, ok := s.vms[seg]
			if !ok || vm.Status.State == Deleting {
				return nil, rpcErrf(5, "microvm %s not found", seg)
			}
			vm.Status.State, vm.Version = Deleting, vm.Version+1
			s.outcome[seg] = ""
			return map[string]any{}, nil
		}
	}
	return nil, rpcErrf(12, "Method Not Allowed") // UNIMPLEMENTED
}

// read returns a MicroVM as a read sees it, applying what reconciliation
// decided since the last one (nil: it is gone).
func (s *Server) read(uid string) *MicroVM {
	vm := s.vms[uid]
	next, pending := s.outcome[uid]
	if !pending {
		return vm
	}
	if next == "" { // deleting: shown once, then removed
		delete(s.vms, uid)
		delete(s.outcome, uid)
		cp := *vm
		return &cp
	}
	vm.Status.State, vm.Version = next, vm.Version+1
	if next == Failed {
		vm.Status.Retry++
	}
	delete(s.outcome, uid)
	return vm
}

func (s *Server) list(namespace, name string) any {
	var out []MicroVM
	for uid, vm := range s.vms {
		if *vm.Spec.Namespace == namespace && (name == "" || vm.Spec.ID == name) {
			if v := s.read(uid); v != nil {
				out = append(out, *v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.UID < out[j].Spec.UID })
	return map[string]any{"microvm": out}
}

// create is POST /v1alpha1/microvm: the body is the MicroVMSpec.
func (s *Server) create(r *http.Request, corrupt bool) (any, *rpcError) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, rpcErrf(3, "Content-Type %q is not application/json", ct)
	}
	var spec MicroVMSpec
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, rpcErrf(3, "invalid MicroVMSpec: %v", err)
	}
	if err := validate(&spec); err != nil {
		return nil, err
	}
	if spec.ID == "" {
		spec.ID = newID()
	}
	s.mu.Lock()
	for _, vm := range s.vms {
		if *vm.Spec.Namespace == *spec.Namespace && vm.Spec.ID == spec.ID {
			s.mu.Unlock()
			return nil, rpcErrf(6, "microvm %s/%s already exists", *spec.Namespace, spec.ID)
		}
	}
	s.mu.Unlock()
	now := time.Now().UTC()
	spec.UID, spec.CreatedAt = newID(), &now
	if spec.Provider == "" {
		spec.Provider = "firecracker"
	}
	vm := &MicroVM{Version: 1, Spec: spec, Status: MicroVMStatus{State: Pending}}
	boot, why := s.pullAll(r, &spec, corrupt)
	outcome := Created
	if why != "" {
		outcome = Failed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vms[spec.UID] = vm
	s.booted[spec.UID] = boot
	s.outcome[spec.UID] = outcome
	if why != "" {
		s.failures[spec.UID] = why
	}
	cp := *vm
	return map[string]any{"microvm": cp}, nil
}

func validate(spec *MicroVMSpec) *rpcError {
	switch {
	case spec.UID != "":
		return rpcErrf(3, "uid is set by flintlock, not at creation")
	case spec.Namespace == nil || *spec.Namespace == "":
		return rpcErrf(3, "namespace is required")
	case spec.VCPU == nil || *spec.VCPU < 1:
		return rpcErrf(3, "vcpu must be at least 1")
	case spec.MemoryInMb == nil || *spec.MemoryInMb < 1:
		return rpcErrf(3, "memoryInMb must be at least 1")
	case spec.Kernel == nil || spec.Kernel.Image == nil || *spec.Kernel.Image == "":
		return rpcErrf(3, "kernel.image is required")
	case spec.Initrd != nil && (spec.Initrd.Image == nil || *spec.Initrd.Image == ""):
		return rpcErrf(3, "initrd.image is required when initrd is given")
	case spec.RootVolume == nil || spec.RootVolume.ID == nil || *spec.RootVolume.ID == "":
		return rpcErrf(3, "rootVolume with an id is required")
	case spec.RootVolume.Source == nil || spec.RootVolume.Source.ContainerSource == nil || *spec.RootVolume.Source.ContainerSource == "":
		return rpcErrf(3, "rootVolume.source.containerSource is required")
	}
	ids := map[string]bool{*spec.RootVolume.ID: true}
	for i, v := range spec.AdditionalVolumes {
		switch {
		case v.ID == nil || *v.ID == "":
			return rpcErrf(3, "additionalVolumes[%d] has no id", i)
		case ids[*v.ID]:
			return rpcErrf(3, "two volumes have the id %s", *v.ID)
		case v.Source == nil || (v.Source.ContainerSource == nil || *v.Source.ContainerSource == "") && (v.Source.VirtiofsSource == nil || *v.Source.VirtiofsSource == ""):
			return rpcErrf(3, "additionalVolumes[%d] (%s) has no source", i, *v.ID)
		case v.SizeInMb < 0:
			return rpcErrf(3, "additionalVolumes[%d] (%s): sizeInMb %d is negative", i, *v.ID, v.SizeInMb)
		}
		ids[*v.ID] = true
	}
	if spec.RootVolume.SizeInMb < 0 {
		return rpcErrf(3, "rootVolume: sizeInMb %d is negative", spec.RootVolume.SizeInMb)
	}
	for _, ifc := range spec.Interfaces {
		if ifc.Type != "" && ifc.Type != "MACVTAP" && ifc.Type != "TAP" {
			return rpcErrf(3, "interface type %q is not MACVTAP or TAP", ifc.Type)
		}
	}
	return nil
}

// pullAll pulls the root volume, additional volume, kernel and initrd
// images and checks the kernel and initrd files are in theirs; it returns
// what those files held and why it failed, or "".
func (s *Server) pullAll(r *http.Request, spec *MicroVMSpec, corrupt bool) (Boot, string) {
	type want struct {
		ref, file string
		sum       *string
		size      *int64
	}
	var boot Boot
	wants := []want{{ref: *spec.RootVolume.Source.ContainerSource}}
	for _, v := range spec.AdditionalVolumes {
		if v.Source.ContainerSource != nil && *v.Source.ContainerSource != "" {
			wants = append(wants, want{ref: *v.Source.ContainerSource})
		}
	}
	wants = append(wants, want{*spec.Kernel.Image, orDefault(spec.Kernel.Filename, "boot/vmlinux"), &boot.KernelSHA256, &boot.KernelSize})
	if spec.Initrd != nil {
		wants = append(wants, want{*spec.Initrd.Image, orDefault(spec.Initrd.Filename, "initrd"), &boot.InitrdSHA256, &boot.InitrdSize})
	}
	for _, w := range wants {
		img, err := ocipull.Pull(r.Context(), s.client, w.ref, ocipull.Options{Corrupt: corrupt})
		if err != nil {
			return boot, err.Error()
		}
		s.Pulled(w.ref)
		if w.file == "" {
			continue
		}
		size, ok := img.Files[w.file]
		if !ok {
			return boot, fmt.Sprintf("%s has no file %s", w.ref, w.file)
		}
		*w.sum, *w.size = img.SHA256[w.file], size
	}
	return boot, ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Registry is a small plain-HTTP OCI registry for the images a test needs
// besides the catalogue's own (a kernel, an initrd).
type Registry = standin.Registry

// NewRegistry starts a registry on 127.0.0.1; Close stops it.
func NewRegistry() *Registry { return standin.NewRegistry() }
