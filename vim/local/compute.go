package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

const mib = 1 << 20

// sockPath is the QMP socket of an instance: in its directory, or, when
// that path is too long for a unix socket address (108 bytes), a name in
// the temporary directory derived from the instance directory, so that a
// later driver finds it again.
func (d *Driver) sockPath(id string) string {
	p := filepath.Join(d.instanceDir(id), "qmp.sock")
	if len(p) < 100 {
		return p
	}
	h := sha256.Sum256([]byte(d.instanceDir(id)))
	return filepath.Join(os.TempDir(), "vnfpkgm-qmp-"+hex.EncodeToString(h[:8])+".sock")
}

func (d *Driver) pidPath(id string) string { return filepath.Join(d.instanceDir(id), "qemu.pid") }

// pid returns the QEMU process of an instance if it is alive: the pid file
// names a live, non-zombie process whose command line names the instance
// directory (so a reused pid is not mistaken for it).
func (d *Driver) pid(id string) (int, bool) {
	b, err := os.ReadFile(d.pidPath(id))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid, d.instanceDir(id))
}

func processAlive(pid int, mark string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte(mark))
}

// qemuPath escapes a path for a QEMU option value (commas are doubled).
func qemuPath(p string) string { return strings.ReplaceAll(p, ",", ",,") }

// bootFiles returns the kernel, initrd and command line for an image: its
// labels, else the driver options; no kernel means boot from the disk.
func (d *Driver) bootFiles(img *vim.Image) (kernel, initrd, cmdline string) {
	get := func(k string) string {
		if v := img.Labels[k]; v != "" {
			return v
		}
		return d.opts[k]
	}
	kernel = get(LabelKernel)
	if kernel == "" {
		return "", "", ""
	}
	cmdline = get(LabelAppend)
	if cmdline == "" {
		cmdline = DefaultAppend
	}
	return kernel, get(LabelInitrd), cmdline
}

// launch starts QEMU for an instance on its existing overlay.
func (d *Driver) launch(ctx context.Context, in *instance) error {
	img, err := d.readImage(in.ImageID)
	if err != nil {
		return err
	}
	fl, err := d.QueryFlavour(ctx, in.FlavourID)
	if err != nil {
		return err
	}
	dir := d.instanceDir(in.ID)
	mem := fl.MemoryBytes / mib
	if mem < 64 {
		mem = 64
	}
	sock := d.sockPath(in.ID)
	os.Remove(sock)
	os.Remove(d.pidPath(in.ID))
	if err := d.markStart(in); err != nil {
		return err
	}
	if err := resetEventLog(dir); err != nil {
		return err
	}
	args := []string{
		"-name", "vnfpkgm-" + in.ID,
		"-accel", d.accel,
		"-M", d.machine,
		"-m", strconv.FormatInt(mem, 10),
		"-smp", strconv.Itoa(max(fl.VCPUs, 1)),
		"-nodefaults", "-display", "none", "-net", "none",
		"-chardev", "file,id=console,append=on,path=" + qemuPath(filepath.Join(dir, "console.log")),
		"-serial", "chardev:console",
		"-drive", "file=" + qemuPath(filepath.Join(dir, "overlay.qcow2")) + ",if=none,id=disk0,format=qcow2",
		"-device", "nvme,drive=disk0,serial=vnf0",
		"-qmp", "unix:" + qemuPath(sock) + ",server=on,wait=off",
		// The event log: a second QMP monitor on a pipe chardev whose
		// input file negotiates capabilities and whose output file
		// receives every event, whether a driver listens or not.
		"-chardev", "pipe,id=events,path=" + qemuPath(filepath.Join(dir, eventLogBase)),
		"-mon", "chardev=events,mode=control",
		"-pidfile", filepath.Join(dir, "qemu.pid"),
		"-daemonize",
	}
	for _, v := range in.Volumes {
		args = append(args,
			"-drive", "file="+qemuPath(filepath.Join(dir, v+".qcow2"))+",if=none,id="+v+",format=qcow2",
			"-device", "nvme,drive="+v+",serial="+v)
	}
	if strings.HasPrefix(d.machine, "q35") || strings.HasPrefix(d.machine, "pc") {
		// A guest with a pvpanic driver reports its panics (GUEST_PANICKED).
		args = append(args, "-device", "pvpanic")
	}
	if kernel, initrd, cmdline := d.bootFiles(img); kernel != "" {
		args = append(args, "-kernel", kernel, "-append", cmdline)
		if initrd != "" {
			args = append(args, "-initrd", initrd)
		}
	} else {
		args = append(args, "-boot", "c")
	}
	logf, err := os.OpenFile(filepath.Join(dir, "qemu.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, d.qemu, args...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Its own session: a signal to the caller's process group does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%w: %s is not installed (apt-get install qemu-system-x86)", vim.ErrUnavailable, d.qemu)
		}
		return fmt.Errorf("%w: starting qemu: %v: %s", vim.ErrUnavailable, err, lastLine(filepath.Join(dir, "qemu.log")))
	}
	return nil
}

