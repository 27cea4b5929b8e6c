package kubevim

import (
	"context"
	"fmt"
	"time"

	"github.com/kube-nfv/kube-vim-api/pkg/apis"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/vivnfm"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// Metadata key under which a flavour's name is stored (IFA 005's
// VirtualComputeFlavour has no name).
const metaName = "name"

// idFilter is the query filter that selects one resource by identifier,
// in the SOL 013 filter grammar KubeVim's REST binding follows:
// (eq,<attribute path>,<value>).
func idFilter(attr, id string) *apis.Filter {
	return &apis.Filter{Value: fmt.Sprintf("(eq,%s/value,%s)", attr, id)}
}

// CreateFlavour implements vim.Driver: memory, vCPUs and, when the spec
// has one, a boot disk of DiskBytes.
func (d *Driver) CreateFlavour(ctx context.Context, spec vim.FlavourSpec) (*vim.Flavour, error) {
	if spec.VCPUs <= 0 || spec.MemoryBytes <= 0 {
		return nil, fmt.Errorf("%w: kubevim: flavour %q needs vCPUs and memory", vim.ErrInvalid, spec.Name)
	}
	fl := &vivnfm.VirtualComputeFlavour{
		IsPublic:      proto.Bool(false),
		VirtualMemory: &vivnfm.VirtualMemoryData{VirtualMemSize: resource.NewQuantity(spec.MemoryBytes, resource.BinarySI)},
		VirtualCpu:    &vivnfm.VirtualCpuData{NumVirtualCpu: uint32(spec.VCPUs)},
		Metadata:      &apis.Metadata{Fields: map[string]string{metaName: spec.Name}},
	}
	if spec.DiskBytes > 0 {
		fl.StorageAttributes = []*vivnfm.VirtualStorageData{{
			TypeOfStorage: "volume",
			SizeOfStorage: resource.NewQuantity(spec.DiskBytes, resource.BinarySI),
			IsBoot:        proto.Bool(true),
		}}
	}
	resp, err := d.vi.CreateComputeFlavour(ctx, &vivnfm.CreateComputeFlavourRequest{Flavour: fl})
	if err != nil {
		return nil, d.mapErr(err, "creating flavour "+spec.Name)
	}
	id := resp.GetFlavourId().GetValue()
	if id == "" {
		return nil, fmt.Errorf("%w: kubevim: CreateComputeFlavour of %s answered no flavour id", vim.ErrUnavailable, spec.Name)
	}
	return &vim.Flavour{ID: id, Name: spec.Name, VCPUs: spec.VCPUs, MemoryBytes: spec.MemoryBytes, DiskBytes: spec.DiskBytes}, nil
}

func toFlavour(f *vivnfm.VirtualComputeFlavour) *vim.Flavour {
	out := &vim.Flavour{
		ID:    f.GetFlavourId().GetValue(),
		Name:  f.GetMetadata().GetFields()[metaName],
		VCPUs: int(f.GetVirtualCpu().GetNumVirtualCpu()),
	}
	if q := f.GetVirtualMemory().GetVirtualMemSize(); q != nil {
		out.MemoryBytes = q.Value()
	}
	for _, s := range f.GetStorageAttributes() {
		if s.GetIsBoot() && s.GetSizeOfStorage() != nil {
			out.DiskBytes = s.GetSizeOfStorage().Value()
		}
	}
	return out
}

// QueryFlavour implements vim.Driver.
func (d *Driver) QueryFlavour(ctx context.Context, id string) (*vim.Flavour, error) {
	resp, err := d.vi.QueryComputeFlavour(ctx, &vivnfm.QueryComputeFlavourRequest{QueryComputeFlavourFilter: idFilter("flavourId", id)})
	if err != nil {
		return nil, d.mapErr(err, "reading flavour "+id)
	}
	for _, f := range resp.GetFlavours() {
		if f.GetFlavourId().GetValue() == id {
			return toFlavour(f), nil
		}
	}
	return nil, fmt.Errorf("%w: kubevim: flavour %s", vim.ErrNotFound, id)
}

// DeleteFlavour implements vim.Driver; a flavour already gone is no error.
func (d *Driver) DeleteFlavour(ctx context.Context, id string) error {
	_, err := d.vi.DeleteComputeFlavour(ctx, &vivnfm.DeleteComputeFlavourRequest{ComputeFlavourId: &apis.Identifier{Value: id}})
	if err = d.mapErr(err, "deleting flavour "+id); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// AllocateCompute implements vim.Driver: it allocates the compute and
// waits, up to compute_timeout, until it has left STARTING.
func (d *Driver) AllocateCompute(ctx context.Context, spec vim.ComputeSpec) (*vim.Compute, error) {
	if spec.Name == "" || spec.ImageID == "" || spec.FlavourID == "" {
		return nil, fmt.Errorf("%w: kubevim: a compute needs a name, an image and a flavour", vim.ErrInvalid)
	}
	if err := vim.CheckStorage(Type, spec, false, false, "the kube-vim-api's AllocateComputeRequest carries no storage and its ViVnfm service has no storage operations"); err != nil {
		return nil, err
	}
	resp, err := d.vi.AllocateVirtualisedComputeResource(ctx, &vivnfm.AllocateComputeRequest{
		ComputeName:      proto.String(spec.Name),
		ComputeFlavourId: &apis.Identifier{Value: spec.FlavourID},
		VcImageId:        &apis.Identifier{Value: spec.ImageID},
		MetaData:         &apis.Metadata{Fields: spec.Labels},
	})
	if err != nil {
		return nil, d.mapErr(err, "allocating compute "+spec.Name)
	}
	vc := resp.GetComputeData()
	id := vc.GetComputeId().GetValue()
	if id == "" {
		return nil, fmt.Errorf("%w: kubevim: AllocateVirtualisedComputeResource of %s answered no compute id", vim.ErrUnavailable, spec.Name)
	}
	return d.waitStarted(ctx, id, toCompute(vc))
}

// waitStarted polls a compute until it is no longer STARTING.
func (d *Driver) waitStarted(ctx context.Context, id string, c *vim.Compute) (*vim.Compute, error) {
	deadline := time.Now().Add(d.st.computeTimeout)
	for c.State == vim.StateBuilding {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: kubevim: compute %s still STARTING after %s (compute_timeout)", vim.ErrUnavailable, id, d.st.computeTimeout)
		}
		if err := vim.Sleep(ctx, d.st.poll); err != nil {
			return nil, fmt.Errorf("kubevim: waiting for compute %s: %w", id, err)
		}
		var err error
		if c, err = d.QueryCompute(ctx, id); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// runningStates maps IFA 005's computeRunningState onto the vim states;
// FAILED and UNKNOWN are ERROR (see toCompute).
var runningStates = map[apis.ComputeRunningState]string{
	apis.ComputeRunningState_STARTING:    vim.StateBuilding,
	apis.ComputeRunningState_RUNNING:     vim.StateRunning,
	apis.ComputeRunningState_STOPPED:     vim.StateStopped,
	apis.ComputeRunningState_PAUSED:      vim.StatePaused,
	apis.ComputeRunningState_SUSPENDED:   vim.StatePaused,
	apis.ComputeRunningState_TERMINATING: vim.StateStopped,
}

func toCompute(vc *vivnfm.VirtualCompute) *vim.Compute {
	c := &vim.Compute{
		ID:        vc.GetComputeId().GetValue(),
		Name:      vc.GetComputeName(),
		ImageID:   vc.GetVcImageId().GetValue(),
		FlavourID: vc.GetFlavourId().GetValue(),
		Labels:    vc.GetMetadata().GetFields(),
	}
	rs := vc.GetRunningState()
	if st, ok := runningStates[rs]; ok {
		c.State = st
		if rs == apis.ComputeRunningState_SUSPENDED || rs == apis.ComputeRunningState_TERMINATING {
			c.Detail = "KubeVim reports " + rs.String()
		}
		return c
	}
	c.State, c.StateReason = vim.StateError, vim.ReasonVIMFault
	c.Detail = fmt.Sprintf("KubeVim reports %s (operational state %s)", rs, vc.GetOperationalState())
	return c
}

// QueryCompute implements vim.Driver.
func (d *Driver) QueryCompute(ctx context.Context, id string) (*vim.Compute, error) {
	resp, err := d.vi.QueryVirtualisedComputeResource(ctx, &vivnfm.QueryComputeRequest{QueryComputeFilter: idFilter("computeId", id)})
	if err != nil {
		return nil, d.mapErr(err, "reading compute "+id)
	}
	for _, vc := range resp.GetQueryResult() {
		if vc.GetComputeId().GetValue() == id {
			return toCompute(vc), nil
		}
	}
	return nil, fmt.Errorf("%w: kubevim: compute %s", vim.ErrNotFound, id)
}

// computeOperations are the IFA 006 computeOperation values sent for the
// vim actions.
var computeOperations = map[string]string{
	vim.ActionStart: "start", vim.ActionStop: "stop", vim.ActionPause: "pause",
	vim.ActionResume: "unpause", vim.ActionReboot: "reboot",
}

// OperateCompute implements vim.Driver.
func (d *Driver) OperateCompute(ctx context.Context, id, action string) (*vim.Compute, error) {
	op, ok := computeOperations[action]
	if !ok {
		return nil, fmt.Errorf("%w: kubevim: unknown action %q", vim.ErrInvalid, action)
	}
	resp, err := d.vi.OperateVirtualisedComputeResource(ctx, &vivnfm.OperateComputeRequest{
		ComputeId: &apis.Identifier{Value: id}, ComputeOperation: op,
	})
	if err != nil {
		return nil, d.mapErr(err, action+" compute "+id)
	}
	if resp.GetComputeData() == nil {
		return d.QueryCompute(ctx, id)
	}
	return toCompute(resp.GetComputeData()), nil
}

// TerminateCompute implements vim.Driver; a compute already gone is no error.
func (d *Driver) TerminateCompute(ctx context.Context, id string) error {
	_, err := d.vi.TerminateVirtualisedComputeResource(ctx, &vivnfm.TerminateComputeRequest{ComputeId: &apis.Identifier{Value: id}})
	if err = d.mapErr(err, "terminating compute "+id); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}
