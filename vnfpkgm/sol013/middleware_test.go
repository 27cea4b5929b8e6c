package sol013

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestVersionMiddleware(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/vnfpkgm/v1"
	cases := []struct {
		name, path, version string
		status              int
		answered            string
	}{
		{"none", "/vnf_packages", "", 200, "2.6.1"},
		{"current", "/vnf_packages", "2.6.1", 200, "2.6.1"},
		{"older supported", "/vnf_packages", "2.6.0", 200, "2.6.0"},
		{"blanks", "/vnf_packages", " 2.6.1 ", 200, "2.6.1"},
		{"unsupported", "/vnf_packages", "3.3.1", 406, "2.6.1"},
		{"major only", "/vnf_packages", "2", 406, "2.6.1"},
		{"unsupported on api_versions", "/api_versions", "9.9.9", 200, "2.6.1"},
		{"error response", "/vnf_packages/conflict", "2.6.0", 409, "2.6.0"},
	}
	for _, c := range cases {
		hdr := map[string]string{}
		if c.version != "" {
			hdr["Version"] = c.version
		}
		r := do(t, "GET", base+c.path, hdr)
		if r.status != c.status || r.header.Get("Version") != c.answered {
			t.Errorf("%s: %d Version=%q, want %d %q", c.name, r.status, r.header.Get("Version"), c.status, c.answered)
		}
		if c.status == 406 {
			if r.pd.Status != 406 || r.header.Get("Content-Type") != ContentTypeProblem ||
				!strings.Contains(r.pd.Detail, c.version) || !strings.Contains(r.pd.Detail, "2.6.1, 2.6.0") {
				t.Errorf("%s: problem %s", c.name, r.body)
			}
		}
	}
}

// rawGet sends a request line as written, bypassing any client-side path cleaning.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCollapseLeadingSlashes(t *testing.T) {
	srv := newServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		target string
		status int
		body   string
	}{
		{"//vnfpkgm/v1/vnf_packages", 200, "GET /vnfpkgm/v1/vnf_packages"},
		{"///vnfpkgm/v1/vnf_packages/7", 200, "GET /vnfpkgm/v1/vnf_packages/:id"},
		{"//vnfpkgm/v1/vnf_packages?filter=(eq,a,b)", 200, "GET /vnfpkgm/v1/vnf_packages"},
		{"/vnfpkgm/v1/vnf_packages", 200, "GET /vnfpkgm/v1/vnf_packages"},
		{"/vnfpkgm//v1/vnf_packages", 404, ""}, // only the leading run is collapsed
	} {
		status, body := rawGet(t, addr, c.target)
		if status != c.status || (c.body != "" && body != c.body) {
			t.Errorf("GET %s: %d %q, want %d %q", c.target, status, body, c.status, c.body)
		}
	}
	// Through Go's client too.
	r := do(t, "GET", srv.URL+"//vnfpkgm/v1/vnf_packages", nil)
	if r.status != 200 {
		t.Errorf("client GET //...: %d %s", r.status, r.body)
	}
	// A 404 behind a doubled slash names the collapsed path.
	r = do(t, "GET", srv.URL+"//vnfpkgm/v1/nothing", nil)
	if r.status != 404 || r.pd.Instance != "/vnfpkgm/v1/nothing" {
		t.Errorf("404 instance: %+v", r.pd)
	}
}
