package main

// The VIM commands: `vim ...` (VIMs and their software images) and
// `compute ...` (the compute allocated for VDUs), over the server's
// /vim/v1 API.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// vimPrefix is the URI prefix of the VIM API.
const vimPrefix = "/vim/v1"

var vimCommands = []command{
	{"register", "register a VIM", (*cliEnv).vimRegister},
	{"list", "list the registered VIMs", (*cliEnv).vimList},
	{"show", "show a VIM", (*cliEnv).vimShow},
	{"delete", "delete VIMs", (*cliEnv).vimDelete},
	{"image", "software images registered with a VIM (register, list, delete)", (*cliEnv).vimImage},
}

var vimImageCommands = []command{
	{"register", "register a package's software image with a VIM", (*cliEnv).vimImageRegister},
	{"list", "list the software images registered with a VIM", (*cliEnv).vimImageList},
	{"delete", "delete a software image from a VIM", (*cliEnv).vimImageDelete},
}

var computeCommands = []command{
	{"allocate", "allocate (boot) the compute of a VDU", (*cliEnv).computeAllocate},
	{"list", "list the compute of a VIM", (*cliEnv).computeList},
	{"show", "show a compute", (*cliEnv).computeShow},
	{"operate", "start, stop, pause, resume or reboot a compute", (*cliEnv).computeOperate},
	{"delete", "terminate and delete compute", (*cliEnv).computeDelete},
	{"console", "print the console log of a compute", (*cliEnv).computeConsole},
}

// vimURL is the absolute URL of a VIM API path ("/vims/ID"), whose
// segments the caller has escaped.
func (c *apiClient) vimURL(path string) string {
	root := strings.TrimSuffix(c.base.String(), apiPrefix)
	return root + vimPrefix + path
}

// vimPath is the API path of a VIM or of one of its resources; every
// part is escaped.
func vimPath(id string, sub ...string) string {
	p := "/vims/" + url.PathEscape(id)
	for _, s := range sub {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// vimTitles are the titles of the attributes of VimInfo, VimSoftwareImage
// and VimCompute; the others get titleOf's.
var vimTitles = map[string]string{
	"id":                 "ID",
	"vimId":              "VIM ID",
	"vnfPkgId":           "VNF Package ID",
	"softwareImageId":    "Software Image ID",
	"vimImageId":         "VIM Image ID",
	"vduId":              "VDU ID",
	"flavourId":          "Flavour ID",
	"vimComputeId":       "VIM Compute ID",
	"vimFlavourId":       "VIM Flavour ID",
	"stateReason":        "State Reason",
	"leftInVim":          "Left In VIM",
	"leftInVimReason":    "Left In VIM Reason",
	"autoRegisterImages": "Auto Register Images",
	"createdAt":          "Created At",
	"_links":             "Links",
}

func vimTitleOf(attr string) string {
	if t, ok := vimTitles[attr]; ok {
		return t
	}
	return titleOf(attr)
}

var (
	vimListColumns = []column{
		{"ID", "id"}, {"Name", "name"}, {"Type", "type"}, {"Endpoint", "endpoint"},
		{"Default", "default"}, {"Auto Register Images", "autoRegisterImages"},
	}
	vimImageListColumns = []column{
		{"ID", "id"}, {"VNF Package ID", "vnfPkgId"}, {"Software Image ID", "softwareImageId"}, {"VIM Image ID", "vimImageId"},
		{"Orphaned", "orphaned"}, {"Left In VIM", "leftInVim"},
	}
	computeListColumns = []column{
		{"ID", "id"}, {"Name", "name"}, {"VNF Package ID", "vnfPkgId"}, {"VDU ID", "vduId"},
		{"Flavour ID", "flavourId"}, {"State", "state"}, {"State Reason", "stateReason"},
	}
)

// vimKnownColumns are the columns -c may name on a VIM resource: every
// attribute with a title.
func vimKnownColumns() []column {
	cols := make([]column, 0, len(vimTitles))
	for attr, title := range vimTitles {
		cols = append(cols, column{title, attr})
	}
	for _, l := range [][]column{vimListColumns, vimImageListColumns, computeListColumns} {
		cols = append(cols, l...)
	}
	return cols
}

// showVIMRecord prints one VIM resource as a Field | Value table or in
// the format asked.
func (env *cliEnv) showVIMRecord(out *outputOpts, rec map[string]any) error {
	cols := make([]column, 0, len(rec))
	for attr := range rec {
		cols = append(cols, column{vimTitleOf(attr), attr})
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].title < cols[j].title })
	cols, err := selectColumns(cols, vimKnownColumns(), out.columns)
	if err != nil {
		return err
	}
	return emitOne(env.stdout, out.format, cols, rec)
}

