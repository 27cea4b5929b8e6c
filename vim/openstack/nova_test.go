package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// fakeNova is a small fake of the Nova v2.1 API: flavours, servers and
// server actions, with the status transitions Nova goes through (a
// transitional status seen once by GET, then the final one).
type fakeNova struct {
	mu       sync.Mutex
	next     int
	flavors  map[string]map[string]any
	servers  map[string]*fakeServer
	requests []string
	headers  http.Header // of the last request
}

type fakeServer struct {
	id, name, image, flavor string
	status                  string // what GET shows now
	then                    string // the status after the next GET; "" if none
	fault                   string
	metadata                map[string]string
	bdms                    []map[string]any // block_device_mapping_v2 as sent
}

func newFakeNova(t *testing.T) (*fakeNova, *httptest.Server) {
	f := &fakeNova{flavors: map[string]map[string]any{}, servers: map[string]*fakeServer{}}
	srv := httptest.NewServer(http.StripPrefix("/v2.1", f))
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func novaError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, map[string]any{kind: map[string]any{"code": code, "message": msg}})
}

func (f *fakeNova) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.headers = r.Header.Clone()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var body map[string]json.RawMessage
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				novaError(w, 400, "badRequest", "malformed JSON")
				return
			}
		}
	}
	// Error injection by id.
	if len(parts) >= 2 {
		switch parts[1] {
		case "boom":
			novaError(w, 500, "computeFault", "internal error")
			return
		case "unauthorized":
			w.WriteHeader(401)
			return
		case "forbidden":
			novaError(w, 403, "forbidden", "policy does not allow")
			return
		case "busy":
			novaError(w, 503, "serviceUnavailable", "try later")
			return
		}
	}
	switch {
	case parts[0] == "flavors" && len(parts) == 1 && r.Method == "POST":
		var fl map[string]any
		_ = json.Unmarshal(body["flavor"], &fl)
		name, _ := fl["name"].(string)
		for _, x := range f.flavors {
			if x["name"] == name {
				novaError(w, 409, "conflictingRequest", "Flavor with name "+name+" already exists.")
				return
			}
		}
		f.next++
		fl["id"] = fmt.Sprintf("flavor-%d", f.next)
		f.flavors[fl["id"].(string)] = fl
		writeJSON(w, 200, map[string]any{"flavor": fl})
	case parts[0] == "flavors" && len(parts) == 2:
		fl, ok := f.flavors[parts[1]]
		if !ok {
			novaError(w, 404, "itemNotFound", "Flavor "+parts[1]+" could not be found.")
			return
		}
		switch r.Method {
		case "GET":
			writeJSON(w, 200, map[string]any{"flavor": fl})
		case "DELETE":
			delete(f.flavors, parts[1])
			w.WriteHeader(202)
		default:
			w.WriteHeader(405)
		}
	case parts[0] == "servers" && len(parts) == 1 && r.Method == "POST":
		var s struct {
			Name      string            `json:"name"`
			ImageRef  string            `json:"imageRef"`
			FlavorRef string            `json:"flavorRef"`
			Metadata  map[string]string `json:"metadata"`
			BDMs      []map[string]any  `json:"block_device_mapping_v2"`
		}
		_ = json.Unmarshal(body["server"], &s)
		if _, ok := f.flavors[s.FlavorRef]; !ok {
			novaError(w, 400, "badRequest", "Flavor "+s.FlavorRef+" could not be found.")
			return
		}
		f.next++
		fs := &fakeServer{id: fmt.Sprintf("server-%d", f.next), name: s.Name, image: s.ImageRef, flavor: s.FlavorRef,
			status: "BUILD", then: "ACTIVE", metadata: s.Metadata, bdms: s.BDMs}
		if s.ImageRef == "broken-image" {
			fs.then, fs.fault = "ERROR", "No valid host was found."
		}
		f.servers[fs.id] = fs
		writeJSON(w, 202, map[string]any{"server": map[string]any{"id": fs.id, "adminPass": "secret", "links": []any{}}})
	case parts[0] == "servers" && len(parts) == 2:
		s, ok := f.servers[parts[1]]
		if !ok {
			novaError(w, 404, "itemNotFound", "Instance "+parts[1]+" could not be found.")
			return
		}
		switch r.Method {
		case "GET":
			out := map[string]any{
				"id": s.id, "name": s.name, "status": s.status,
				"image":    map[string]any{"id": s.image},
				"flavor":   map[string]any{"id": s.flavor},
				"metadata": s.metadata,
				"created":  "2026-01-02T03:04:05Z", "updated": "2026-01-02T03:04:05Z",
			}
			if s.fault != "" && s.status == "ERROR" {
				out["fault"] = map[string]any{"code": 500, "message": s.fault, "created": "2026-01-02T03:04:06Z"}
			}
			writeJSON(w, 200, map[string]any{"server": out})
			if s.then != "" {
				s.status, s.then = s.then, ""
			}
			if s.status == "DELETED" {
				delete(f.servers, s.id)
			}
		case "DELETE":
			s.status, s.then = "ACTIVE", "DELETED"
			w.WriteHeader(204)
		default:
			w.WriteHeader(405)
		}
	case parts[0] == "servers" && len(parts) == 3 && parts[2] == "action" && r.Method == "POST":
		s, ok := f.servers[parts[1]]
		if !ok {
			novaError(w, 404, "itemNotFound", "Instance "+parts[1]+" could not be found.")
			return
		}
		if len(body) != 1 {
			novaError(w, 400, "badRequest", "one action expected")
			return
		}
		var action string
		for k := range body {
			action = k
		}
		// from: the status the action needs; now: the status during the
		// task; then: the status after it.
		rules := map[string][3]string{
			"os-start": {"SHUTOFF", "SHUTOFF", "ACTIVE"},
			"os-stop":  {"ACTIVE", "ACTIVE", "SHUTOFF"},
			"pause":    {"ACTIVE", "ACTIVE", "PAUSED"},
			"unpause":  {"PAUSED", "PAUSED", "ACTIVE"},
			"suspend":  {"ACTIVE", "ACTIVE", "SUSPENDED"},
			"resume":   {"SUSPENDED", "SUSPENDED", "ACTIVE"},
			"reboot":   {"ACTIVE", "REBOOT", "ACTIVE"},
		}
		rule, ok := rules[action]
		if !ok {
			novaError(w, 400, "badRequest", "unknown action "+action)
			return
		}
		if s.status != rule[0] || s.then != "" {
			novaError(w, 409, "conflictingRequest", fmt.Sprintf("Cannot '%s' instance %s while it is in vm_state %s", action, s.id, strings.ToLower(s.status)))
			return
		}
		s.status, s.then = rule[1], rule[2]
		w.WriteHeader(202)
	default:
		novaError(w, 404, "itemNotFound", "no such resource")
	}
}

