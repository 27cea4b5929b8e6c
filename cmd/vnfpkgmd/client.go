package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/authserver"
)

const clientUsage = `usage: vnfpkgmd client add NAME --scopes S1,S2 [--clients-file F] [--certificate-subject DN]

Adds a client of the built-in authorization server to the clients file
(VNFPKGM_CLIENTS_FILE by default; created with mode 0600) and prints its
secret, once: only its bcrypt hash is stored. With --certificate-subject the
client authenticates with a client certificate (mutual TLS) of that subject
instead, and gets no secret.
`

// runClient is `vnfpkgmd client ...`: managing the clients of the
// built-in authorization server.
func runClient(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(stderr, clientUsage)
		return 2
	}
	fs := flag.NewFlagSet("vnfpkgmd client add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clientUsage); fs.PrintDefaults() }
	file := fs.String("clients-file", getenv("VNFPKGM_CLIENTS_FILE"), "clients file")
	scopes := fs.String("scopes", "", "comma- or space-separated scopes the client may have")
	subject := fs.String("certificate-subject", "", "client certificate subject (RFC 2253, e.g. CN=nfvo,O=Example) instead of a secret")
	name, rest := "", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vnfpkgmd client add: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	list := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ',' || r == ' ' })
	switch {
	case name == "":
		fmt.Fprint(stderr, "vnfpkgmd client add: the client NAME is missing\n", clientUsage)
		return 2
	case *file == "":
		fmt.Fprintln(stderr, "vnfpkgmd client add: --clients-file (or VNFPKGM_CLIENTS_FILE) is required")
		return 2
	case len(list) == 0:
		fmt.Fprintln(stderr, "vnfpkgmd client add: --scopes is required")
		return 2
	}
	c := authserver.Client{ID: name, Scopes: list, Subject: *subject}
	var secret string
	if *subject == "" {
		var err error
		if secret, c.SecretHash, err = authserver.NewSecret(); err != nil {
			fmt.Fprintln(stderr, "vnfpkgmd client add:", err)
			return 1
		}
	}
	if err := authserver.AddClient(*file, c); err != nil {
		fmt.Fprintln(stderr, "vnfpkgmd client add:", err)
		return 1
	}
	fmt.Fprintf(stdout, "client_id: %s\n", name)
	if secret != "" {
		fmt.Fprintf(stdout, "client_secret: %s\n", secret)
		fmt.Fprintln(stderr, "The secret is shown once: only its hash is kept in", *file)
	}
	return 0
}

// isClientCommand reports whether the arguments are a `client` command
// rather than server options.
func isClientCommand(args []string) bool { return len(args) > 0 && args[0] == "client" }
