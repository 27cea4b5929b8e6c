package main

import (
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/vim/kubevim/kubevimtest"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton/planktontest"
)

// TestVIMRegisterKubeVimAndPlankton: `vim register --type kubevim` and
// `--type plankton` against the real server, with their options and
// credentials; the server's refusal names the option, and the token is
// printed nowhere.
func TestVIMRegisterKubeVimAndPlankton(t *testing.T) {
	s := startServer(t)
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	pk := planktontest.Start(t, "tok")
	const secret = "kubevim-s3cret-token"

	s.mustCLI(t, "vim", "register", "--type", "kubevim", "--name", "kv", "--endpoint", kv.Addr, "--option", "call_timeout=5s")
	r := s.cli(t, "vim", "register", "--type", "kubevim", "--name", "clear", "--endpoint", kv.Addr, "--credential", "token="+secret)
	if r.code != exitFailed || !strings.Contains(r.stderr, "option tls") || strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("a token without TLS: %s", r)
	}
	s.mustCLI(t, "vim", "register", "--type", "plankton", "--name", "pk", "--endpoint", pk.ImageAPI, "--credential", "token=tok",
		"--option", "pithos_endpoint="+pk.Pithos, "--option", "account=user-uuid")
	r = s.cli(t, "vim", "register", "--type", "plankton", "--name", "noaccount", "--endpoint", pk.ImageAPI, "--credential", "token=tok",
		"--option", "pithos_endpoint="+pk.Pithos)
	if r.code != exitFailed || !strings.Contains(r.stderr, "option account") {
		t.Fatalf("plankton without account: %s", r)
	}
	got := strings.Fields(s.mustCLI(t, "vim", "list", "-f", "value", "-c", "Name", "-c", "Type").stdout)
	if strings.Join(got, " ") != "kv kubevim pk plankton" {
		t.Fatalf("vim list: %q", got)
	}
}
