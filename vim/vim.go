// Package vim is the VIM driver layer, modelled on ETSI GS NFV-IFA 005/006
// (software image management, virtualised compute): one Driver interface
// that hands a package's software images to a VIM and provisions compute
// for its VDUs, a registry of driver types, and typed errors.
//
// Drivers live in sub-packages (vim/local for QEMU, vim/openstack for
// Glance and Nova) and register themselves with Register in an init func.
package vim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Capability names what a driver can do, so that an unsupported operation
// is refused before anything is changed.
type Capability string

const (
	CapImages Capability = "images"
	// CapDeleteImages: DeleteImage removes an image from the VIM. A
	// driver without it answers DeleteImage with ErrNotSupported: its
	// images stay in the VIM for good (KubeVim's API has no deletion).
	CapDeleteImages Capability = "deleteImages"
	CapFlavors      Capability = "flavors"
	CapCompute      Capability = "compute"
	// Compute operations beyond allocate/query/terminate.
	CapStart  Capability = "start"
	CapStop   Capability = "stop"
	CapPause  Capability = "pause"
	CapResume Capability = "resume"
	CapReboot Capability = "reboot"
	// CapConsole: Compute.ConsoleLog works.
	CapConsole Capability = "console"
	// CapStorage: AllocateCompute creates and attaches the blank block
	// volumes of ComputeSpec.Storage (those without an ImageID), and
	// removes them with the compute.
	CapStorage Capability = "storage"
	// CapStorageImage: AllocateCompute creates block volumes from a
	// software image (StorageSpec.ImageID).
	CapStorageImage Capability = "storage-image"
)

// Info describes a VIM instance.
type Info struct {
	Type         string       `json:"type"`
	Version      string       `json:"version,omitempty"`
	Capabilities []Capability `json:"capabilities"`
}

