package openstack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// CreateFlavour implements vim.Driver. Nova counts memory in MiB and disk in
// GiB: sizes are rounded up.
func (d *Driver) CreateFlavour(ctx context.Context, spec vim.FlavourSpec) (*vim.Flavour, error) {
	c, err := d.computeClient()
	if err != nil {
		return nil, err
	}
	if spec.Name == "" || spec.VCPUs <= 0 || spec.MemoryBytes <= 0 || spec.DiskBytes < 0 {
		return nil, fmt.Errorf("%w: openstack: a flavour needs a name, vCPUs and memory", vim.ErrInvalid)
	}
	disk := ceilDiv(spec.DiskBytes, 1<<30)
	f, err := flavors.Create(ctx, c, flavors.CreateOpts{
		Name:  spec.Name,
		VCPUs: spec.VCPUs,
		RAM:   ceilDiv(spec.MemoryBytes, 1<<20),
		Disk:  &disk,
	}).Extract()
	if err != nil {
		return nil, mapErr(err, "creating flavour "+spec.Name)
	}
	return toFlavour(f), nil
}

func toFlavour(f *flavors.Flavor) *vim.Flavour {
	return &vim.Flavour{
		ID:          f.ID,
		Name:        f.Name,
		VCPUs:       f.VCPUs,
		MemoryBytes: int64(f.RAM) << 20,
		DiskBytes:   int64(f.Disk) << 30,
	}
}

// QueryFlavour implements vim.Driver.
func (d *Driver) QueryFlavour(ctx context.Context, id string) (*vim.Flavour, error) {
	c, err := d.computeClient()
	if err != nil {
		return nil, err
	}
	f, err := flavors.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, mapErr(err, "reading flavour "+id)
	}
	return toFlavour(f), nil
}

// DeleteFlavour implements vim.Driver; a flavour already gone is no error.
func (d *Driver) DeleteFlavour(ctx context.Context, id string) error {
	c, err := d.computeClient()
	if err != nil {
		return err
	}
	if err := flavors.Delete(ctx, c, id).ExtractErr(); err != nil && !isNotFound(err) {
		return mapErr(err, "deleting flavour "+id)
	}
	return nil
}

// computeState maps a Nova server status to a vim state; stable reports
// whether Nova will leave it alone (no task under way).
func computeState(status string) (state string, stable bool) {
	switch strings.ToUpper(status) {
	case "ACTIVE":
		return vim.StateRunning, true
	case "PAUSED":
		return vim.StatePaused, true
	case "SHUTOFF", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED", "STOPPED":
		return vim.StateStopped, true
	case "ERROR":
		return vim.StateError, true
	case "DELETED", "SOFT_DELETED":
		return vim.StateStopped, true
	default: // BUILD, REBUILD, REBOOT, HARD_REBOOT, MIGRATING, RESIZE, VERIFY_RESIZE, PASSWORD, RESCUE, UNKNOWN ...
		return vim.StateBuilding, false
	}
}

func toCompute(s *servers.Server) *vim.Compute {
	state, _ := computeState(s.Status)
	c := &vim.Compute{
		ID:        s.ID,
		Name:      s.Name,
		State:     state,
		CreatedAt: s.Created,
	}
	if id, ok := s.Image["id"].(string); ok {
		c.ImageID = id
	}
	if id, ok := s.Flavor["id"].(string); ok {
		c.FlavourID = id
	} else if name, ok := s.Flavor["original_name"].(string); ok {
		c.FlavourID = name
	}
	if len(s.Metadata) > 0 {
		c.Labels = make(map[string]string, len(s.Metadata))
		for k, v := range s.Metadata {
			c.Labels[k] = v
		}
	}
	switch {
	case state == vim.StateError && s.Fault.Message != "":
		c.Detail = s.Fault.Message
	case state == vim.StateBuilding || strings.ToUpper(s.Status) != "ACTIVE":
		c.Detail = "nova status " + s.Status
	}
	if state == vim.StateError {
		c.StateReason = vim.ReasonVIMFault
	}
	return c
}

// AllocateCompute implements vim.Driver: it creates the server and waits
// (at most compute_timeout) until Nova has finished building it. A server
// Nova failed to build is returned in state ERROR, its fault in Detail.
func (d *Driver) AllocateCompute(ctx context.Context, spec vim.ComputeSpec) (*vim.Compute, error) {
	c, err := d.computeClient()
	if err != nil {
		return nil, err
	}
	if spec.Name == "" || spec.ImageID == "" || spec.FlavourID == "" {
		return nil, fmt.Errorf("%w: openstack: a compute needs a name, an image and a flavour", vim.ErrInvalid)
	}
	if err := vim.CheckStorage(Type, spec, true, true, ""); err != nil {
		return nil, err
	}
	s, err := servers.Create(ctx, c, servers.CreateOpts{
		Name:        spec.Name,
		ImageRef:    spec.ImageID,
		FlavorRef:   spec.FlavourID,
		Metadata:    spec.Labels,
		BlockDevice: blockDevices(spec),
	}, nil).Extract()
	if err != nil {
		return nil, mapErr(err, "creating server "+spec.Name)
	}
	return d.waitStable(ctx, c, s.ID, "")
}

