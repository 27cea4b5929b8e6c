package main

import (
	"context"
	"crypto"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// signatureFlags registers validate's signature options and returns
// what builds them once the flags are parsed.
func signatureFlags(fs *flag.FlagSet) func() (validate.Signatures, error) {
	policy := fs.String("signatures", string(sign.PolicyVerify), "required, verify (a signed package must verify; unsigned: a warning) or ignore")
	store := fs.String("trust-store", "", "PEM bundle or directory of the CA certificates signers must chain to")
	crl := fs.String("crl-file", "", "CRLs (PEM or DER) the signers' certificates are checked against")
	return func() (validate.Signatures, error) {
		p, err := sign.ParsePolicy(*policy)
		if err != nil {
			return validate.Signatures{}, err
		}
		s := validate.Signatures{Policy: p}
		if *store == "" {
			if *crl != "" {
				return s, fmt.Errorf("--crl-file needs --trust-store")
			}
			return s, nil
		}
		if s.Trust, err = sign.LoadTrustStore(*store); err != nil {
			return s, err
		}
		if *crl != "" {
			err = s.Trust.AddCRLFile(*crl)
		}
		return s, err
	}
}

const signUsage = `usage: vnfpkgm sign --key KEY --cert CERT [--chain FILE] [--option 1|2] [--digest sha256|sha384|sha512] -o OUT PACKAGE

Signs a VNF package as SOL 004 describes, with a detached CMS signature:
  --option 1  (default) the manifest ends with a CMS signature over its content,
              and each local artifact of the manifest gets a signature
              SOURCE.cms named by its entry (--artifacts=false: the manifest only);
  --option 2  OUT is a zip of the package as NAME.csar (stored), NAME.cms and
              NAME.cert (the certificate and chain).
The certificate and the chain are carried in each CMS signature.
Exit codes: 0 signed, 2 usage or I/O error.

Options:
`

func runSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "PEM private key (RSA or ECDSA)")
	certFile := fs.String("cert", "", "PEM certificate of the key (further certificates in it count as chain)")
	chainFile := fs.String("chain", "", "PEM intermediate CA certificates to include")
	option := fs.String("option", "1", "SOL 004 security option: 1 (signed manifest and artifacts) or 2 (signed package)")
	digestName := fs.String("digest", "sha256", "digest algorithm: sha256, sha384 or sha512")
	artifacts := fs.Bool("artifacts", true, "option 1: sign every local artifact too")
	out := fs.String("o", "", "the signed package to write")
	maxContent := fs.Int64("max-content", sign.DefaultMaxContent, "largest file signed (it is held in memory)")
	fs.Usage = func() {
		fmt.Fprint(stderr, signUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "vnfpkgm sign: "+format+"\n", a...)
		return exitUsage
	}
	if len(pos) != 1 || *keyFile == "" || *certFile == "" || *out == "" {
		fs.Usage()
		return fail("PACKAGE, --key, --cert and -o are required")
	}
	hashes := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}
	h, ok := hashes[strings.ToLower(strings.ReplaceAll(*digestName, "-", ""))]
	if !ok {
		return fail("--digest must be sha256, sha384 or sha512, not %q", *digestName)
	}
	if *option != "1" && *option != "2" {
		return fail("--option must be 1 or 2, not %q", *option)
	}
	signer, err := sign.LoadSigner(*keyFile, *certFile, *chainFile)
	if err != nil {
		return fail("%v", err)
	}
	signer.Hash = h
	in, err := os.Open(pos[0])
	if err != nil {
		return fail("%v", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fail("%v", err)
	}
	if err := writeSigned(ctx, signer, in, st.Size(), pos[0], *out, *option, sign.PackageSigning{Artifacts: *artifacts, MaxContent: *maxContent}); err != nil {
		return fail("%s: %v", pos[0], err)
	}
	fmt.Fprintf(stdout, "%s: signed (option %s) by %s\n", *out, *option, signer.Cert.Subject)
	return exitOK
}

// writeSigned writes the signed package next to OUT and renames it into
// place, so that a failure leaves no half-written package.
func writeSigned(ctx context.Context, s *sign.Signer, in *os.File, size int64, inName, out, option string, o sign.PackageSigning) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if option == "1" {
		err = s.SignOption1(ctx, in, size, tmp, o)
	} else {
		base := strings.TrimSuffix(filepath.Base(inName), filepath.Ext(inName))
		err = s.SignOption2(in, size, base, tmp, o)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
