package kubevim_test

import (
	"context"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kube-nfv/kube-vim-api/pkg/apis/admin"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/vivnfm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/standin"
	"github.com/vnfpkgm/vnfpkgm/vim/kubevim"
	"github.com/vnfpkgm/vnfpkgm/vim/kubevim/kubevimtest"
)

// imageSource serves random bytes as an image over HTTP and returns its
// URL, the bytes' SHA-512 and their size.
func imageSource(t *testing.T) (string, string, int64) {
	t.Helper()
	data := make([]byte, 300<<10)
	rand.Read(data)
	sum := sha512.Sum512(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/image.qcow2" {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/image.qcow2", hex.EncodeToString(sum[:]), int64(len(data))
}

func open(t *testing.T, kv *kubevimtest.Server, creds map[string]string, opts map[string]string) *kubevim.Driver {
	t.Helper()
	o := map[string]string{"poll_interval": "20ms"}
	for k, v := range opts {
		o[k] = v
	}
	cfg := vim.Config{Name: "kv", Endpoint: kv.Addr, Credentials: creds, Options: o}
	if err := vim.CheckConfig(context.Background(), kubevim.Type, cfg); err != nil {
		t.Fatal(err)
	}
	d, err := kubevim.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func imageSpec(url, hash string, size int64) vim.ImageSpec {
	return vim.ImageSpec{
		Name: "rootfs", Version: "1.0", ContainerFormat: "bare", DiskFormat: "qcow2", Size: size,
		Checksum: vim.Checksum{Algorithm: "SHA-512", Hash: hash}, SourceURL: url,
		Labels: map[string]string{"vnfPkgId": "p1", "softwareImageId": "VDU1"},
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, nil)
	url, hash, size := imageSource(t)

	im, err := d.AddImage(ctx, imageSpec(url, hash, size))
	if err != nil {
		t.Fatal(err)
	}
	held := kv.Images()[im.ID]
	if held.SourceURL != url || held.Fetched != size || held.Digest != hash {
		t.Fatalf("the stand-in fetched %d bytes of %s with digest %s; want %d of %s, %s", held.Fetched, held.SourceURL, held.Digest, size, url, hash)
	}
	if im.Status != "active" || im.Size != size || im.Checksum.Hash != hash || im.DiskFormat != "qcow2" || im.Labels["softwareImageId"] != "VDU1" {
		t.Fatalf("image %+v", im)
	}
	list, err := d.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].ID != im.ID {
		t.Fatalf("ListImages: %v %+v", err, list)
	}

	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "p1-VDU1", VCPUs: 2, MemoryBytes: 128 << 20, DiskBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.QueryFlavour(ctx, fl.ID)
	if err != nil || got.VCPUs != 2 || got.MemoryBytes != 128<<20 || got.DiskBytes != 1<<30 || got.Name != "p1-VDU1" {
		t.Fatalf("QueryFlavour: %v %+v", err, got)
	}

	// Virtual storage: the API has no way to ask for it; refused, not dropped.
	for _, st := range []vim.StorageSpec{{Name: "data", SizeBytes: 1 << 30}, {Name: "seeded", SizeBytes: 1 << 30, ImageID: im.ID}} {
		_, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: im.ID, FlavourID: fl.ID, Storage: []vim.StorageSpec{st}})
		if !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), st.Name) {
			t.Fatalf("storage %s: %v, want ErrNotSupported naming it", st.Name, err)
		}
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: im.ID, FlavourID: fl.ID, Labels: map[string]string{"vduId": "VDU1"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != vim.StateRunning || c.ImageID != im.ID || c.FlavourID != fl.ID {
		t.Fatalf("allocated %+v", c)
	}
	for _, step := range []struct{ action, state string }{
		{vim.ActionPause, vim.StatePaused}, {vim.ActionResume, vim.StateRunning}, {vim.ActionReboot, vim.StateRunning},
		{vim.ActionStop, vim.StateStopped}, {vim.ActionStart, vim.StateRunning},
	} {
		c, err = d.OperateCompute(ctx, c.ID, step.action)
		if err != nil || c.State != step.state {
			t.Fatalf("%s: %v %+v", step.action, err, c)
		}
	}
	if _, err := d.OperateCompute(ctx, c.ID, vim.ActionResume); !errors.Is(err, vim.ErrWrongState) {
		t.Fatalf("resume of a RUNNING compute: %v, want ErrWrongState", err)
	}
	if err := d.DeleteFlavour(ctx, fl.ID); !errors.Is(err, vim.ErrConflict) {
		t.Fatalf("deleting a flavour in use: %v, want ErrConflict", err)
	}
	for range 2 { // idempotent
		if err := d.TerminateCompute(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteFlavour(ctx, fl.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.QueryCompute(ctx, c.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("QueryCompute after terminate: %v", err)
	}
	if len(kv.Computes()) != 0 || len(kv.Flavours()) != 0 {
		t.Fatalf("left in KubeVim: %v %v", kv.Computes(), kv.Flavours())
	}
	if err := d.DeleteImage(ctx, im.ID); !errors.Is(err, vim.ErrNotSupported) {
		t.Fatalf("DeleteImage: %v", err)
	}
}

func TestImageFailures(t *testing.T) {
	ctx := context.Background()
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, nil)
	url, hash, size := imageSource(t)

	wrong := strings.Repeat("0", len(hash))
	_, err := d.AddImage(ctx, imageSpec(url, wrong, size))
	var ie *kubevim.ImageError
	if !errors.Is(err, vim.ErrChecksum) || !errors.As(err, &ie) {
		t.Fatalf("wrong checksum: %v, want ErrChecksum in an ImageError", err)
	}
	if kv.Images()[ie.ImageID].Digest != hash {
		t.Fatalf("the stand-in did not hash the source")
	}
	if _, err := d.AddImage(ctx, imageSpec(url+".missing", hash, size)); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("source 404: %v, want ErrUnavailable naming 404", err)
	}
	if _, err := d.AddImage(ctx, imageSpec("", hash, size)); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "--public-url") {
		t.Fatalf("no source URL: %v", err)
	}
	bad := imageSpec(url, hash, size)
	bad.Checksum = vim.Checksum{}
	if _, err := d.AddImage(ctx, bad); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("no checksum: %v", err)
	}
	bad.Checksum = vim.Checksum{Algorithm: "crc32", Hash: "abcd"}
	if _, err := d.AddImage(ctx, bad); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("unknown algorithm: %v", err)
	}
	if _, err := d.QueryImage(ctx, "nope"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("unknown image: %v", err)
	}
}

