package openstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/blake2s"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

const glanceHint = "apt-get install -y --no-install-recommends glance-api glance-common (Debian)"

// glance is a standalone Glance API process started by a test.
type glance struct {
	URL string
	dir string
	cmd *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGlance runs glance-manage db_sync and glance-api in a temporary
// folder, Keystone-less (empty paste flavor), hashing with hashAlgo (empty
// for Glance's default). It does not wait for the API to answer.
func startGlance(t *testing.T, hashAlgo string) *glance {
	t.Helper()
	api := testenv.Command(t, "glance-api", "glance-api")
	manage := testenv.Command(t, "glance-manage", "glance-common")
	const paste = "/etc/glance/glance-api-paste.ini"
	if _, err := os.Stat(paste); err != nil {
		testenv.Missing(t, paste, glanceHint)
	}
	dir := t.TempDir()
	port := freePort(t)
	hashLine := ""
	if hashAlgo != "" {
		hashLine = "hashing_algorithm = " + hashAlgo + "\n"
	}
	conf := fmt.Sprintf(`[DEFAULT]
bind_host = 127.0.0.1
bind_port = %d
enabled_backends = fs:file
workers = 1
%s
[database]
connection = sqlite:///%s/glance.sqlite
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = %s/images/
[os_glance_staging_store]
filesystem_store_datadir = %s/staging/
[os_glance_tasks_store]
filesystem_store_datadir = %s/tasks/
[paste_deploy]
config_file = %s
flavor =
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
`, port, hashLine, dir, dir, dir, dir, paste)
	confPath := filepath.Join(dir, "glance-api.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	sync := exec.Command(manage, "--config-file", confPath, "db_sync")
	sync.Dir = dir
	if out, err := sync.CombinedOutput(); err != nil {
		t.Fatalf("glance-manage db_sync: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "glance-api.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(api, "--config-file", confPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that the worker it forks goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting glance-api: %v", err)
	}
	g := &glance{URL: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, cmd: cmd}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
		// Workers may outlive the parent by a moment: make sure the
		// group is gone.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "glance-api.log")); err == nil {
				t.Logf("glance-api log (%s):\n%s", hashAlgo, tail(string(b), 4000))
			}
		}
	})
	return g
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// waitReady polls GET /v2/images until Glance answers 200.
func (g *glance) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest("GET", g.URL+"/v2/images", nil)
		req.Header.Set("X-Roles", "admin")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("glance-api at %s not ready after 60s (last: %v)", g.URL, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (g *glance) driver(t *testing.T) vim.Driver {
	t.Helper()
	d, err := vim.Open(context.Background(), "openstack", vim.Config{
		Name: "glance-test",
		Options: map[string]string{
			"auth":           "none",
			"image_endpoint": g.URL,
			"header.X-Roles": "admin",
			"poll_interval":  "100ms",
			"image_timeout":  "30s",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// imageBytes is a deterministic pseudo-image of n bytes.
func imageBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func TestGlance(t *testing.T) {
	if _, err := exec.LookPath("glance-api"); err != nil {
		testenv.Missing(t, "OpenStack Glance (glance-api)", glanceHint)
	}
	// Two Glances, started together: the default (sha512) and sha3_512.
	configs := []struct{ name, algo, want string }{
		{"default-sha512", "", "SHA-512"},
		{"sha3_512", "sha3_512", "sha3_512"},
		// Not computed while uploading: checked by downloading the image.
		{"blake2s", "blake2s", "blake2s"},
	}
	gs := make([]*glance, len(configs))
	for i, c := range configs {
		gs[i] = startGlance(t, c.algo)
	}
	var wg sync.WaitGroup
	for _, g := range gs {
		wg.Add(1)
		go func() { defer wg.Done(); g.waitReady(t) }()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testGlanceImages(t, gs[i].driver(t), c.want)
		})
	}
}

func testGlanceImages(t *testing.T, d vim.Driver, wantAlgo string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	if err := vim.Require(ctx, d, vim.CapImages); err != nil {
		t.Fatal(err)
	}

	// A 3 MiB image (crosses the 1 MiB hashing chunks) whose VNFD
	// checksum is SHA-256, and a small one declared in SHA3-512.
	data := imageBytes(3<<20+12345, 1)
	s256 := sha256.Sum256(data)
	im, err := d.AddImage(ctx, vim.ImageSpec{
		Name:            "vnf-image-1",
		Version:         "1.0",
		ContainerFormat: "bare",
		DiskFormat:      "qcow2",
		MinDisk:         1 << 30,
		MinRAM:          256 << 20,
		Size:            int64(len(data)),
		Checksum:        vim.Checksum{Algorithm: "SHA-256", Hash: strings.ToUpper(hex.EncodeToString(s256[:]))},
		Content:         bytes.NewReader(data),
		Labels:          map[string]string{"vnfPkgId": "pkg-1", "swImageId": "VDU1_image"},
	})
	if err != nil {
		t.Fatalf("AddImage: %v", err)
	}
	if im.Status != "active" || im.Size != int64(len(data)) {
		t.Errorf("image: status %q size %d, want active %d", im.Status, im.Size, len(data))
	}
	var want string
	switch wantAlgo {
	case "SHA-512":
		h := sha512.Sum512(data)
		want = hex.EncodeToString(h[:])
	case "sha3_512":
		h := sha3.Sum512(data)
		want = hex.EncodeToString(h[:])
	case "blake2s":
		h := blake2s.Sum256(data)
		want = hex.EncodeToString(h[:])
	}
	if im.Checksum.Algorithm != wantAlgo || im.Checksum.Hash != want {
		t.Errorf("checksum = %+v, want %s %s", im.Checksum, wantAlgo, want)
	}

	small := imageBytes(1000, 2)
	s3 := sha3.Sum512(small)
	im2, err := d.AddImage(ctx, vim.ImageSpec{
		Name: "vnf-image-2", ContainerFormat: "bare", DiskFormat: "raw",
		Checksum: vim.Checksum{Algorithm: "sha3_512", Hash: hex.EncodeToString(s3[:])},
		Content:  bytes.NewReader(small),
	})
	if err != nil {
		t.Fatalf("AddImage 2: %v", err)
	}

	got, err := d.QueryImage(ctx, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "vnf-image-1" || got.Version != "1.0" || got.ContainerFormat != "bare" || got.DiskFormat != "qcow2" ||
		got.Labels["vnfPkgId"] != "pkg-1" || got.Labels["swImageId"] != "VDU1_image" || len(got.Labels) != 2 {
		t.Errorf("QueryImage = %+v", got)
	}
	list, err := d.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, x := range list {
		ids[x.ID] = x.Status
	}
	if len(list) != 2 || ids[im.ID] != "active" || ids[im2.ID] != "active" {
		t.Errorf("ListImages = %+v", list)
	}

	// Bytes that do not match the VNFD's checksum: the image is deleted.
	bad := imageBytes(5000, 3)
	_, err = d.AddImage(ctx, vim.ImageSpec{
		Name: "vnf-image-bad", ContainerFormat: "bare", DiskFormat: "raw",
		Checksum: vim.Checksum{Algorithm: "SHA-256", Hash: hex.EncodeToString(s256[:])},
		Content:  bytes.NewReader(bad),
	})
	var ce *vim.ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, vim.ErrChecksum) {
		t.Fatalf("AddImage with wrong bytes: err = %v, want a *vim.ChecksumError", err)
	}
	if ce.Algorithm != "SHA-256" || ce.Expected != hex.EncodeToString(s256[:]) {
		t.Errorf("ChecksumError = %+v", ce)
	}
	var ie *ImageError
	if !errors.As(err, &ie) || !ie.Deleted || ie.ImageID == "" {
		t.Fatalf("AddImage with wrong bytes: err = %#v, want an *ImageError saying the image was deleted", err)
	}
	if _, err := d.QueryImage(ctx, ie.ImageID); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("QueryImage of the mismatching image: %v, want ErrNotFound", err)
	}
	t.Logf("mismatch reported as: %v", err)
	list, err = d.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.Name == "vnf-image-bad" {
			t.Errorf("the mismatching image is still there: %+v", x)
			if _, err := d.QueryImage(ctx, x.ID); err != nil {
				t.Logf("QueryImage: %v", err)
			}
		}
	}
	if len(list) != 2 {
		t.Errorf("after the mismatch, %d images, want 2", len(list))
	}

	// Delete is idempotent; a deleted image is not found.
	for i := 0; i < 2; i++ {
		if err := d.DeleteImage(ctx, im2.ID); err != nil {
			t.Fatalf("DeleteImage #%d: %v", i+1, err)
		}
	}
	if _, err := d.QueryImage(ctx, im2.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("QueryImage after delete: %v, want ErrNotFound", err)
	}
	if _, err := d.QueryImage(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("QueryImage unknown: %v, want ErrNotFound", err)
	}
}