// listVIMRecords GETs a list of VIM resources and prints it.
func (env *cliEnv) listVIMRecords(out *outputOpts, path string, listCols []column) error {
	api, err := env.client()
	if err != nil {
		return err
	}
	recs, err := api.listAll(env, api.vimURL(path))
	if err != nil {
		return err
	}
	cols, err := selectColumns(listCols, vimKnownColumns(), out.columns)
	if err != nil {
		return err
	}
	return emitList(env.stdout, out.format, cols, recs)
}

// parseOutputOnly parses a command whose only options are -f and -c.
func (env *cliEnv) parseOutputOnly(synopsis, description string, args []string, names ...string) ([]string, *outputOpts, error) {
	fs := env.newFlags(synopsis, description)
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, names...)
	return pos, out, err
}

// getVIMRecord GETs one VIM resource and shows it.
func (env *cliEnv) getVIMRecord(out *outputOpts, path string) error {
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	if _, err := api.getJSON(env.ctx, api.vimURL(path), &rec); err != nil {
		return err
	}
	return env.showVIMRecord(out, rec)
}

// postVIMRecord POSTs body to a VIM API path and shows the answer.
func (env *cliEnv) postVIMRecord(out *outputOpts, path string, body any) error {
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	if _, err := api.sendJSON(env.ctx, http.MethodPost, api.vimURL(path), "application/json", body, &rec); err != nil {
		return err
	}
	return env.showVIMRecord(out, rec)
}

// deleteVIMRecords DELETEs each path, as 'package delete' does: every one
// is tried; exit 1 if any failed (3 if the server could not be reached).
func (env *cliEnv) deleteVIMRecords(what string, ids, paths []string) error {
	api, err := env.client()
	if err != nil {
		return err
	}
	failed, unreachable := 0, 0
	for i, p := range paths {
		resp, err := api.do(env.ctx, request{method: http.MethodDelete, url: api.vimURL(p)})
		if err == nil {
			resp.Body.Close()
			continue
		}
		if env.ctx.Err() != nil {
			return env.ctx.Err()
		}
		failed++
		var ce *connError
		if errors.As(err, &ce) {
			unreachable++
		}
		fmt.Fprintf(env.stderr, "%s: %s: %v\n", env.cmd, ids[i], err)
	}
	if failed == 0 {
		fmt.Fprintf(env.stdout, "All specified %s(s) deleted successfully\n", what)
		return nil
	}
	fmt.Fprintf(env.stderr, "%s: failed to delete %d of %d %s(s)\n", env.cmd, failed, len(paths), what)
	if unreachable == failed {
		return &exitCodeError{exitUnreachable}
	}
	return &exitCodeError{exitFailed}
}

// ---- vim ----

