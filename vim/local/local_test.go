package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

const marker = "VNFPKGM-SAMPLE-BOOTED"

// sample is the image built by `make samples`.
type sample struct {
	image, kernel, sha512 string
}

func needSample(t *testing.T) sample {
	t.Helper()
	testenv.Command(t, "qemu-img", "qemu-utils")
	dir := filepath.Join(testenv.RepoRoot(), "samples", "build")
	s := sample{image: filepath.Join(dir, "sample-rootfs.qcow2"), kernel: filepath.Join(dir, "vmlinuz")}
	b, err := os.ReadFile(filepath.Join(dir, "sample-rootfs.qcow2.sha512"))
	if err != nil {
		testenv.Missing(t, "the sample VNF image (samples/build)", "run `make samples` (needs busybox-static, e2fsprogs, qemu-utils, zip)")
	}
	for _, p := range []string{s.image, s.kernel} {
		if _, err := os.Stat(p); err != nil {
			testenv.Missing(t, p, "run `make samples`")
		}
	}
	s.sha512 = strings.TrimSpace(string(b))
	return s
}

func open(t *testing.T, dir string) *Driver {
	t.Helper()
	d, err := Open(context.Background(), vim.Config{DataDir: dir, Options: map[string]string{"powerdown_timeout": "15s"}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func addSample(t *testing.T, d *Driver, s sample, labels map[string]string) *vim.Image {
	t.Helper()
	f, err := os.Open(s.image)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := d.AddImage(context.Background(), vim.ImageSpec{
		Name: "sample", Version: "1.0", ContainerFormat: "BARE", DiskFormat: "qcow2",
		Checksum: vim.Checksum{Algorithm: "SHA-512", Hash: strings.ToUpper(s.sha512)},
		Content:  f, Labels: labels,
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestRegistered(t *testing.T) {
	d, err := vim.Open(context.Background(), Type, vim.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := vim.Require(context.Background(), d, vim.CapImages, vim.CapCompute, vim.CapPause, vim.CapResume, vim.CapStart, vim.CapStop, vim.CapReboot, vim.CapConsole); err != nil {
		t.Fatal(err)
	}
}

func TestFlavours(t *testing.T) {
	ctx := context.Background()
	d := open(t, t.TempDir())
	f, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "small", VCPUs: 2, MemoryBytes: 256 << 20, DiskBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.QueryFlavour(ctx, f.ID)
	if err != nil || *got != *f {
		t.Fatalf("query = %+v, %v; want %+v", got, err, f)
	}
	if _, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "none", MemoryBytes: 1}); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("0 vcpus: err = %v, want ErrInvalid", err)
	}
	for range 2 {
		if err := d.DeleteFlavour(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.QueryFlavour(ctx, f.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := d.QueryFlavour(ctx, "../../etc/passwd"); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("path id: err = %v, want ErrNotFound", err)
	}
}

func TestImages(t *testing.T) {
	s := needSample(t)
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, dir)

	content, err := os.ReadFile(s.image)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	img := addSample(t, d, s, map[string]string{"vnfPkgId": "p1"})
	if img.ID != hex.EncodeToString(sum[:]) || img.Checksum.Algorithm != "sha256" || img.Checksum.Hash != img.ID {
		t.Errorf("image id/checksum = %s %+v, want the sha256 %x", img.ID, img.Checksum, sum)
	}
	if img.Size != int64(len(content)) || img.Status != "active" || img.DiskFormat != "qcow2" || img.ContainerFormat != "bare" {
		t.Errorf("image = %+v", img)
	}
	if again := addSample(t, d, s, nil); again.ID != img.ID {
		t.Errorf("the same bytes twice gave %s and %s", img.ID, again.ID)
	}
	q, err := d.QueryImage(ctx, img.ID)
	if err != nil || q.Labels["vnfPkgId"] != "p1" {
		t.Fatalf("query = %+v, %v", q, err)
	}

	// A checksum mismatch is refused and nothing is kept.
	bad := strings.Repeat("0", 128)
	_, err = d.AddImage(ctx, vim.ImageSpec{Name: "bad", DiskFormat: "qcow2", Checksum: vim.Checksum{Algorithm: "sha-512", Hash: bad}, Content: bytes.NewReader(append(content, 0))})
	var ce *vim.ChecksumError
	if !errors.Is(err, vim.ErrChecksum) || !errors.As(err, &ce) || ce.Expected != bad || ce.Actual == "" {
		t.Fatalf("mismatch: err = %v, want a *vim.ChecksumError", err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "images"))
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("images dir after a refused image: %v, want only the first image and its record", names)
	}

	// The content is qcow2, the declaration raw.
	_, err = d.AddImage(ctx, vim.ImageSpec{Name: "wrongfmt", DiskFormat: "raw", Checksum: vim.Checksum{Algorithm: "sha512", Hash: s.sha512}, Content: bytes.NewReader(content)})
	if !errors.Is(err, vim.ErrInvalid) || !strings.Contains(err.Error(), "qemu-img reads the content as qcow2") {
		t.Fatalf("disk_format mismatch: err = %v, want ErrInvalid naming qcow2", err)
	}
	_, err = d.AddImage(ctx, vim.ImageSpec{Name: "unknownfmt", DiskFormat: "floppy", Content: bytes.NewReader(content)})
	if !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("unknown disk_format: err = %v, want ErrInvalid", err)
	}

	list, err := d.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].ID != img.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for range 2 {
		if err := d.DeleteImage(ctx, img.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.QueryImage(ctx, img.ID); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("after delete: err = %v", err)
	}
}

// qemuProcesses lists the pids whose command line mentions dir.
func qemuProcesses(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("qemu")) && bytes.Contains(b, []byte(dir)) {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !bytes.Contains(st, []byte(") Z")) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

func console(t *testing.T, d *Driver, id string) string {
	t.Helper()
	rc, err := d.ConsoleLog(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// waitMarker waits until the console holds n markers and returns the wait.
func waitMarker(t *testing.T, d *Driver, id string, n int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if strings.Count(console(t, d, id), marker) >= n {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := console(t, d, id)
	if len(c) > 3000 {
		c = c[len(c)-3000:]
	}
	t.Fatalf("no marker #%d on the console after %v; console ends:\n%s", n, timeout, c)
	return 0
}

func wantState(t *testing.T, c *vim.Compute, err error, state string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if c.State != state {
		t.Fatalf("state = %s (%s), want %s", c.State, c.Detail, state)
	}
}

// TestCompute boots the sample under QEMU: one guest at a time.
func TestCompute(t *testing.T) {
	s := needSample(t)
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, dir)
	img := addSample(t, d, s, map[string]string{LabelKernel: s.kernel})
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	t.Cleanup(func() {
		if id != "" {
			d.TerminateCompute(context.Background(), id)
		}
	})

	start := time.Now()
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Labels: map[string]string{"vdu": "VDU1"}})
	if err != nil {
		t.Fatal(err)
	}
	id = c.ID
	if c.State != vim.StateRunning && c.State != vim.StateBuilding {
		t.Fatalf("after allocate: state %s (%s)", c.State, c.Detail)
	}
	waitMarker(t, d, id, 1, 60*time.Second)
	t.Logf("boot to marker: %.1f s", time.Since(start).Seconds())

	c, err = d.OperateCompute(ctx, id, vim.ActionPause)
	wantState(t, c, err, vim.StatePaused)
	c, err = d.QueryCompute(ctx, id)
	wantState(t, c, err, vim.StatePaused)
	c, err = d.OperateCompute(ctx, id, vim.ActionResume)
	wantState(t, c, err, vim.StateRunning)

	if err := d.DeleteImage(ctx, img.ID); !errors.Is(err, vim.ErrConflict) {
		t.Errorf("deleting an image in use: err = %v, want ErrConflict", err)
	}

	start = time.Now()
	c, err = d.OperateCompute(ctx, id, vim.ActionReboot)
	wantState(t, c, err, vim.StateRunning)
	waitMarker(t, d, id, 2, 60*time.Second)
	t.Logf("reboot to marker: %.1f s", time.Since(start).Seconds())

	start = time.Now()
	c, err = d.OperateCompute(ctx, id, vim.ActionStop)
	wantState(t, c, err, vim.StateStopped)
	t.Logf("stop (ACPI power button): %.1f s", time.Since(start).Seconds())
	if c := console(t, d, id); !strings.Contains(c, "VNFPKGM-SAMPLE-POWEROFF") {
		t.Errorf("the guest did not power off on the power button (QEMU was quit instead); console:\n%s", c[max(0, len(c)-2000):])
	}
	if _, err := d.OperateCompute(ctx, id, vim.ActionPause); !errors.Is(err, vim.ErrWrongState) {
		t.Errorf("pause when stopped: err = %v, want ErrWrongState", err)
	}
	c, err = d.OperateCompute(ctx, id, vim.ActionStart)
	if err != nil {
		t.Fatal(err)
	}
	waitMarker(t, d, id, 3, 60*time.Second)

	// A new driver over the same directory finds the running instance.
	d2 := open(t, dir)
	c, err = d2.QueryCompute(ctx, id)
	wantState(t, c, err, vim.StateRunning)
	if c.Name != "vdu1" || c.ImageID != img.ID || c.Labels["vdu"] != "VDU1" {
		t.Errorf("found again: %+v", c)
	}

	if err := d2.TerminateCompute(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d2.TerminateCompute(ctx, id); err != nil {
		t.Fatalf("terminate twice: %v", err)
	}
	if _, err := d.QueryCompute(ctx, id); !errors.Is(err, vim.ErrNotFound) {
		t.Errorf("after terminate: err = %v, want ErrNotFound", err)
	}
	if ps := qemuProcesses(dir); len(ps) != 0 {
		t.Errorf("qemu processes left: %v", ps)
	}
	if err := d.DeleteImage(ctx, img.ID); err != nil {
		t.Errorf("deleting the image once its compute is gone: %v", err)
	}
}

// TestComputeDiedUnexpectedly: an instance whose QEMU was killed behind the
// driver's back is STOPPED, not RUNNING, for a driver opened afterwards.
func TestComputeDiedUnexpectedly(t *testing.T) {
	s := needSample(t)
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, dir)
	img := addSample(t, d, s, map[string]string{LabelKernel: s.kernel})
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "victim", ImageID: img.ID, FlavourID: fl.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer d.TerminateCompute(context.Background(), c.ID)
	pid, alive := d.pid(c.ID)
	if !alive {
		t.Fatal("no live qemu after allocate")
	}
	p, _ := os.FindProcess(pid)
	p.Kill()
	if !d.waitExit(ctx, c.ID, 10*time.Second) {
		t.Fatal("qemu survived SIGKILL")
	}
	c, err = open(t, dir).QueryCompute(ctx, c.ID)
	wantState(t, c, err, vim.StateStopped)
	if err := d.TerminateCompute(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
}

// openWith opens a driver over dir with options added to open's.
func openWith(t *testing.T, dir string, opts map[string]string) *Driver {
	t.Helper()
	all := map[string]string{"powerdown_timeout": "15s"}
	maps.Copy(all, opts)
	d, err := Open(context.Background(), vim.Config{DataDir: dir, Options: all})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// bootTrouble boots the sample image on a driver with opts and waits until
// the instance is ERROR with reason; it returns the compute then.
func bootTrouble(t *testing.T, opts map[string]string, reason string) *vim.Compute {
	t.Helper()
	s := needSample(t)
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	ctx := context.Background()
	dir := t.TempDir()
	d := openWith(t, dir, opts)
	img := addSample(t, d, s, nil)
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.AllocateCompute(ctx, vim.ComputeSpec{Name: "troubled", ImageID: img.ID, FlavourID: fl.ID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.TerminateCompute(context.Background(), c.ID)
		if ps := qemuProcesses(dir); len(ps) != 0 {
			t.Errorf("qemu processes left: %v", ps)
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got, err := d.QueryCompute(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == vim.StateError && got.StateReason == reason {
			// A driver opened afterwards judges it the same way.
			again, err := openWith(t, dir, opts).QueryCompute(ctx, c.ID)
			if err != nil || again.State != vim.StateError || again.StateReason != reason {
				t.Fatalf("a new driver sees %+v, %v", again, err)
			}
			return got
		}
		if got.State == vim.StateError || time.Now().After(deadline) {
			con := console(t, d, c.ID)
			t.Fatalf("state %s %s (%s), want ERROR %s; console ends:\n%s", got.State, got.StateReason, got.Detail, reason, con[max(0, len(con)-1500):])
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestComputeRebootLoop: a guest kernel that panics and reboots (panic=1)
// again and again is ERROR REBOOT_LOOP, not RUNNING, with the panic.
func TestComputeRebootLoop(t *testing.T) {
	s := needSample(t)
	c := bootTrouble(t, map[string]string{
		"kernel": s.kernel,
		"append": "console=ttyS0 root=/dev/nvme0n1 rw panic=1 init=/nonexistent",
	}, vim.ReasonRebootLoop)
	if !strings.Contains(c.Detail, "Kernel panic - not syncing") || !strings.Contains(c.Detail, "3 times") {
		t.Errorf("detail %q does not give the resets and the panic", c.Detail)
	}
}

// TestComputePanicHalted: a guest kernel that panics and stays halted
// (panic=0) is ERROR GUEST_PANICKED.
func TestComputePanicHalted(t *testing.T) {
	s := needSample(t)
	c := bootTrouble(t, map[string]string{
		"kernel": s.kernel,
		"append": "console=ttyS0 root=/dev/nvme0n1 rw panic=0 init=/nonexistent",
	}, vim.ReasonGuestPanicked)
	if !strings.Contains(c.Detail, "Kernel panic - not syncing") {
		t.Errorf("detail %q does not give the panic", c.Detail)
	}
}

// TestComputeNoKernel: an image without a boot loader started without a
// kernel writes nothing on its console: ERROR NO_BOOT_OUTPUT once
// boot_timeout has passed, not RUNNING with an empty console.
func TestComputeNoKernel(t *testing.T) {
	c := bootTrouble(t, map[string]string{"boot_timeout": "5s"}, vim.ReasonNoBootOutput)
	if !strings.Contains(c.Detail, "kernel") {
		t.Errorf("detail %q does not point at the kernel", c.Detail)
	}
}

// TestGuestReboots: the RESET events of one reboot count once; host
// resets and resets before the window do not count.
func TestGuestReboots(t *testing.T) {
	at := func(sec int64, usec int64, guest bool) qmpEvent {
		var e qmpEvent
		e.Event, e.Timestamp.Seconds, e.Timestamp.Microseconds, e.Data.Guest = "RESET", sec, usec, guest
		return e
	}
	events := []qmpEvent{
		at(100, 0, true),                                              // before the window
		at(200, 0, true), at(200, 40000, true), at(200, 900000, true), // one reboot
		at(205, 0, false),                  // operator reset
		at(210, 0, true), at(210, 1, true), // another
		at(260, 0, true),
	}
	if n := guestReboots(events, time.Unix(150, 0)); n != 3 {
		t.Errorf("guestReboots = %d, want 3", n)
	}
	// A guest that resets every 1.5 s: each reset is a reboot.
	var fast []qmpEvent
	for i := range int64(10) {
		fast = append(fast, at(300+i+i/2, (i%2)*500000, true))
	}
	if n := guestReboots(fast, time.Unix(150, 0)); n != 10 {
		t.Errorf("guestReboots of a fast loop = %d, want 10", n)
	}
	panic := qmpEvent{Event: "GUEST_PANICKED"}
	if !panicked(append(events, panic)) || panicked(append([]qmpEvent{panic}, events...)) {
		t.Error("panicked must hold only for a panic after the last reset")
	}
}

// TestComputeVolumes: the virtual storage becomes qcow2 files in the
// instance's directory (blank, or an overlay over the storage's image),
// attached as further NVMe disks the guest sees, removed with the
// instance; the image a volume is made from is in use.
func TestComputeVolumes(t *testing.T) {
	s := needSample(t)
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, dir)
	img := addSample(t, d, s, map[string]string{LabelKernel: s.kernel})
	fl, err := d.CreateFlavour(ctx, vim.FlavourSpec{Name: "tiny", VCPUs: 1, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	spec := vim.ComputeSpec{Name: "vdu1", ImageID: img.ID, FlavourID: fl.ID, Storage: []vim.StorageSpec{
		{Name: "data", SizeBytes: 3 << 20}, {Name: "seeded", SizeBytes: 1, ImageID: img.ID},
	}}
	bad := spec
	bad.Storage = []vim.StorageSpec{{Name: "seeded", SizeBytes: 1 << 20, ImageID: "0000000000000000000000000000000000000000000000000000000000000000"}}
	if _, err := d.AllocateCompute(ctx, bad); !errors.Is(err, vim.ErrNotFound) || !strings.Contains(err.Error(), "virtual storage seeded") {
		t.Fatalf("a volume from an unknown image: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "instances")); len(ents) != 0 {
		t.Fatalf("a refused allocation left %d instance directories", len(ents))
	}

	c, err := d.AllocateCompute(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.TerminateCompute(context.Background(), c.ID) })
	if len(c.Volumes) != 2 || c.Volumes[0] != "vol0" || c.Volumes[1] != "vol1" {
		t.Fatalf("volumes %v", c.Volumes)
	}
	idir := d.instanceDir(c.ID)
	// qemu-img info -U: QEMU holds the files.
	info := func(file string) (size int64, backing string) {
		t.Helper()
		b, err := exec.Command("qemu-img", "info", "-U", "--output=json", file).Output()
		if err != nil {
			t.Fatalf("qemu-img info %s: %v", file, err)
		}
		var v struct {
			VirtualSize int64  `json:"virtual-size"`
			Backing     string `json:"backing-filename"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.VirtualSize, v.Backing
	}
	if size, backing := info(filepath.Join(idir, "vol0.qcow2")); size != 3<<20 || backing != "" {
		t.Fatalf("vol0: %d bytes over %q, want a blank 3 MiB", size, backing)
	}
	base, _ := info(d.imagePath(img.ID))
	if size, backing := info(filepath.Join(idir, "vol1.qcow2")); size != base || backing != d.imagePath(img.ID) {
		t.Fatalf("vol1: %d bytes over %q, want an overlay over the image, no smaller (%d)", size, backing, base)
	}
	if err := d.DeleteImage(ctx, img.ID); !errors.Is(err, vim.ErrConflict) {
		t.Fatalf("deleting the image: %v, want a conflict", err)
	}
	waitMarker(t, d, c.ID, 1, 60*time.Second)
	// The guest's kernel found three NVMe controllers: the root disk and
	// the two volumes.
	if con := console(t, d, c.ID); !strings.Contains(con, "nvme2") {
		t.Fatalf("the guest does not see a third NVMe disk; console:\n%s", con[max(0, len(con)-3000):])
	}
	if err := d.TerminateCompute(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(idir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("instance directory left: %v", err)
	}
}