// Has reports whether the VIM has a capability.
func (i Info) Has(c Capability) bool {
	for _, x := range i.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Checksum is an algorithm name (any known to csar/digest) and a hex digest.
type Checksum struct {
	Algorithm string `json:"algorithm"`
	Hash      string `json:"hash"`
}

// ImageSpec asks a VIM to store a software image (IFA 006 AddImage).
type ImageSpec struct {
	Name            string
	Version         string
	ContainerFormat string // SOL 001 spelling, lower case: bare, ova, ...
	DiskFormat      string // qcow2, raw, ...
	MinDisk         int64  // bytes
	MinRAM          int64  // bytes
	Size            int64  // bytes of Content
	// Checksum is what the VNFD declares; the driver verifies what the VIM
	// stored against the bytes it sent, whatever algorithm the VIM uses,
	// and this against the same bytes.
	Checksum Checksum
	// Content streams the image; it is read once. Drivers whose VIM pulls
	// the image itself (SourceURL) leave it unread.
	Content io.Reader
	// SourceURL is where the VIM can fetch the same bytes itself: the
	// image's artifact URL on this server's public URL; empty when the
	// server has no address a VIM could reach.
	SourceURL string
	// Labels are stored with the image (package id, software image id).
	Labels map[string]string
	// OCI, when set, names the image on the catalogue's OCI endpoint, for
	// the VIMs that pull images from a registry instead of reading
	// Content. It is a function: naming the image by digest reads the
	// image once (the first time it is named), which the drivers that read
	// Content never need.
	OCI func(ctx context.Context) (*OCIReference, error)
}

// OCIReference names an image on the catalogue's OCI endpoint (/v2).
type OCIReference struct {
	Registry   string // base URL of the endpoint, e.g. http://127.0.0.1:9890
	Repository string // vnfpkg/<vnfdId>/<softwareImageId>
	Tag        string
	Digest     string // sha256 digest of the manifest
}

// Image is a software image as the VIM holds it (IFA 006 SoftwareImageInformation).
type Image struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Version         string            `json:"version,omitempty"`
	Status          string            `json:"status"` // "active" once usable
	ContainerFormat string            `json:"containerFormat"`
	DiskFormat      string            `json:"diskFormat"`
	Size            int64             `json:"size"`
	Checksum        Checksum          `json:"checksum"` // as the VIM computed it
	CreatedAt       time.Time         `json:"createdAt"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// FlavourSpec describes virtual compute (IFA 005 VirtualComputeFlavour).
type FlavourSpec struct {
	Name        string
	VCPUs       int
	MemoryBytes int64
	DiskBytes   int64
}

// Flavour is a compute flavour as the VIM holds it.
type Flavour struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	VCPUs       int    `json:"vcpus"`
	MemoryBytes int64  `json:"memoryBytes"`
	DiskBytes   int64  `json:"diskBytes"`
}

// ComputeSpec asks for one virtualised compute resource (IFA 005 AllocateComputeRequest).
type ComputeSpec struct {
	Name      string
	ImageID   string
	FlavourID string
	Labels    map[string]string
	// Storage is the VDU's virtual block storage, in the order of its
	// virtual_storage requirements: volumes made for this compute and
	// removed with it. A driver that cannot make one of them refuses the
	// whole allocation (ErrNotSupported) before creating anything; none
	// drops a volume silently. CapStorage and CapStorageImage say which
	// it can make.
	Storage []StorageSpec
	// Kernel and Initrd, when set, are the VDU's own boot files (the
	// VNFD's artifacts of the VDU named kernel and initrd), for the
	// drivers that boot a kernel held apart from the image (flintlock).
	// The others boot as their image or their VIM's configuration says
	// and do not read them (documented per driver).
	Kernel, Initrd *BootFile
}

// BootFile is a kernel or initial ramdisk in the package, served by the
// catalogue's OCI endpoint as an image holding the file.
type BootFile struct {
	// Path is the file in the package (for messages).
	Path string
	// OCI names the image holding the file; nil when the server has no
	// address a VIM could reach.
	OCI func(ctx context.Context) (*OCIReference, error)
	// File is the file's path inside that image.
	File string
}

// StorageSpec is one block volume of a compute (SOL 001
// tosca.nodes.nfv.Vdu.VirtualBlockStorage).
type StorageSpec struct {
	// Name is the storage node's name in the VNFD (unique per compute).
	Name string
	// SizeBytes is virtual_block_storage_data.size_of_storage; drivers
	// round it up to their unit, never down.
	SizeBytes int64
	// ImageID, when set, is the VIM's id of the software image the volume
	// starts from (the storage node's sw_image_data and SwImage artifact,
	// registered with the VIM); empty: a blank volume.
	ImageID string
}

// CheckStorage refuses a spec whose storage a driver of type typ cannot
// make: blank volumes need blank, volumes from an image need fromImage.
// why says what the VIM lacks; the error is ErrNotSupported, naming the
// volume.
func CheckStorage(typ string, spec ComputeSpec, blank, fromImage bool, why string) error {
	for _, st := range spec.Storage {
		if st.ImageID == "" && !blank || st.ImageID != "" && !fromImage {
			kind := "a blank block volume"
			if st.ImageID != "" {
				kind = "a block volume from a software image"
			}
			return fmt.Errorf("%w: VIM type %s cannot make %s (virtual storage %s): %s", ErrNotSupported, typ, kind, st.Name, why)
		}
		if st.SizeBytes <= 0 {
			return fmt.Errorf("%w: virtual storage %s has no size_of_storage", ErrInvalid, st.Name)
		}
	}
	return nil
}

// Compute states. IFA 005 gives a VirtualCompute an operationalState
// (ENABLED, DISABLED) only: RUNNING is ENABLED, every other state
// DISABLED; the others say why, as Nova's server status does.
const (
	StateBuilding = "BUILDING"
	StateRunning  = "RUNNING"
	StatePaused   = "PAUSED"
	StateStopped  = "STOPPED"
	StateError    = "ERROR"
	// StateUnknown: the VIM could not be asked (the server's lists only).
	StateUnknown = "UNKNOWN"
)

// State reasons (Compute.StateReason): a stable code for why a compute is
// ERROR, or STOPPED without a request; Detail says it in words.
const (
	// ReasonGuestPanicked: the guest's kernel panicked (a GUEST_PANICKED
	// event from a pvpanic device, or the kernel's panic message ending the
	// console).
	ReasonGuestPanicked = "GUEST_PANICKED"
	// ReasonRebootLoop: the guest reset itself again and again within a
	// short window (e.g. a kernel panic with panic=N, an init that fails).
	ReasonRebootLoop = "REBOOT_LOOP"
	// ReasonNoBootOutput: nothing on the console within the boot timeout
	// after a start: no kernel and no boot loader, or a guest that does not
	// use the console.
	ReasonNoBootOutput = "NO_BOOT_OUTPUT"
	// ReasonHypervisorFailed: the hypervisor process failed, exited with an
	// error or does not answer.
	ReasonHypervisorFailed = "HYPERVISOR_FAILED"
	// ReasonGuestPoweredOff: STOPPED because the guest powered itself off.
	ReasonGuestPoweredOff = "GUEST_POWERED_OFF"
	// ReasonProcessExited: STOPPED because the hypervisor process ended
	// without a shutdown (killed).
	ReasonProcessExited = "PROCESS_EXITED"
	// ReasonVIMFault: the VIM reports the compute in error (e.g. a Nova fault).
	ReasonVIMFault = "VIM_FAULT"
	// ReasonNotFoundInVIM: the server has a record the VIM no longer has.
	ReasonNotFoundInVIM = "NOT_FOUND_IN_VIM"
	// ReasonQueryFailed: the VIM did not answer the query (StateUnknown).
	ReasonQueryFailed = "QUERY_FAILED"
)

// Compute is a virtualised compute resource.
type Compute struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	ImageID     string            `json:"imageId"`
	FlavourID   string            `json:"flavourId"`
	State       string            `json:"state"`
	StateReason string            `json:"stateReason,omitempty"`
	Detail      string            `json:"detail,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Volumes are the VIM's ids of the block volumes attached for
	// ComputeSpec.Storage, where the driver can tell them.
	Volumes []string `json:"volumes,omitempty"`
}

