// Command vnfpkgm is the vnfpkgm command-line client: `validate` checks a
// package file locally, `package` and `artifact` drive a vnfpkgmd server
// (SOL 005 VNF package management) the way `openstack vnf package` drives
// Tacker; `vim` and `compute` drive its VIM resources (/vim/v1).
//
// Exit codes (see `vnfpkgm help`): 0 success, 1 a failed operation (an
// invalid package, an error answered by the server, a package in ERROR
// after --wait, a download that does not match its checksum), 2 usage or
// local I/O error, 3 the server cannot be reached (or the connection was
// lost), 130 interrupted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/version"
)

const (
	exitOK          = 0
	exitInvalid     = 1 // for validate: the package is invalid
	exitFailed      = 1 // for the server commands: the operation failed
	exitUsage       = 2
	exitUnreachable = 3
	exitInterrupted = 130
)

// defaultEndpoint is where vnfpkgmd listens by default.
const defaultEndpoint = "http://127.0.0.1:9890"

const usage = `usage: vnfpkgm [--endpoint URL] COMMAND [ARGS]

Local commands:
  validate PATH [-o json|text] [limits]        verify a VNF package (CSAR) file
           [--trust-store F] [--crl-file F] [--signatures required|verify|ignore]
  sign --key K --cert C [--chain F] [--option 1|2] -o OUT PACKAGE   sign a package (SOL 004)

Server commands (SOL 005 VNF package management, as 'openstack vnf package'):
  package create [--user-data K=V ...]         create a VNF package resource
  package list [--filter F] [--all_fields | --fields F | --exclude_fields F]
               [--exclude_default]             list packages (every page)
  package show ID                              show one package
  package upload ID (--path FILE | --url URI [--user-name U --password P])
                 [--wait [--wait-timeout D]]   upload the content; --wait
                                               follows onboarding to the end
  package update ID [--operational-state ENABLED|DISABLED]
                 [--user-data K=V ...] [--unset-user-data K ...]
  package delete ID [ID ...]
  package download ID [--file F] [--continue] [--connections N]
  package download ID --vnfd [--type text/plain|application/zip|both] [--file F]
  artifact download ID PATH [--file F] [--continue] [--connections N]

  Output of create, list, show and update: -f table|json|yaml|value (table
  by default), -c COLUMN (repeatable; a column's title or its attribute name).

Subscription commands (SOL 005 notifications POSTed to a callback URL):
  subscription create --callback URL [--filter-notification-type T ...]
               [--vnfd-id ID ...] [--vnf-provider P [--vnf-product N]]
               [--basic-user U --basic-password-file F]
               [--oauth2-client-id ID --oauth2-client-secret-file F
                --oauth2-token-endpoint URL]
  subscription list [--filter F] | subscription show ID
  subscription delete ID [ID ...]

VIM commands (the server's /vim/v1: VIMs, their software images, compute):
  vim register --type TYPE --name NAME [--endpoint URL]
               [--credential K=V ...] [--option K=V ...] [--default]
               [--auto-register-images]   register a VIM; --endpoint here is
                                          the VIM's (name the server before
                                          the command); credentials are sent,
                                          never printed
  vim list | vim show VIM_ID | vim delete VIM_ID [VIM_ID ...]
  vim image register VIM_ID --package PKG_ID --image SW_IMAGE_ID
  vim image list VIM_ID
  vim image delete VIM_ID IMAGE_ID [IMAGE_ID ...]
  compute allocate VIM_ID --package PKG_ID --vdu VDU_ID [--flavour F]
                   --name NAME            boot the compute of a VDU
  compute list VIM_ID | compute show VIM_ID ID
  compute operate VIM_ID ID --action start|stop|pause|resume|reboot
  compute delete VIM_ID ID [ID ...]       terminate compute
  compute console VIM_ID ID               print the console log

  Output of register, list, show, allocate and operate: as above (-f, -c).

Other commands:
  version                                      the version and commit of this build
  help                                         this text

Global options (also accepted after the command, except by 'vim register',
where --endpoint is the VIM's own):
  --endpoint URL   the server (default $VNFPKGM_URL, else ` + defaultEndpoint + `)
  --version        print the version and commit of this build, and exit
  --token T | --client-id ID --client-secret-file F [--token-url URL] [--scopes S]
                   authenticate (OAuth 2.0); the token is cached per endpoint
                   under the user's cache directory (mode 0600)
  --cacert F, --cert F --key F, --insecure
                   TLS: trusted CAs, client certificate (mutual TLS), no
                   verification (warned); each also as VNFPKGM_TOKEN,
                   VNFPKGM_CLIENT_ID, ... VNFPKGM_INSECURE

Exit codes:
  0    success (validate: the package is valid)
  1    the operation failed: the server answered an error (its ProblemDetails
       title and detail are printed), the package ended in ERROR after --wait,
       a download does not match its checksum; validate: the package is invalid
  2    usage error, or a local I/O error (a file that cannot be read or written)
  3    the server cannot be reached, or the connection was lost; a download
       keeps what it received: run it again with --continue
  130  interrupted (Ctrl-C); a download keeps what it received

Run 'vnfpkgm COMMAND [SUBCOMMAND] -h' for a command's options.
`

