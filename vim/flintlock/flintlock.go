// Package flintlock is the VIM driver for Flintlock's MicroVM service
// (v1alpha1), through its grpc-gateway REST API as the product's seed
// document 004 (the gateway's swagger 2.0) defines it. No served Go
// module provides Flintlock's gRPC client, so the driver speaks the
// gateway's JSON. It registers the VIM type "flintlock".
//
// What maps to what:
//
//   - images: Flintlock has no image store; a MicroVM's root volume is a
//     container image it pulls itself. AddImage records nothing in the
//     VIM: the image is its reference on the catalogue's OCI endpoint, by
//     manifest digest (vim.ImageSpec.OCI), which becomes the id and is
//     what rootVolume.source.containerSource names. Listing is not
//     possible (there is nothing to list);
//   - kernel and initrd: the VDU's own (vim.ComputeSpec.Kernel and
//     Initrd: its VNFD artifacts named kernel and initrd), as the
//     catalogue's OCI endpoint serves them, by manifest digest, the file
//     at disk/<file name> inside; else the container images of the
//     options kernel_image and initrd_image (with kernel_filename,
//     initrd_filename inside them). A configured initrd goes with the
//     configured kernel only: with the VDU's kernel, the initrd is the
//     VDU's or none;
//   - virtual storage (vim.ComputeSpec.Storage): each volume from an
//     image is an entry of additionalVolumes, its id the storage's name,
//     its source.containerSource the storage's image (registered like a
//     VDU's: its reference on the catalogue's OCI endpoint, so the volume
//     holds the image's containerDisk files, disk/<file>, as the root
//     volume does), sizeInMb the size in MiB rounded up. The MicroVM's
//     deletion removes them. A blank volume is refused: the document's
//     volumes always have a source (typesVolumeSource);
//   - flavours: held in their ids (package flavourid); vcpu and
//     memoryInMb come from them;
//   - compute: POST /v1alpha1/microvm, then GET /v1alpha1/microvm/{uid}
//     until the MicroVM is no longer PENDING (compute_timeout). States:
//     PENDING is BUILDING, CREATED is RUNNING, FAILED is ERROR (VIM_FAULT;
//     the API gives no reason), DELETING is STOPPED. The API has no start,
//     stop, pause or console;
//   - errors: the gateway's HTTP status and rpcStatus {code, message}.
//
// The swagger defines no authentication, so the driver takes no
// credentials.
package flintlock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/flavourid"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/restclient"
)

// Type is the VIM type this package registers.
const Type = "flintlock"

const (
	defaultTimeout        = 30 * time.Second
	defaultComputeTimeout = 5 * time.Minute
	defaultPollInterval   = time.Second
	defaultRetries        = 2
	defaultNamespace      = "vnfpkgm"
	defaultKernelFile     = "boot/vmlinux"
	defaultInitrdFile     = "initrd"
)

// Options are the options of the flintlock VIM type.
var Options = []vim.Option{
	{Name: "kernel_image", Value: "IMAGE", Help: "the container image holding the kernel every MicroVM boots (required to allocate compute)"},
	{Name: "kernel_filename", Value: "PATH", Default: defaultKernelFile, Help: "the kernel's path inside kernel_image"},
	{Name: "initrd_image", Value: "IMAGE", Help: "the container image holding an initial ramdisk (none when absent)"},
	{Name: "initrd_filename", Value: "PATH", Default: defaultInitrdFile, Help: "the initrd's path inside initrd_image"},
	{Name: "namespace", Value: "NAME", Default: defaultNamespace, Help: "the Flintlock namespace of the MicroVMs"},
	{Name: "timeout", Value: "DURATION", Default: defaultTimeout.String(), Help: "how long one call to Flintlock may take"},
	{Name: "compute_timeout", Value: "DURATION", Default: defaultComputeTimeout.String(), Help: "how long a new MicroVM may stay PENDING"},
	{Name: "poll_interval", Value: "DURATION", Default: defaultPollInterval.String(), Help: "the polling period of that wait"},
	{Name: "retries", Value: "N", Default: strconv.Itoa(defaultRetries), Help: "how many times a GET or DELETE is tried again when Flintlock is unreachable or answers 502, 503 or 504 (other calls are never retried)"},
	{Name: "registry", Value: "HOST[:PORT]", Help: "the catalogue's OCI endpoint as Flintlock reaches it, when not at the server's own address (--public-url or --listen)"},
}

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open:    func(ctx context.Context, cfg vim.Config) (vim.Driver, error) { return Open(ctx, cfg) },
		Options: Options,
		Check:   Check,
	})
}

