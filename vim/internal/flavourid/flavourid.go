// Package flavourid holds a compute flavour in its id alone
// ("vcpu2-mem512mb-disk0"), for the VIMs whose API has no flavours and
// takes vCPUs and memory with each instance (the Cloud Hypervisor
// dataplane, Flintlock): the flavour needs no storage, and survives
// restarts and replicas.
package flavourid

import (
	"fmt"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// ID is the id of a flavour of vcpus, memoryMiB and diskBytes.
func ID(vcpus, memoryMiB int, diskBytes int64) string {
	return fmt.Sprintf("vcpu%d-mem%dmb-disk%d", vcpus, memoryMiB, diskBytes)
}

// Create makes a flavour; memory is rounded up to whole MiB, which is
// what these APIs take.
func Create(spec vim.FlavourSpec) (*vim.Flavour, error) {
	if spec.VCPUs < 1 || spec.MemoryBytes < 1 || spec.DiskBytes < 0 {
		return nil, fmt.Errorf("%w: a flavour needs at least one vCPU and some memory (got %d vCPUs, %d bytes)", vim.ErrInvalid, spec.VCPUs, spec.MemoryBytes)
	}
	mib := int((spec.MemoryBytes + 1<<20 - 1) >> 20)
	return &vim.Flavour{ID: ID(spec.VCPUs, mib, spec.DiskBytes), Name: spec.Name, VCPUs: spec.VCPUs, MemoryBytes: int64(mib) << 20, DiskBytes: spec.DiskBytes}, nil
}

// Parse reads a flavour from its id (vim.ErrNotFound for an id that is
// not one).
func Parse(id string) (*vim.Flavour, error) {
	var vcpus, mib int
	var disk int64
	if n, err := fmt.Sscanf(id, "vcpu%d-mem%dmb-disk%d", &vcpus, &mib, &disk); err != nil || n != 3 || ID(vcpus, mib, disk) != id || vcpus < 1 || mib < 1 {
		return nil, fmt.Errorf("%w: flavour %q", vim.ErrNotFound, id)
	}
	return &vim.Flavour{ID: id, Name: id, VCPUs: vcpus, MemoryBytes: int64(mib) << 20, DiskBytes: disk}, nil
}