// lastLine returns the last non-empty line of a small file.
func lastLine(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// AllocateCompute creates an instance: an overlay over the image, then a
// QEMU process.
func (d *Driver) AllocateCompute(ctx context.Context, spec vim.ComputeSpec) (*vim.Compute, error) {
	img, err := d.QueryImage(ctx, spec.ImageID)
	if err != nil {
		return nil, err
	}
	fl, err := d.QueryFlavour(ctx, spec.FlavourID)
	if err != nil {
		return nil, err
	}
	if err := vim.CheckStorage(Type, spec, true, true, ""); err != nil {
		return nil, err
	}
	// The volumes' images, checked before anything is made.
	volImages := make([]*vim.Image, len(spec.Storage))
	for i, st := range spec.Storage {
		if st.ImageID != "" {
			if volImages[i], err = d.QueryImage(ctx, st.ImageID); err != nil {
				return nil, fmt.Errorf("the image of virtual storage %s: %w", st.Name, err)
			}
		}
	}
	in := &instance{
		Compute: vim.Compute{
			ID: newID(), Name: spec.Name, ImageID: img.ID, FlavourID: fl.ID,
			State: vim.StateBuilding, CreatedAt: time.Now().UTC(), Labels: maps.Clone(spec.Labels),
		},
		Accel: d.accel,
	}
	// Recorded before the files are made: an image a volume is made from
	// is in use from now on (DeleteImage).
	for i, img := range volImages {
		in.Volumes = append(in.Volumes, "vol"+strconv.Itoa(i))
		id := ""
		if img != nil {
			id = img.ID
		}
		in.VolumeImages = append(in.VolumeImages, id)
	}
	dir := d.instanceDir(in.ID)
	d.mu.Lock()
	err = os.Mkdir(dir, 0o755)
	if err == nil {
		err = d.writeInstance(in)
	}
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*vim.Compute, error) {
		d.TerminateCompute(context.WithoutCancel(ctx), in.ID)
		return nil, err
	}
	args := []string{"create", "-q", "-f", "qcow2", "-F", qemuFormats[img.DiskFormat], "-b", d.imagePath(img.ID), filepath.Join(dir, "overlay.qcow2")}
	if fl.DiskBytes > 0 {
		if info, err := d.imgInfo(ctx, d.imagePath(img.ID), qemuFormats[img.DiskFormat]); err == nil && fl.DiskBytes > info.VirtualSize {
			args = append(args, strconv.FormatInt(fl.DiskBytes, 10))
		}
	}
	if err := d.qemuImgCreate(ctx, args); err != nil {
		return fail(err)
	}
	for i, st := range spec.Storage {
		name := in.Volumes[i]
		args := []string{"create", "-q", "-f", "qcow2"}
		size := st.SizeBytes
		if img := volImages[i]; img != nil {
			args = append(args, "-F", qemuFormats[img.DiskFormat], "-b", d.imagePath(img.ID))
			if info, err := d.imgInfo(ctx, d.imagePath(img.ID), qemuFormats[img.DiskFormat]); err == nil && info.VirtualSize > size {
				size = info.VirtualSize
			}
		}
		args = append(args, filepath.Join(dir, name+".qcow2"), strconv.FormatInt(size, 10))
		if err := d.qemuImgCreate(ctx, args); err != nil {
			return fail(fmt.Errorf("virtual storage %s: %w", st.Name, err))
		}
	}
	if err := d.launch(ctx, in); err != nil {
		return fail(err)
	}
	return d.QueryCompute(ctx, in.ID)
}

