package plankton_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton/planktontest"
)

// TestEgressPolicyCoversPlankton: every request goes through the server's
// HTTP client for VIMs and so obeys its egress policy.
func TestEgressPolicyCoversPlankton(t *testing.T) {
	pk := planktontest.Start(t, token)
	deny := egress.New(nil, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	cfg := config(pk, map[string]string{"retries": "0"})
	cfg.HTTPClient = &http.Client{Transport: deny.Transport(0, 0)}
	d := open(t, cfg)
	_, spec := rawImage(t)
	_, err := d.AddImage(context.Background(), spec)
	if !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "egress:") {
		t.Fatalf("Pithos+ on a denied address: %v, want the egress policy's denial", err)
	}
	if len(pk.Objects()) != 0 {
		t.Fatalf("the denied Pithos+ was reached")
	}
}