func TestErrorsAndRetries(t *testing.T) {
	ctx := context.Background()
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, map[string]string{"retries": "3"})

	// An idempotent query is retried through passing unavailability.
	kv.Fail("QueryComputeFlavour", codes.Unavailable, 2)
	if _, err := d.QueryFlavour(ctx, "f1"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("QueryFlavour after 2 failures: %v, want ErrNotFound (the third try answered)", err)
	}
	if n := kv.Calls("QueryComputeFlavour"); n != 3 {
		t.Fatalf("QueryComputeFlavour called %d times, want 3", n)
	}
	// ... but not beyond its retries.
	kv.Fail("QueryImages", codes.Unavailable, 10)
	if _, err := d.ListImages(ctx); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("ListImages: %v", err)
	}
	if n := kv.Calls("QueryImages"); n != 4 {
		t.Fatalf("QueryImages called %d times, want 4", n)
	}
	// A create is never repeated.
	kv.Fail("CreateComputeFlavour", codes.Unavailable, 1)
	if _, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "f", VCPUs: 1, MemoryBytes: 1 << 20}); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("CreateFlavour: %v", err)
	}
	if n := kv.Calls("CreateComputeFlavour"); n != 1 {
		t.Fatalf("CreateComputeFlavour called %d times, want 1", n)
	}
	for code, want := range map[codes.Code]error{
		codes.PermissionDenied: vim.ErrAuth, codes.InvalidArgument: vim.ErrInvalid, codes.Internal: vim.ErrUnavailable,
		codes.Unimplemented: vim.ErrNotSupported, codes.AlreadyExists: vim.ErrConflict,
	} {
		kv.Fail("AllocateVirtualisedComputeResource", code, 1)
		_, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "c", ImageID: "i", FlavourID: "f"})
		if !errors.Is(err, want) || !strings.Contains(err.Error(), code.String()) {
			t.Fatalf("gRPC %s: %v, want %v", code, err, want)
		}
	}
	// Allocation checks the flavour and image exist.
	if _, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "c", ImageID: "i", FlavourID: "f"}); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("unknown flavour: %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, map[string]string{"call_timeout": "50ms"})
	kv.Delay("CreateComputeFlavour", 5*time.Second)
	_, err := d.CreateFlavour(context.Background(), vim.FlavourSpec{Name: "f", VCPUs: 1, MemoryBytes: 1 << 20})
	if !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "call_timeout") {
		t.Fatalf("slow KubeVim: %v, want ErrUnavailable naming call_timeout", err)
	}
}