// blockDevices is the block_device_mapping_v2 of a spec with storage (nil
// without): the image as the local boot disk (boot_index 0, as the nova
// client sends it when an image and further block devices are given), then
// one Cinder volume per storage, blank or from its image, of the size
// rounded up to GiB, not bootable, deleted with the server.
func blockDevices(spec vim.ComputeSpec) []servers.BlockDevice {
	if len(spec.Storage) == 0 {
		return nil
	}
	out := []servers.BlockDevice{{
		SourceType: servers.SourceImage, UUID: spec.ImageID, DestinationType: servers.DestinationLocal,
		BootIndex: 0, DeleteOnTermination: true,
	}}
	for _, st := range spec.Storage {
		bd := servers.BlockDevice{
			SourceType: servers.SourceBlank, DestinationType: servers.DestinationVolume,
			VolumeSize: int(ceilDiv(st.SizeBytes, 1<<30)), BootIndex: -1, DeleteOnTermination: true,
		}
		if st.ImageID != "" {
			bd.SourceType, bd.UUID = servers.SourceImage, st.ImageID
		}
		out = append(out, bd)
	}
	return out
}

// QueryCompute implements vim.Driver.
func (d *Driver) QueryCompute(ctx context.Context, id string) (*vim.Compute, error) {
	c, err := d.computeClient()
	if err != nil {
		return nil, err
	}
	s, err := d.getServer(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return toCompute(s), nil
}

func (d *Driver) getServer(ctx context.Context, c *gophercloud.ServiceClient, id string) (*servers.Server, error) {
	s, err := servers.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, mapErr(err, "reading server "+id)
	}
	if st := strings.ToUpper(s.Status); st == "DELETED" || st == "SOFT_DELETED" {
		return nil, fmt.Errorf("openstack: server %s is %s: %w", id, s.Status, vim.ErrNotFound)
	}
	return s, nil
}

// waitStable polls a server until Nova has no task under way for it (and,
// if want is set, it is in that vim state), then returns it.
func (d *Driver) waitStable(ctx context.Context, c *gophercloud.ServiceClient, id, want string) (*vim.Compute, error) {
	deadline := time.Now().Add(d.computeTimeout)
	for {
		s, err := d.getServer(ctx, c, id)
		if err != nil {
			return nil, err
		}
		state, stable := computeState(s.Status)
		if stable && (want == "" || state == want || state == vim.StateError) {
			return toCompute(s), nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: openstack: server %s still %s after %s", vim.ErrUnavailable, id, s.Status, d.computeTimeout)
		}
		if err := sleep(ctx, d.poll); err != nil {
			return nil, fmt.Errorf("openstack: waiting for server %s: %w", id, err)
		}
	}
}

// OperateCompute implements vim.Driver with Nova server actions (os-start,
// os-stop, pause, unpause or resume, reboot), then waits for the state the
// action leads to. An action the server's state does not allow fails with
// vim.ErrWrongState.
func (d *Driver) OperateCompute(ctx context.Context, id, action string) (*vim.Compute, error) {
	c, err := d.computeClient()
	if err != nil {
		return nil, err
	}
	s, err := d.getServer(ctx, c, id)
	if err != nil {
		return nil, err
	}
	status := strings.ToUpper(s.Status)
	var r gophercloud.ErrResult
	var want string
	switch action {
	case vim.ActionStart:
		r, want = servers.Start(ctx, c, id).ErrResult, vim.StateRunning
	case vim.ActionStop:
		r, want = servers.Stop(ctx, c, id).ErrResult, vim.StateStopped
	case vim.ActionPause:
		r, want = servers.Pause(ctx, c, id).ErrResult, vim.StatePaused
	case vim.ActionResume:
		switch status {
		case "PAUSED":
			r = servers.Unpause(ctx, c, id).ErrResult
		case "SUSPENDED":
			r = servers.Resume(ctx, c, id).ErrResult
		default:
			return nil, fmt.Errorf("openstack: resume server %s in status %s: %w", id, s.Status, vim.ErrWrongState)
		}
		want = vim.StateRunning
	case vim.ActionReboot:
		r, want = servers.Reboot(ctx, c, id, servers.RebootOpts{Type: servers.SoftReboot}).ErrResult, vim.StateRunning
	default:
		return nil, fmt.Errorf("%w: openstack: unknown action %q", vim.ErrInvalid, action)
	}
	if err := r.ExtractErr(); err != nil {
		if gophercloud.ResponseCodeIs(err, 409) {
			return nil, fmt.Errorf("openstack: %s server %s in status %s: %w: %v", action, id, s.Status, vim.ErrWrongState, err)
		}
		return nil, mapErr(err, action+" server "+id)
	}
	return d.waitStable(ctx, c, id, want)
}

// TerminateCompute implements vim.Driver: it deletes the server and waits
// until Nova no longer has it. A server already gone is no error.
func (d *Driver) TerminateCompute(ctx context.Context, id string) error {
	c, err := d.computeClient()
	if err != nil {
		return err
	}
	if err := servers.Delete(ctx, c, id).ExtractErr(); err != nil {
		if isNotFound(err) {
			return nil
		}
		return mapErr(err, "deleting server "+id)
	}
	deadline := time.Now().Add(d.computeTimeout)
	for {
		s, err := servers.Get(ctx, c, id).Extract()
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return mapErr(err, "reading server "+id)
		}
		if st := strings.ToUpper(s.Status); st == "DELETED" || st == "SOFT_DELETED" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: openstack: server %s still %s after %s", vim.ErrUnavailable, id, s.Status, d.computeTimeout)
		}
		if err := sleep(ctx, d.poll); err != nil {
			return fmt.Errorf("openstack: waiting for server %s to go: %w", id, err)
		}
	}
}
