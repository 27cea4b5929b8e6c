package cloudhypervisor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor"
	"github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor/cloudhypervisortest"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/standin"
)

// registry serves one containerDisk image, repository "vnfpkg/x/vdu1";
// the catalogue's own endpoint is tested with the server (cmd/vnfpkgmd).
func registry(t *testing.T, disk []byte) *vim.OCIReference {
	reg := standin.NewRegistry()
	t.Cleanup(reg.Close)
	ref := reg.Add("vnfpkg/x/vdu1", "1.0", map[string][]byte{"disk/a.qcow2": disk})
	_, digest, _ := strings.Cut(ref, "@")
	return &vim.OCIReference{Registry: "http://" + reg.Host, Repository: "vnfpkg/x/vdu1", Tag: "1.0", Digest: digest}
}

// fixed is vim.ImageSpec.OCI naming ref.
func fixed(ref *vim.OCIReference) func(context.Context) (*vim.OCIReference, error) {
	return func(context.Context) (*vim.OCIReference, error) { return ref, nil }
}

func open(t *testing.T, dp *cloudhypervisortest.Server, opts map[string]string) *cloudhypervisor.Driver {
	t.Helper()
	cfg := vim.Config{Endpoint: dp.URL, Options: opts, Credentials: map[string]string{"token": "s3cret-token"}}
	if err := vim.CheckConfig(context.Background(), cloudhypervisor.Type, cfg); err != nil {
		t.Fatal(err)
	}
	d, err := cloudhypervisor.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func standIn(t *testing.T) *cloudhypervisortest.Server {
	dp := cloudhypervisortest.New()
	dp.Token = "s3cret-token"
	t.Cleanup(dp.Close)
	return dp
}

func TestImageLifecycle(t *testing.T) {
	dp := standIn(t)
	d := open(t, dp, nil)
	ctx := context.Background()
	disk := bytes.Repeat([]byte("qcow"), 1000)
	ref := registry(t, disk)
	img, err := d.AddImage(ctx, vim.ImageSpec{Name: "img", OCI: fixed(ref), Labels: map[string]string{"softwareImageId": "VDU1"}})
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != "active" || img.Version != ref.Digest || img.Size != int64(len(disk)) || img.Checksum.Algorithm != "sha256" {
		t.Fatalf("image %+v", img)
	}
	pulls := dp.Pulls()
	if len(pulls) != 1 || !strings.HasSuffix(pulls[0], "/vnfpkg/x/vdu1@"+ref.Digest) {
		t.Fatalf("pulled %v", pulls)
	}
	got, err := d.QueryImage(ctx, img.ID)
	if err != nil || got.ID != img.ID {
		t.Fatalf("query: %+v %v", got, err)
	}
	list, err := d.ListImages(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	for range 2 {
		if err := d.DeleteImage(ctx, img.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.QueryImage(ctx, img.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("query after delete: %v", err)
	}
}

// TestAddImageChecksum: a layer that arrives altered is refused by the
// dataplane's digest check, and that is a checksum error here.
func TestAddImageChecksum(t *testing.T) {
	dp := standIn(t)
	d := open(t, dp, nil)
	ref := registry(t, []byte("disk bytes"))
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/images", CorruptPull: true})
	_, err := d.AddImage(context.Background(), vim.ImageSpec{OCI: fixed(ref)})
	var ce *vim.ChecksumError
	if !errors.As(err, &ce) || ce.Expected != ref.Digest || !strings.Contains(err.Error(), "digest_mismatch") {
		t.Fatalf("corrupt pull: %v", err)
	}
	if len(dp.Images()) != 0 {
		t.Fatalf("images left: %v", dp.Images())
	}
	if _, err := d.AddImage(context.Background(), vim.ImageSpec{}); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("no OCI reference: %v", err)
	}
}

func TestComputeLifecycle(t *testing.T) {
	dp := standIn(t)
	d := open(t, dp, nil)
	ctx := context.Background()
	ref := registry(t, []byte("disk"))
	img, err := d.AddImage(ctx, vim.ImageSpec{OCI: fixed(ref)})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "f", VCPUs: 2, MemoryBytes: 300<<20 + 1})
	if err != nil || fl.MemoryBytes != 301<<20 {
		t.Fatalf("flavour %+v %v", fl, err)
	}
	if got, err := d.QueryFlavour(ctx, fl.ID); err != nil || got.VCPUs != 2 || got.MemoryBytes != fl.MemoryBytes {
		t.Fatalf("query flavour %+v %v", got, err)
	}
	if _, err := d.QueryFlavour(ctx, "vcpu0-mem1mb-disk0"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("bad flavour id: %v", err)
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID})
	if err != nil || c.State != vim.StateRunning {
		t.Fatalf("allocate %+v %v", c, err)
	}
	in := dp.Instances()[c.ID]
	if in.VCPUs != 2 || in.MemoryMB != 301 || in.MemoryMaxMB != 301 || in.Image != img.ID {
		t.Fatalf("instance in the dataplane: %+v", in)
	}
	steps := []struct {
		action, state string
		err           error
	}{
		{vim.ActionPause, vim.StatePaused, nil},
		{vim.ActionPause, "", vim.ErrWrongState},
		{vim.ActionResume, vim.StateRunning, nil},
		{vim.ActionResume, "", vim.ErrWrongState},
		{vim.ActionStop, "", vim.ErrNotSupported},
		{vim.ActionReboot, "", vim.ErrNotSupported},
	}
	for _, st := range steps {
		got, err := d.OperateCompute(ctx, c.ID, st.action)
		if st.err != nil {
			if !errors.Is(err, st.err) {
				t.Fatalf("%s: %v, want %v", st.action, err, st.err)
			}
			continue
		}
		if err != nil || got.State != st.state {
			t.Fatalf("%s: %+v %v", st.action, got, err)
		}
	}
	for native, want := range map[string]string{"Created": vim.StateBuilding, "Running": vim.StateRunning, "Paused": vim.StatePaused,
		"Shutdown": vim.StateStopped, "Stopped": vim.StateStopped, "Standby": vim.StatePaused, "Exploded": vim.StateError} {
		dp.SetState(c.ID, native)
		got, err := d.QueryCompute(ctx, c.ID)
		if err != nil || got.State != want {
			t.Fatalf("state %s: %+v %v, want %s", native, got, err, want)
		}
	}
	dp.SetState(c.ID, "Running")
	r, err := d.ConsoleLog(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := io.ReadAll(r)
	r.Close()
	if !strings.Contains(string(log), "booting "+c.ID) {
		t.Fatalf("console: %q", log)
	}
	for range 2 {
		if err := d.TerminateCompute(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(dp.Instances()) != 0 {
		t.Fatalf("instances left: %v", dp.Instances())
	}
}

// TestRemoteFailures: each failure of the dataplane is a typed error,
// idempotent calls alone are retried, the token is never shown.
func TestRemoteFailures(t *testing.T) {
	dp := standIn(t)
	d := open(t, dp, map[string]string{"timeout": "300ms", "retries": "2"})
	ctx := context.Background()

	dp.Inject(cloudhypervisortest.Fault{Method: "GET", Path: "/images/", Status: 503})
	if _, err := d.QueryImage(ctx, "x"); !errors.Is(err, vim.ErrUnavailable) || dp.Requests("GET", "/images/x") != 3 {
		t.Fatalf("503 on GET: %v after %d attempts, want 3", err, dp.Requests("GET", "/images/x"))
	}
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Status: 503})
	fl, _ := d.CreateFlavour(ctx, vim.FlavourSpec{VCPUs: 1, MemoryBytes: 1 << 20})
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "a", ImageID: "i", FlavourID: fl.ID}); !errors.Is(err, vim.ErrUnavailable) || dp.Requests("POST", "/instances") != 1 {
		t.Fatalf("503 on POST: %v after %d attempts, want 1", err, dp.Requests("POST", "/instances"))
	}
	dp.ClearFaults()
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "a", ImageID: "no-such-image", FlavourID: fl.ID}); !errors.Is(err, vim.ErrInvalid) || !strings.Contains(err.Error(), "image_not_found") {
		t.Fatalf("400: %v", err)
	}
	if _, err := d.QueryCompute(ctx, "nope"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("404: %v", err)
	}
	dp.Inject(cloudhypervisortest.Fault{Path: "/instances/slow", Delay: 5 * time.Second})
	if _, err := d.QueryCompute(ctx, "slow"); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Fatalf("timeout: %v", err)
	}
	dp.ClearFaults()

	bad, _ := cloudhypervisor.Open(ctx, vim.Config{Endpoint: dp.URL, Credentials: map[string]string{"token": "wrong-token"}})
	_, err := bad.ListImages(ctx)
	if !errors.Is(err, vim.ErrAuth) || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("401: %v", err)
	}
	dp.Close()
	if _, err := d.ListImages(ctx); !errors.Is(err, vim.ErrUnavailable) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("closed: %v", err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		cfg    vim.Config
		option string
	}{
		{vim.Config{Endpoint: "ftp://x"}, "endpoint"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"timeout": "soon"}}, "timeout"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"retries": "11"}}, "retries"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"registry": "http://host/v2"}}, "registry"},
		{vim.Config{Endpoint: "http://x", Options: map[string]string{"colour": "red"}}, "colour"},
		{vim.Config{Endpoint: "http://x", Credentials: map[string]string{"password": "p"}}, "credentials"},
	} {
		err := vim.CheckConfig(ctx, cloudhypervisor.Type, c.cfg)
		var oe *vim.OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%+v: %v, want an error on %s", c.cfg, err, c.option)
		}
	}
}