func novaDriver(t *testing.T, endpoint string) vim.Driver {
	t.Helper()
	d, err := vim.Open(context.Background(), "openstack", vim.Config{
		Name: "nova-test",
		Options: map[string]string{
			"auth":                "none",
			"compute_endpoint":    endpoint,
			"header.X-Auth-Token": "admin:admin",
			"poll_interval":       "5ms",
			"compute_timeout":     "5s",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNovaFlavours(t *testing.T) {
	f, srv := newFakeNova(t)
	d := novaDriver(t, srv.URL+"/v2.1")
	ctx := context.Background()
	if err := vim.Require(ctx, d, vim.CapFlavors, vim.CapCompute, vim.CapReboot); err != nil {
		t.Fatal(err)
	}
	if err := vim.Require(ctx, d, vim.CapImages); !errors.Is(err, vim.ErrNotSupported) {
		t.Errorf("images without image_endpoint: %v, want ErrNotSupported", err)
	}

	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "small", VCPUs: 2, MemoryBytes: 512<<20 + 1, DiskBytes: 3 << 30})
	if err != nil {
		t.Fatal(err)
	}
	// Memory rounds up to whole MiB, disk to whole GiB.
	want := vim.Flavour{ID: fl.ID, Name: "small", VCPUs: 2, MemoryBytes: 513 << 20, DiskBytes: 3 << 30}
	if *fl != want {
		t.Errorf("CreateFlavour = %+v, want %+v", *fl, want)
	}
	if got := f.headers.Get("X-Auth-Token"); got != "admin:admin" {
		t.Errorf("extra header X-Auth-Token = %q", got)
	}
	got, err := d.QueryFlavour(ctx, fl.ID)
	if err != nil || *got != want {
		t.Errorf("QueryFlavour = %+v, %v", got, err)
	}
	if _, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "small", VCPUs: 1, MemoryBytes: 1 << 20}); !errors.Is(err, vim.ErrConflict) {
		t.Errorf("duplicate flavour: %v, want ErrConflict", err)
	}
	if _, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "", VCPUs: 1, MemoryBytes: 1 << 20}); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("flavour without a name: %v, want ErrInvalid", err)
	}
	for i := 0; i < 2; i++ {
		if err := d.DeleteFlavour(ctx, fl.ID); err != nil {
			t.Fatalf("DeleteFlavour #%d: %v", i+1, err)
		}
	}
	if _, err := d.QueryFlavour(ctx, fl.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("QueryFlavour after delete: %v, want ErrNotFound", err)
	}
}