// vimDriverOptionsHelp documents every --option of the driver types; the
// CLI does not link the drivers, so it is written out here and a test
// checks it against the options the drivers declare.
const vimDriverOptionsHelp = `
Driver options of --type local (QEMU; images without a boot loader boot
with an external kernel; --endpoint and --credential are not used):
  kernel=PATH
      kernel (bzImage) on the VIM host for images without a boot loader and
      without a kernel label; an absolute path to a readable regular file
  initrd=PATH
      initramfs to go with kernel; an absolute path to a readable regular file
  append=ARGS
      kernel command line for images without an append label (default
      console=ttyS0 root=/dev/nvme0n1 rw panic=-1)
  qemu=COMMAND
      the QEMU system emulator, found on PATH unless absolute (default
      qemu-system-x86_64)
  qemu-img=COMMAND
      qemu-img, which checks images and makes instance overlays (default
      qemu-img)
  accel=tcg|kvm
      QEMU accelerator; kvm needs a usable /dev/kvm (default tcg)
  machine=TYPE
      QEMU machine type (qemu-system-x86_64 -machine help lists them) (default
      q35)
  powerdown_timeout=DURATION
      how long stop waits for the guest to power off after the ACPI power
      button before QEMU is quit (default 20s)
  quit_timeout=DURATION
      how long QEMU may take to quit before it is killed (default 5s)
  boot_timeout=DURATION
      an instance with nothing on its serial console this long after a start
      is ERROR (NO_BOOT_OUTPUT); 0 turns this off for guests that do not use
      ttyS0 (default 1m0s)
  reboot_loop_count=N
      an instance whose guest resets itself N times within reboot_loop_window
      is ERROR (REBOOT_LOOP); at least 2 (default 3)
  reboot_loop_window=DURATION
      the window of reboot_loop_count (default 5m0s)

Driver options of --type openstack (Glance v2 and Nova; with Keystone,
--endpoint is the Keystone v3 URL and --credential gives username=,
password=, project_name=, domain_name=):
  auth=keystone|none
      keystone: authenticate at the endpoint (the Keystone v3 URL) with the
      credentials username, password, project_name, domain_name (or
      user_domain_name, project_domain_name); none: no Keystone, talk to
      image_endpoint and compute_endpoint directly (default keystone)
  region=NAME
      the region of the service catalogue (keystone)
  interface=public|internal|admin
      the endpoint interface of the service catalogue (keystone) (default
      public)
  image_endpoint=URL
      Glance, with or without /v2 (auth=none); without it the VIM has no image
      capability
  compute_endpoint=URL
      Nova's versioned URL such as http://nova:8774/v2.1 (auth=none); without
      it the VIM has no compute capability
  header.NAME=VALUE
      header.NAME=VALUE adds the header NAME to every request, e.g.
      header.X-Roles=admin for a Glance without Keystone
  image_timeout=DURATION
      how long an image may take to become active (default 10m0s)
  compute_timeout=DURATION
      how long a server may take to reach a stable state (default 5m0s)
  poll_interval=DURATION
      the polling period of those waits (default 1s)
  hash_algorithms=LIST
      comma-separated algorithms computed while uploading an image, to check
      the hash Glance stores whatever its hashing_algorithm (default
      sha512,sha256,sha384,sha3_512,sha3_256,blake2b,sha1,md5)

Driver options of --type cloudhypervisor (the Cloud Hypervisor dataplane
API; --endpoint is its URL, --credential token= its bearer token; images
are pulled by the dataplane from this server's OCI endpoint, /v2):
  timeout=DURATION
      how long one call to the dataplane may take (default 30s)
  image_timeout=DURATION
      how long the dataplane may take to pull and convert an image (default
      10m0s)
  retries=N
      how many times a GET or DELETE is tried again when the dataplane is
      unreachable or answers 502, 503 or 504 (other calls are never retried)
      (default 2)
  registry=HOST[:PORT]
      the catalogue's OCI endpoint as the dataplane reaches it, when not at
      the server's own address (--public-url or --listen)

Driver options of --type flintlock (Flintlock's MicroVM API through its
gRPC gateway; --endpoint is the gateway's URL; no credentials; root volumes
are pulled by Flintlock from this server's OCI endpoint, /v2):
  kernel_image=IMAGE
      the container image holding the kernel every MicroVM boots (required to
      allocate compute)
  kernel_filename=PATH
      the kernel's path inside kernel_image (default boot/vmlinux)
  initrd_image=IMAGE
      the container image holding an initial ramdisk (none when absent)
  initrd_filename=PATH
      the initrd's path inside initrd_image (default initrd)
  namespace=NAME
      the Flintlock namespace of the MicroVMs (default vnfpkgm)
  timeout=DURATION
      how long one call to Flintlock may take (default 30s)
  compute_timeout=DURATION
      how long a new MicroVM may stay PENDING (default 5m0s)
  poll_interval=DURATION
      the polling period of that wait (default 1s)
  retries=N
      how many times a GET or DELETE is tried again when Flintlock is
      unreachable or answers 502, 503 or 504 (other calls are never retried)
      (default 2)
  registry=HOST[:PORT]
      the catalogue's OCI endpoint as Flintlock reaches it, when not at the
      server's own address (--public-url or --listen)

Examples:
  vnfpkgm vim register --type local --name lab --option kernel=$PWD/samples/build/vmlinuz
  vnfpkgm vim register --type openstack --name glance --option auth=none \
      --option image_endpoint=http://127.0.0.1:9292 --option header.X-Roles=admin
  vnfpkgm vim register --type openstack --name cloud --endpoint https://keystone:5000/v3 \
      --credential username=nfvo --credential password=... --credential project_name=vnf \
      --credential domain_name=Default --option region=RegionOne
  vnfpkgm vim register --type cloudhypervisor --name ch --endpoint http://dataplane:8080 \
      --credential token=...
  vnfpkgm vim register --type flintlock --name fl --endpoint http://flintlock-host:9091 \
      --option kernel_image=ghcr.io/liquidmetal-dev/flintlock-kernel:5.10.77
`

