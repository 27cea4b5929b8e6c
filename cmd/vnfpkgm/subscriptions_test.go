package main

// The subscription commands against the real server and a real callback
// receiver.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSubscriptionCommands(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		mu.Lock()
		auths = append(auths, u+":"+p)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	s := startServer(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("cli-pw-31\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	create := []string{"subscription", "create", "--callback", rc.URL + "/cb", "--filter-notification-type", "VnfPackageChangeNotification",
		"--vnfd-id", "vnfd-1", "--vnf-provider", "Acme", "--vnf-product", "Router", "--basic-user", "nfvo", "--basic-password-file", pwFile, "-f", "json"}
	r := s.mustCLI(t, create...)
	rec := decodeRecord(t, r)
	id, _ := rec["ID"].(string)
	if id == "" || rec["Callback URI"] != rc.URL+"/cb" || strings.Contains(r.stdout, "cli-pw-31") {
		t.Fatalf("create: %s", r)
	}
	f, _ := json.Marshal(rec["Filter"])
	if string(f) != `{"notificationTypes":["VnfPackageChangeNotification"],"vnfProductsFromProviders":[{"vnfProducts":[{"vnfProductName":"Router"}],"vnfProvider":"Acme"}],"vnfdId":["vnfd-1"]}` {
		t.Fatalf("filter %s", f)
	}
	mu.Lock()
	if len(auths) != 1 || auths[0] != "nfvo:cli-pw-31" {
		t.Fatalf("callback test credentials %v", auths)
	}
	mu.Unlock()
	// The same again: the existing one, said so.
	r = s.mustCLI(t, create...)
	if decodeRecord(t, r)["ID"] != id || !strings.Contains(r.stderr, "exists already") {
		t.Fatalf("duplicate: %s", r)
	}
	other := decodeRecord(t, s.mustCLI(t, "subscription", "create", "--callback", rc.URL+"/other", "-f", "json"))["ID"].(string)

	r = s.mustCLI(t, "subscription", "list", "-f", "value", "-c", "id")
	if r.stdout != id+"\n"+other+"\n" {
		t.Fatalf("list: %s", r)
	}
	r = s.mustCLI(t, "subscription", "list", "--filter", "(eq,filter/vnfdId,vnfd-1)", "-f", "value", "-c", "ID")
	if r.stdout != id+"\n" {
		t.Fatalf("filtered list: %s", r)
	}
	r = s.mustCLI(t, "subscription", "show", id)
	if !strings.Contains(r.stdout, "Callback URI") || !strings.Contains(r.stdout, rc.URL+"/cb") {
		t.Fatalf("show: %s", r)
	}
	s.mustCLI(t, "subscription", "delete", id, other)
	if r := s.cli(t, "subscription", "show", id); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Fatalf("show after delete: %s", r)
	}
	if r := s.cli(t, "subscription", "delete", id); r.code != exitFailed || !strings.Contains(r.stderr, "failed to delete 1 of 1") {
		t.Fatalf("delete of a deleted subscription: %s", r)
	}
	if r := cliAt(t, "http://127.0.0.1:1", "subscription", "delete", id); r.code != exitUnreachable {
		t.Fatalf("delete without a server: %s", r)
	}
	for _, bad := range [][]string{
		{"subscription", "create"},
		{"subscription", "create", "--callback", rc.URL, "--vnf-product", "Router"},
		{"subscription", "create", "--callback", rc.URL, "--basic-user", "u"},
	} {
		if r := s.cli(t, bad...); r.code != exitUsage {
			t.Fatalf("%v: %s", bad, r)
		}
	}
}