// qemuImgCreate runs qemu-img with args.
func (d *Driver) qemuImgCreate(ctx context.Context, args []string) error {
	if out, err := exec.CommandContext(ctx, d.qemuImg, args...).CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%w: %s is not installed (apt-get install qemu-utils)", vim.ErrUnavailable, d.qemuImg)
		}
		return fmt.Errorf("%w: qemu-img create: %v: %s", vim.ErrUnavailable, err, bytes.TrimSpace(out))
	}
	return nil
}

// QueryCompute reports an instance's state: from QMP query-status while
// its process lives, ERROR when its guest is in trouble (see the package
// documentation), else STOPPED (stopped on request, the guest powered off,
// QEMU killed) or ERROR (QEMU failed), each with a vim.Reason*.
func (d *Driver) QueryCompute(ctx context.Context, id string) (*vim.Compute, error) {
	in, err := d.readInstance(id)
	if err != nil {
		return nil, err
	}
	c := in.Compute
	c.Labels = maps.Clone(c.Labels)
	st := d.runState(ctx, in)
	if st.state == vim.StateRunning {
		st = d.guestTrouble(in, time.Now())
	}
	c.State, c.StateReason, c.Detail = st.state, st.reason, st.detail
	return &c, nil
}

// status is a state with its reason and detail.
type status struct{ state, reason, detail string }

// runState is the state of the QEMU process and its virtual machine, as
// QMP and the event log tell it, without judging the guest.
func (d *Driver) runState(ctx context.Context, in *instance) status {
	if _, alive := d.pid(in.ID); !alive {
		return d.exitState(in)
	}
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := qmpStatus(qctx, d.sockPath(in.ID))
	if err != nil {
		if time.Since(in.CreatedAt) < 10*time.Second {
			return status{state: vim.StateBuilding}
		}
		return status{vim.StateError, vim.ReasonHypervisorFailed, "qemu runs but does not answer on QMP: " + err.Error()}
	}
	switch st {
	case "running", "debug":
		return status{state: vim.StateRunning}
	case "paused", "suspended":
		return status{state: vim.StatePaused}
	case "shutdown":
		return status{vim.StateStopped, vim.ReasonGuestPoweredOff, "shut down"}
	case "guest-panicked":
		return status{vim.StateError, vim.ReasonGuestPanicked, "the guest kernel panicked (pvpanic)" + lastPanic(d.consoleTail(in.ID))}
	case "inmigrate", "prelaunch", "restore-vm", "finish-migrate", "postmigrate", "save-vm":
		return status{state: vim.StateBuilding, detail: st}
	default: // internal-error, io-error, watchdog, ...
		return status{vim.StateError, vim.ReasonHypervisorFailed, "qemu status " + st}
	}
}

