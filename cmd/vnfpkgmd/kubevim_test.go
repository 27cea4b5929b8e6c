package main_test

import (
	"bytes"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// onboardSample onboards the sample package and returns its id and
// VnfPkgInfo; it must be ONBOARDED.
func (s *server) onboardSample(t *testing.T, zip string) (string, map[string]any) {
	t.Helper()
	pkgID, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	return pkgID, info
}

// registerKubeVimImage registers VDU1 of package pkgID with the KubeVim
// VIM at base (201) and returns the record and the image KubeVim holds.
func (s *server) registerKubeVimImage(t *testing.T, kv *kubevimtest.Server, base, pkgID string) (map[string]any, kubevimtest.Image) {
	t.Helper()
	r := s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 201)
	var rec map[string]any
	r.json(t, &rec)
	held, ok := kv.Images()[rec["vimImageId"].(string)]
	if !ok {
		t.Fatalf("KubeVim has no image %v", rec["vimImageId"])
	}
	return rec, held
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
	pkgID, info := s.onboardSample(t, zip)
	imagePath, hash := sampleImage(t, info)
	base := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv", "endpoint": kv.Addr,
		"credentials": map[string]any{"token": token},
		"options":     map[string]any{"tls": "true", "ca_file": ca, "poll_interval": "20ms"}})

	_, held := s.registerKubeVimImage(t, kv, base, pkgID)
	wantURL := s.base + pkgs + "/" + pkgID + "/artifacts/" + (&url.URL{Path: imagePath}).EscapedPath()
	if held.SourceURL != wantURL || held.Digest != strings.ToLower(hash) || held.Status.GetState().String() != "COMPLETED" {
		t.Fatalf("KubeVim downloaded %s (digest %s, %s); want %s with digest %s", held.SourceURL, held.Digest, held.Status.GetState(), wantURL, hash)
	}

	r := s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "kv-sample"})
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
	pkgID, _ := s.onboardSample(t, zip)
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

// TestKubeVimRegistryThroughTheServer: with image_source=registry KubeVim
// pulls the image from this server's OCI endpoint by manifest digest; the
// stand-in checks the manifest's Docker-Content-Digest and digest, the
// layer's digest and the disk file's bytes against the VNFD's checksum.
// A damaged layer and an unreachable registry answer precise
// ProblemDetails; then the whole flow runs on the pulled image.
func TestKubeVimRegistryThroughTheServer(t *testing.T) {
	zip, _ := sampleVNF(t, false)
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	s := startServer(t, "")
	pkgID, info := s.onboardSample(t, zip)
	imagePath, hash := sampleImage(t, info)
	image := map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"}

	// What the OCI endpoint serves for VDU1: its repository and manifest digest.
	r := s.do("GET", "/v2/_catalog", nil)
	expectStatus(t, r, 200)
	var catalog struct{ Repositories []string }
	r.json(t, &catalog)
	if len(catalog.Repositories) != 1 || !strings.HasSuffix(catalog.Repositories[0], "/vdu1") {
		t.Fatalf("catalog %v", catalog.Repositories)
	}
	repo := catalog.Repositories[0]
	r = s.do("GET", "/v2/"+repo+"/manifests/"+info["vnfSoftwareVersion"].(string), nil, "Accept", "application/vnd.oci.image.manifest.v1+json")
	if r.status != 200 || r.header.Get("Docker-Content-Digest") == "" {
		t.Fatalf("manifest of %s: %d %s", repo, r.status, r.body)
	}
	manifestDigest := r.header.Get("Docker-Content-Digest")
	host := strings.TrimPrefix(s.base, "http://")

	// A damaged layer: its digest refuses it, 422.
	base := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv-oci", "endpoint": kv.Addr,
		"options": map[string]any{"image_source": "registry", "poll_interval": "20ms"}})
	kv.CorruptDownloads(true)
	expectProblemDetail(t, s.post(t, base+"/software_images", image), 422, "checksum validation failed", "digest", "stays in KubeVim")
	kv.CorruptDownloads(false)

	// A registry KubeVim cannot reach: 503 naming it.
	gone := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv-gone", "endpoint": kv.Addr,
		"options": map[string]any{"image_source": "registry", "registry": "127.0.0.1:1", "poll_interval": "20ms"}})
	expectProblemDetail(t, s.post(t, gone+"/software_images", image), 503, "127.0.0.1:1/"+repo+"@"+manifestDigest, "connection refused")

	// An option value that cannot work is refused at registration.
	r = s.post(t, vims, map[string]any{"type": "kubevim", "name": "bad", "endpoint": kv.Addr, "options": map[string]any{"image_source": "oci"}})
	if p := expectProblem(t, r, 422); p["option"] != "image_source" {
		t.Fatalf("image_source=oci: %v", p)
	}

	rec, held := s.registerKubeVimImage(t, kv, base, pkgID)
	if want := host + "/" + repo + "@" + manifestDigest; held.Reference != want || held.ManifestDigest != manifestDigest || held.SourceURL != "" {
		t.Fatalf("KubeVim pulled %s (manifest %s, source URL %q); want %s", held.Reference, held.ManifestDigest, held.SourceURL, want)
	}
	if held.DiskFile != "disk/"+path.Base(imagePath) || held.Digest != strings.ToLower(hash) || held.Status.GetState().String() != "COMPLETED" {
		t.Fatalf("KubeVim's disk %s has digest %s (%s); want disk/%s with %s", held.DiskFile, held.Digest, held.Status.GetState(), path.Base(imagePath), hash)
	}
	if got := rec["image"].(map[string]any)["checksum"].(map[string]any)["hash"]; got != strings.ToLower(hash) {
		t.Fatalf("the record's image checksum %v, want %s", got, hash)
	}

	r = s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "kv-oci"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	if comp["state"] != "RUNNING" || comp["vimImageId"] != rec["vimImageId"] {
		t.Fatalf("allocated: %v", comp)
	}
	expectStatus(t, s.do("DELETE", base+"/compute/"+comp["id"].(string), nil), 204)
	if len(kv.Computes()) != 0 {
		t.Fatalf("left in KubeVim: %v", kv.Computes())
	}
}

