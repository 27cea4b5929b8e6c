// Package cloudhypervisor is the VIM driver for the Cloud Hypervisor
// Dataplane API (the product's seed document 002; its OpenAPI 3.1
// document is openapi.yaml of github.com/kernel/hypeman at 98c320d): VM
// instances created from OCI images. It registers the VIM type
// "cloudhypervisor".
//
// What maps to what:
//
//   - images: the dataplane pulls OCI images itself (POST /images with a
//     reference), so AddImage hands it the image's reference on the
//     catalogue's own OCI endpoint, by manifest digest
//     (vim.ImageSpec.OCI), and checks that the image the dataplane reports
//     is that digest;
//   - flavours: the API has none; an instance takes memory_mb and vcpus.
//     A flavour here is held by its id alone (package flavourid);
//   - compute: POST /instances creates and starts (memory_max_mb =
//     memory_mb: no hotplug beyond what the VDU asks); pause is standby
//     (pause, snapshot, delete the VMM) and resume is restore; there is
//     no start, stop or reboot in the API, so the VIM has none;
//   - states: Running is RUNNING; Paused and Standby are PAUSED; Shutdown
//     and Stopped are STOPPED; Created is BUILDING;
//   - console: GET /instances/{id}/logs (text, not the SSE stream);
//   - virtual storage (vim.ComputeSpec.Storage): each blank volume is made
//     with POST /volumes before the instance, its id the instance's id
//     followed by "-vol<N>", its name the storage's name and size_gb the
//     size rounded up to whole GiB (the dataplane makes size_gb * 2^30
//     bytes), then attached by the instance's creation (volumes: volume_id
//     and mount_path /mnt/<storage name>, characters other than letters,
//     digits, '.', '_' and '-' replaced by '_'). TerminateCompute deletes
//     the instance, then those volumes (found by their id, so that a
//     terminate after a crash or a second terminate still finds them); a
//     failed allocation deletes what it made. The document's
//     CreateVolumeRequest has no image source: a volume from a software
//     image is refused (vim.ErrNotSupported) before anything is made.
//
// Credentials: "token", sent as a bearer token and never logged or shown.
package cloudhypervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
const Type = "cloudhypervisor"

const (
	defaultTimeout      = 30 * time.Second
	defaultImageTimeout = 10 * time.Minute
	defaultRetries      = 2
	// consoleLines is how much of the log the console shows.
	consoleLines = 1000
)

// Options are the options of the cloudhypervisor VIM type.
var Options = []vim.Option{
	{Name: "timeout", Value: "DURATION", Default: defaultTimeout.String(), Help: "how long one call to the dataplane may take"},
	{Name: "image_timeout", Value: "DURATION", Default: defaultImageTimeout.String(), Help: "how long the dataplane may take to pull and convert an image"},
	{Name: "retries", Value: "N", Default: strconv.Itoa(defaultRetries), Help: "how many times a GET or DELETE is tried again when the dataplane is unreachable or answers 502, 503 or 504 (other calls are never retried)"},
	{Name: "registry", Value: "HOST[:PORT]", Help: "the catalogue's OCI endpoint as the dataplane reaches it, when not at the server's own address (--public-url or --listen)"},
}

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open:    func(ctx context.Context, cfg vim.Config) (vim.Driver, error) { return Open(ctx, cfg) },
		Options: Options,
		Check:   Check,
	})
}

// settings are the checked options.
type settings struct {
	endpoint              *url.URL
	timeout, imageTimeout time.Duration
	retries               int
	registry              string
}

func parseSettings(cfg vim.Config) (settings, error) {
	var s settings
	var err error
	if s.endpoint, err = restclient.ParseEndpoint(cfg.Endpoint); err != nil {
		return s, vim.OptionErrorf("endpoint", "%v", err)
	}
	if s.timeout, err = restclient.Duration(cfg.Options, "timeout", defaultTimeout); err != nil {
		return s, err
	}
	if s.imageTimeout, err = restclient.Duration(cfg.Options, "image_timeout", defaultImageTimeout); err != nil {
		return s, err
	}
	if s.retries, err = restclient.Retries(cfg.Options, defaultRetries); err != nil {
		return s, err
	}
	if s.registry, err = restclient.RegistryHost(cfg.Options); err != nil {
		return s, err
	}
	for k := range cfg.Credentials {
		if k != "token" {
			return s, vim.OptionErrorf("credentials", "%q is not a credential of VIM type %s (known: token)", k, Type)
		}
	}
	return s, nil
}

