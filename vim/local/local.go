// Package local is the embedded default VIM: software images kept
// content-addressed on disk and compute as one qemu-system-x86_64 process
// per instance, controlled over QMP.
//
// Layout under Config.DataDir:
//
//	images/<sha256>            the image bytes, named by their SHA-256
//	images/<sha256>.json       its metadata (vim.Image)
//	flavours/<id>.json         flavour records (vim.Flavour)
//	instances/<id>/            one per compute: instance.json, overlay.qcow2
//	                           (a qcow2 overlay over the image), vol<N>.qcow2
//	                           (the virtual storage), console.log, qemu.pid,
//	                           qmp.sock, qemu.log (QEMU's stderr)
//
// Virtual storage (vim.ComputeSpec.Storage): each volume is a qcow2 file
// in the instance's directory, blank or an overlay over the storage's
// image (grown to size_of_storage when that is larger), attached as a
// further NVMe disk whose serial is vol<N> (/dev/nvme1n1, ... in storage
// order; /dev/disk/by-id names it by serial). The files go with the
// instance's directory when it is terminated.
//
// QEMU runs with -daemonize, so instances outlive the driver; a driver
// opened later over the same DataDir finds them again through qemu.pid and
// the QMP socket.
//
// Guests run under TCG (-accel tcg): KVM is not used unless the option
// "accel" says so, because on the machines this was built on /dev/kvm
// exists but guests hang under it.
//
// Images that carry no boot loader, such as a bare root file system, boot
// with an external kernel, as Glance's kernel_id/ramdisk_id images do: the
// image labels (or driver options) "kernel", "initrd" and "append" name a
// kernel and initramfs on the VIM host and the kernel command line; the
// default command line is "console=ttyS0 root=/dev/nvme0n1 rw panic=-1".
// The disk is attached as NVMe, which the Debian cloud kernel has built in.
//
// Options (vim.Config.Options) are listed, with their defaults, in
// Options; vim.CheckConfig refuses any other, and Check verifies the
// files and programs they name before a VIM is registered.
//
// Instance states: QEMU writes its QMP events (RESET, SHUTDOWN,
// GUEST_PANICKED, ...) to instances/<id>/events.out through a second QMP
// monitor whose input, events.in, holds only the capabilities
// negotiation, so every event is kept even while no driver is connected.
// QueryCompute reads the tail of that file and of the console: a guest
// that panicked (a pvpanic event, or the kernel's final
// "---[ end Kernel panic" line ending the console), that reset itself
// reboot_loop_count times within reboot_loop_window (a panic with
// panic=N or panic=-1, the default command line's), or that wrote nothing
// on its console within boot_timeout of a start (no kernel and no boot
// loader) is ERROR with a vim.Reason* saying which.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// Type is the registered driver type.
const Type = "local"

// DefaultAppend is the kernel command line for images booted with an
// external kernel and no "append" label.
const DefaultAppend = "console=ttyS0 root=/dev/nvme0n1 rw panic=-1"

// Label and option names.
const (
	LabelKernel = "kernel"
	LabelInitrd = "initrd"
	LabelAppend = "append"
)

// Defaults of the options that detect a guest that does not come up.
const (
	DefaultBootTimeout      = 60 * time.Second
	DefaultRebootLoopCount  = 3
	DefaultRebootLoopWindow = 5 * time.Minute
)