// exitState is the state of an instance whose QEMU process is gone: what
// its last SHUTDOWN event says, or that it was killed.
func (d *Driver) exitState(in *instance) status {
	if in.Stopped {
		return status{state: vim.StateStopped}
	}
	dir := d.instanceDir(in.ID)
	// With -daemonize QEMU's stderr only holds what it said while
	// starting; an error there means it failed.
	if msg := lastLine(filepath.Join(dir, "qemu.log")); strings.Contains(strings.ToLower(msg), "error") {
		return status{vim.StateError, vim.ReasonHypervisorFailed, "qemu exited: " + msg}
	}
	events, _ := readEventLog(dir)
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Event != "SHUTDOWN" {
			continue
		}
		switch reason := events[i].Data.Reason; reason {
		case "guest-panic":
			return status{vim.StateError, vim.ReasonGuestPanicked, "the guest kernel panicked and qemu shut down" + lastPanic(d.consoleTail(in.ID))}
		case "guest-shutdown":
			return status{vim.StateStopped, vim.ReasonGuestPoweredOff, "the guest powered off"}
		default: // host-signal, host-qmp-quit, ...
			return status{vim.StateStopped, vim.ReasonProcessExited, "qemu shut down (" + reason + ")"}
		}
	}
	return status{vim.StateStopped, vim.ReasonProcessExited, "the qemu process exited without shutting down (killed)"}
}

// guestTrouble judges the guest of a running instance: a panic it
// reported, a reboot loop, a panic that ended the console, or a console
// still empty boot_timeout after the start. None: RUNNING.
func (d *Driver) guestTrouble(in *instance, now time.Time) status {
	dir := d.instanceDir(in.ID)
	events, _ := readEventLog(dir)
	console := d.consoleTail(in.ID)
	if panicked(events) {
		return status{vim.StateError, vim.ReasonGuestPanicked, "the guest kernel panicked (pvpanic)" + lastPanic(console)}
	}
	if n := guestReboots(events, now.Add(-d.rebootLoopWindow)); n >= d.rebootLoopCount {
		return status{vim.StateError, vim.ReasonRebootLoop,
			fmt.Sprintf("the guest reset itself %d times in the last %s (reboot_loop_count %d)", n, d.rebootLoopWindow, d.rebootLoopCount) + lastPanic(console)}
	}
	if line := lastConsoleLine(console); strings.HasPrefix(line, "---[ end Kernel panic") {
		return status{vim.StateError, vim.ReasonGuestPanicked, "the guest kernel panicked and halted: " + line}
	}
	if d.bootTimeout > 0 && !in.LaunchedAt.IsZero() && now.Sub(in.LaunchedAt) > d.bootTimeout {
		if fi, err := os.Stat(filepath.Join(dir, "console.log")); err != nil || fi.Size() <= in.ConsoleAt {
			return status{vim.StateError, vim.ReasonNoBootOutput, fmt.Sprintf(
				"nothing on the serial console (ttyS0) %s after the start: no kernel (the option or image label kernel) and no boot loader on the image, "+
					"or a guest that does not use ttyS0 (boot_timeout=0 turns this check off)", d.bootTimeout)}
		}
	}
	return status{state: vim.StateRunning}
}

// markStart records when the guest starts (a launch or a reboot) and how
// much console it had then.
func (d *Driver) markStart(in *instance) error {
	in.LaunchedAt = time.Now().UTC()
	in.ConsoleAt = 0
	if fi, err := os.Stat(filepath.Join(d.instanceDir(in.ID), "console.log")); err == nil {
		in.ConsoleAt = fi.Size()
	}
	return d.writeInstance(in)
}

// consoleTail is the end of an instance's console log.
func (d *Driver) consoleTail(id string) []byte {
	b, _ := readTail(filepath.Join(d.instanceDir(id), "console.log"), consoleTailSize)
	return b
}

