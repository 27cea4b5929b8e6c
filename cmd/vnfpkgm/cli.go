package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// cliEnv is what every server command runs with.
type cliEnv struct {
	ctx            context.Context
	stdout, stderr io.Writer
	endpoint       string // --endpoint, else $VNFPKGM_URL, else defaultEndpoint
	cmd            string // "vnfpkgm package list", for messages
	api            *apiClient
	// outputColumns are the columns -c may name in the output of the
	// group's commands; parseOutput checks -c against them before any
	// request is sent.
	outputColumns func() []column

	auth authOptions // auth.go
}

// Errors of the server commands, by exit code.

// usageError: the command line is wrong (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// localError: a local file cannot be read or written (exit 2).
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// failure: the operation failed for a reason the server or the package
// decided, already explained by msg (exit 1).
type failure struct{ msg string }

func (e *failure) Error() string { return e.msg }

func failf(format string, args ...any) error { return &failure{fmt.Sprintf(format, args...)} }

// reported is a failure whose explanation has already been printed.
var errReported = errors.New("reported")

// finish prints err the way an operator reads it (never a stack trace) and
// maps it to the exit code.
func (env *cliEnv) finish(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if env.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, env.ctx.Err())) {
		fmt.Fprintf(env.stderr, "%s: interrupted\n", env.cmd)
		return exitInterrupted
	}
	var (
		ue *usageError
		le *localError
		pe *problemError
		ce *connError
		fe *failure
		xe *exitCodeError
	)
	switch {
	case errors.Is(err, errReported):
		return exitFailed
	case errors.Is(err, errReportedUsage):
		return exitUsage
	case errors.As(err, &xe):
		return xe.code
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "%s: %s\nRun '%s -h' for its options.\n", env.cmd, ue.msg, env.cmd)
		return exitUsage
	case errors.As(err, &le):
		fmt.Fprintf(env.stderr, "%s: %v\n", env.cmd, le.err)
		return exitUsage
	case errors.As(err, &pe):
		fmt.Fprintf(env.stderr, "%s: %v\n", env.cmd, pe)
		return exitFailed
	case errors.As(err, &ce):
		fmt.Fprintf(env.stderr, "%s: %v\n", env.cmd, ce)
		return exitUnreachable
	case errors.As(err, &fe):
		fmt.Fprintf(env.stderr, "%s: %s\n", env.cmd, fe.msg)
		return exitFailed
	}
	// Anything else is a local failure (a file system error, mostly).
	fmt.Fprintf(env.stderr, "%s: %v\n", env.cmd, err)
	return exitUsage
}

// client returns the API client of the endpoint.
func (env *cliEnv) client() (*apiClient, error) {
	if env.api != nil {
		return env.api, nil
	}
	ep := env.endpoint
	if ep == "" {
		ep = defaultEndpoint
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--endpoint %q is not an http:// or https:// URL", ep)
	}
	api := newAPIClient(u)
	if err := env.auth.apply(api, u, env.stderr); err != nil {
		return nil, err
	}
	env.api = api
	return env.api, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// newFlags returns the flag set of a server command; it knows --endpoint.
func (env *cliEnv) newFlags(synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(env.cmd, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Func("endpoint", "the server `URL` (default $VNFPKGM_URL, else "+defaultEndpoint+")", func(v string) error {
		env.endpoint = v
		return nil
	})
	env.auth.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s %s\n\n%s\n\nOptions:\n", env.cmd, synopsis, description)
		printOptions(fs.Output(), fs)
	}
	return fs
}

// optionAlias is the long name of a one-letter option ("" if none); the
// two are listed together.
func optionAlias(name string) string {
	switch name {
	case "f":
		return "format"
	case "c":
		return "column"
	}
	return ""
}

// isAliasLongName reports whether name is the long name of a one-letter option.
func isAliasLongName(name string) bool { return name == optionAlias("f") || name == optionAlias("c") }

// printOptions lists the options as --name VALUE, the way operators type
// them (the flag package accepts one dash or two).
func printOptions(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if isAliasLongName(f.Name) {
			return // listed with its one-letter form
		}
		arg, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if l := optionAlias(f.Name); l != "" {
			name = "-" + f.Name + ", --" + l
		}
		if arg != "" {
			name += " " + arg
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += " (default " + d + ")"
		}
		fmt.Fprintf(w, "  %s\n      %s\n", name, usage)
	})
}

// parse parses flags given before, between or after the positional
// arguments; "--" ends the options. -h prints the usage to stdout.
func (env *cliEnv) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.stdout)
			fs.Usage()
			return nil, flag.ErrHelp
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			// flag has printed the problem and the usage.
			return nil, errReportedUsage
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// errReportedUsage is a usage error the flag package has already printed.
var errReportedUsage = errors.New("usage error")

// parseKeyValues turns K=V arguments into a map.
func parseKeyValues(opt string, list []string) (map[string]any, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]any{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: expected KEY=VALUE", opt, kv)
		}
		m[k] = v
	}
	return m, nil
}