// Check verifies a configuration without contacting the dataplane.
func Check(ctx context.Context, cfg vim.Config) error {
	_, err := parseSettings(cfg)
	return err
}

// Driver is one dataplane.
type Driver struct {
	set settings
	api *restclient.Client
}

// Open returns a driver for the dataplane at cfg.Endpoint.
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
		Name: Type, Base: set.endpoint, HTTP: hc, Token: cfg.Credentials["token"],
		Timeout: set.timeout, Retries: set.retries, Backoff: 200 * time.Millisecond,
		DecodeError: decodeError,
	}}, nil
}

// decodeError reads the Error schema {code, message}.
func decodeError(body []byte) (string, string) {
	var e struct{ Code, Message string }
	if json.Unmarshal(body, &e) != nil {
		return "", strings.TrimSpace(string(body))
	}
	return e.Code, e.Message
}

// Info implements vim.Driver: what the API offers, without asking it.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	return vim.Info{Type: Type, Capabilities: []vim.Capability{
		vim.CapImages, vim.CapDeleteImages, vim.CapFlavors, vim.CapCompute, vim.CapPause, vim.CapResume, vim.CapConsole, vim.CapStorage,
	}}, nil
}

// Close implements vim.Driver; the driver holds no resources.
func (d *Driver) Close() error { return nil }

// The dataplane's schemas, as far as the driver reads or writes them.
type (
	apiImage struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		Version   *string   `json:"version"`
		SizeBytes int64     `json:"size_bytes"`
		CreatedAt time.Time `json:"created_at"`
	}
	apiInstance struct {
		ID          string             `json:"id"`
		Name        string             `json:"name"`
		Image       string             `json:"image"`
		State       string             `json:"state"`
		MemoryMB    int                `json:"memory_mb"`
		MemoryMaxMB int                `json:"memory_max_mb"`
		VCPUs       int                `json:"vcpus"`
		CreatedAt   time.Time          `json:"created_at"`
		HasSnapshot bool               `json:"has_snapshot"`
		Volumes     []volumeAttachment `json:"volumes"`
	}
	createInstance struct {
		ID          string             `json:"id"`
		Name        string             `json:"name"`
		Image       string             `json:"image"`
		MemoryMB    int                `json:"memory_mb"`
		MemoryMaxMB int                `json:"memory_max_mb"`
		VCPUs       int                `json:"vcpus"`
		Volumes     []volumeAttachment `json:"volumes,omitempty"`
	}
	volumeAttachment struct {
		VolumeID  string `json:"volume_id"`
		MountPath string `json:"mount_path"`
	}
	createVolume struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		SizeGB int64  `json:"size_gb"`
	}
	apiVolume struct {
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		SizeGB     int64   `json:"size_gb"`
		AttachedTo *string `json:"attached_to"`
	}
)

// AddImage has the dataplane pull the image from the catalogue's OCI
// endpoint by manifest digest, then checks the digest it reports.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	ref, digest, err := restclient.ImageReference(ctx, Type, d.set.registry, spec)
	if err != nil {
		return nil, err
	}
	var img apiImage
	err = d.api.Do(ctx, restclient.Call{
		Method: http.MethodPost, Path: "/images", Timeout: d.set.imageTimeout,
		Body: map[string]string{"name": ref, "id": "vnfpkgm-" + uuid.NewString()},
		Out:  &img,
	})
	if err != nil {
		return nil, pullError(err, ref, digest)
	}
	got := ""
	if img.Version != nil {
		got = *img.Version
	}
	if got != digest {
		// Not the image asked for: it must not stay registered.
		d.DeleteImage(context.WithoutCancel(ctx), img.ID)
		return nil, &vim.ChecksumError{What: "the image the dataplane pulled (" + ref + ")", Algorithm: "sha256", Expected: digest, Actual: got}
	}
	out := toImage(img)
	out.Labels = spec.Labels
	return out, nil
}

// pullError makes a digest refused by the dataplane's pull a checksum error.
func pullError(err error, ref, digest string) error {
	var re *restclient.RemoteError
	if errors.As(err, &re) && re.Code == "digest_mismatch" {
		return fmt.Errorf("%w: %v", &vim.ChecksumError{What: "the image the dataplane pulled (" + ref + ")", Algorithm: "sha256", Expected: digest, Actual: "(refused by the dataplane)"}, err)
	}
	return err
}