type settings struct {
	endpoint                              *url.URL
	kernelImage, kernelFile               string
	initrdImage, initrdFile               string
	namespace, registry                   string
	timeout, computeTimeout, pollInterval time.Duration
	retries                               int
}

func parseSettings(cfg vim.Config) (settings, error) {
	s := settings{
		kernelImage: strings.TrimSpace(cfg.Options["kernel_image"]),
		kernelFile:  orDefault(cfg.Options["kernel_filename"], defaultKernelFile),
		initrdImage: strings.TrimSpace(cfg.Options["initrd_image"]),
		initrdFile:  orDefault(cfg.Options["initrd_filename"], defaultInitrdFile),
		namespace:   orDefault(cfg.Options["namespace"], defaultNamespace),
		retries:     defaultRetries,
	}
	var err error
	if s.endpoint, err = restclient.ParseEndpoint(cfg.Endpoint); err != nil {
		return s, vim.OptionErrorf("endpoint", "%v", err)
	}
	for _, o := range []struct {
		name string
		def  time.Duration
		to   *time.Duration
	}{{"timeout", defaultTimeout, &s.timeout}, {"compute_timeout", defaultComputeTimeout, &s.computeTimeout}, {"poll_interval", defaultPollInterval, &s.pollInterval}} {
		if *o.to, err = restclient.Duration(cfg.Options, o.name, o.def); err != nil {
			return s, err
		}
	}
	if s.retries, err = restclient.Retries(cfg.Options, defaultRetries); err != nil {
		return s, err
	}
	for name, ref := range map[string]string{"kernel_image": s.kernelImage, "initrd_image": s.initrdImage} {
		if ref != "" && (!strings.Contains(ref, "/") || strings.ContainsAny(ref, " \t")) {
			return s, vim.OptionErrorf(name, "%q is not a container image reference such as ghcr.io/org/kernel:5.10", ref)
		}
	}
	if s.registry, err = restclient.RegistryHost(cfg.Options); err != nil {
		return s, err
	}
	if len(cfg.Credentials) > 0 {
		return s, vim.OptionErrorf("credentials", "VIM type %s takes no credentials (Flintlock's API defines no authentication)", Type)
	}
	return s, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

// Check verifies a configuration without contacting Flintlock.
func Check(ctx context.Context, cfg vim.Config) error {
	_, err := parseSettings(cfg)
	return err
}

// Driver is one Flintlock host.
type Driver struct {
	set settings
	api *restclient.Client
}

// Open returns a driver for the Flintlock gateway at cfg.Endpoint.
func Open(ctx context.Context, cfg vim.Config) (*Driver, error) {
	set, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Driver{set: set, api: &restclient.Client{
		Name: Type, Base: set.endpoint, HTTP: hc,
		Timeout: set.timeout, Retries: set.retries, Backoff: 200 * time.Millisecond,
		DecodeError: decodeRPCStatus,
	}}, nil
}

// grpcCodes names the gRPC codes an rpcStatus carries.
var grpcCodes = []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// decodeRPCStatus reads rpcStatus {code, message, details}.
func decodeRPCStatus(body []byte) (string, string) {
	var st struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) != nil || st.Code == nil {
		return "", strings.TrimSpace(string(body))
	}
	code := strconv.Itoa(*st.Code)
	if *st.Code >= 0 && *st.Code < len(grpcCodes) {
		code = grpcCodes[*st.Code]
	}
	return code, st.Message
}