func TestNovaServers(t *testing.T) {
	f, srv := newFakeNova(t)
	d := novaDriver(t, srv.URL+"/v2.1/")
	ctx := context.Background()
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: "img-1", FlavourID: fl.ID, Labels: map[string]string{"vnfInstanceId": "i-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != vim.StateRunning || c.Name != "vdu1" || c.ImageID != "img-1" || c.FlavourID != fl.ID || c.Labels["vnfInstanceId"] != "i-1" {
		t.Errorf("AllocateCompute = %+v", c)
	}
	if c.CreatedAt != time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) {
		t.Errorf("CreatedAt = %v", c.CreatedAt)
	}
	id := c.ID

	steps := []struct{ action, state string }{
		{vim.ActionPause, vim.StatePaused},
		{vim.ActionResume, vim.StateRunning},
		{vim.ActionReboot, vim.StateRunning},
		{vim.ActionStop, vim.StateStopped},
		{vim.ActionStart, vim.StateRunning},
	}
	for _, s := range steps {
		c, err := d.OperateCompute(ctx, id, s.action)
		if err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		if c.State != s.state {
			t.Errorf("after %s: state %s, want %s", s.action, c.State, s.state)
		}
		q, err := d.QueryCompute(ctx, id)
		if err != nil || q.State != s.state {
			t.Errorf("QueryCompute after %s = %+v, %v", s.action, q, err)
		}
	}
	// Actions the state does not allow: Nova's 409, or refused before.
	if _, err := d.OperateCompute(ctx, id, vim.ActionStart); !errors.Is(err, vim.ErrWrongState) || !errors.Is(err, vim.ErrConflict) {
		t.Errorf("start while running: %v, want ErrWrongState", err)
	}
	if _, err := d.OperateCompute(ctx, id, vim.ActionResume); !errors.Is(err, vim.ErrWrongState) {
		t.Errorf("resume while running: %v, want ErrWrongState", err)
	}
	if _, err := d.OperateCompute(ctx, id, "explode"); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("unknown action: %v, want ErrInvalid", err)
	}
	// The reboot went through Nova's REBOOT status.
	f.mu.Lock()
	reqs := strings.Join(f.requests, "\n")
	f.mu.Unlock()
	for _, want := range []string{"POST /servers/" + id + "/action", "POST /servers"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no request %q in:\n%s", want, reqs)
		}
	}

	for i := 0; i < 2; i++ {
		if err := d.TerminateCompute(ctx, id); err != nil {
			t.Fatalf("TerminateCompute #%d: %v", i+1, err)
		}
	}
	if _, err := d.QueryCompute(ctx, id); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("QueryCompute after terminate: %v, want ErrNotFound", err)
	}
	if _, err := d.OperateCompute(ctx, id, vim.ActionStart); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("start after terminate: %v, want ErrNotFound", err)
	}

	// A server Nova fails to build ends in ERROR with the fault.
	c, err = d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu2", ImageID: "broken-image", FlavourID: fl.ID})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != vim.StateError || c.StateReason != vim.ReasonVIMFault || !strings.Contains(c.Detail, "No valid host") {
		t.Errorf("failed build = %+v", c)
	}
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu3", ImageID: "img-1", FlavourID: "nope"}); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("unknown flavour: %v, want ErrInvalid", err)
	}
}

func TestNovaStatusMapping(t *testing.T) {
	for status, want := range map[string]string{
		"ACTIVE": vim.StateRunning, "BUILD": vim.StateBuilding, "REBOOT": vim.StateBuilding, "HARD_REBOOT": vim.StateBuilding,
		"PAUSED": vim.StatePaused, "SHUTOFF": vim.StateStopped, "SUSPENDED": vim.StateStopped,
		"SHELVED_OFFLOADED": vim.StateStopped, "ERROR": vim.StateError, "MIGRATING": vim.StateBuilding,
	} {
		if got, _ := computeState(status); got != want {
			t.Errorf("computeState(%s) = %s, want %s", status, got, want)
		}
	}
}

