package main_test

// The flintlock VIM through the real server, against the Flintlock
// stand-in, which pulls the root volume from the server's OCI endpoint and
// the kernel from a registry holding the package's own kernel artifact.

import (
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim/flintlock/flintlocktest"
)

func TestFlintlockVIM(t *testing.T) {
	pkg := samplePackage(t)
	fl := flintlocktest.New()
	defer fl.Close()
	reg := flintlocktest.NewRegistry()
	defer reg.Close()
	kernel := reg.Add("vnfpkgm/sample-kernel", "1", map[string][]byte{"boot/vmlinux": zipMember(t, pkg, "Files/kernel/vmlinuz")})

	s := startServer(t, "")
	pkgID, info := s.onboard(t, pkg)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v\n%s", info, s.log)
	}
	problem(t, "credentials", s.post(t, vims, map[string]any{"type": "flintlock", "name": "fl", "endpoint": fl.URL,
		"credentials": map[string]any{"token": "x"}, "options": map[string]any{"kernel_image": kernel}}), 422, "takes no credentials")
	r := s.post(t, vims, map[string]any{"type": "flintlock", "name": "fl", "endpoint": fl.URL,
		"options": map[string]any{"kernel_image": kernel, "timeout": "1s", "retries": "1", "poll_interval": "50ms"}})
	expectStatus(t, r, 201)
	var v map[string]any
	r.json(t, &v)
	base := vims + "/" + v["id"].(string)

	// The image is its reference on /v2, by manifest digest.
	im := onboardedImages(t, info)[0]
	manifest := s.do("HEAD", "/v2/"+im.repo+"/manifests/"+im.tag, nil)
	expectStatus(t, manifest, 200)
	ref := strings.TrimPrefix(s.base, "http://") + "/" + im.repo + "@" + manifest.header.Get("Docker-Content-Digest")
	r = s.post(t, base+"/software_images", map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"})
	expectStatus(t, r, 201)

	r = s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1", "name": "vdu1"})
	expectStatus(t, r, 201)
	var comp map[string]any
	r.json(t, &comp)
	compPath := base + "/compute/" + comp["id"].(string)
	if comp["state"] != "RUNNING" {
		t.Fatalf("allocated: %v", comp)
	}
	vms := fl.MicroVMs()
	if len(vms) != 1 {
		t.Fatalf("MicroVMs: %v", vms)
	}
	for _, vm := range vms {
		if *vm.Spec.VCPU != 1 || *vm.Spec.MemoryInMb != (128_000_000+1<<20-1)/(1<<20) || *vm.Spec.RootVolume.Source.ContainerSource != ref || *vm.Spec.Kernel.Image != kernel {
			t.Fatalf("MicroVM spec %+v: want 1 vCPU, 123 MiB, root volume %s", vm.Spec, ref)
		}
	}
	if pulls := fl.Pulls(); len(pulls) != 2 || pulls[0] != ref || pulls[1] != kernel {
		t.Fatalf("flintlock pulled %v, want %s and %s", pulls, ref, kernel)
	}
	problem(t, "pause", s.post(t, compPath+"/operate", map[string]any{"action": "pause"}), 409, "pause")
	problem(t, "console", s.do("GET", compPath+"/console", nil), 409, "console")

	alloc := func() response {
		return s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"})
	}
	fl.Inject(flintlocktest.Fault{Method: "POST", Status: 500})
	problem(t, "5xx", alloc(), 503, "POST /v1alpha1/microvm", "500", "INTERNAL")
	fl.ClearFaults()
	fl.Inject(flintlocktest.Fault{Method: "POST", Status: 400})
	problem(t, "4xx", alloc(), 400, "POST /v1alpha1/microvm", "INVALID_ARGUMENT")
	fl.ClearFaults()
	fl.Inject(flintlocktest.Fault{Method: "POST", Delay: 3 * time.Second})
	problem(t, "timeout", alloc(), 503, "no answer within 1s")
	fl.ClearFaults()

	// A root volume altered on its way: Flintlock fails the MicroVM, and
	// its API gives no reason: the compute is ERROR, saying FAILED.
	fl.Inject(flintlocktest.Fault{Method: "POST", CorruptPull: true})
	r = alloc()
	expectStatus(t, r, 201)
	var failed map[string]any
	r.json(t, &failed)
	if failed["state"] != "ERROR" || failed["stateReason"] != "VIM_FAULT" || !strings.Contains(failed["detail"].(string), "FAILED") {
		t.Fatalf("corrupt root volume: %v", failed)
	}
	fl.ClearFaults()
	expectStatus(t, s.do("DELETE", base+"/compute/"+failed["id"].(string), nil), 204)
	expectStatus(t, s.do("DELETE", compPath, nil), 204)

	fl.Close()
	problem(t, "unavailable", alloc(), 503, "POST /v1alpha1/microvm")
}