func (env *cliEnv) vimRegister(args []string) error {
	// --endpoint is the VIM's endpoint here, as 'openstack vim register'
	// has it: the server is named before the command (or by $VNFPKGM_URL).
	fs := flag.NewFlagSet(env.cmd, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vnfpkgm [--endpoint SERVER_URL] vim register %s\n\n%s\n\nOptions:\n",
			"--type TYPE --name NAME [--endpoint URL] [--credential KEY=VALUE ...] [--option KEY=VALUE ...] [--default] [--auto-register-images] [-f FORMAT] [-c COLUMN ...]",
			`Registers a VIM. The server opens it first: a VIM that cannot be opened
is not registered. The first VIM registered is the default; --default takes
the default from the others. --auto-register-images gives the VIM the
software images of every package onboarded afterwards.

The server checks the options first: an option the type does not have,
a kernel that is not there, a QEMU that is not installed, an endpoint that
is not a URL are refused, naming the option (the driver options are listed
below). Credentials are sent to the server and never printed.

After 'vim register', --endpoint is the VIM's own endpoint: name the server
before the command (vnfpkgm --endpoint SERVER_URL vim register ...) or with
$VNFPKGM_URL.`)
		printOptions(fs.Output(), fs)
		fmt.Fprint(fs.Output(), vimDriverOptionsHelp+kubevimOptionsHelp+planktonOptionsHelp)
	}
	typ := fs.String("type", "", "the VIM `TYPE` (local, openstack, kubevim, plankton, cloudhypervisor, flintlock)")
	name := fs.String("name", "", "the VIM's `NAME`")
	vimEndpoint := fs.String("endpoint", "", "the VIM's own endpoint `URL` (e.g. its Keystone); not the server's")
	var creds, opts stringList
	fs.Var(&creds, "credential", "a credential `KEY=VALUE` (repeatable; never printed)")
	fs.Var(&opts, "option", "a driver option `KEY=VALUE` (repeatable)")
	isDefault := fs.Bool("default", false, "make this VIM the default")
	autoRegister := fs.Bool("auto-register-images", false, "register the images of every package onboarded afterwards")
	out := addOutputFlags(fs)
	_, err := env.parseOutput(fs, args, out)
	if err != nil {
		return err
	}
	if *typ == "" {
		return usagef("--type is required")
	}
	if *name == "" {
		return usagef("--name is required")
	}
	credMap := map[string]any{}
	for _, kv := range creds {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			// The value is not repeated: it may be the secret itself.
			return usagef("--credential: expected KEY=VALUE")
		}
		credMap[k] = v
	}
	optMap, err := parseKeyValues("--option", opts)
	if err != nil {
		return err
	}
	body := map[string]any{"type": *typ, "name": *name, "default": *isDefault, "autoRegisterImages": *autoRegister}
	if *vimEndpoint != "" {
		body["endpoint"] = *vimEndpoint
	}
	if len(credMap) > 0 {
		body["credentials"] = credMap
	}
	if optMap != nil {
		body["options"] = optMap
	}
	return env.postVIMRecord(out, "/vims", body)
}