func TestNovaErrorMapping(t *testing.T) {
	_, srv := newFakeNova(t)
	d := novaDriver(t, srv.URL+"/v2.1")
	ctx := context.Background()
	for id, want := range map[string]error{
		"missing":      vim.ErrNotFound,
		"boom":         vim.ErrUnavailable,
		"busy":         vim.ErrUnavailable,
		"unauthorized": vim.ErrAuth,
		"forbidden":    vim.ErrAuth,
	} {
		if _, err := d.QueryCompute(ctx, id); !errors.Is(err, want) {
			t.Errorf("QueryCompute(%s): %v, want %v", id, err, want)
		}
		if _, err := d.QueryFlavour(ctx, id); !errors.Is(err, want) {
			t.Errorf("QueryFlavour(%s): %v, want %v", id, err, want)
		}
	}
	// Terminate and DeleteFlavour of what is not there succeed; other
	// failures do not.
	if err := d.TerminateCompute(ctx, "missing"); err != nil {
		t.Errorf("TerminateCompute(missing): %v", err)
	}
	if err := d.DeleteFlavour(ctx, "missing"); err != nil {
		t.Errorf("DeleteFlavour(missing): %v", err)
	}
	if err := d.TerminateCompute(ctx, "forbidden"); !errors.Is(err, vim.ErrAuth) {
		t.Errorf("TerminateCompute(forbidden): %v, want ErrAuth", err)
	}

	// Nothing listening: unavailable.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	down := novaDriver(t, "http://"+addr+"/v2.1")
	if _, err := down.QueryCompute(ctx, "x"); !errors.Is(err, vim.ErrUnavailable) {
		t.Errorf("no server listening: %v, want ErrUnavailable", err)
	}
	// A cancelled context is reported as such.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.QueryCompute(cctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestOpenConfig(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]vim.Config{
		"no endpoints":    {Options: map[string]string{"auth": "none"}},
		"bad endpoint":    {Options: map[string]string{"auth": "none", "image_endpoint": "ftp://x"}},
		"bad auth":        {Options: map[string]string{"auth": "kerberos"}},
		"no keystone url": {Credentials: map[string]string{"username": "u", "password": "p"}},
		"no credentials":  {Endpoint: "http://127.0.0.1:1/v3"},
		"bad timeout":     {Options: map[string]string{"auth": "none", "image_endpoint": "http://x", "image_timeout": "soon"}},
		"bad hash":        {Options: map[string]string{"auth": "none", "image_endpoint": "http://x", "hash_algorithms": "crc32"}},
		"extendable hash": {Options: map[string]string{"auth": "none", "image_endpoint": "http://x", "hash_algorithms": "shake_128"}},
	} {
		if _, err := vim.Open(ctx, "openstack", cfg); !errors.Is(err, vim.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestKeystoneAuth checks that a Keystone refusing the credentials gives
// ErrAuth, and that the password appears in no error.
func TestKeystoneAuth(t *testing.T) {
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})
	}))
	t.Cleanup(ks.Close)
	_, err := vim.Open(context.Background(), "openstack", vim.Config{
		Endpoint:    ks.URL + "/v3",
		Credentials: map[string]string{"username": "admin", "password": "s3cr3t-pw", "project_name": "p", "domain_name": "Default"},
	})
	if !errors.Is(err, vim.ErrAuth) {
		t.Fatalf("Open with refused credentials: %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("the password is in the error: %v", err)
	}
}

// TestNovaServerWithVolumes: the storage is asked of Nova as Cinder
// volumes in block_device_mapping_v2, deleted with the server; without
// storage no mapping is sent.
func TestNovaServerWithVolumes(t *testing.T) {
	f, srv := newFakeNova(t)
	d := novaDriver(t, srv.URL+"/v2.1/")
	ctx := context.Background()
	if err := vim.Require(ctx, d, vim.CapStorage, vim.CapStorageImage); err != nil {
		t.Fatal(err)
	}
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: "img-1", FlavourID: fl.ID, Storage: []vim.StorageSpec{
		{Name: "data", SizeBytes: 30_000_000_000}, {Name: "seeded", SizeBytes: 1 << 30, ImageID: "img-2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	got, _ := json.Marshal(f.servers[c.ID].bdms)
	f.mu.Unlock()
	want := `[{"boot_index":0,"delete_on_termination":true,"destination_type":"local","source_type":"image","uuid":"img-1"},` +
		`{"boot_index":-1,"delete_on_termination":true,"destination_type":"volume","source_type":"blank","volume_size":28},` +
		`{"boot_index":-1,"delete_on_termination":true,"destination_type":"volume","source_type":"image","uuid":"img-2","volume_size":1}]`
	if string(got) != want {
		t.Fatalf("block_device_mapping_v2:\n%s\nwant\n%s", got, want)
	}
	c2, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu2", ImageID: "img-1", FlavourID: fl.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	none := f.servers[c2.ID].bdms
	f.mu.Unlock()
	if none != nil {
		t.Fatalf("a server without storage was sent %v", none)
	}
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu3", ImageID: "img-1", FlavourID: fl.ID, Storage: []vim.StorageSpec{{Name: "empty"}}}); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("a storage without size: %v", err)
	}
}