// Options are the options of the local VIM type.
var Options = []vim.Option{
	{Name: "kernel", Value: "PATH", Help: "kernel (bzImage) on the VIM host for images without a boot loader and without a kernel label; an absolute path to a readable regular file"},
	{Name: "initrd", Value: "PATH", Help: "initramfs to go with kernel; an absolute path to a readable regular file"},
	{Name: "append", Value: "ARGS", Default: DefaultAppend, Help: "kernel command line for images without an append label"},
	{Name: "qemu", Value: "COMMAND", Default: "qemu-system-x86_64", Help: "the QEMU system emulator, found on PATH unless absolute"},
	{Name: "qemu-img", Value: "COMMAND", Default: "qemu-img", Help: "qemu-img, which checks images and makes instance overlays"},
	{Name: "accel", Value: "tcg|kvm", Default: "tcg", Help: "QEMU accelerator; kvm needs a usable /dev/kvm"},
	{Name: "machine", Value: "TYPE", Default: "q35", Help: "QEMU machine type (qemu-system-x86_64 -machine help lists them)"},
	{Name: "powerdown_timeout", Value: "DURATION", Default: "20s", Help: "how long stop waits for the guest to power off after the ACPI power button before QEMU is quit"},
	{Name: "quit_timeout", Value: "DURATION", Default: "5s", Help: "how long QEMU may take to quit before it is killed"},
	{Name: "boot_timeout", Value: "DURATION", Default: DefaultBootTimeout.String(), Help: "an instance with nothing on its serial console this long after a start is ERROR (NO_BOOT_OUTPUT); 0 turns this off for guests that do not use ttyS0"},
	{Name: "reboot_loop_count", Value: "N", Default: strconv.Itoa(DefaultRebootLoopCount), Help: "an instance whose guest resets itself N times within reboot_loop_window is ERROR (REBOOT_LOOP); at least 2"},
	{Name: "reboot_loop_window", Value: "DURATION", Default: DefaultRebootLoopWindow.String(), Help: "the window of reboot_loop_count"},
}

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open: func(ctx context.Context, cfg vim.Config) (vim.Driver, error) {
			return Open(ctx, cfg)
		},
		Options: Options,
		Check:   Check,
	})
}

// Driver is the local VIM.
type Driver struct {
	dir     string
	opts    map[string]string
	qemu    string
	qemuImg string
	accel   string
	machine string
	// powerdown is how long "stop" waits for the guest to power off
	// before quitting QEMU; quit how long QEMU may take to exit before it
	// is killed.
	powerdown time.Duration
	quit      time.Duration
	// bootTimeout, rebootLoopCount and rebootLoopWindow: see Options.
	bootTimeout      time.Duration
	rebootLoopCount  int
	rebootLoopWindow time.Duration

	mu sync.Mutex // serialises changes to images, flavours and instances

	versionOnce sync.Once
	version     string
}

var _ vim.Driver = (*Driver)(nil)
var _ vim.ConsoleReader = (*Driver)(nil)

// Open opens the local VIM over cfg.DataDir (created if missing; "./data/vim-local"
// when empty).
func Open(ctx context.Context, cfg vim.Config) (*Driver, error) {
	dir := cfg.DataDir
	if dir == "" {
		dir = filepath.Join("data", "vim-local")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		dir:       abs,
		opts:      cfg.Options,
		qemu:      option(cfg.Options, "qemu", "qemu-system-x86_64"),
		qemuImg:   option(cfg.Options, "qemu-img", "qemu-img"),
		accel:     option(cfg.Options, "accel", "tcg"),
		machine:   option(cfg.Options, "machine", "q35"),
		powerdown: 20 * time.Second,
		quit:      5 * time.Second,

		bootTimeout:      DefaultBootTimeout,
		rebootLoopCount:  DefaultRebootLoopCount,
		rebootLoopWindow: DefaultRebootLoopWindow,
	}
	if err := d.parseTunables(cfg.Options); err != nil {
		return nil, err
	}
	for _, sub := range []string{"images", "flavours", "instances"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", vim.ErrUnavailable, err)
		}
	}
	return d, nil
}

