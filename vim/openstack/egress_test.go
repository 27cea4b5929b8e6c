package openstack

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

// TestEgressPolicyCoversEndpoints: every request of the driver, to
// Keystone and to Glance, goes through vim.Config.HTTPClient, so that the
// server's egress policy decides which VIM endpoints may be reached. The
// policy here denies loopback, where both services listen.
func TestEgressPolicyCoversEndpoints(t *testing.T) {
	reached := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	deny := egress.New(nil, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	client := &http.Client{Transport: deny.Transport(0, 0)}

	_, err := vim.Open(context.Background(), "openstack", vim.Config{
		Endpoint:    srv.URL + "/v3",
		Credentials: map[string]string{"username": "admin", "password": "pw", "project_name": "p", "domain_name": "Default"},
		HTTPClient:  client,
	})
	if err == nil || !strings.Contains(err.Error(), "egress:") {
		t.Errorf("Keystone on a denied address: %v, want the egress policy's denial", err)
	}

	d, err := vim.Open(context.Background(), "openstack", vim.Config{
		Options:    map[string]string{"auth": "none", "image_endpoint": srv.URL + "/v2/", "poll_interval": "5ms"},
		HTTPClient: client,
	})
	if err != nil {
		t.Fatal(err)
	}
	data := imageBytes(1000, 1)
	_, err = d.AddImage(context.Background(), vim.ImageSpec{
		Name: "x", ContainerFormat: "bare", DiskFormat: "raw", Content: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err == nil || !strings.Contains(err.Error(), "egress:") {
		t.Errorf("Glance on a denied address: %v, want the egress policy's denial", err)
	}
	if reached != 0 {
		t.Errorf("the denied services were reached %d times", reached)
	}
}
