package kubevim_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/kubevim"
	"github.com/vnfpkgm/vnfpkgm/vim/kubevim/kubevimtest"
)

// TestEgressPolicyCoversKubeVim: the gRPC connection dials through the
// server's HTTP client for VIMs, so its egress policy decides whether
// KubeVim may be reached.
func TestEgressPolicyCoversKubeVim(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	deny := egress.New(nil, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	d, err := kubevim.Open(context.Background(), vim.Config{Endpoint: kv.Addr, Options: map[string]string{"retries": "0"},
		HTTPClient: &http.Client{Transport: deny.Transport(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.ListImages(context.Background())
	if !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "egress:") {
		t.Fatalf("KubeVim on a denied address: %v, want the egress policy's denial", err)
	}
	if n := kv.Calls("QueryImages"); n != 0 {
		t.Fatalf("the denied KubeVim was reached %d times", n)
	}
}
