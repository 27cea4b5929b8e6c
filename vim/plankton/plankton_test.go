package plankton_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton"
	"github.com/vnfpkgm/vnfpkgm/vim/plankton/planktontest"
)

const (
	token   = "astakos-t0ken-value"
	account = "3f2a6c1e-user"
)

func config(pk *planktontest.Server, opts map[string]string) vim.Config {
	o := map[string]string{"pithos_endpoint": pk.Pithos, "account": account, "retries": "2"}
	for k, v := range opts {
		o[k] = v
	}
	return vim.Config{Name: "pk", Endpoint: pk.ImageAPI, Credentials: map[string]string{"token": token}, Options: o}
}

func open(t testing.TB, cfg vim.Config) *plankton.Driver {
	t.Helper()
	if err := vim.CheckConfig(context.Background(), plankton.Type, cfg); err != nil {
		t.Fatal(err)
	}
	d, err := plankton.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func rawImage(t *testing.T) ([]byte, vim.ImageSpec) {
	data := make([]byte, 200<<10)
	rand.Read(data)
	sum := sha256.Sum256(data)
	return data, vim.ImageSpec{
		Name: "rootfs", Version: "1.0", ContainerFormat: "bare", DiskFormat: "raw", Size: int64(len(data)),
		MinDisk: 1 << 30, MinRAM: 128 << 20,
		Checksum: vim.Checksum{Algorithm: "SHA-256", Hash: hex.EncodeToString(sum[:])},
		Content:  bytes.NewReader(data),
		Labels:   map[string]string{"vnfPkgId": "p1", "softwareImageId": "VDU1"},
	}
}

func TestImageLifecycle(t *testing.T) {
	ctx := context.Background()
	pk := planktontest.Start(t, token)
	d := open(t, config(pk, nil))
	data, spec := rawImage(t)

	im, err := d.AddImage(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	obj := account + "/images/vnfpkgm/p1/VDU1"
	stored, ok := pk.Object(obj)
	if !ok || !bytes.Equal(stored, data) {
		t.Fatalf("Pithos+ holds %d bytes at %s (found %v), want the %d sent", len(stored), obj, ok, len(data))
	}
	md5sum := md5.Sum(data)
	reg := pk.Images()[im.ID]
	if reg.Location != "pithos://"+obj || reg.DiskFormat != "diskdump" || reg.ContainerFormat != "bare" || reg.Checksum != hex.EncodeToString(md5sum[:]) ||
		reg.Properties["version"] != "1.0" || reg.Properties["min_disk"] != "1073741824" || reg.Properties["vnfpkgid"] != "p1" ||
		reg.Properties["vnfd_checksum"] != "SHA-256:"+spec.Checksum.Hash {
		t.Fatalf("registered %+v", reg)
	}
	if im.Checksum.Hash != hex.EncodeToString(md5sum[:]) || im.Size != int64(len(data)) || im.Version != "1.0" || im.Status != "available" {
		t.Fatalf("AddImage returned %+v", im)
	}
	got, err := d.QueryImage(ctx, im.ID)
	if err != nil || got.Name != "rootfs" || got.DiskFormat != "diskdump" || got.Labels["softwareimageid"] != "VDU1" {
		t.Fatalf("QueryImage: %v %+v", err, got)
	}
	list, err := d.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].ID != im.ID || list[0].Size != int64(len(data)) {
		t.Fatalf("ListImages: %v %+v", err, list)
	}
	for range 2 { // idempotent
		if err := d.DeleteImage(ctx, im.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(pk.Images()) != 0 || len(pk.Objects()) != 0 {
		t.Fatalf("left behind: %v %v", pk.Images(), pk.Objects())
	}
	if _, err := d.QueryImage(ctx, im.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("QueryImage of a deleted image: %v", err)
	}
}

func TestChecksumFailures(t *testing.T) {
	ctx := context.Background()
	pk := planktontest.Start(t, token)
	d := open(t, config(pk, nil))

	_, spec := rawImage(t)
	spec.Checksum.Hash = strings.Repeat("0", 64)
	var ce *vim.ChecksumError
	if _, err := d.AddImage(ctx, spec); !errors.As(err, &ce) || !strings.Contains(ce.What, "VNFD") {
		t.Fatalf("wrong VNFD checksum: %v", err)
	}
	if len(pk.Objects()) != 0 || len(pk.Images()) != 0 {
		t.Fatalf("a refused image stayed: %v", pk.Objects())
	}

	pk.WrongETags(true)
	_, spec = rawImage(t)
	if _, err := d.AddImage(ctx, spec); !errors.As(err, &ce) || ce.Algorithm != "md5" {
		t.Fatalf("Pithos+ ETag differs: %v", err)
	}
	if len(pk.Objects()) != 0 || len(pk.Images()) != 0 {
		t.Fatalf("a refused image stayed: %v", pk.Objects())
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	pk := planktontest.Start(t, token)
	d := open(t, config(pk, nil))
	_, spec := rawImage(t)
	spec.DiskFormat = "qcow2"
	if _, err := d.AddImage(ctx, spec); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "qcow2") {
		t.Fatalf("qcow2: %v", err)
	}
	_, spec = rawImage(t)
	spec.ContainerFormat = "docker"
	if _, err := d.AddImage(ctx, spec); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("docker container: %v", err)
	}
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "c", ImageID: "i", FlavourID: "f"}); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("compute: %v", err)
	}
	info, _ := d.Info(ctx)
	if len(info.Capabilities) != 2 || !info.Has(vim.CapImages) || !info.Has(vim.CapDeleteImages) {
		t.Fatalf("capabilities %v", info.Capabilities)
	}
	if err := vim.Require(ctx, d, vim.CapCompute); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("Require compute: %v", err)
	}
}

