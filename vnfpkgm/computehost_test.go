package vnfpkgm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/local"
)

// TestComputeOfAnotherHost: two replicas on hosts a and b over one
// database. A compute of the local QEMU VIM recorded as host a's is
// operated, terminated and read (console) only by a; b answers 409 naming
// a for each, shows it UNKNOWN (OTHER_HOST) instead of missing from the
// VIM, and leaves the record alone. Before host ownership, b answered 404
// (not in its QEMU) to operate and console, and its DELETE answered 204 and
// removed the record of an instance still running on a.
func TestComputeOfAnotherHost(t *testing.T) {
	a, dirA := testServer(t, func(c *Config) { c.HostID = "host-a" })
	b, _ := testServer(t, func(c *Config) {
		c.HostID = "host-b"
		c.Database = filepath.Join(dirA, "vnfpkgm.db")
	})
	ctx := context.Background()
	v := &storage.VIM{Name: "qemu", Type: local.Type}
	if err := a.db.CreateVIM(ctx, v); err != nil {
		t.Fatal(err)
	}
	code, pkg := call(t, a, "POST", BasePath+"/vnf_packages", "application/json", `{}`)
	if code != http.StatusCreated {
		t.Fatalf("create package: %d %v", code, pkg)
	}
	rec := &storage.VIMCompute{
		ID: "c1", VimID: v.ID, PackageID: pkg["id"].(string), VduID: "vdu", FlavourID: "simple", Name: "vdu",
		VimComputeID: "instance-1", VimImageID: "image-1", VimFlavourID: "flavour-1",
		OwnerHost: a.computeOwnerHost(v),
	}
	if rec.OwnerHost != "host-a" {
		t.Fatalf("a compute of the local VIM allocated by host-a is owned by %q", rec.OwnerHost)
	}
	if err := a.db.Gorm().Create(rec).Error; err != nil {
		t.Fatal(err)
	}
	compute := VIMBasePath + "/vims/" + v.ID + "/compute/c1"

	for _, r := range []struct{ method, path, body string }{
		{"POST", compute + "/operate", `{"action":"stop"}`},
		{"GET", compute + "/console", ""},
		{"DELETE", compute, ""},
	} {
		ctype := ""
		if r.body != "" {
			ctype = "application/json"
		}
		code, pd := call(t, b, r.method, r.path, ctype, r.body)
		detail, _ := pd["detail"].(string)
		if code != http.StatusConflict || !strings.Contains(detail, `host "host-a"`) {
			t.Errorf("%s %s on host-b: %d %v, want 409 naming host-a", r.method, r.path, code, pd)
		}
	}
	code, info := call(t, b, "GET", compute, "", "")
	if code != http.StatusOK || info["state"] != vim.StateUnknown || info["stateReason"] != ReasonOtherHost || info["ownerHost"] != "host-a" {
		t.Errorf("GET on host-b: %d %v, want UNKNOWN (OTHER_HOST) owned by host-a", code, info)
	}
	list := getList(t, b, VIMBasePath+"/vims/"+v.ID+"/compute")
	if len(list) != 1 || list[0]["stateReason"] != ReasonOtherHost {
		t.Errorf("list on host-b: %v, want the compute UNKNOWN (OTHER_HOST)", list)
	}

	// The owner acts on it: terminating an instance its QEMU no longer
	// has succeeds (idempotent) and removes the record for every replica.
	if code, pd := call(t, a, "DELETE", compute, "", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE on host-a: %d %v, want 204", code, pd)
	}
	if code, _ := call(t, b, "GET", compute, "", ""); code != http.StatusNotFound {
		t.Fatalf("GET on host-b after host-a terminated it: %d, want 404", code)
	}
}

// TestComputeOfRemoteVIMHasNoOwner: compute of a VIM that every replica
// reaches through its API (OpenStack) belongs to no host.
func TestComputeOfRemoteVIMHasNoOwner(t *testing.T) {
	s, _ := testServer(t, func(c *Config) { c.HostID = "host-a" })
	if got := s.computeOwnerHost(&storage.VIM{Type: "openstack"}); got != "" {
		t.Fatalf("owner of an OpenStack compute: %q, want none", got)
	}
}

func TestHostIDConfig(t *testing.T) {
	cfg, err := ParseConfig(nil, func(k string) string {
		if k == "VNFPKGM_HOST_ID" {
			return "rack7-node3"
		}
		return ""
	})
	if err != nil || cfg.HostID != "rack7-node3" {
		t.Fatalf("VNFPKGM_HOST_ID: %q, %v", cfg.HostID, err)
	}
	if _, err := ParseConfig([]string{"--job-lease", "1ms"}, func(string) string { return "" }); err == nil {
		t.Error("--job-lease 1ms accepted (renewed every 333µs)")
	}
	for _, bad := range []string{" ", " a", strings.Repeat("h", 256)} {
		if _, err := ParseConfig([]string{"--host-id", bad}, func(string) string { return "" }); err == nil {
			t.Errorf("--host-id %q accepted", bad)
		}
	}
}

// getList GETs a JSON array.
func getList(t *testing.T, s *Server, path string) []map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var out []map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return out
}