// Operate actions (IFA 005 OperateComputeRequest).
const (
	ActionStart  = "start"
	ActionStop   = "stop"
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionReboot = "reboot"
)

// Driver is one VIM. Every method honours ctx. Terminate and the Delete
// methods are idempotent: removing what is already gone is no error.
type Driver interface {
	Info(ctx context.Context) (Info, error)

	AddImage(ctx context.Context, spec ImageSpec) (*Image, error)
	QueryImage(ctx context.Context, id string) (*Image, error)
	ListImages(ctx context.Context) ([]Image, error)
	DeleteImage(ctx context.Context, id string) error

	CreateFlavour(ctx context.Context, spec FlavourSpec) (*Flavour, error)
	QueryFlavour(ctx context.Context, id string) (*Flavour, error)
	DeleteFlavour(ctx context.Context, id string) error

	AllocateCompute(ctx context.Context, spec ComputeSpec) (*Compute, error)
	QueryCompute(ctx context.Context, id string) (*Compute, error)
	OperateCompute(ctx context.Context, id, action string) (*Compute, error)
	TerminateCompute(ctx context.Context, id string) error

	// Close releases the driver's resources (it does not stop compute).
	Close() error
}

// ConsoleReader is implemented by drivers that keep a compute's console output.
type ConsoleReader interface {
	ConsoleLog(ctx context.Context, id string) (io.ReadCloser, error)
}

// Config is what a driver type needs to connect to one VIM.
type Config struct {
	Name        string
	Endpoint    string            // e.g. Keystone or Glance URL; empty for local
	Credentials map[string]string // never echoed back by the API
	Options     map[string]string // driver-specific settings
	// DataDir is where a driver may keep state (local images, instance files).
	DataDir string
	// HTTPClient carries every request of a driver that talks to a remote
	// VIM, so that the server's egress policy (which addresses may be
	// reached) covers VIM endpoints too. Nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Factory opens a driver for a VIM.
type Factory func(ctx context.Context, cfg Config) (Driver, error)

// Option documents one option (Config.Options) of a driver type.
type Option struct {
	// Name is the option's key; one ending in "." is a prefix: every key
	// that starts with it and goes on is this option (e.g. "header.").
	Name    string
	Value   string // what the value is: "PATH", "DURATION", "URL", ...
	Default string // empty when there is none
	Help    string
}

// Matches reports whether key is this option.
func (o Option) Matches(key string) bool {
	if strings.HasSuffix(o.Name, ".") {
		return len(key) > len(o.Name) && strings.HasPrefix(key, o.Name)
	}
	return key == o.Name
}

// Definition is a driver type: how to open it, its options, and the
// checks made before a VIM of the type is registered.
type Definition struct {
	Open Factory
	// Options lists every option the type takes; CheckConfig refuses
	// others. Nil means the type does not declare them (nothing refused).
	Options []Option
	// Check verifies a configuration further than Open must: what the
	// VIM's host has to provide (files, programs, well-formed URLs).
	// It runs when a VIM is registered, not each time a registered VIM is
	// opened, so that a file removed later does not lock a VIM (and its
	// compute) out. Errors name the option (*OptionError).
	Check func(ctx context.Context, cfg Config) error
}

var (
	regMu    sync.RWMutex
	registry = map[string]Definition{}
)

// Register makes a driver type available; it panics on a duplicate name,
// which is a programming error.
func Register(typ string, f Factory) { RegisterType(typ, Definition{Open: f}) }

// RegisterType makes a driver type available with its options and checks;
// it panics on a duplicate name, which is a programming error.
func RegisterType(typ string, def Definition) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("vim: driver type registered twice: " + typ)
	}
	registry[typ] = def
}