func main() {
	beforeValidate = relaxGCForValidate
	os.Exit(run(&interruptContext{}, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line; it never panics on user input and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cliEnv{ctx: ctx, stdout: stdout, stderr: stderr, endpoint: os.Getenv("VNFPKGM_URL")}
	env.auth.fromEnv(os.Getenv)
	// Global options before the command.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		switch {
		case args[0] == "-h" || args[0] == "--help" || args[0] == "-help":
			fmt.Fprint(stdout, usage)
			return exitOK
		case args[0] == "--version" || args[0] == "-version":
			fmt.Fprint(stdout, version.Read().String("vnfpkgm"))
			return exitOK
		case name == "endpoint" && hasValue:
			env.endpoint, args = value, args[1:]
		case name == "endpoint" && len(args) > 1:
			env.endpoint, args = args[1], args[2:]
		case name == "endpoint":
			fmt.Fprintf(stderr, "vnfpkgm: --endpoint needs a URL\n")
			return exitUsage
		case isAuthOption(name): // auth.go
			var err error
			if args, err = env.auth.takeGlobal(args); err != nil {
				fmt.Fprintf(stderr, "vnfpkgm: %v\n", err)
				return exitUsage
			}
		default:
			fmt.Fprintf(stderr, "vnfpkgm: unknown global option %s\n\n%s", args[0], usage)
			return exitUsage
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "validate":
		beforeValidate()
		return runValidate(ctx, args[1:], stdout, stderr)
	case "sign":
		return runSign(ctx, args[1:], stdout, stderr)
	case "package":
		env.outputColumns = knownColumns
		return env.runGroup("package", args[1:], packageCommands)
	case "artifact":
		return env.runGroup("artifact", args[1:], artifactCommands)
	case "vim":
		env.outputColumns = vimOutputColumns
		return env.runGroup("vim", args[1:], vimCommands)
	case "compute":
		env.outputColumns = vimOutputColumns
		return env.runGroup("compute", args[1:], computeCommands)
	case "subscription":
		return env.runSubscriptions(args[1:]) // subscriptions.go
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "vnfpkgm version: takes no arguments, got %q\n", args[1:])
			return exitUsage
		}
		fmt.Fprint(stdout, version.Read().String("vnfpkgm"))
		return exitOK
	default:
		fmt.Fprintf(stderr, "vnfpkgm: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// vimOutputColumns are the columns of VimInfo, VimSoftwareImage and
// VimCompute: those vimKnownColumns titles, and the attributes it leaves to
// titleOf.
func vimOutputColumns() []column {
	return append(vimKnownColumns(), column{"Options", "options"}, column{"Image", "image"}, column{"Detail", "detail"})
}

// command is one subcommand of a group ("package list").
type command struct {
	name    string
	summary string
	run     func(env *cliEnv, args []string) error
}

var packageCommands = []command{
	{"create", "create a VNF package resource", (*cliEnv).packageCreate},
	{"list", "list VNF packages", (*cliEnv).packageList},
	{"show", "show a VNF package", (*cliEnv).packageShow},
	{"upload", "upload a VNF package's content", (*cliEnv).packageUpload},
	{"update", "change the operational state or user data of a VNF package", (*cliEnv).packageUpdate},
	{"delete", "delete VNF packages", (*cliEnv).packageDelete},
	{"download", "download a VNF package or its VNFD", (*cliEnv).packageDownload},
}

var artifactCommands = []command{
	{"download", "download one artifact of an onboarded VNF package", (*cliEnv).artifactDownload},
}

func (env *cliEnv) runGroup(group string, args []string, cmds []command) int {
	groupUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: vnfpkgm %s SUBCOMMAND [ARGS]\n\nSubcommands:\n", group)
		for _, c := range cmds {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
		fmt.Fprintf(w, "\nRun 'vnfpkgm %s SUBCOMMAND -h' for its options; 'vnfpkgm help' for the exit codes.\n", group)
	}
	if len(args) == 0 {
		groupUsage(env.stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		groupUsage(env.stdout)
		return exitOK
	}
	for _, c := range cmds {
		if c.name == args[0] {
			env.cmd = "vnfpkgm " + group + " " + c.name
			return env.finish(c.run(env, args[1:]))
		}
	}
	fmt.Fprintf(env.stderr, "vnfpkgm %s: unknown subcommand %q\n\n", group, args[0])
	groupUsage(env.stderr)
	return exitUsage
}
