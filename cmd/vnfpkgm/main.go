// Command vnfpkgm is the vnfpkgm command-line client.
//
// Exit codes: 0 success (for validate: the package is valid), 1 the
// package is invalid, 2 usage or I/O error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

const usage = `usage: vnfpkgm COMMAND [ARGS]

Commands:
  validate PATH [-o json|text] [limits]   verify a VNF package (CSAR) file

Exit codes: 0 valid/success, 1 invalid package, 2 usage or I/O error.
Run 'vnfpkgm COMMAND -h' for a command's options.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "validate":
		return runValidate(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "vnfpkgm: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