// TestKubeVimImagesOfDeletedPackage: KubeVim cannot delete images. Its
// VIM says so (no deleteImages capability); a DELETE of the record of a
// live package's image is 409; deleting the package keeps the record,
// orphaned and leftInVim with the reason, logged once, and the sweep
// never tries it again; a DELETE then forgets the record.
func TestKubeVimImagesOfDeletedPackage(t *testing.T) {
	zip, _ := sampleVNF(t, false)
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	s := startServer(t, "", "--sweep-interval", "100ms")
	pkgID, _ := s.onboardSample(t, zip)
	base := s.registerVIM(t, map[string]any{"type": "kubevim", "name": "kv", "endpoint": kv.Addr, "options": map[string]any{"poll_interval": "20ms"}})
	vimID := path.Base(base)

	r := s.do("GET", base, nil)
	expectStatus(t, r, 200)
	var v struct {
		Info struct{ Capabilities []string }
	}
	r.json(t, &v)
	if !slices.Contains(v.Info.Capabilities, "images") || slices.Contains(v.Info.Capabilities, "deleteImages") {
		t.Fatalf("KubeVim's capabilities %v: want images without deleteImages", v.Info.Capabilities)
	}

	rec, _ := s.registerKubeVimImage(t, kv, base, pkgID)
	recPath := base + "/software_images/" + rec["id"].(string)
	vimImageID := rec["vimImageId"].(string)

	// Deleting the record while the package exists would lose the image.
	r = s.do("DELETE", recPath, nil)
	conforms(t, "DELETE", "/vim/v1/vims/{vimId}/software_images/{vimImageId}", r)
	p := expectProblem(t, r, 409)
	if d, _ := p["detail"].(string); !strings.Contains(d, "cannot delete images") || !strings.Contains(d, "deleteImages") || p["vimImageId"] != vimImageID || p["vnfPkgId"] != pkgID {
		t.Fatalf("DELETE of a KubeVim image record: %v", p)
	}
	if ims := s.vimImages(t, vimID); len(ims) != 1 || ims[0]["orphaned"] != false || ims[0]["leftInVim"] != false {
		t.Fatalf("records after the refused DELETE: %v", ims)
	}

	s.deletePackage(t, pkgID)
	ims := s.vimImages(t, vimID)
	if len(ims) != 1 || ims[0]["id"] != rec["id"] || ims[0]["orphaned"] != true || ims[0]["leftInVim"] != true {
		t.Fatalf("records after the package was deleted: %v, want %s orphaned and left in the VIM", ims, rec["id"])
	}
	if reason, _ := ims[0]["leftInVimReason"].(string); !strings.Contains(reason, "cannot delete images") || !strings.Contains(reason, vimImageID) {
		t.Fatalf("leftInVimReason %q", reason)
	}
	// Several sweeps: none tries again, the log says it once.
	time.Sleep(1 * time.Second)
	log := s.log.String()
	if n := strings.Count(log, "stays in its VIM for good"); n != 1 {
		t.Fatalf("logged %d times that the image stays, want once:\n%s", n, log)
	}
	if strings.Contains(log, "record kept as orphaned") || strings.Contains(log, "VIM image left behind") {
		t.Fatalf("the removal was tried again:\n%s", log)
	}
	if ims := s.vimImages(t, vimID); len(ims) != 1 || ims[0]["leftInVim"] != true {
		t.Fatalf("records after the sweeps: %v", ims)
	}
	if _, ok := kv.Images()[vimImageID]; !ok {
		t.Fatalf("KubeVim lost the image it cannot delete")
	}

	// A DELETE now forgets the record; the image stays in KubeVim.
	expectStatus(t, s.do("DELETE", recPath, nil), 204)
	if ims := s.vimImages(t, vimID); len(ims) != 0 {
		t.Fatalf("records after forgetting: %v", ims)
	}
	if _, ok := kv.Images()[vimImageID]; !ok {
		t.Fatalf("KubeVim lost the image it cannot delete")
	}
}
