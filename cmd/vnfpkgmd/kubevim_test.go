package main_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/vnfpkgm/vnfpkgm/vim/kubevim/kubevimtest"
)

// registerVIM registers a VIM and returns its path under /vim/v1.
func (s *server) registerVIM(t *testing.T, req map[string]any) string {
	t.Helper()
	r := s.post(t, vims, req)
	expectStatus(t, r, 201)
	var v map[string]any
	r.json(t, &v)
	return vims + "/" + v["id"].(string)
}

// expectProblemDetail checks a ProblemDetails answer: its status, and
// that its detail says each of words.
func expectProblemDetail(t *testing.T, r response, status int, words ...string) {
	t.Helper()
	p := expectProblem(t, r, status)
	detail, _ := p["detail"].(string)
	for _, w := range words {
		if !strings.Contains(detail, w) {
			t.Fatalf("problem %d %q does not say %q", status, detail, w)
		}
	}
}

// sampleImage is the software image VDU1 of the onboarded sample package:
// its artifact path and its declared checksum.
func sampleImage(t *testing.T, info map[string]any) (path, hash string) {
	t.Helper()
	ims, _ := info["softwareImages"].([]any)
	for _, x := range ims {
		im := x.(map[string]any)
		if im["id"] == "VDU1" {
			c := im["checksum"].(map[string]any)
			return im["imagePath"].(string), c["hash"].(string)
		}
	}
	t.Fatalf("the sample has no software image VDU1: %v", info["softwareImages"])
	return "", ""
}

// TestKubeVimThroughTheServer runs the whole flow against the stand-in
// KubeVim over TLS with a bearer token: onboard the sample, register the
// VIM, register the image (KubeVim downloads it from the artifact URL and
// checks its digest), allocate compute for VDU1, operate, terminate.
func TestKubeVimThroughTheServer(t *testing.T) {
	zip, _ := sampleVNF(t, false)
	tc, caPEM := kubevimtest.SelfSignedTLS(t)
	const token = "kubevim-bearer-t0ken"
	kv := kubevimtest.Start(t, kubevimtest.Options{TLS: tc, Token: token})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	imagePath, hash := sampleImage(t, info)
	base := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv", "endpoint": kv.Addr,
		"credentials": map[string]any{"token": token},
		"options":     map[string]any{"tls": "true", "ca_file": ca, "poll_interval": "20ms"}})

	r := s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 201)
	var rec map[string]any
	r.json(t, &rec)
	held, ok := kv.Images()[rec["vimImageId"].(string)]
	if !ok {
		t.Fatalf("KubeVim has no image %v", rec["vimImageId"])
	}
	wantURL := s.base + pkgs + "/" + pkgID + "/artifacts/" + (&url.URL{Path: imagePath}).EscapedPath()
	if held.SourceURL != wantURL || held.Digest != strings.ToLower(hash) || held.Status.GetState().String() != "COMPLETED" {
		t.Fatalf("KubeVim downloaded %s (digest %s, %s); want %s with digest %s", held.SourceURL, held.Digest, held.Status.GetState(), wantURL, hash)
	}

	r = s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "kv-sample"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	if comp["state"] != "RUNNING" {
		t.Fatalf("allocated: %v", comp)
	}
	compPath := base + "/compute/" + comp["id"].(string)
	vcs := kv.Computes()
	if len(vcs) != 1 {
		t.Fatalf("KubeVim computes: %v", vcs)
	}
	for _, vc := range vcs {
		fl := kv.Flavours()[vc.GetFlavourId().GetValue()]
		if vc.GetVcImageId().GetValue() != held.Info.GetSoftwareImageId().GetValue() || fl.GetVirtualCpu().GetNumVirtualCpu() != 1 ||
			fl.GetVirtualMemory().GetVirtualMemSize().Value() != 128e6 {
			t.Fatalf("compute %v with flavour %v (memory %d): want the image, 1 vCPU and the 128 MB of VDU1", vc, fl, fl.GetVirtualMemory().GetVirtualMemSize().Value())
		}
	}
	operate := func(action string) map[string]any {
		t.Helper()
		r := s.post(t, compPath+"/operate", map[string]any{"action": action})
		expectStatus(t, r, 200)
		var c map[string]any
		r.json(t, &c)
		if c["id"] != comp["id"] {
			t.Fatalf("%s answered %v, not compute %v", action, c, comp["id"])
		}
		return c
	}
	if c := operate("pause"); c["state"] != "PAUSED" {
		t.Fatalf("after pause: %v", c)
	}
	if c := operate("resume"); c["state"] != "RUNNING" {
		t.Fatalf("after resume: %v", c)
	}
	// A wrong state in KubeVim (FailedPrecondition) is 409.
	expectProblemDetail(t, s.post(t, compPath+"/operate", map[string]any{"action": "resume"}), 409, "FailedPrecondition")
	if c := operate("stop"); c["state"] != "STOPPED" {
		t.Fatalf("after stop: %v", c)
	}
	r = s.do("GET", compPath, nil)
	expectStatus(t, r, 200)
	if r.json(t, &comp); comp["state"] != "STOPPED" {
		t.Fatalf("shown: %v", comp)
	}
	expectStatus(t, s.do("DELETE", compPath, nil), 204)
	if len(kv.Computes()) != 0 || len(kv.Flavours()) != 0 {
		t.Fatalf("left in KubeVim: %v %v", kv.Computes(), kv.Flavours())
	}

	s.stop()
	if bytes.Contains(s.log.Bytes(), []byte(token)) {
		t.Fatalf("the log holds the token")
	}
}

