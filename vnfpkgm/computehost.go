package vnfpkgm

// This file makes the compute of host-local VIMs belong to a host: with
// several replicas behind a load balancer, a request for a QEMU instance
// may reach a replica on another machine, which must say so instead of
// reporting the instance missing (it is not in that host's QEMU) or
// acting on nothing.

import (
	"context"
	"fmt"
	"net/http"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/local"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// ReasonOtherHost is the stateReason of a compute shown by a replica on
// another host than the one running it: the state is UNKNOWN there.
const ReasonOtherHost = "OTHER_HOST"

// hostLocalVIMTypes are the VIM drivers that run their compute on the
// server's own host (as child processes), not behind an API every
// replica reaches.
var hostLocalVIMTypes = map[string]bool{local.Type: true}

// computeOwnerHost is the owner host to record with a compute allocated
// in v by this replica: its host id for a host-local VIM, else none.
func (s *Server) computeOwnerHost(v *storage.VIM) string {
	if hostLocalVIMTypes[v.Type] {
		return s.cfg.HostID
	}
	return ""
}

// ownedElsewhere tells whether rec runs on another host than this
// replica's.
func (s *Server) ownedElsewhere(rec *storage.VIMCompute) bool {
	return rec.OwnerHost != "" && rec.OwnerHost != s.cfg.HostID
}

// requireComputeHost refuses to act on a compute of another host with
// 409 Conflict naming the owner. Not 503: nothing is unavailable (this
// replica is healthy and the owner may be too), and a load balancer
// counts 5xx against the replica's health (deploy/nginx.conf max_fails)
// and may replay the request elsewhere; the conflict is between the
// request and where the resource lives, and retrying here cannot help.
func (s *Server) requireComputeHost(rec *storage.VIMCompute) error {
	if !s.ownedElsewhere(rec) {
		return nil
	}
	return sol013.Problemf(http.StatusConflict,
		"compute %s runs in the local VIM of host %q, and this replica runs on host %q: send the request to a replica on %q",
		rec.ID, rec.OwnerHost, s.cfg.HostID, rec.OwnerHost)
}

// computeState is the state of rec as this replica can know it: that of
// queryCompute, or UNKNOWN (OTHER_HOST) for a compute of another host,
// which this host's VIM would wrongly report as missing.
func (s *Server) computeState(ctx context.Context, d vim.Driver, rec *storage.VIMCompute) (*vim.Compute, error) {
	if s.ownedElsewhere(rec) {
		return &vim.Compute{
			State: vim.StateUnknown, StateReason: ReasonOtherHost,
			Detail: fmt.Sprintf("runs in the local VIM of host %q; ask a replica on that host", rec.OwnerHost),
		}, nil
	}
	return queryCompute(ctx, d, rec)
}
