package main_test

// The cloudhypervisor VIM through the real server, against the dataplane
// stand-in, which pulls the images from the server's OCI endpoint.

import (
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor/cloudhypervisortest"
)

// problem checks a ProblemDetails answer: its status and that its detail
// says each of the words.
func problem(t *testing.T, what string, r response, status int, words ...string) {
	t.Helper()
	expectStatus(t, r, status)
	var pd map[string]any
	r.json(t, &pd)
	detail, _ := pd["detail"].(string)
	for _, w := range words {
		if !strings.Contains(detail, w) {
			t.Errorf("%s: detail %q does not say %q", what, detail, w)
		}
	}
}

func TestCloudHypervisorVIM(t *testing.T) {
	pkg := samplePackage(t)
	dp := cloudhypervisortest.New()
	dp.Token = "dataplane-secret-token"
	defer dp.Close()
	s := startServer(t, "")
	pkgID, info := s.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}

	r := s.post(t, vims, map[string]any{"type": "cloudhypervisor", "name": "ch", "endpoint": dp.URL,
		"credentials": map[string]any{"token": dp.Token}, "options": map[string]any{"timeout": "1s", "retries": "1"}})
	expectStatus(t, r, 201)
	if strings.Contains(string(r.body), dp.Token) {
		t.Fatalf("the token is echoed: %s", r.body)
	}
	var v map[string]any
	r.json(t, &v)
	base := vims + "/" + v["id"].(string)

	// The image: the dataplane pulls it from /v2 by manifest digest.
	r = s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 201)
	var img map[string]any
	r.json(t, &img)
	im := onboardedImages(t, info)[0]
	manifest := s.do("HEAD", "/v2/"+im.repo+"/manifests/"+im.tag, nil)
	expectStatus(t, manifest, 200)
	want := strings.TrimPrefix(s.base, "http://") + "/" + im.repo + "@" + manifest.header.Get("Docker-Content-Digest")
	if pulls := dp.Pulls(); len(pulls) != 1 || pulls[0] != want {
		t.Fatalf("the dataplane pulled %v, want %s", pulls, want)
	}
	disk := zipMember(t, pkg, im.imagePath)
	for _, dimg := range dp.Images() {
		if dimg.SizeBytes != int64(len(disk)) {
			t.Fatalf("the dataplane's image holds %d disk bytes, the package's image is %d", dimg.SizeBytes, len(disk))
		}
	}

	// Compute for VDU1: 1 vCPU and 128 MB from its virtual_compute; TOSCA's
	// MB is 10^6 bytes, memory_mb counts MiB: 123, rounded up.
	r = s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "vdu1"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	compPath := base + "/compute/" + comp["id"].(string)
	if comp["state"] != "RUNNING" {
		t.Fatalf("allocated: %v", comp)
	}
	instances := dp.Instances()
	if len(instances) != 1 {
		t.Fatalf("dataplane instances: %v", instances)
	}
	for _, in := range instances {
		if in.VCPUs != 1 || in.MemoryMB != (128_000_000+1<<20-1)/(1<<20) || in.MemoryMaxMB != in.MemoryMB || in.State != cloudhypervisortest.Running {
			t.Fatalf("instance %+v: want 1 vCPU, 123 MiB, Running", in)
		}
	}
	for _, step := range []struct {
		action string
		status int
		state  string
	}{{"pause", 200, "PAUSED"}, {"pause", 409, ""}, {"resume", 200, "RUNNING"}, {"stop", 409, ""}, {"reboot", 409, ""}} {
		r := s.post(t, compPath+"/operate", map[string]any{"action": step.action})
		expectStatus(t, r, step.status)
		var c map[string]any
		r.json(t, &c)
		if step.state != "" && c["state"] != step.state {
			t.Fatalf("%s: %v", step.action, c)
		}
	}
	r = s.do("GET", compPath+"/console", nil)
	expectStatus(t, r, 200)
	if !strings.Contains(string(r.body), "booting") {
		t.Fatalf("console: %s", r.body)
	}

	// The dataplane's failures, each a precise ProblemDetails.
	alloc := func() response {
		return s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"})
	}
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Status: 500})
	problem(t, "5xx", alloc(), 503, "POST /instances", "500")
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Status: 400})
	problem(t, "4xx", alloc(), 400, "POST /instances", "400")
	dp.ClearFaults()
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/instances", Delay: 3 * time.Second})
	problem(t, "timeout", alloc(), 503, "no answer within 1s")
	dp.ClearFaults()
	dp.Token = "another-token"
	problem(t, "401", s.do("GET", compPath, nil), 502, "401")
	dp.Token = "dataplane-secret-token"
	if n := len(dp.Instances()); n != 1 {
		t.Fatalf("failed allocations left instances: %d", n)
	}

	// A layer altered on its way: the dataplane's digest check refuses it.
	expectStatus(t, s.do("DELETE", base+"/software_images/"+img["id"].(string), nil), 409) // in use
	r = s.do("DELETE", compPath, nil)
	expectStatus(t, r, 204)
	if len(dp.Instances()) != 0 {
		t.Fatalf("terminated, still in the dataplane: %v", dp.Instances())
	}
	expectStatus(t, s.do("DELETE", base+"/software_images/"+img["id"].(string), nil), 204)
	dp.Inject(cloudhypervisortest.Fault{Method: "POST", Path: "/images", CorruptPull: true})
	problem(t, "wrong checksum", s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"}), 422, "checksum", "digest_mismatch")
	dp.ClearFaults()

	dp.Close()
	problem(t, "unavailable", s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"}), 503, "POST /images")
	if strings.Contains(s.log.String(), "dataplane-secret-token") {
		t.Fatalf("the token is in the server's log")
	}
}
