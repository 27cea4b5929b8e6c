package main_test

import (
	"encoding/json"
	"testing"
)

// TestVNFDModelNegotiated: GET .../vnfd answers the server's reading of the
// VNFD as JSON only to a client that names the extension type; SOL 005's
// own answers are unchanged for everyone else.
func TestVNFDModelNegotiated(t *testing.T) {
	s := startServer(t, "")
	id, info := s.onboard(t, corpusFile(t, "helloworld3-multi.zip"))
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("helloworld3-multi: %v", info["onboardingState"])
	}
	const model = "application/vnd.vnfpkgm.vnfd+json"
	r := s.do("GET", pkgs+"/"+id+"/vnfd", nil, "Accept", model)
	expectStatus(t, r, 200)
	var m struct {
		VnfPkgID     string `json:"vnfPkgId"`
		DescriptorID string `json:"descriptorId"`
		Flavours     []struct {
			FlavourID string           `json:"flavourId"`
			VDUs      []map[string]any `json:"vdus"`
			VduCps    []map[string]any `json:"vduCps"`
		} `json:"flavours"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("model: %v: %.300s", err, r.body)
	}
	if m.VnfPkgID != id || m.DescriptorID != info["vnfdId"] || len(m.Flavours) != 1 ||
		m.Flavours[0].FlavourID != "simple" || len(m.Flavours[0].VDUs) != 2 || len(m.Flavours[0].VduCps) != 3 {
		t.Fatalf("model of helloworld3-multi: %.600s", r.body)
	}
	if r.header.Get("Vary") != "Accept" {
		t.Errorf("Vary %q: caches must key the VNFD on Accept", r.header.Get("Vary"))
	}
	for _, accept := range []string{"", "*/*", "application/*", "application/zip"} {
		r := s.do("GET", pkgs+"/"+id+"/vnfd", nil, "Accept", accept)
		expectStatus(t, r, 200)
		if ct := r.header.Get("Content-Type"); ct != "application/zip" {
			t.Errorf("Accept %q: Content-Type %q, want SOL 005's zip", accept, ct)
		}
	}
	expectProblem(t, s.do("GET", pkgs+"/"+id+"/vnfd", nil, "Accept", model+";q=0"), 406)
}