func TestUnreachable(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	kv.Stop()
	d := open(t, kv, nil, map[string]string{"retries": "0"})
	if _, err := d.ListImages(context.Background()); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("stopped KubeVim: %v", err)
	}
}

func TestTLSAndToken(t *testing.T) {
	ctx := context.Background()
	tc, caPEM := kubevimtest.SelfSignedTLS(t)
	const token = "s3cr3t-token-value"
	kv := kubevimtest.Start(t, kubevimtest.Options{TLS: tc, Token: token})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d := open(t, kv, map[string]string{"token": token}, map[string]string{"tls": "true", "ca_file": ca})
	if _, err := d.ListImages(ctx); err != nil {
		t.Fatal(err)
	}
	wrong := open(t, kv, map[string]string{"token": "another-token"}, map[string]string{"tls": "true", "ca_file": ca})
	_, err := wrong.ListImages(ctx)
	if !errors.Is(err, vim.ErrAuth) || strings.Contains(err.Error(), "another-token") {
		t.Fatalf("wrong token: %v, want ErrAuth without the token", err)
	}
	// Without the CA the server's certificate is not trusted.
	untrusted := open(t, kv, map[string]string{"token": token}, map[string]string{"tls": "true", "retries": "0"})
	if _, err := untrusted.ListImages(ctx); !errors.Is(err, vim.ErrUnavailable) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestCheckConfig(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("not a certificate"), 0o600)
	for _, c := range []struct {
		endpoint string
		creds    map[string]string
		opts     map[string]string
		option   string
	}{
		{"http://kubevim:50051", nil, nil, "endpoint"},
		{"kubevim", nil, nil, "endpoint"},
		{"kubevim:50051", map[string]string{"token": "t"}, nil, "tls"},
		{"kubevim:50051", nil, map[string]string{"tls": "yes"}, "tls"},
		{"kubevim:50051", nil, map[string]string{"ca_file": ca}, "tls"},
		{"kubevim:50051", nil, map[string]string{"tls": "true", "ca_file": ca}, "ca_file"},
		{"kubevim:50051", nil, map[string]string{"call_timeout": "0s"}, "call_timeout"},
		{"kubevim:50051", nil, map[string]string{"retries": "99"}, "retries"},
		{"kubevim:50051", nil, map[string]string{"namespace": "x"}, "namespace"},
		{"kubevim:50051", nil, map[string]string{"image_source": "oci"}, "image_source"},
		{"kubevim:50051", nil, map[string]string{"registry": "127.0.0.1:5000"}, "registry"},
		{"kubevim:50051", nil, map[string]string{"image_source": "registry", "registry": "http://127.0.0.1:5000"}, "registry"},
	} {
		err := vim.CheckConfig(context.Background(), kubevim.Type, vim.Config{Endpoint: c.endpoint, Credentials: c.creds, Options: c.opts})
		var oe *vim.OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%s %v %v: %v, want an error on option %s", c.endpoint, c.creds, c.opts, err, c.option)
		}
	}
}

func TestInfo(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, nil)
	info, _ := d.Info(context.Background())
	if info.Type != "kubevim" || info.Has(vim.CapConsole) || !info.Has(vim.CapImages) || !info.Has(vim.CapCompute) || !info.Has(vim.CapReboot) ||
		info.Has(vim.CapDeleteImages) {
		t.Fatalf("%+v", info)
	}
}

func TestImageTimeout(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release // a source that never finishes
	}))
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	// Cleanups run last first: the source is released, closed, then the
	// stand-in stops (its download ends with the short body).
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	d := open(t, kv, nil, map[string]string{"image_timeout": "200ms"})
	_, hash, size := imageSource(t)
	_, err := d.AddImage(context.Background(), imageSpec(hang.URL+"/image.qcow2", hash, size))
	var ie *kubevim.ImageError
	if !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "image_timeout") || !errors.As(err, &ie) {
		t.Fatalf("a download that never ends: %v, want ErrUnavailable naming image_timeout", err)
	}
}