func toImage(img apiImage) *vim.Image {
	out := &vim.Image{
		ID: img.ID, Name: img.Name, Status: "active", Size: img.SizeBytes, CreatedAt: img.CreatedAt,
		// An OCI image, which the dataplane turns into a bootable disk.
		ContainerFormat: "docker",
	}
	if img.Version != nil {
		out.Version = *img.Version
		if h, ok := strings.CutPrefix(*img.Version, "sha256:"); ok {
			out.Checksum = vim.Checksum{Algorithm: "sha256", Hash: h}
		}
	}
	return out
}

// QueryImage implements vim.Driver.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	var img apiImage
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodGet, Path: "/images/" + url.PathEscape(id), Out: &img, Idempotent: true}); err != nil {
		return nil, err
	}
	return toImage(img), nil
}

// ListImages implements vim.Driver.
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	var list []apiImage
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodGet, Path: "/images", Out: &list, Idempotent: true}); err != nil {
		return nil, err
	}
	out := make([]vim.Image, len(list))
	for i, img := range list {
		out[i] = *toImage(img)
	}
	return out, nil
}

// DeleteImage implements vim.Driver; an image already gone is no error.
func (d *Driver) DeleteImage(ctx context.Context, id string) error {
	return restclient.IgnoreNotFound(d.api.Do(ctx, restclient.Call{Method: http.MethodDelete, Path: "/images/" + url.PathEscape(id), Idempotent: true}))
}

// CreateFlavour implements vim.Driver: the API has no flavours; one is
// held by its id (flavourid).
func (d *Driver) CreateFlavour(ctx context.Context, spec vim.FlavourSpec) (*vim.Flavour, error) {
	return flavourid.Create(spec)
}

// QueryFlavour implements vim.Driver: the flavour is read from its id.
func (d *Driver) QueryFlavour(ctx context.Context, id string) (*vim.Flavour, error) {
	return flavourid.Parse(id)
}

// DeleteFlavour implements vim.Driver: nothing is stored, nothing to delete.
func (d *Driver) DeleteFlavour(ctx context.Context, id string) error { return nil }

// AllocateCompute makes the volumes of the spec's storage, then creates
// and starts an instance with them attached (no POST is retried: a second
// one could make a second instance or volume). What a failed allocation
// made is deleted again.
func (d *Driver) AllocateCompute(ctx context.Context, spec vim.ComputeSpec) (*vim.Compute, error) {
	if err := vim.CheckStorage(Type, spec, true, false, "the dataplane's CreateVolumeRequest (id, name, size_gb) has no image source"); err != nil {
		return nil, err
	}
	fl, err := d.QueryFlavour(ctx, spec.FlavourID)
	if err != nil {
		return nil, err
	}
	mb := int(fl.MemoryBytes >> 20)
	req := createInstance{
		ID: "vnfpkgm-" + uuid.NewString(), Name: spec.Name, Image: spec.ImageID,
		MemoryMB: mb, MemoryMaxMB: mb, VCPUs: fl.VCPUs,
	}
	for i, st := range spec.Storage {
		vol := createVolume{ID: volumeID(req.ID, i), Name: st.Name, SizeGB: (st.SizeBytes + 1<<30 - 1) >> 30}
		// Attached before the call: a volume made by a POST whose answer
		// was lost is deleted too.
		req.Volumes = append(req.Volumes, volumeAttachment{VolumeID: vol.ID, MountPath: MountPath(st.Name)})
		if err := d.api.Do(ctx, restclient.Call{Method: http.MethodPost, Path: "/volumes", Body: vol, Out: &apiVolume{}}); err != nil {
			return nil, d.undo(ctx, req.ID, false, fmt.Errorf("volume %s for virtual storage %s (%d GiB): %w", vol.ID, st.Name, vol.SizeGB, err))
		}
	}
	var in apiInstance
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodPost, Path: "/instances", Body: req, Out: &in}); err != nil {
		if len(req.Volumes) == 0 {
			return nil, err
		}
		return nil, d.undo(ctx, req.ID, true, err)
	}
	c := toCompute(in)
	c.Labels = spec.Labels
	return c, nil
}

// volumeID is the id of the n-th volume of an instance.
func volumeID(instance string, n int) string { return instance + "-vol" + strconv.Itoa(n) }

// MountPath is where the volume of a virtual storage is mounted in the
// guest: /mnt/<name>, with characters other than letters, digits, '.',
// '_' and '-' replaced by '_'.
func MountPath(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if s := string(b); s != "" && s != "." && s != ".." {
		return "/mnt/" + s
	}
	return "/mnt/_"
}