// parseTunables reads the duration and count options.
func (d *Driver) parseTunables(opts map[string]string) error {
	for _, o := range []struct {
		name string
		p    *time.Duration
	}{
		{"powerdown_timeout", &d.powerdown}, {"quit_timeout", &d.quit},
		{"boot_timeout", &d.bootTimeout}, {"reboot_loop_window", &d.rebootLoopWindow},
	} {
		if s := opts[o.name]; s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < 0 {
				return vim.OptionErrorf(o.name, "%q is not a duration such as 30s or 5m", s)
			}
			*o.p = v
		}
	}
	if s := opts["reboot_loop_window"]; s != "" && d.rebootLoopWindow == 0 {
		return vim.OptionErrorf("reboot_loop_window", "must be positive")
	}
	if s := opts["reboot_loop_count"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			return vim.OptionErrorf("reboot_loop_count", "%q is not a whole number of at least 2", s)
		}
		d.rebootLoopCount = n
	}
	return nil
}

// Check verifies, before a VIM is registered, what the options name on
// this host: the kernel and initrd are absolute paths to readable regular
// files, the QEMU programs exist, the accelerator and machine type are
// ones QEMU has, and the tunables parse.
func Check(ctx context.Context, cfg vim.Config) error {
	var d Driver
	if err := d.parseTunables(cfg.Options); err != nil {
		return err
	}
	for _, name := range []string{LabelKernel, LabelInitrd} {
		if p, ok := cfg.Options[name]; ok {
			if err := checkBootFile(p); err != nil {
				return vim.OptionErrorf(name, "%s", err)
			}
		}
	}
	qemu, err := checkProgram(cfg.Options, "qemu", "qemu-system-x86_64", "qemu-system-x86")
	if err != nil {
		return err
	}
	if _, err := checkProgram(cfg.Options, "qemu-img", "qemu-img", "qemu-utils"); err != nil {
		return err
	}
	switch accel := option(cfg.Options, "accel", "tcg"); accel {
	case "tcg":
	case "kvm":
		f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
		if err != nil {
			return vim.OptionErrorf("accel", "kvm: /dev/kvm cannot be used: %v", err)
		}
		f.Close()
	default:
		return vim.OptionErrorf("accel", "%q is not tcg or kvm", accel)
	}
	if m, ok := cfg.Options["machine"]; ok {
		return checkMachine(ctx, qemu, m)
	}
	return nil
}

// checkBootFile refuses a kernel or initrd path QEMU could not read.
// Relative paths are refused too: QEMU runs in the instance's directory.
func checkBootFile(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%q: %v", p, errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%q cannot be read: %v", p, errors.Unwrap(err))
	}
	return f.Close()
}

// checkProgram finds the program an option names (or its default) and
// returns its path.
func checkProgram(opts map[string]string, name, def, debianPackage string) (string, error) {
	prog := option(opts, name, def)
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", vim.OptionErrorf(name, "%q is not an executable program on this host (apt-get install %s)", prog, debianPackage)
	}
	return p, nil
}

// checkMachine asks QEMU for its machine types.
func checkMachine(ctx context.Context, qemu, machine string) error {
	out, err := exec.CommandContext(ctx, qemu, "-machine", "help").Output()
	if err != nil {
		return vim.OptionErrorf("machine", "%s -machine help failed: %v", qemu, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == machine {
			return nil
		}
	}
	return vim.OptionErrorf("machine", "%q is not a machine type of %s (see %s -machine help)", machine, qemu, qemu)
}

func option(opts map[string]string, name, def string) string {
	if v := opts[name]; v != "" {
		return v
	}
	return def
}

// Info reports the type, QEMU's version and the capabilities.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	if err := ctx.Err(); err != nil {
		return vim.Info{}, err
	}
	d.versionOnce.Do(func() {
		out, err := exec.CommandContext(ctx, d.qemu, "--version").Output()
		if err == nil {
			d.version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		}
	})
	return vim.Info{
		Type:    Type,
		Version: d.version,
		Capabilities: []vim.Capability{
			vim.CapImages, vim.CapDeleteImages, vim.CapFlavors, vim.CapCompute,
			vim.CapStart, vim.CapStop, vim.CapPause, vim.CapResume, vim.CapReboot,
			vim.CapConsole, vim.CapStorage, vim.CapStorageImage,
		},
	}, nil
}