// TestStandInRefusesUnknownFields: the stand-in, like a server built from
// the same definitions, refuses a request carrying fields they lack.
func TestStandInRefusesUnknownFields(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	conn, err := grpc.NewClient(kv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := &vivnfm.CreateComputeFlavourRequest{Flavour: &vivnfm.VirtualComputeFlavour{
		VirtualMemory: &vivnfm.VirtualMemoryData{VirtualMemSize: resource.NewQuantity(1<<20, resource.BinarySI)},
		VirtualCpu:    &vivnfm.VirtualCpuData{NumVirtualCpu: 1},
	}}
	// Field 99 of VirtualCpuData does not exist.
	req.Flavour.VirtualCpu.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	_, err = vivnfm.NewViVnfmClient(conn).CreateComputeFlavour(context.Background(), req)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "flavour.virtualCpu") {
		t.Fatalf("unknown field: %v, want InvalidArgument naming flavour.virtualCpu", err)
	}
	if len(kv.Flavours()) != 0 {
		t.Fatalf("the flavour was created")
	}
}

// containerDisk stores random bytes as the disk of a containerDisk image
// in a registry on 127.0.0.1 and returns the registry, the image spec
// naming it on that registry (spec.OCI) and the disk's bytes.
func containerDisk(t *testing.T) (*standin.Registry, vim.ImageSpec, []byte) {
	t.Helper()
	data := make([]byte, 200<<10)
	rand.Read(data)
	sum := sha512.Sum512(data)
	reg := standin.NewRegistry()
	t.Cleanup(reg.Close)
	const repo, tag = "vnfpkg/sample-vnf/vdu1", "1.0"
	ref := reg.Add(repo, tag, map[string][]byte{"disk/rootfs.qcow2": data})
	_, dig, _ := strings.Cut(ref, "@")
	spec := imageSpec("", hex.EncodeToString(sum[:]), int64(len(data)))
	spec.OCI = func(context.Context) (*vim.OCIReference, error) {
		return &vim.OCIReference{Registry: "http://" + reg.Host, Repository: repo, Tag: tag, Digest: dig}, nil
	}
	return reg, spec, data
}

// TestRegistrySource: with image_source=registry KubeVim pulls the
// image by digest from the OCI endpoint (the stand-in checks the
// manifest's and the layer's digests and hashes the disk file), and the
// VNFD's checksum travels in the image's metadata, not as a label.
func TestRegistrySource(t *testing.T) {
	ctx := context.Background()
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, map[string]string{"image_source": "registry"})
	reg, spec, data := containerDisk(t)
	ref, _ := spec.OCI(ctx)

	im, err := d.AddImage(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	held := kv.Images()[im.ID]
	wantRef := reg.Host + "/" + ref.Repository + "@" + ref.Digest
	if held.Reference != wantRef || held.ManifestDigest != ref.Digest || held.DiskFile != "disk/rootfs.qcow2" ||
		held.Fetched != int64(len(data)) || held.Digest != spec.Checksum.Hash || held.SourceURL != "" {
		t.Fatalf("the stand-in pulled %+v; want %s, disk/rootfs.qcow2 of %d bytes with digest %s", held, wantRef, len(data), spec.Checksum.Hash)
	}
	if got := held.Info.GetMetadata().GetFields()["checksum"]; got != "sha512:"+spec.Checksum.Hash {
		t.Fatalf("metadata checksum %q", got)
	}
	if im.Status != "active" || im.Size != int64(len(data)) || im.Checksum.Hash != spec.Checksum.Hash || im.Labels["checksum"] != "" || im.Labels["softwareImageId"] != "VDU1" {
		t.Fatalf("image %+v", im)
	}

	// The option registry names the host KubeVim reaches instead.
	other := open(t, kv, nil, map[string]string{"image_source": "registry", "registry": reg.Host})
	if _, err := other.AddImage(ctx, spec); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrySourceFailures(t *testing.T) {
	ctx := context.Background()
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	d := open(t, kv, nil, map[string]string{"image_source": "registry"})
	reg, spec, _ := containerDisk(t)

	// The disk is not what the VNFD declares.
	bad := spec
	bad.Checksum.Hash = strings.Repeat("0", len(spec.Checksum.Hash))
	_, err := d.AddImage(ctx, bad)
	var ie *kubevim.ImageError
	if !errors.Is(err, vim.ErrChecksum) || !errors.As(err, &ie) || !strings.Contains(err.Error(), "disk/rootfs.qcow2") {
		t.Fatalf("wrong checksum: %v, want ErrChecksum in an ImageError naming the disk file", err)
	}
	// The layer arrives damaged: its digest refuses it.
	kv.CorruptDownloads(true)
	if _, err := d.AddImage(ctx, spec); !errors.Is(err, vim.ErrChecksum) || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("corrupt layer: %v, want ErrChecksum naming the digest", err)
	}
	kv.CorruptDownloads(false)
	// A manifest digest the registry does not have.
	missing := spec
	missing.OCI = func(ctx context.Context) (*vim.OCIReference, error) {
		r, _ := spec.OCI(ctx)
		r.Digest = "sha256:" + strings.Repeat("ab", 32)
		return r, nil
	}
	if _, err := d.AddImage(ctx, missing); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown manifest: %v, want ErrUnavailable naming 404", err)
	}
	// A registry nobody listens on.
	gone := open(t, kv, nil, map[string]string{"image_source": "registry", "registry": "127.0.0.1:1"})
	if _, err := gone.AddImage(ctx, spec); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("unreachable registry: %v, want ErrUnavailable naming it", err)
	}
	// Not a containerDisk.
	ref := reg.Add("vnfpkg/x/plain", "1", map[string][]byte{"rootfs.qcow2": []byte("x")})
	_, dig, _ := strings.Cut(ref, "@")
	plain := spec
	plain.OCI = func(context.Context) (*vim.OCIReference, error) {
		return &vim.OCIReference{Registry: "http://" + reg.Host, Repository: "vnfpkg/x/plain", Digest: dig}, nil
	}
	if _, err := d.AddImage(ctx, plain); !errors.Is(err, vim.ErrUnavailable) || !strings.Contains(err.Error(), "containerDisk") {
		t.Fatalf("no disk/: %v", err)
	}
	// The server has no address to give.
	noAddr := spec
	noAddr.OCI = nil
	if _, err := d.AddImage(ctx, noAddr); !errors.Is(err, vim.ErrNotSupported) || !strings.Contains(err.Error(), "--public-url") {
		t.Fatalf("no OCI reference: %v", err)
	}
}

