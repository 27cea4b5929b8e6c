package main_test

// The VIM resources (/vim/v1) against the real server and the local VIM.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiref "github.com/vnfpkgm/vnfpkgm/api-ref"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/local"
)

const vims = "/vim/v1/vims"

// sampleVNF returns the sample package and its kernel, skipping (failing
// under CI) when they or QEMU are missing.
func sampleVNF(t *testing.T, needQEMU bool) (zip, kernel string) {
	t.Helper()
	testenv.Command(t, "qemu-img", "qemu-utils")
	if needQEMU {
		testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	}
	dir := filepath.Join(testenv.RepoRoot(), "samples", "build")
	zip, kernel = filepath.Join(dir, "sample-vnf.zip"), filepath.Join(dir, "vmlinuz")
	for _, p := range []string{zip, kernel} {
		if _, err := os.Stat(p); err != nil {
			testenv.Missing(t, p, "run make samples")
		}
	}
	return zip, kernel
}

func jsonBody(t *testing.T, v any) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func (s *server) post(t *testing.T, path string, v any) response {
	t.Helper()
	return s.do("POST", path, jsonBody(t, v), "Content-Type", "application/json")
}

// registerLocal registers a local VIM that boots images with kernel.
func (s *server) registerLocal(t *testing.T, kernel string, extra map[string]any) map[string]any {
	t.Helper()
	req := map[string]any{"type": "local", "name": "lab", "options": map[string]any{"kernel": kernel, "powerdown_timeout": "5s"}}
	for k, v := range extra {
		req[k] = v
	}
	r := s.post(t, vims, req)
	expectStatus(t, r, 201)
	var v map[string]any
	r.json(t, &v)
	if id, _ := v["id"].(string); id == "" || r.header.Get("Location") != s.base+vims+"/"+id {
		t.Fatalf("register: %v, Location %q", v, r.header.Get("Location"))
	}
	return v
}

func (s *server) usageState(t *testing.T, pkgID string) string {
	t.Helper()
	var info map[string]any
	r := s.do("GET", pkgs+"/"+pkgID, nil)
	expectStatus(t, r, 200)
	r.json(t, &info)
	st, _ := info["usageState"].(string)
	return st
}

// qemuProcesses lists the QEMU processes whose command line names dir.
func qemuProcesses(dir string) []string {
	var out []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("qemu-system")) && bytes.Contains(b, []byte(dir)) {
			out = append(out, f)
		}
	}
	return out
}