func TestRemoteErrors(t *testing.T) {
	ctx := context.Background()
	pk := planktontest.Start(t, token)
	d := open(t, config(pk, nil))

	// Idempotent reads are retried through passing 503s ...
	pk.Fail(http.MethodGet, "plankton", http.StatusServiceUnavailable, 2)
	if _, err := d.ListImages(ctx); err != nil {
		t.Fatalf("ListImages after two 503s: %v", err)
	}
	// ... the registration is not.
	pk.Fail(http.MethodPost, "plankton", http.StatusServiceUnavailable, 1)
	_, spec := rawImage(t)
	if _, err := d.AddImage(ctx, spec); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("POST 503: %v", err)
	}
	if len(pk.Objects()) != 0 {
		t.Fatalf("the object of a failed registration stayed: %v", pk.Objects())
	}
	for status, want := range map[int]error{
		http.StatusBadRequest: vim.ErrInvalid, http.StatusUnauthorized: vim.ErrAuth, http.StatusForbidden: vim.ErrAuth,
		http.StatusInternalServerError: vim.ErrUnavailable, http.StatusNotImplemented: vim.ErrNotSupported,
	} {
		pk.Fail(http.MethodPost, "plankton", status, 1)
		_, spec := rawImage(t)
		if _, err := d.AddImage(ctx, spec); !errors.Is(err, want) || !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(status)) {
			t.Fatalf("POST %d: %v, want %v", status, err, want)
		}
	}
	pk.Fail(http.MethodPut, "pithos", http.StatusNotFound, 1)
	if _, err := d.AddImage(ctx, spec); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("Pithos+ 404: %v", err)
	}

	// A wrong token: 401, and the token is in no error.
	cfg := config(pk, nil)
	cfg.Credentials = map[string]string{"token": "expired-t0ken"}
	bad := open(t, cfg)
	if _, err := bad.ListImages(ctx); !errors.Is(err, vim.ErrAuth) || strings.Contains(err.Error(), "expired-t0ken") {
		t.Fatalf("wrong token: %v", err)
	}

	// No answer in time: unavailable, naming the bound.
	slow := open(t, config(pk, map[string]string{"call_timeout": "50ms", "retries": "0"}))
	pk.Delay(http.MethodGet, "plankton", 5*time.Second)
	if _, err := slow.ListImages(ctx); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "50ms") {
		t.Fatalf("slow Plankton: %v", err)
	}

	// Gone.
	pk.Close()
	if _, err := d.ListImages(ctx); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("stopped Plankton: %v", err)
	}
}

func TestCheckConfig(t *testing.T) {
	pk := planktontest.Start(t, token)
	for _, c := range []struct {
		mutate func(*vim.Config)
		option string
	}{
		{func(c *vim.Config) { c.Endpoint = "plankton.example/image" }, "endpoint"},
		{func(c *vim.Config) { delete(c.Options, "pithos_endpoint") }, "pithos_endpoint"},
		{func(c *vim.Config) { delete(c.Options, "account") }, "account"},
		{func(c *vim.Config) { c.Options["container"] = "a/b" }, "container"},
		{func(c *vim.Config) { c.Options["is_public"] = "yes" }, "is_public"},
		{func(c *vim.Config) { c.Options["upload_timeout"] = "soon" }, "upload_timeout"},
		{func(c *vim.Config) { c.Credentials = nil }, "credentials"},
		{func(c *vim.Config) { c.Options["region"] = "x" }, "region"},
	} {
		cfg := config(pk, nil)
		c.mutate(&cfg)
		err := vim.CheckConfig(context.Background(), plankton.Type, cfg)
		var oe *vim.OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%v: want an error on option %s", err, c.option)
		}
	}
}