// TestStandInImageSources: the stand-in takes exactly one source of a
// known kind, and a registry source it can check.
func TestStandInImageSources(t *testing.T) {
	kv := kubevimtest.Start(t, kubevimtest.Options{})
	conn, err := grpc.NewClient(kv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := admin.NewAdminClient(conn)
	const ref = "127.0.0.1:5000/vnfpkg/a/vdu1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	reg := func(image string) *admin.RegistrySource { return &admin.RegistrySource{Image: image} }
	for _, tc := range []struct {
		src      *admin.ImageSource
		validate bool
		code     codes.Code
		says     string
	}{
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY}, false, codes.InvalidArgument, "source.registry is required"},
		{&admin.ImageSource{Registry: reg(ref)}, false, codes.InvalidArgument, "source.http is required"},
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY, Registry: reg(ref), Http: &admin.HttpSource{Url: "http://x/y"}}, false, codes.InvalidArgument, "source.http is set"},
		{&admin.ImageSource{Type: admin.ImageSourceType(9), Registry: reg(ref)}, false, codes.InvalidArgument, "not an ImageSourceType"},
		{&admin.ImageSource{Type: admin.ImageSourceType_PVC, Pvc: &admin.PvcSource{Name: "p"}}, false, codes.Unimplemented, "PVC"},
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY, Registry: reg("nginx:alpine")}, false, codes.InvalidArgument, "source.registry.image"},
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY, Registry: reg("127.0.0.1:5000/vnfpkg/a/vdu1:1.0")}, true, codes.InvalidArgument, "pinned by digest"},
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY, Registry: reg("127.0.0.1:5000/vnfpkg/a/vdu1@sha256:abc")}, false, codes.InvalidArgument, "not a sha256 digest"},
		{&admin.ImageSource{Type: admin.ImageSourceType_REGISTRY, Registry: &admin.RegistrySource{Image: ref, PullPolicy: admin.PullPolicy(7).Enum()}}, false, codes.InvalidArgument, "pullPolicy"},
	} {
		_, err := c.DownloadImage(context.Background(), &admin.DownloadImageRequest{
			Metadata: &admin.ImageMetadata{Name: "im"}, Source: tc.src,
			Options: &admin.DownloadOptions{ValidateChecksum: proto.Bool(tc.validate)},
		})
		if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, want %s saying %q", tc.src, err, tc.code, tc.says)
		}
	}
	if len(kv.Images()) != 0 {
		t.Fatalf("images created: %v", kv.Images())
	}
}