// TestVIMComputeLifecycle is the Done-when flow: onboard the sample,
// register the local VIM, boot the VDU, see its marker, pause and resume,
// IN_USE until it is terminated, then delete the package.
func TestVIMComputeLifecycle(t *testing.T) {
	zip, kernel := sampleVNF(t, true)
	s := startServer(t, "")
	t.Cleanup(func() {
		if left := qemuProcesses(s.dir); len(left) > 0 {
			t.Errorf("QEMU processes left: %v", left)
		}
	})
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	v := s.registerLocal(t, kernel, nil)
	vimID := v["id"].(string)
	if v["default"] != true {
		t.Fatalf("the first VIM is the default: %v", v)
	}
	base := vims + "/" + vimID
	// GET of one VIM asks its driver what it can do (the console shows it).
	var shown map[string]any
	s.do("GET", base, nil).json(t, &shown)
	caps := fmt.Sprint(shown["info"].(map[string]any)["capabilities"])
	for _, c := range []string{"images", "compute", "console"} {
		if !strings.Contains(caps, c) {
			t.Errorf("local VIM capabilities %s lack %s", caps, c)
		}
	}

	r := s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "sample"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	compID, _ := comp["id"].(string)
	if compID == "" || r.header.Get("Location") != s.base+base+"/compute/"+compID || comp["vduId"] != "VDU1" || comp["flavourId"] != "simple" {
		t.Fatalf("allocate: %v (Location %q)", comp, r.header.Get("Location"))
	}
	// Its QEMU runs on this host: the compute belongs to it (--host-id
	// defaults to the host name).
	if host, _ := os.Hostname(); comp["ownerHost"] != host {
		t.Errorf("allocate: ownerHost %v, want this host %q", comp["ownerHost"], host)
	}
	compPath := base + "/compute/" + compID
	terminated := false
	t.Cleanup(func() {
		if !terminated {
			s.do("DELETE", compPath, nil)
		}
	})

	// The image was registered on the way.
	r = s.do("GET", base+"/software_images", nil)
	expectStatus(t, r, 200)
	var images []map[string]any
	r.json(t, &images)
	if len(images) != 1 || images[0]["vnfPkgId"] != pkgID || images[0]["softwareImageId"] != "VDU1" {
		t.Fatalf("software images after allocation: %v", images)
	}

	if st := s.usageState(t, pkgID); st != "IN_USE" {
		t.Fatalf("usageState with compute: %s", st)
	}

	// The guest's marker on the serial console.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = s.do("GET", compPath+"/console", nil)
		expectStatus(t, r, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("console Content-Type %q", r.header.Get("Content-Type"))
		}
		if bytes.Contains(r.body, []byte("VNFPKGM-SAMPLE-BOOTED")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no marker on the console after 60 s:\n%s", r.body)
		}
		time.Sleep(500 * time.Millisecond)
	}

	state := func() string {
		t.Helper()
		r := s.do("GET", compPath, nil)
		expectStatus(t, r, 200)
		var c map[string]any
		r.json(t, &c)
		st, _ := c["state"].(string)
		return st
	}
	if st := state(); st != "RUNNING" {
		t.Fatalf("state after boot: %s", st)
	}
	// The list has each compute's state too, as the document says.
	r = s.do("GET", base+"/compute", nil)
	expectStatus(t, r, 200)
	conforms(t, "GET", "/vim/v1/vims/{vimId}/compute", r)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 1 || list[0]["id"] != compID || list[0]["state"] != "RUNNING" {
		t.Fatalf("compute list: %s, want %s RUNNING", r.body, compID)
	}
	conforms(t, "GET", "/vim/v1/vims/{vimId}/compute/{computeId}", s.do("GET", compPath, nil))
	operate := func(action string, want int) map[string]any {
		t.Helper()
		r := s.post(t, compPath+"/operate", map[string]any{"action": action})
		expectStatus(t, r, want)
		var c map[string]any
		r.json(t, &c)
		return c
	}
	if c := operate("pause", 200); c["state"] != "PAUSED" {
		t.Fatalf("after pause: %v", c)
	}
	if st := state(); st != "PAUSED" {
		t.Fatalf("state after pause: %s", st)
	}
	operate("levitate", 400) // no such action
	if c := operate("resume", 200); c["state"] != "RUNNING" {
		t.Fatalf("after resume: %v", c)
	}

	// IN_USE: the package cannot go, even disabled; nor can the VIM.
	expectStatus(t, s.do("PATCH", pkgs+"/"+pkgID, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	expectStatus(t, s.do("DELETE", pkgs+"/"+pkgID, nil), 409)
	// The VIM's 409 names the compute that holds it.
	r = s.do("DELETE", base, nil)
	expectStatus(t, r, 409)
	var problem struct {
		Detail     string   `json:"detail"`
		ComputeIDs []string `json:"computeIds"`
	}
	r.json(t, &problem)
	conforms(t, "DELETE", "/vim/v1/vims/{vimId}", r)
	if len(problem.ComputeIDs) != 1 || problem.ComputeIDs[0] != compID || !strings.Contains(problem.Detail, compID) || strings.Contains(problem.Detail, "storage:") {
		t.Fatalf("deleting a VIM with compute: 409 %s, want computeIds [%s] and a detail naming it", r.body, compID)
	}

	expectStatus(t, s.do("DELETE", compPath, nil), 204)
	terminated = true
	expectStatus(t, s.do("GET", compPath, nil), 404)
	expectStatus(t, s.do("DELETE", compPath, nil), 404)
	if st := s.usageState(t, pkgID); st != "NOT_IN_USE" {
		t.Fatalf("usageState after terminate: %s", st)
	}
	if left := qemuProcesses(s.dir); len(left) > 0 {
		t.Fatalf("QEMU still running after terminate: %v", left)
	}
	expectStatus(t, s.do("DELETE", pkgs+"/"+pkgID, nil), 204)
	expectStatus(t, s.do("DELETE", base, nil), 204)
	expectStatus(t, s.do("GET", base, nil), 404)
}

// TestVIMErrors covers registration and image errors, the secrecy of
// credentials, idempotent image registration and auto-registration.
func TestVIMErrors(t *testing.T) {
	zip, kernel := sampleVNF(t, false)
	s := startServer(t, "")

	// Unknown type: 400 naming the known ones.
	r := s.post(t, vims, map[string]any{"type": "vmware", "name": "x"})
	expectStatus(t, r, 400)
	if !strings.Contains(string(r.body), "local") || !strings.Contains(string(r.body), "openstack") {
		t.Fatalf("unknown type does not name the known types: %s", r.body)
	}
	expectStatus(t, s.do("GET", vims+"/no-such-vim", nil), 404)

	// Credentials are never echoed, nor logged.
	const secret = "s3cr3t-Pa55w0rd"
	first := s.registerLocal(t, kernel, map[string]any{"credentials": map[string]any{"password": secret}})
	auto := s.registerLocal(t, kernel, map[string]any{"name": "auto", "autoRegisterImages": true, "default": true, "credentials": map[string]any{"token": secret}})
	autoID := auto["id"].(string)
	if auto["default"] != true || auto["autoRegisterImages"] != true {
		t.Fatalf("second VIM: %v", auto)
	}
	for _, path := range []string{vims, vims + "/" + first["id"].(string), vims + "/" + autoID} {
		r := s.do("GET", path, nil)
		expectStatus(t, r, 200)
		if bytes.Contains(r.body, []byte(secret)) || bytes.Contains(r.body, []byte("credentials")) {
			t.Fatalf("GET %s echoes the credentials: %s", path, r.body)
		}
	}
	r = s.do("GET", vims+"/"+first["id"].(string), nil)
	var v map[string]any
	r.json(t, &v)
	if v["default"] != false {
		t.Fatalf("the first VIM is no longer the default once another says default: %v", v)
	}

	// An unknown package: 404, for images and compute.
	vimID := first["id"].(string)
	expectStatus(t, s.post(t, vims+"/"+vimID+"/software_images", map[string]any{"vnfPkgId": "no-such-package", "softwareImageId": "VDU1"}), 404)
	expectStatus(t, s.post(t, vims+"/"+vimID+"/compute", map[string]any{"vnfPkgId": "no-such-package", "vduId": "VDU1"}), 404)
	expectStatus(t, s.post(t, vims+"/no-such-vim/software_images", map[string]any{"vnfPkgId": "x", "softwareImageId": "VDU1"}), 404)

	// A package not onboarded yet: 409.
	created := s.createPackage(t)
	expectStatus(t, s.post(t, vims+"/"+vimID+"/software_images", map[string]any{"vnfPkgId": created, "softwareImageId": "VDU1"}), 409)

	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v", info)
	}

	// Auto-registration: the auto VIM receives the image.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.do("GET", vims+"/"+autoID+"/software_images", nil)
		expectStatus(t, r, 200)
		var images []map[string]any
		r.json(t, &images)
		if len(images) == 1 && images[0]["vnfPkgId"] == pkgID && images[0]["softwareImageId"] == "VDU1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the auto-registering VIM did not receive the image: %v\n%s", images, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Unknown software image, VDU, flavour: 404.
	base := vims + "/" + vimID
	expectStatus(t, s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "nope"}), 404)
	expectStatus(t, s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "nope"}), 404)
	expectStatus(t, s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "flavourId": "nope"}), 404)

	// Idempotent registration: 201, then 200 with the same record.
	r = s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 201)
	var im1, im2 map[string]any
	r.json(t, &im1)
	r = s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 200)
	r.json(t, &im2)
	if im1["id"] == nil || im1["id"] != im2["id"] || im1["vimImageId"] != im2["vimImageId"] {
		t.Fatalf("second registration: %v, first %v", im2, im1)
	}
	r = s.do("GET", base+"/software_images", nil)
	var images []map[string]any
	r.json(t, &images)
	if len(images) != 1 {
		t.Fatalf("images after two registrations: %v", images)
	}
	imPath := base + "/software_images/" + im1["id"].(string)
	expectStatus(t, s.do("GET", imPath, nil), 200)
	expectStatus(t, s.do("DELETE", imPath, nil), 204)
	expectStatus(t, s.do("GET", imPath, nil), 404)

	// Operating an unknown compute: 404.
	expectStatus(t, s.post(t, base+"/compute/nope/operate", map[string]any{"action": "pause"}), 404)

	// The registered images never logged the credentials.
	s.stop()
	if bytes.Contains(s.log.Bytes(), []byte(secret)) {
		t.Fatalf("the log holds the credentials")
	}
}