// CheckConfig checks a configuration before a VIM of type typ is
// registered: every option must be one the type declares, then the type's
// own Check runs. Errors are *OptionError where an option is at fault.
func CheckConfig(ctx context.Context, typ string, cfg Config) error {
	regMu.RLock()
	def, ok := registry[typ]
	regMu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: VIM type %q (known: %v)", ErrNotSupported, typ, Types())
	}
	if def.Options != nil {
		keys := make([]string, 0, len(cfg.Options))
		for k := range cfg.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !declared(def.Options, k) {
				names := make([]string, len(def.Options))
				for i, o := range def.Options {
					names[i] = o.Name
					if strings.HasSuffix(o.Name, ".") {
						names[i] += "NAME"
					}
				}
				return &OptionError{Option: k, Unknown: true,
					Reason: fmt.Sprintf("not an option of VIM type %s (known: %s)", typ, strings.Join(names, ", "))}
			}
		}
	}
	if def.Check != nil {
		return def.Check(ctx, cfg)
	}
	return nil
}

func declared(opts []Option, key string) bool {
	for _, o := range opts {
		if o.Matches(key) {
			return true
		}
	}
	return false
}

// OptionError says which option of a VIM configuration is wrong: unknown
// to the driver type, or with a value that cannot work. It is an ErrInvalid.
type OptionError struct {
	Option  string // the option's key, or "endpoint" for Config.Endpoint
	Unknown bool
	Reason  string
}

func (e *OptionError) Error() string {
	if e.Unknown {
		return fmt.Sprintf("vim: unknown option %q: %s", e.Option, e.Reason)
	}
	return fmt.Sprintf("vim: option %s: %s", e.Option, e.Reason)
}

func (e *OptionError) Is(target error) bool { return target == ErrInvalid }

// OptionErrorf returns an *OptionError for the value of option name.
func OptionErrorf(name, format string, args ...any) *OptionError {
	return &OptionError{Option: name, Reason: fmt.Sprintf(format, args...)}
}

// Types lists the registered driver types.
func Types() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Open opens a driver of a registered type.
func Open(ctx context.Context, typ string, cfg Config) (Driver, error) {
	regMu.RLock()
	def, ok := registry[typ]
	regMu.RUnlock()
	if !ok || def.Open == nil {
		return nil, fmt.Errorf("%w: VIM type %q (known: %v)", ErrNotSupported, typ, Types())
	}
	return def.Open(ctx, cfg)
}

// Typed errors. Drivers wrap them (fmt.Errorf("...: %w", vim.ErrNotFound))
// so callers can map them with errors.Is.
var (
	ErrNotFound     = errors.New("vim: not found")
	ErrConflict     = errors.New("vim: conflict")
	ErrNotSupported = errors.New("vim: not supported")
	ErrUnavailable  = errors.New("vim: unavailable")
	ErrAuth         = errors.New("vim: authentication failed")
	ErrInvalid      = errors.New("vim: invalid request")
	ErrChecksum     = errors.New("vim: checksum mismatch")
	ErrWrongState   = fmt.Errorf("%w: operation not allowed in this state", ErrConflict)
)

// ChecksumError says which digest did not match.
type ChecksumError struct {
	What      string // "the bytes sent", "the image Glance stored"
	Algorithm string
	Expected  string
	Actual    string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("vim: checksum mismatch: %s: %s expected %s, got %s", e.What, e.Algorithm, e.Expected, e.Actual)
}

func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// Require refuses an operation the driver cannot do, before anything changes.
func Require(ctx context.Context, d Driver, caps ...Capability) error {
	info, err := d.Info(ctx)
	if err != nil {
		return err
	}
	for _, c := range caps {
		if !info.Has(c) {
			return fmt.Errorf("%w: VIM type %s has no %s capability", ErrNotSupported, info.Type, c)
		}
	}
	return nil
}
