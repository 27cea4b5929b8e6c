package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countingServer answers every request plausibly (created packages,
// onboarded packages with content, empty lists, VIM records) and counts
// them: a command that sends a request before refusing a bad option is
// seen here.
func countingServer(t *testing.T) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	content := []byte("package content")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		p := r.URL.Path
		reply := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
		record := map[string]any{
			"id": "rec-1", "name": "lab", "onboardingState": "ONBOARDED", "operationalState": "ENABLED",
			"options":  map[string]any{"kernel": "/boot/vmlinuz"},
			"checksum": map[string]any{"algorithm": "SHA-256", "hash": "e2a2b96ff6e3d2d1c7f1b8c7cbd0d0f19d1a1a1b2b9b7a3a0b3f0c9a8d7e6f5a"},
		}
		switch {
		case strings.HasSuffix(p, "/package_content") || strings.Contains(p, "/artifacts/") || strings.HasSuffix(p, "/vnfd"):
			w.Write(content)
		case r.Method == http.MethodPost:
			reply(http.StatusCreated, record)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet && (strings.HasSuffix(p, "/vnf_packages") || strings.HasSuffix(p, "/vims") ||
			strings.HasSuffix(p, "/software_images") || strings.HasSuffix(p, "/compute")):
			reply(http.StatusOK, []any{record})
		default:
			reply(http.StatusOK, record)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// Every option is checked before the first request: a bad one exits 2
// and the server hears nothing (package create -c bogus used to create
// the package, then fail).
func TestBadOptionsSendNoRequest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg.zip")
	if err := os.WriteFile(pkg, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	missingDir := filepath.Join(dir, "no", "such", "dir", "pkg.zip")
	for _, args := range [][]string{
		// package
		{"package", "create", "-c", "bogus"},
		{"package", "create", "--user-data", "owner=x", "--column", "Bogus Column"},
		{"package", "create", "-f", "xml"},
		{"package", "create", "--user-data", "novalue"},
		{"package", "list", "-c", "id", "-c", "bogus"},
		{"package", "list", "--all_fields", "--fields", "checksum"},
		{"package", "show", "p1", "-c", "bogus"},
		{"package", "show", "p1", "-f", "csv"},
		{"package", "update", "p1", "--operational-state", "DISABLED", "-c", "bogus"},
		{"package", "update", "p1", "--operational-state", "ON"},
		{"package", "update", "p1"},
		{"package", "upload", "p1", "--path", filepath.Join(dir, "missing.zip")},
		{"package", "upload", "p1", "--path", dir},
		{"package", "upload", "p1", "--url", "ftp://repo.example/pkg.zip"},
		{"package", "upload", "p1", "--url", "not a url"},
		{"package", "upload", "p1", "--path", pkg, "--wait", "--wait-timeout", "-1s"},
		{"package", "upload", "p1", "--path", pkg, "--wait-timeout", "10m"},
		{"package", "upload", "p1", "--path", pkg, "--wait-timeout", "soon"},
		{"package", "download", "p1", "--file", missingDir},
		{"package", "download", "p1", "--file", dir},
		{"package", "download", "p1", "--file", filepath.Join(dir, "out.zip"), "--connections", "0"},
		{"package", "download", "p1", "--file", filepath.Join(dir, "out.zip"), "--connections", "many"},
		{"package", "download", "p1", "--vnfd", "--type", "text/html", "--file", filepath.Join(dir, "vnfd")},
		{"package", "download", "p1", "--vnfd", "--file", missingDir},
		{"package", "delete"},
		// artifact
		{"artifact", "download", "p1", "Scripts/install.sh", "--file", missingDir},
		{"artifact", "download", "p1", "Scripts/install.sh", "--file", filepath.Join(dir, "a"), "--connections", "99"},
		{"artifact", "download", "p1"},
		// vim
		{"vim", "register", "--type", "local", "--name", "lab", "-c", "bogus"},
		{"vim", "register", "--type", "local", "--name", "lab", "-f", "toml"},
		{"vim", "list", "-c", "bogus"},
		{"vim", "show", "v1", "-c", "bogus"},
		{"vim", "image", "register", "v1", "--package", "p1", "--image", "VDU1", "-c", "bogus"},
		{"vim", "image", "list", "v1", "-c", "bogus"},
		// compute
		{"compute", "allocate", "v1", "--package", "p1", "--vdu", "VDU1", "--name", "web", "-c", "bogus"},
		{"compute", "list", "v1", "-c", "bogus"},
		{"compute", "show", "v1", "c1", "-c", "bogus"},
		{"compute", "operate", "v1", "c1", "--action", "start", "-c", "bogus"},
		{"compute", "operate", "v1", "c1", "--action", "explode"},
	} {
		url, requests := countingServer(t)
		r := cliAt(t, url, args...)
		if r.code != exitUsage || requests.Load() != 0 {
			t.Errorf("vnfpkgm %s: %d request(s) sent; %s", strings.Join(args, " "), requests.Load(), r)
		}
	}
	// A bad endpoint is a usage error too.
	if r := cliAt(t, "ftp://x", "package", "list"); r.code != exitUsage {
		t.Errorf("--endpoint ftp://x: %s", r)
	}
}

// The columns checked before the request are the output's: titles and
// attribute names of the group's records, including attributes the
// client titles generically.
func TestGoodColumnsPassTheCheck(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"package", "create", "-f", "value", "-c", "id"},
		{"package", "list", "-c", "Vnf Product Name", "-c", "onboarding_state", "-c", "checksum"},
		{"package", "show", "p1", "-c", "Onboarding State", "-c", "vnfdId"},
		{"package", "update", "p1", "--operational-state", "DISABLED", "-c", "operationalState"},
		{"vim", "show", "v1", "-c", "options", "-c", "Name"},
		{"vim", "list", "-c", "ID", "-c", "Auto Register Images"},
		{"compute", "show", "v1", "c1", "-c", "id", "-c", "VIM Compute ID"},
	} {
		url, requests := countingServer(t)
		r := cliAt(t, url, args...)
		if r.code != exitOK || requests.Load() == 0 {
			t.Errorf("vnfpkgm %s: %d request(s); %s", strings.Join(args, " "), requests.Load(), r)
		}
	}
}