// conforms fails the test unless the response is what api-ref/openapi.yaml
// documents for the operation.
func conforms(t *testing.T, method, pathTemplate string, r response) {
	t.Helper()
	if err := apiref.Validate(method, pathTemplate, r.status, r.header.Get("Content-Type"), r.body); err != nil {
		t.Errorf("%s %s: %d %s: %v", method, pathTemplate, r.status, r.body, err)
	}
}

// vimImages lists the software image records of a VIM.
func (s *server) vimImages(t *testing.T, vimID string) []map[string]any {
	t.Helper()
	r := s.do("GET", vims+"/"+vimID+"/software_images", nil)
	expectStatus(t, r, 200)
	conforms(t, "GET", "/vim/v1/vims/{vimId}/software_images", r)
	var images []map[string]any
	r.json(t, &images)
	return images
}

// deletePackage disables and deletes a package.
func (s *server) deletePackage(t *testing.T, pkgID string) {
	t.Helper()
	expectStatus(t, s.do("PATCH", pkgs+"/"+pkgID, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	expectStatus(t, s.do("DELETE", pkgs+"/"+pkgID, nil), 204)
}

// TestVIMImagesOfDeletedPackage: deleting a package removes its software
// images from the VIMs and their records; an image the VIM refuses to
// remove (here: compute the server does not know boots from it) keeps its
// record, marked orphaned, until a DELETE of the record succeeds.
func TestVIMImagesOfDeletedPackage(t *testing.T) {
	zip, kernel := sampleVNF(t, true)
	s := startServer(t, "")
	vimID := s.registerLocal(t, kernel, nil)["id"].(string)
	vimDir := filepath.Join(s.dir, "vims", vimID)
	register := func(pkgID string) map[string]any {
		t.Helper()
		r := s.post(t, vims+"/"+vimID+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
		expectStatus(t, r, 201)
		var im map[string]any
		r.json(t, &im)
		return im
	}
	imageFile := func(im map[string]any) string { return filepath.Join(vimDir, "images", im["vimImageId"].(string)) }

	// The plain case: the image leaves the VIM with its package.
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v", info)
	}
	im := register(pkgID)
	if _, err := os.Stat(imageFile(im)); err != nil {
		t.Fatalf("the local VIM does not hold the registered image: %v", err)
	}
	s.deletePackage(t, pkgID)
	if images := s.vimImages(t, vimID); len(images) != 0 {
		t.Fatalf("image records after the package was deleted: %v", images)
	}
	if _, err := os.Stat(imageFile(im)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the VIM still holds the image of the deleted package: %v", err)
	}

	// The VIM refuses: compute it runs outside the server boots from the image.
	pkgID, info = s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v", info)
	}
	im = register(pkgID)
	ctx := context.Background()
	d, err := local.Open(ctx, vim.Config{DataDir: vimDir})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "outsider", VCPUs: 1, MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "outsider", ImageID: im["vimImageId"].(string), FlavourID: fl.ID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.TerminateCompute(context.Background(), outsider.ID) })
	s.deletePackage(t, pkgID)
	images := s.vimImages(t, vimID)
	if len(images) != 1 || images[0]["id"] != im["id"] || images[0]["orphaned"] != true {
		t.Fatalf("image records after the VIM refused to remove the image: %v, want %s orphaned", images, im["id"])
	}
	if _, err := os.Stat(imageFile(im)); err != nil {
		t.Fatalf("the image the VIM could not remove: %v", err)
	}
	if err := d.TerminateCompute(ctx, outsider.ID); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.do("DELETE", vims+"/"+vimID+"/software_images/"+im["id"].(string), nil), 204)
	if images := s.vimImages(t, vimID); len(images) != 0 {
		t.Fatalf("image records after deleting the orphaned one: %v", images)
	}
	if _, err := os.Stat(imageFile(im)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the VIM still holds the orphaned image after its record was deleted: %v", err)
	}
}