// Info implements vim.Driver.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	return vim.Info{Type: Type, Capabilities: []vim.Capability{vim.CapImages, vim.CapDeleteImages, vim.CapFlavors, vim.CapCompute, vim.CapStorageImage}}, nil
}

// Close implements vim.Driver; the driver holds no resources.
func (d *Driver) Close() error { return nil }

// AddImage implements vim.Driver: the image is its reference on the
// catalogue's OCI endpoint; Flintlock pulls it when a MicroVM boots from it.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	ref, _, err := restclient.ImageReference(ctx, Type, d.set.registry, spec)
	if err != nil {
		return nil, err
	}
	img, err := d.QueryImage(ctx, ref)
	if err != nil {
		return nil, err
	}
	img.Name, img.Version, img.Labels = spec.Name, spec.Version, spec.Labels
	return img, nil
}

// QueryImage implements vim.Driver: an image id is a reference by digest.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	_, digest, ok := strings.Cut(id, "@")
	hexDigest, isSHA := strings.CutPrefix(digest, "sha256:")
	if !ok || !isSHA || len(hexDigest) != 64 || !strings.Contains(id, "/") {
		return nil, fmt.Errorf("%w: image %q is not HOST/REPOSITORY@sha256:DIGEST", vim.ErrNotFound, id)
	}
	return &vim.Image{ID: id, Name: id, Status: "active", ContainerFormat: "docker",
		Checksum: vim.Checksum{Algorithm: "sha256", Hash: hexDigest}}, nil
}

// ListImages implements vim.Driver: Flintlock keeps no list of images.
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	return nil, fmt.Errorf("%w: Flintlock has no image store to list", vim.ErrNotSupported)
}

// DeleteImage implements vim.Driver: nothing was stored in Flintlock.
func (d *Driver) DeleteImage(ctx context.Context, id string) error { return nil }

// CreateFlavour implements vim.Driver (flavourid).
func (d *Driver) CreateFlavour(ctx context.Context, spec vim.FlavourSpec) (*vim.Flavour, error) {
	return flavourid.Create(spec)
}

// QueryFlavour implements vim.Driver (flavourid).
func (d *Driver) QueryFlavour(ctx context.Context, id string) (*vim.Flavour, error) {
	return flavourid.Parse(id)
}

// DeleteFlavour implements vim.Driver: nothing is stored.
func (d *Driver) DeleteFlavour(ctx context.Context, id string) error { return nil }

// The definitions of the document the driver writes and reads.
type (
	imageRef struct {
		Image    string `json:"image"`
		Filename string `json:"filename,omitempty"`
	}
	volume struct {
		ID         string `json:"id"`
		IsReadOnly bool   `json:"isReadOnly"`
		Source     struct {
			ContainerSource string `json:"containerSource"`
		} `json:"source"`
		SizeInMb int32 `json:"sizeInMb,omitempty"`
	}
	microVMSpec struct {
		ID         string            `json:"id,omitempty"`
		Namespace  string            `json:"namespace"`
		Labels     map[string]string `json:"labels,omitempty"`
		VCPU       int32             `json:"vcpu"`
		MemoryInMb int32             `json:"memoryInMb"`
		Kernel     imageRef          `json:"kernel"`
		Initrd     *imageRef         `json:"initrd,omitempty"`
		RootVolume volume            `json:"rootVolume"`
		Additional []volume          `json:"additionalVolumes,omitempty"`
		UID        string            `json:"uid,omitempty"`
		CreatedAt  time.Time         `json:"createdAt,omitempty"`
	}
	microVM struct {
		Spec   microVMSpec `json:"spec"`
		Status struct {
			State string `json:"state"`
			Retry int32  `json:"retry"`
		} `json:"status"`
	}
	microVMResponse struct {
		MicroVM *microVM `json:"microvm"`
	}
)