// TestKubeVimFailuresThroughTheServer: each failure of KubeVim reaches
// the API as a precise ProblemDetails.
func TestKubeVimFailuresThroughTheServer(t *testing.T) {
	zip, _ := sampleVNF(t, false)
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	s := startServer(t, "")
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	opts := map[string]any{"poll_interval": "20ms", "retries": "1"}
	base := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv", "endpoint": kv.Addr, "options": opts})
	image := map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"}

	// The bytes KubeVim received do not have the VNFD's checksum: 422.
	kv.CorruptDownloads(true)
	expectProblemDetail(t, s.post(t, base+"/software_images", image), 422, "checksum")
	kv.CorruptDownloads(false)

	// KubeVim refuses the download (gRPC codes): each its status.
	kv.Fail("DownloadImage", codes.PermissionDenied, 1)
	expectProblemDetail(t, s.post(t, base+"/software_images", image), 502, "PermissionDenied")
	kv.Fail("DownloadImage", codes.ResourceExhausted, 1)
	expectProblemDetail(t, s.post(t, base+"/software_images", image), 503, "ResourceExhausted")

	// Allocation errors after the image is in.
	expectStatus(t, s.post(t, base+"/software_images", image), 201)
	kv.Fail("AllocateVirtualisedComputeResource", codes.Internal, 1)
	expectProblemDetail(t, s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"}), 503, "Internal")
	if len(kv.Flavours()) != 0 {
		t.Fatalf("the flavour of a failed allocation stayed: %v", kv.Flavours())
	}

	// A KubeVim that does not answer in time: 503 naming call_timeout.
	slow := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "slow", "endpoint": kv.Addr,
		"options": map[string]any{"poll_interval": "20ms", "call_timeout": "200ms"}})
	expectStatus(t, s.post(t, slow+"/software_images", image), 201)
	kv.Delay("CreateComputeFlavour", 30e9)
	expectProblemDetail(t, s.post(t, slow+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"}), 503, "call_timeout")
	kv.Delay("CreateComputeFlavour", 0)

	// A KubeVim that is gone: 503 Unavailable.
	gone := kubevimtest.Start(t, kubevimtest.Options{})
	gone.Stop()
	down := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "down", "endpoint": gone.Addr, "options": opts})
	expectProblemDetail(t, s.post(t, down+"/software_images", image), 503, "Unavailable")

	// A token without TLS is refused at registration, naming the option.
	r := s.post(t, vims, map[string]any{"type": "kubevim", "name": "clear", "endpoint": kv.Addr, "credentials": map[string]any{"token": "x"}})
	expectProblemDetail(t, r, 422, "tls")
}
