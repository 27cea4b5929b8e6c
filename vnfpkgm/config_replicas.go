package vnfpkgm

// This file is the configuration of a replica among several (PostgreSQL,
// S3 and a load balancer in front): what belongs to its host.

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// ReplicaConfig is what distinguishes one replica from the others.
type ReplicaConfig struct {
	// HostID names the host this replica runs on. Compute instances of
	// VIMs that run on the server's own host (the local QEMU VIM) are
	// recorded with it, and only a replica with the same HostID operates
	// them.
	HostID string
	// JobLease is how long a claimed job (onboarding, fetch, upload
	// take-over) stays its worker's without renewal; workers renew at a
	// third of it. It is also how long a job of a replica that died waits
	// before another replica takes it over.
	JobLease time.Duration
}

// maxHostIDLen is the size of the column that records it (storage.VIMCompute.OwnerHost).
const maxHostIDLen = 255

func defaultReplicaConfig() ReplicaConfig {
	// An error leaves it empty: validateReplica then asks for --host-id
	// rather than recording instances without an owner.
	host, _ := os.Hostname()
	return ReplicaConfig{HostID: host, JobLease: 10 * time.Second}
}

func (c *ReplicaConfig) registerReplicaFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.JobLease, "job-lease", c.JobLease, "a claimed job is renewed at a third of this; a job whose replica died is taken over by another after it (keep it well above the replicas' clock skew)")
	fs.StringVar(&c.HostID, "host-id", c.HostID, "name of this replica's host: instances of the local QEMU VIM belong to it, and replicas with another host id answer 409 for them (default: the host name)")
}

func (c ReplicaConfig) validateReplica() error {
	switch {
	case strings.TrimSpace(c.HostID) == "":
		return fmt.Errorf("host-id is empty (the host name could not be read): give --host-id")
	case c.HostID != strings.TrimSpace(c.HostID):
		return fmt.Errorf("host-id %q has leading or trailing spaces", c.HostID)
	case len(c.HostID) > maxHostIDLen:
		return fmt.Errorf("host-id is longer than %d bytes", maxHostIDLen)
	case c.JobLease < 3*time.Millisecond:
		return fmt.Errorf("job-lease must be at least 3ms (renewed at a third of it), not %s", c.JobLease)
	}
	return nil
}