// AllocateCompute creates a MicroVM (never retried: a second POST could
// make a second one) and waits until it is no longer PENDING.
func (d *Driver) AllocateCompute(ctx context.Context, spec vim.ComputeSpec) (*vim.Compute, error) {
	if spec.Kernel == nil && d.set.kernelImage == "" {
		return nil, vim.OptionErrorf("kernel_image", "is required to allocate compute for a VDU without a kernel artifact: MicroVMs boot a kernel from a container image")
	}
	if err := vim.CheckStorage(Type, spec, false, true, "a Flintlock volume always has a source (typesVolumeSource: a container image or a virtiofs path)"); err != nil {
		return nil, err
	}
	fl, err := d.QueryFlavour(ctx, spec.FlavourID)
	if err != nil {
		return nil, err
	}
	if _, err := d.QueryImage(ctx, spec.ImageID); err != nil {
		return nil, err
	}
	req := microVMSpec{
		ID: "vnfpkgm-" + uuid.NewString(), Namespace: d.set.namespace, Labels: spec.Labels,
		VCPU: int32(fl.VCPUs), MemoryInMb: int32(fl.MemoryBytes >> 20),
	}
	if req.Kernel, err = d.bootImage(ctx, spec.Kernel, d.set.kernelImage, d.set.kernelFile); err != nil {
		return nil, err
	}
	switch {
	case spec.Initrd != nil:
		req.Initrd = &imageRef{}
		if *req.Initrd, err = d.bootImage(ctx, spec.Initrd, "", ""); err != nil {
			return nil, err
		}
	case spec.Kernel == nil && d.set.initrdImage != "":
		req.Initrd = &imageRef{Image: d.set.initrdImage, Filename: d.set.initrdFile}
	}
	req.RootVolume.ID = "root"
	req.RootVolume.Source.ContainerSource = spec.ImageID
	for _, st := range spec.Storage {
		if _, err := d.QueryImage(ctx, st.ImageID); err != nil {
			return nil, fmt.Errorf("the image of virtual storage %s: %w", st.Name, err)
		}
		if st.Name == "root" {
			return nil, fmt.Errorf("%w: virtual storage %s: the root volume has that id", vim.ErrInvalid, st.Name)
		}
		mb := (st.SizeBytes + 1<<20 - 1) >> 20
		if mb > 1<<31-1 {
			return nil, fmt.Errorf("%w: virtual storage %s: %d MiB is more than sizeInMb (int32) holds", vim.ErrInvalid, st.Name, mb)
		}
		v := volume{ID: st.Name, SizeInMb: int32(mb)}
		v.Source.ContainerSource = st.ImageID
		req.Additional = append(req.Additional, v)
	}
	var resp microVMResponse
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodPost, Path: "/v1alpha1/microvm", Body: req, Out: &resp}); err != nil {
		return nil, err
	}
	if resp.MicroVM == nil || resp.MicroVM.Spec.UID == "" {
		return nil, fmt.Errorf("%w: flintlock answered the creation of %s without a MicroVM uid", vim.ErrInvalid, req.ID)
	}
	c, err := d.waitCreated(ctx, resp.MicroVM.Spec.UID)
	if err != nil {
		return nil, err
	}
	c.Name, c.FlavourID, c.Labels = spec.Name, fl.ID, spec.Labels
	return c, nil
}

// bootImage is the kernel or initrd of a MicroVM: the VDU's own (b), on
// the catalogue's OCI endpoint, else the configured image (none when
// configured is "").
func (d *Driver) bootImage(ctx context.Context, b *vim.BootFile, configured, file string) (imageRef, error) {
	if b == nil {
		return imageRef{Image: configured, Filename: file}, nil
	}
	ref, _, err := restclient.OCIReference(ctx, Type, d.set.registry, "the VDU's boot file "+b.Path, b.OCI)
	if err != nil {
		return imageRef{}, err
	}
	return imageRef{Image: ref, Filename: b.File}, nil
}

