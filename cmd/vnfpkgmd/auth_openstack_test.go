package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/internal/tokensource"
)

// OpenStack's own CLI (python3-tackerclient) against a secured server: it
// sends the token given with --os-token as X-Auth-Token.
func TestOpenStackClientWithToken(t *testing.T) {
	if os.Getenv(suiteAuthEnv) != "" {
		t.Skip("has its own clients file")
	}
	openstack := testenv.Command(t, "openstack", "python3-openstackclient python3-tackerclient")
	if out, err := exec.Command(openstack, "vnf", "package", "list", "--help").CombinedOutput(); err != nil {
		testenv.Missing(t, "the tacker plugin of the openstack CLI", "apt-get install python3-tackerclient: "+strings.TrimSpace(string(out)))
	}
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	code, stdout, stderr := runBinary(t, "client", "add", "osc", "--scopes", "vnfpkgm:read vnfpkgm:write", "--clients-file", clients)
	if code != 0 {
		t.Fatalf("client add: %s", stderr)
	}
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(stdout)[1]
	s := startServer(t, "", "--clients-file", clients)
	src, _ := tokensource.New(tokensource.Config{TokenURL: s.base + "/oauth2/token", ClientID: "osc", ClientSecret: secret})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	osc := func(token string, args ...string) ([]byte, error) {
		cmd := exec.Command(openstack, append([]string{"--os-auth-type", "admin_token", "--os-token", token, "--os-endpoint", s.base}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no clouds.yaml of the user
		return cmd.CombinedOutput()
	}
	out, err := osc(tok.AccessToken, "vnf", "package", "create", "-f", "json")
	if err != nil {
		t.Fatalf("openstack vnf package create: %v\n%s\n%s", err, out, s.log)
	}
	var created map[string]any
	if err := json.Unmarshal(out, &created); err != nil || created["ID"] == nil {
		t.Fatalf("openstack vnf package create printed %s", out)
	}
	out, err = osc(tok.AccessToken, "vnf", "package", "list", "-f", "json")
	if err != nil || !strings.Contains(string(out), created["ID"].(string)) {
		t.Fatalf("openstack vnf package list: %v\n%s", err, out)
	}
	if out, err = osc("made-up-token", "vnf", "package", "list"); err == nil {
		t.Fatalf("a made-up token was accepted:\n%s", out)
	}
	if !strings.Contains(s.log.String(), "status=401") {
		t.Fatalf("the made-up token did not get a 401:\n%s", s.log)
	}
}
