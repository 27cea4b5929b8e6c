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
//	                           (a qcow2 overlay over the image), console.log,
//	                           qemu.pid, qmp.sock, qemu.log (QEMU's stderr)
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
// Options (vim.Config.Options): qemu, qemu-img (command paths), accel (tcg),
// machine (q35), kernel, initrd, append (defaults for images without such
// labels), powerdown_timeout and quit_timeout (Go durations; 20s and 5s).
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

func init() {
	vim.Register(Type, func(ctx context.Context, cfg vim.Config) (vim.Driver, error) {
		return Open(ctx, cfg)
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
	}
	for name, p := range map[string]*time.Duration{"powerdown_timeout": &d.powerdown, "quit_timeout": &d.quit} {
		if s := cfg.Options[name]; s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: option %s: %q is not a duration", vim.ErrInvalid, name, s)
			}
			*p = v
		}
	}
	for _, sub := range []string{"images", "flavours", "instances"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", vim.ErrUnavailable, err)
		}
	}
	return d, nil
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
			vim.CapImages, vim.CapFlavors, vim.CapCompute,
			vim.CapStart, vim.CapStop, vim.CapPause, vim.CapResume, vim.CapReboot,
			vim.CapConsole,
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