// waitCreated polls a MicroVM until it leaves PENDING (compute_timeout).
func (d *Driver) waitCreated(ctx context.Context, uid string) (*vim.Compute, error) {
	deadline := time.Now().Add(d.set.computeTimeout)
	for {
		c, err := d.QueryCompute(ctx, uid)
		if err != nil || c.State != vim.StateBuilding {
			return c, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: MicroVM %s still PENDING after %v (compute_timeout)", vim.ErrUnavailable, uid, d.set.computeTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d.set.pollInterval):
		}
	}
}

// The MicroVM states (MicroVMStatusMicroVMState) and what they are here.
var states = map[string]string{
	"PENDING":  vim.StateBuilding,
	"CREATED":  vim.StateRunning,
	"FAILED":   vim.StateError,
	"DELETING": vim.StateStopped,
}

func toCompute(vm *microVM) *vim.Compute {
	c := &vim.Compute{
		ID: vm.Spec.UID, Name: vm.Spec.ID, ImageID: vm.Spec.RootVolume.Source.ContainerSource,
		FlavourID: flavourid.ID(int(vm.Spec.VCPU), int(vm.Spec.MemoryInMb), 0),
		CreatedAt: vm.Spec.CreatedAt, Labels: vm.Spec.Labels,
		Detail: "flintlock state " + vm.Status.State,
	}
	for _, v := range vm.Spec.Additional {
		c.Volumes = append(c.Volumes, v.ID)
	}
	st, ok := states[vm.Status.State]
	switch {
	case !ok:
		st, c.StateReason = vim.StateError, vim.ReasonVIMFault
		c.Detail = fmt.Sprintf("flintlock reports state %q, which its API does not define", vm.Status.State)
	case st == vim.StateError:
		c.StateReason = vim.ReasonVIMFault
		c.Detail = fmt.Sprintf("flintlock could not create the MicroVM (FAILED after %d reconciliation attempts; its API gives no reason)", vm.Status.Retry)
	}
	c.State = st
	return c
}

// QueryCompute implements vim.Driver.
func (d *Driver) QueryCompute(ctx context.Context, id string) (*vim.Compute, error) {
	var resp struct {
		MicroVM json.RawMessage `json:"microvm"`
	}
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodGet, Path: "/v1alpha1/microvm/" + url.PathEscape(id), Out: &resp, Idempotent: true}); err != nil {
		return nil, err
	}
	// The get's path template is the list's too: a uid Flintlock does not
	// know reads as a namespace, and the answer is a list.
	if len(resp.MicroVM) == 0 || bytes.HasPrefix(bytes.TrimSpace(resp.MicroVM), []byte("[")) || string(resp.MicroVM) == "null" {
		return nil, fmt.Errorf("%w: flintlock has no MicroVM %s", vim.ErrNotFound, id)
	}
	var vm microVM
	if err := json.Unmarshal(resp.MicroVM, &vm); err != nil {
		return nil, fmt.Errorf("%w: flintlock answered MicroVM %s with an unexpected document: %v", vim.ErrInvalid, id, err)
	}
	return toCompute(&vm), nil
}

// OperateCompute implements vim.Driver: the API has no operations.
func (d *Driver) OperateCompute(ctx context.Context, id, action string) (*vim.Compute, error) {
	return nil, fmt.Errorf("%w: VIM type %s cannot %s a MicroVM (its API creates, reads and deletes only)", vim.ErrNotSupported, Type, action)
}

// TerminateCompute deletes a MicroVM; one already gone is no error.
func (d *Driver) TerminateCompute(ctx context.Context, id string) error {
	return restclient.IgnoreNotFound(d.api.Do(ctx, restclient.Call{Method: http.MethodDelete, Path: "/v1alpha1/microvm/" + url.PathEscape(id), Idempotent: true}))
}