// TestStandInIsStrict: the stand-in refuses what the dataplane's schemas
// do not allow, and keeps attached volumes.
func TestStandInIsStrict(t *testing.T) {
	dp := cloudhypervisortest.New()
	defer dp.Close()
	post := func(path, body string) int {
		resp, err := http.Post(dp.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for body, want := range map[string]int{
		`{"id":"a","name":"a","image":"img","flavor":"big"}`: 400, // unknown field
		`{"name":"a","image":"img"}`:                         400, // id missing
		`{"id":"a","name":"a","image":"img","vcpus":"two"}`:  400, // wrong type
		`{"id":"a","name":"a","image":"no-such-image"}`:      400, // image_not_found
	} {
		if got := post("/instances", body); got != want {
			t.Errorf("POST /instances %s: %d, want %d", body, got, want)
		}
	}
	if got := post("/images", `{"id":"x"}`); got != 400 {
		t.Errorf("POST /images without name: %d", got)
	}
	if got := post("/volumes", `{"name":"v","size_gb":1,"id":"vol-1"}`); got != 201 {
		t.Fatalf("POST /volumes: %d", got)
	}
	if got := post("/volumes", `{"name":"v","size_gb":"1"}`); got != 400 {
		t.Errorf("POST /volumes with a string size: %d", got)
	}
	if got := post("/instances/none/standby", ``); got != 404 {
		t.Errorf("standby of an unknown instance: %d", got)
	}
}

// TestComputeWithVolumes: the blank volumes of the storage are made with
// POST /volumes, attached by the instance's creation and deleted with it;
// a failed allocation leaves no volume; a volume from an image is refused
// before anything is made.
func TestComputeWithVolumes(t *testing.T) {
	dp := standIn(t)
	d := open(t, dp, nil)
	ctx := context.Background()
	img, err := d.AddImage(ctx, vim.ImageSpec{OCI: fixed(registry(t, []byte("disk")))})
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "f", VCPUs: 1, MemoryBytes: 64 << 20})
	spec := vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Storage: []vim.StorageSpec{
		{Name: "data", SizeBytes: 1}, {Name: "logs store", SizeBytes: 3<<29 + 1},
	}}
	c, err := d.AllocateCompute(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	vols := dp.Volumes()
	want := map[string]struct {
		name  string
		gb    int
		mount string
	}{c.ID + "-vol0": {"data", 1, "/mnt/data"}, c.ID + "-vol1": {"logs store", 2, "/mnt/logs_store"}}
	if len(vols) != 2 {
		t.Fatalf("volumes: %+v", vols)
	}
	for id, w := range want {
		v, ok := vols[id]
		if !ok || v.Name != w.name || v.SizeGB != w.gb || v.AttachedTo == nil || *v.AttachedTo != c.ID || v.MountPath == nil || *v.MountPath != w.mount {
			t.Fatalf("volume %s: %+v, want %+v attached to %s", id, v, w, c.ID)
		}
	}
	if got, err := d.QueryCompute(ctx, c.ID); err != nil || len(got.Volumes) != 2 || got.Volumes[0] != c.ID+"-vol0" {
		t.Fatalf("query: %+v %v", got, err)
	}
	// The volumes stay while the instance has them.
	req, _ := http.NewRequest("DELETE", dp.URL+"/volumes/"+c.ID+"-vol0", nil)
	req.Header.Set("Authorization", "Bearer "+dp.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 409 {
		t.Fatalf("deleting an attached volume: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	// A volume that cannot be deleted: terminate says so, and a second
	// terminate finishes the work.
	dp.Inject(cloudhypervisortest.Fault{Method: "DELETE", Path: "/volumes/", Status: 500})
	if err := d.TerminateCompute(ctx, c.ID); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "its volumes not") {
		t.Fatalf("terminate with a volume refusing deletion: %v", err)
	}
	dp.ClearFaults()
	if err := d.TerminateCompute(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(dp.Volumes()) != 0 || len(dp.Instances()) != 0 {
		t.Fatalf("left after terminate: %v %v", dp.Volumes(), dp.Instances())
	}

	// The second volume's creation fails: the first is deleted.
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/volumes", Status: 507, Skip: 1})
	_, err = d.AllocateCompute(ctx, spec)
	if !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "virtual storage logs store") || !strings.Contains(err.Error(), "POST /volumes: 507") {
		t.Fatalf("second volume refused: %v", err)
	}
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/volumes", Status: 400})
	if _, err = d.AllocateCompute(ctx, spec); !errors.Is(err, vim.ErrInvalid) || !strings.Contains(err.Error(), "virtual storage data") {
		t.Fatalf("first volume refused: %v", err)
	}
	dp.ClearFaults()
	// The instance's creation fails: its volumes are deleted.
	bad := spec
	bad.ImageID = "no-such-image"
	if _, err = d.AllocateCompute(ctx, bad); !errors.Is(err, vim.ErrInvalid) || !strings.Contains(err.Error(), "image_not_found") {
		t.Fatalf("instance refused: %v", err)
	}
	if len(dp.Volumes()) != 0 || len(dp.Instances()) != 0 {
		t.Fatalf("failed allocations left: %v %v", dp.Volumes(), dp.Instances())
	}

	// A volume from an image: the dataplane's API cannot make one.
	before, beforeInstances := dp.Requests("POST", "/volumes"), dp.Requests("POST", "/instances")
	withImage := spec
	withImage.Storage = []vim.StorageSpec{{Name: "data", SizeBytes: 1 << 30}, {Name: "seeded", SizeBytes: 1 << 30, ImageID: img.ID}}
	if _, err := d.AllocateCompute(ctx, withImage); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "seeded") {
		t.Fatalf("volume from an image: %v", err)
	}
	if dp.Requests("POST", "/volumes") != before || dp.Requests("POST", "/instances") != beforeInstances {
		t.Fatalf("a refused allocation called the dataplane")
	}
}