// TestVIMRegisterChecksOptions: what can be checked is checked before a
// VIM is registered: an option the type does not have is 400, a value
// that cannot work 422, each naming the option; nothing is registered.
func TestVIMRegisterChecksOptions(t *testing.T) {
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	testenv.Command(t, "qemu-img", "qemu-utils")
	s := startServer(t, "")
	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(kernel, []byte("not booted here"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ      string
		endpoint string
		options  map[string]any
		status   int
		option   string
	}{
		{"local", "", map[string]any{"kernel": "/nonexistent/vmlinuz"}, 422, "kernel"},
		{"local", "", map[string]any{"kernel": "vmlinuz"}, 422, "kernel"},
		{"local", "", map[string]any{"kernel": t.TempDir()}, 422, "kernel"},
		{"local", "", map[string]any{"kernel": kernel, "initrd": "/nonexistent/initrd.img"}, 422, "initrd"},
		{"local", "", map[string]any{"kernle": kernel}, 400, "kernle"},
		{"local", "", map[string]any{"qemu": "/nonexistent/qemu-system-x86_64"}, 422, "qemu"},
		{"local", "", map[string]any{"qemu-img": "no-such-qemu-img"}, 422, "qemu-img"},
		{"local", "", map[string]any{"accel": "hvf"}, 422, "accel"},
		{"local", "", map[string]any{"machine": "no-such-machine"}, 422, "machine"},
		{"local", "", map[string]any{"boot_timeout": "soon"}, 422, "boot_timeout"},
		{"local", "", map[string]any{"reboot_loop_count": 1}, 422, "reboot_loop_count"},
		{"openstack", "keystone:5000/v3", nil, 422, "endpoint"},
		{"openstack", "", map[string]any{"auth": "none", "image_endpoint": "ftp://glance/"}, 422, "image_endpoint"},
		{"openstack", "", map[string]any{"auth": "none", "image_endpont": "http://glance:9292"}, 400, "image_endpont"},
		{"openstack", "", map[string]any{"auth": "none", "image_endpoint": "http://glance:9292", "header.X Roles": "admin"}, 422, "header.X Roles"},
		{"openstack", "", map[string]any{"auth": "none", "image_endpoint": "http://glance:9292", "image_timeout": "-1s"}, 422, "image_timeout"},
		{"openstack", "", map[string]any{"auth": "sso"}, 422, "auth"},
	} {
		req := map[string]any{"type": tc.typ, "name": "bad", "options": tc.options}
		if tc.endpoint != "" {
			req["endpoint"] = tc.endpoint
		}
		r := s.post(t, vims, req)
		conforms(t, "POST", "/vim/v1/vims", r)
		var problem struct {
			Detail string `json:"detail"`
			Option string `json:"option"`
		}
		r.json(t, &problem)
		if r.status != tc.status || problem.Option != tc.option || !strings.Contains(problem.Detail, tc.option) {
			t.Errorf("%s %v: %d %s, want %d naming option %q", tc.typ, tc.options, r.status, r.body, tc.status, tc.option)
		}
	}
	r := s.do("GET", vims, nil)
	expectStatus(t, r, 200)
	if string(bytes.TrimSpace(r.body)) != "[]" {
		t.Fatalf("VIMs registered despite their options: %s", r.body)
	}
	// The documented options are accepted: a local VIM with every one, an
	// openstack VIM without Keystone.
	s.registerLocal(t, kernel, map[string]any{"options": map[string]any{
		"kernel": kernel, "initrd": kernel, "append": "console=ttyS0", "qemu": "qemu-system-x86_64", "qemu-img": "qemu-img",
		"accel": "tcg", "machine": "q35", "powerdown_timeout": "5s", "quit_timeout": "2s",
		"boot_timeout": "0", "reboot_loop_count": "4", "reboot_loop_window": "2m",
	}})
	r = s.post(t, vims, map[string]any{"type": "openstack", "name": "glance", "options": map[string]any{
		"auth": "none", "image_endpoint": "http://127.0.0.1:9292", "header.X-Roles": "admin", "image_timeout": "1m",
		"compute_endpoint": "http://127.0.0.1:8774/v2.1", "compute_timeout": "1m", "poll_interval": "2s", "hash_algorithms": "sha512,md5",
	}})
	expectStatus(t, r, 201)
	conforms(t, "POST", "/vim/v1/vims", r)
}

// TestVIMComputeGuestPanic: a guest whose kernel panics is ERROR with
// stateReason GUEST_PANICKED in a read and in the list, not RUNNING.
func TestVIMComputeGuestPanic(t *testing.T) {
	zip, kernel := sampleVNF(t, true)
	s := startServer(t, "")
	t.Cleanup(func() {
		if left := qemuProcesses(s.dir); len(left) > 0 {
			t.Errorf("QEMU processes left: %v", left)
		}
	})
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v", info)
	}
	vimID := s.registerLocal(t, kernel, map[string]any{"options": map[string]any{
		"kernel": kernel, "append": "console=ttyS0 root=/dev/nvme0n1 rw panic=0 init=/nonexistent", "powerdown_timeout": "1s",
	}})["id"].(string)
	base := vims + "/" + vimID
	r := s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	compPath := base + "/compute/" + comp["id"].(string)
	t.Cleanup(func() { s.do("DELETE", compPath, nil) })
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r = s.do("GET", compPath, nil)
		expectStatus(t, r, 200)
		r.json(t, &comp)
		if comp["state"] == "ERROR" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the panicked guest is still %v", comp)
		}
		time.Sleep(500 * time.Millisecond)
	}
	conforms(t, "GET", "/vim/v1/vims/{vimId}/compute/{computeId}", r)
	if comp["stateReason"] != "GUEST_PANICKED" || !strings.Contains(comp["detail"].(string), "Kernel panic") {
		t.Fatalf("panicked guest: %v", comp)
	}
	r = s.do("GET", base+"/compute", nil)
	conforms(t, "GET", "/vim/v1/vims/{vimId}/compute", r)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 1 || list[0]["state"] != "ERROR" || list[0]["stateReason"] != "GUEST_PANICKED" {
		t.Fatalf("compute list of a panicked guest: %s", r.body)
	}
	expectStatus(t, s.do("DELETE", compPath, nil), 204)
}