// Close releases nothing: instances keep running.
func (d *Driver) Close() error { return nil }

// writeJSON writes v to path atomically (temp file then rename).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readJSON reads path into v; a missing file is vim.ErrNotFound.
func readJSON(path, what, id string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s %s", vim.ErrNotFound, what, id)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s: corrupt record %s: %v", what, id, path, err)
	}
	return nil
}

// validID refuses ids that could escape their directory.
func validID(what, id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || id == "." || id == ".." || strings.HasPrefix(id, ".") {
		return fmt.Errorf("%w: %s %q", vim.ErrNotFound, what, id)
	}
	return nil
}

// ---- flavours ----

func (d *Driver) flavourPath(id string) string { return filepath.Join(d.dir, "flavours", id+".json") }

// CreateFlavour stores a flavour record.
func (d *Driver) CreateFlavour(ctx context.Context, spec vim.FlavourSpec) (*vim.Flavour, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.VCPUs < 1 {
		return nil, fmt.Errorf("%w: flavour %q: vcpus must be at least 1, not %d", vim.ErrInvalid, spec.Name, spec.VCPUs)
	}
	if spec.MemoryBytes <= 0 || spec.DiskBytes < 0 {
		return nil, fmt.Errorf("%w: flavour %q: memory must be positive and disk not negative", vim.ErrInvalid, spec.Name)
	}
	f := &vim.Flavour{ID: newID(), Name: spec.Name, VCPUs: spec.VCPUs, MemoryBytes: spec.MemoryBytes, DiskBytes: spec.DiskBytes}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := writeJSON(d.flavourPath(f.ID), f); err != nil {
		return nil, err
	}
	return f, nil
}

// QueryFlavour reads a flavour record.
func (d *Driver) QueryFlavour(ctx context.Context, id string) (*vim.Flavour, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validID("flavour", id); err != nil {
		return nil, err
	}
	var f vim.Flavour
	if err := readJSON(d.flavourPath(id), "flavour", id, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteFlavour removes a flavour record; a missing one is no error.
func (d *Driver) DeleteFlavour(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validID("flavour", id); err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(d.flavourPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ---- instance records, shared by images and compute ----

// instance is the record kept in instances/<id>/instance.json.
type instance struct {
	vim.Compute
	Accel string `json:"accel"`
	// Stopped is true after a requested stop: a dead process is then
	// STOPPED, otherwise the process died on its own.
	Stopped bool `json:"stopped"`
	// LaunchedAt is when the guest last started (QEMU launched or the
	// instance rebooted) and ConsoleAt the size of console.log then: the
	// console is "empty since the start" while it has not grown past it.
	LaunchedAt time.Time `json:"launchedAt"`
	ConsoleAt  int64     `json:"consoleAt"`
	// VolumeImages are the images the volumes (Compute.Volumes) are
	// overlays over, "" for a blank one: those images are in use.
	VolumeImages []string `json:"volumeImages,omitempty"`
}

func (d *Driver) instanceDir(id string) string { return filepath.Join(d.dir, "instances", id) }

func (d *Driver) readInstance(id string) (*instance, error) {
	if err := validID("compute", id); err != nil {
		return nil, err
	}
	var in instance
	if err := readJSON(filepath.Join(d.instanceDir(id), "instance.json"), "compute", id, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

func (d *Driver) writeInstance(in *instance) error {
	return writeJSON(filepath.Join(d.instanceDir(in.ID), "instance.json"), in)
}

// instances lists every instance record.
func (d *Driver) instances() ([]*instance, error) {
	ents, err := os.ReadDir(filepath.Join(d.dir, "instances"))
	if err != nil {
		return nil, err
	}
	var out []*instance
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		in, err := d.readInstance(e.Name())
		if err != nil {
			continue // a half-created or half-removed instance
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