func (env *cliEnv) vimList(args []string) error {
	_, out, err := env.parseOutputOnly("[-f FORMAT] [-c COLUMN ...]", "Lists the registered VIMs, in registration order.", args)
	if err != nil {
		return err
	}
	return env.listVIMRecords(out, "/vims", vimListColumns)
}

func (env *cliEnv) vimShow(args []string) error {
	pos, out, err := env.parseOutputOnly("VIM_ID [-f FORMAT] [-c COLUMN ...]", "Shows a VIM (never its credentials).", args, "VIM_ID")
	if err != nil {
		return err
	}
	return env.getVIMRecord(out, vimPath(pos[0]))
}

func (env *cliEnv) vimDelete(args []string) error {
	fs := env.newFlags("VIM_ID [VIM_ID ...]", "Deletes VIMs; a VIM with compute allocated cannot be deleted.\nEvery ID is tried; the exit code is 1 if any failed (3 if the server could not be reached).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("expected VIM_ID [VIM_ID ...]")
	}
	paths := make([]string, len(pos))
	for i, id := range pos {
		paths[i] = vimPath(id)
	}
	return env.deleteVIMRecords("vim", pos, paths)
}

// vimImage is `vim image SUBCOMMAND`.
func (env *cliEnv) vimImage(args []string) error {
	return &exitCodeError{env.runGroup("vim image", args, vimImageCommands)}
}

func (env *cliEnv) vimImageRegister(args []string) error {
	fs := env.newFlags("VIM_ID --package PKG_ID --image SW_IMAGE_ID [-f FORMAT] [-c COLUMN ...]",
		"Registers a software image of an onboarded VNF package with a VIM. Registering it again\nanswers the image already registered.")
	pkg := fs.String("package", "", "the VNF package `ID`")
	image := fs.String("image", "", "the package's software image `ID` (its VNFD's SwImageDesc)")
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, "VIM_ID")
	if err != nil {
		return err
	}
	if *pkg == "" || *image == "" {
		return usagef("--package and --image are required")
	}
	return env.postVIMRecord(out, vimPath(pos[0], "software_images"), map[string]any{"vnfPkgId": *pkg, "softwareImageId": *image})
}

func (env *cliEnv) vimImageList(args []string) error {
	pos, out, err := env.parseOutputOnly("VIM_ID [-f FORMAT] [-c COLUMN ...]", "Lists the software images registered with a VIM.", args, "VIM_ID")
	if err != nil {
		return err
	}
	return env.listVIMRecords(out, vimPath(pos[0], "software_images"), vimImageListColumns)
}

func (env *cliEnv) vimImageDelete(args []string) error {
	fs := env.newFlags("VIM_ID IMAGE_ID [IMAGE_ID ...]", "Deletes software images from a VIM.\nEvery ID is tried; the exit code is 1 if any failed (3 if the server could not be reached).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("expected VIM_ID IMAGE_ID [IMAGE_ID ...]")
	}
	paths := make([]string, len(pos)-1)
	for i, id := range pos[1:] {
		paths[i] = vimPath(pos[0], "software_images", id)
	}
	return env.deleteVIMRecords("software image", pos[1:], paths)
}

// ---- compute ----