// OperateCompute pauses, resumes, reboots, stops or starts an instance.
func (d *Driver) OperateCompute(ctx context.Context, id, action string) (*vim.Compute, error) {
	in, err := d.readInstance(id)
	if err != nil {
		return nil, err
	}
	state := d.runState(ctx, in).state
	sock := d.sockPath(id)
	wrong := func() (*vim.Compute, error) {
		return nil, fmt.Errorf("%w: cannot %s compute %s in state %s", vim.ErrWrongState, action, id, state)
	}
	switch action {
	case vim.ActionPause:
		if state == vim.StatePaused {
			break
		}
		if state != vim.StateRunning {
			return wrong()
		}
		if _, err := qmpDo(ctx, sock, "stop"); err != nil {
			return nil, fmt.Errorf("%w: pause: %v", vim.ErrUnavailable, err)
		}
	case vim.ActionResume:
		if state == vim.StateRunning {
			break
		}
		if state != vim.StatePaused {
			return wrong()
		}
		if _, err := qmpDo(ctx, sock, "cont"); err != nil {
			return nil, fmt.Errorf("%w: resume: %v", vim.ErrUnavailable, err)
		}
	case vim.ActionReboot:
		if state != vim.StateRunning && state != vim.StatePaused {
			return wrong()
		}
		if err := d.markStart(in); err != nil {
			return nil, err
		}
		if _, err := qmpDo(ctx, sock, "system_reset"); err != nil {
			return nil, fmt.Errorf("%w: reboot: %v", vim.ErrUnavailable, err)
		}
		if state == vim.StatePaused {
			if _, err := qmpDo(ctx, sock, "cont"); err != nil {
				return nil, fmt.Errorf("%w: reboot: %v", vim.ErrUnavailable, err)
			}
		}
	case vim.ActionStop:
		if _, alive := d.pid(id); alive {
			if err := d.powerOff(ctx, id, state == vim.StateRunning); err != nil {
				return nil, err
			}
		}
		in.Stopped = true
		if err := d.writeInstance(in); err != nil {
			return nil, err
		}
	case vim.ActionStart:
		if _, alive := d.pid(id); alive {
			if state == vim.StateRunning || state == vim.StateBuilding {
				break
			}
			return wrong()
		}
		in.Stopped = false
		if err := d.writeInstance(in); err != nil {
			return nil, err
		}
		if err := d.launch(ctx, in); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: action %q (known: start, stop, pause, resume, reboot)", vim.ErrInvalid, action)
	}
	return d.QueryCompute(ctx, id)
}

// waitExit waits until the instance's process is gone or the timeout passes.
func (d *Driver) waitExit(ctx context.Context, id string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if _, alive := d.pid(id); !alive {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// powerOff asks the guest to power off (ACPI) when graceful, then quits
// QEMU, then kills it; it returns once the process is gone.
func (d *Driver) powerOff(ctx context.Context, id string, graceful bool) error {
	sock := d.sockPath(id)
	if graceful && d.powerdown > 0 {
		if _, err := qmpDo(ctx, sock, "system_powerdown"); err == nil && d.waitExit(ctx, id, d.powerdown) {
			return nil
		}
	}
	qmpDo(ctx, sock, "quit") // its answer races the exit; the wait below decides
	if d.waitExit(ctx, id, d.quit) {
		return nil
	}
	if pid, alive := d.pid(id); alive {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if !d.waitExit(context.WithoutCancel(ctx), id, 5*time.Second) {
		return fmt.Errorf("%w: qemu of compute %s does not exit", vim.ErrUnavailable, id)
	}
	return nil
}

// TerminateCompute quits QEMU (killing it after a timeout) and removes the
// instance; a missing instance is no error.
func (d *Driver) TerminateCompute(ctx context.Context, id string) error {
	if err := validID("compute", id); err != nil {
		return nil
	}
	dir := d.instanceDir(id)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, alive := d.pid(id); alive {
		if err := d.powerOff(ctx, id, false); err != nil {
			return err
		}
	}
	sock := d.sockPath(id)
	d.mu.Lock()
	defer d.mu.Unlock()
	os.Remove(sock)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return nil
}

// ConsoleLog returns what the instance wrote to its serial console.
func (d *Driver) ConsoleLog(ctx context.Context, id string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := d.readInstance(id); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(d.instanceDir(id), "console.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return f, err
}