// undo removes what a failed allocation of instance made: the instance
// itself when it may exist (its volumes are attached to it until it is
// gone), then its volumes. err is the allocation's error; a failure to
// undo is added to it.
func (d *Driver) undo(ctx context.Context, instance string, deleteInstance bool, err error) error {
	ctx = context.WithoutCancel(ctx)
	var cerr error
	if deleteInstance {
		cerr = d.TerminateCompute(ctx, instance)
	} else {
		cerr = d.deleteVolumes(ctx, instance)
	}
	if cerr != nil {
		return fmt.Errorf("%w (and removing what the allocation made failed: %v)", err, cerr)
	}
	return err
}

// deleteVolumes deletes the volumes made for an instance (by their ids).
func (d *Driver) deleteVolumes(ctx context.Context, instance string) error {
	var list []apiVolume
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodGet, Path: "/volumes", Out: &list, Idempotent: true}); err != nil {
		return err
	}
	var errs []error
	for _, v := range list {
		if !strings.HasPrefix(v.ID, instance+"-vol") {
			continue
		}
		err := d.api.Do(ctx, restclient.Call{Method: http.MethodDelete, Path: "/volumes/" + url.PathEscape(v.ID), Idempotent: true})
		if err = restclient.IgnoreNotFound(err); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// The dataplane's six states (schema InstanceState) and what they are here.
var states = map[string]string{
	"Created":  vim.StateBuilding,
	"Running":  vim.StateRunning,
	"Paused":   vim.StatePaused,
	"Standby":  vim.StatePaused,
	"Shutdown": vim.StateStopped,
	"Stopped":  vim.StateStopped,
}

func toCompute(in apiInstance) *vim.Compute {
	c := &vim.Compute{
		ID: in.ID, Name: in.Name, ImageID: in.Image, CreatedAt: in.CreatedAt,
		FlavourID: flavourid.ID(in.VCPUs, in.MemoryMB, 0),
		Detail:    "dataplane state " + in.State,
	}
	for _, v := range in.Volumes {
		c.Volumes = append(c.Volumes, v.VolumeID)
	}
	st, ok := states[in.State]
	if !ok {
		st, c.StateReason = vim.StateError, vim.ReasonVIMFault
		c.Detail = fmt.Sprintf("the dataplane reports state %q, which its API does not define", in.State)
	}
	c.State = st
	return c
}

// QueryCompute implements vim.Driver.
func (d *Driver) QueryCompute(ctx context.Context, id string) (*vim.Compute, error) {
	var in apiInstance
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodGet, Path: "/instances/" + url.PathEscape(id), Out: &in, Idempotent: true}); err != nil {
		return nil, err
	}
	return toCompute(in), nil
}

// OperateCompute implements vim.Driver: pause is standby, resume is
// restore; a wrong state is the dataplane's 409 (vim.ErrWrongState).
func (d *Driver) OperateCompute(ctx context.Context, id, action string) (*vim.Compute, error) {
	var op string
	switch action {
	case vim.ActionPause:
		op = "standby"
	case vim.ActionResume:
		op = "restore"
	default:
		return nil, fmt.Errorf("%w: VIM type %s cannot %s an instance (its API has standby and restore only)", vim.ErrNotSupported, Type, action)
	}
	var in apiInstance
	if err := d.api.Do(ctx, restclient.Call{Method: http.MethodPost, Path: "/instances/" + url.PathEscape(id) + "/" + op, Out: &in}); err != nil {
		return nil, err
	}
	return toCompute(in), nil
}

// TerminateCompute stops and deletes an instance, then the volumes made
// for it; what is already gone is no error.
func (d *Driver) TerminateCompute(ctx context.Context, id string) error {
	if err := restclient.IgnoreNotFound(d.api.Do(ctx, restclient.Call{Method: http.MethodDelete, Path: "/instances/" + url.PathEscape(id), Idempotent: true})); err != nil {
		return err
	}
	if err := d.deleteVolumes(ctx, id); err != nil {
		return fmt.Errorf("instance %s deleted, its volumes not: %w", id, err)
	}
	return nil
}

// ConsoleLog implements vim.ConsoleReader: the instance's last log lines.
func (d *Driver) ConsoleLog(ctx context.Context, id string) (io.ReadCloser, error) {
	return d.api.Stream(ctx, restclient.Call{
		Method: http.MethodGet, Path: "/instances/" + url.PathEscape(id) + "/logs",
		Query: url.Values{"tail": {strconv.Itoa(consoleLines)}},
	}, "text/plain")
}