func (env *cliEnv) computeAllocate(args []string) error {
	fs := env.newFlags("VIM_ID --package PKG_ID --vdu VDU_ID [--flavour FLAVOUR_ID] --name NAME [-f FORMAT] [-c COLUMN ...]",
		"Allocates the compute of a VDU of an onboarded, ENABLED VNF package on a VIM: registers its\nimage when needed, creates its flavour and boots it.")
	pkg := fs.String("package", "", "the VNF package `ID`")
	vdu := fs.String("vdu", "", "the `VDU_ID`")
	flavour := fs.String("flavour", "", "the deployment `FLAVOUR_ID` (default: the VNFD's only or first one)")
	name := fs.String("name", "", "the compute's `NAME`")
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, "VIM_ID")
	if err != nil {
		return err
	}
	if *pkg == "" || *vdu == "" || *name == "" {
		return usagef("--package, --vdu and --name are required")
	}
	body := map[string]any{"vnfPkgId": *pkg, "vduId": *vdu, "name": *name}
	if *flavour != "" {
		body["flavourId"] = *flavour
	}
	return env.postVIMRecord(out, vimPath(pos[0], "compute"), body)
}

func (env *cliEnv) computeList(args []string) error {
	pos, out, err := env.parseOutputOnly("VIM_ID [-f FORMAT] [-c COLUMN ...]", "Lists the compute allocated on a VIM, each with its state as the VIM reports it and, when it is\nERROR or stopped on its own, the reason (GUEST_PANICKED, REBOOT_LOOP, NO_BOOT_OUTPUT, ...).", args, "VIM_ID")
	if err != nil {
		return err
	}
	return env.listVIMRecords(out, vimPath(pos[0], "compute"), computeListColumns)
}

func (env *cliEnv) computeShow(args []string) error {
	pos, out, err := env.parseOutputOnly("VIM_ID ID [-f FORMAT] [-c COLUMN ...]", "Shows a compute, with its state as the VIM reports it and, when it is ERROR or stopped on its\nown, the reason (State Reason) and its detail.", args, "VIM_ID", "ID")
	if err != nil {
		return err
	}
	return env.getVIMRecord(out, vimPath(pos[0], "compute", pos[1]))
}

var computeActions = []string{"start", "stop", "pause", "resume", "reboot"}

func (env *cliEnv) computeOperate(args []string) error {
	fs := env.newFlags("VIM_ID ID --action start|stop|pause|resume|reboot [-f FORMAT] [-c COLUMN ...]",
		"Starts, stops, pauses, resumes or reboots a compute; prints it as it is afterwards.")
	action := fs.String("action", "", "the `ACTION`: "+strings.Join(computeActions, ", "))
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, "VIM_ID", "ID")
	if err != nil {
		return err
	}
	known := false
	for _, a := range computeActions {
		known = known || a == *action
	}
	if !known {
		return usagef("--action %q: one of %s", *action, strings.Join(computeActions, ", "))
	}
	return env.postVIMRecord(out, vimPath(pos[0], "compute", pos[1], "operate"), map[string]any{"action": *action})
}

func (env *cliEnv) computeDelete(args []string) error {
	fs := env.newFlags("VIM_ID ID [ID ...]", "Terminates compute and deletes it.\nEvery ID is tried; the exit code is 1 if any failed (3 if the server could not be reached).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("expected VIM_ID ID [ID ...]")
	}
	paths := make([]string, len(pos)-1)
	for i, id := range pos[1:] {
		paths[i] = vimPath(pos[0], "compute", id)
	}
	return env.deleteVIMRecords("compute", pos[1:], paths)
}

func (env *cliEnv) computeConsole(args []string) error {
	fs := env.newFlags("VIM_ID ID", "Prints the console log the VIM kept of a compute (the local VIM keeps its serial console).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "VIM_ID", "ID"); err != nil {
		return err
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	u := api.vimURL(vimPath(pos[0], "compute", pos[1], "console"))
	resp, err := api.do(env.ctx, request{method: http.MethodGet, url: u, header: http.Header{"Accept": {"text/plain"}}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(env.stdout, resp.Body); err != nil {
		if env.ctx.Err() != nil {
			return env.ctx.Err()
		}
		return &connError{url: u, err: err, lost: true}
	}
	return nil
}
