// Package signtest makes a small PKI with the real openssl command for
// tests of package signatures: a root and an intermediate CA, RSA and
// ECDSA signers, an expired, a revoked and a wrongly-usable certificate,
// and an untrusted CA. Tests skip without openssl (fail under CI).
package signtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// PKI is a directory of keys and certificates made by openssl. Each
// signer has NAME.key and NAME.crt; Chain is the intermediate CA's
// certificate, Root the trust anchor, CRL a CRL of the intermediate
// revoking "revoked".
type PKI struct {
	t       testing.TB
	openssl string
	Dir     string
	Root    string // root CA certificate (the trust store)
	Chain   string // intermediate CA certificate
	CRL     string
}

// Signers made by New.
const (
	RSA       = "rsa"       // RSA 2048 leaf, codeSigning, under the intermediate
	ECDSA     = "ecdsa"     // ECDSA P-256 leaf, codeSigning, under the intermediate
	Expired   = "expired"   // RSA leaf valid 2020-2021
	Revoked   = "revoked"   // RSA leaf listed on CRL
	ServerEKU = "servereku" // RSA leaf with serverAuth only
	Untrusted = "untrusted" // RSA leaf under a CA outside the trust store
)

const extLeaf = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"
const extServer = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
const extCA = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"

// New makes the PKI in a temporary directory.
func New(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{t: t, openssl: testenv.Command(t, "openssl", "openssl"), Dir: t.TempDir()}
	p.write("leaf.ext", extLeaf)
	p.write("server.ext", extServer)
	p.write("ca.ext", extCA)
	p.run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.crt", "-days", "3650", "-subj", "/CN=Test Root CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	p.newKey("inter", "rsa")
	p.issue("inter", "root", "ca.ext", "/CN=Test Intermediate CA")
	p.newKey(RSA, "rsa")
	p.issue(RSA, "inter", "leaf.ext", "/CN=Test Vendor RSA")
	p.newKey(ECDSA, "ec")
	p.issue(ECDSA, "inter", "leaf.ext", "/CN=Test Vendor ECDSA")
	p.newKey(ServerEKU, "rsa")
	p.issue(ServerEKU, "inter", "server.ext", "/CN=Test Web Server")
	p.newKey(Revoked, "rsa")
	p.issue(Revoked, "inter", "leaf.ext", "/CN=Test Vendor Revoked")
	p.run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "3650", "-subj", "/CN=Other CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	p.newKey(Untrusted, "rsa")
	p.issue(Untrusted, "other", "leaf.ext", "/CN=Test Vendor Untrusted")
	p.caOps()
	p.Root, p.Chain, p.CRL = p.Path("root.crt"), p.Path("inter.crt"), p.Path("inter.crl")
	return p
}

// caOps uses `openssl ca` for what `openssl x509` cannot do: a
// certificate valid only in the past, and a CRL.
func (p *PKI) caOps() {
	p.write("index.txt", "")
	p.write("serial", "1000\n")
	p.write("crlnumber", "01\n")
	p.write("ca.cnf", `[ca]
default_ca = inter
[inter]
dir = .
database = index.txt
serial = serial
crlnumber = crlnumber
new_certs_dir = .
certificate = inter.crt
private_key = inter.key
default_md = sha256
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
`)
	p.newKey(Expired, "rsa")
	p.run("req", "-new", "-key", Expired+".key", "-out", Expired+".csr", "-subj", "/CN=Test Vendor Expired")
	p.run("ca", "-batch", "-config", "ca.cnf", "-extensions", "leaf", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-in", Expired+".csr", "-out", Expired+".crt", "-notext")
	p.run("ca", "-batch", "-config", "ca.cnf", "-revoke", Revoked+".crt")
	p.run("ca", "-batch", "-config", "ca.cnf", "-gencrl", "-out", "inter.crl")
}

func (p *PKI) newKey(name, kind string) {
	if kind == "ec" {
		p.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name+".key")
		return
	}
	p.run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name+".key")
}

func (p *PKI) issue(name, ca, ext, subject string) {
	p.run("req", "-new", "-key", name+".key", "-out", name+".csr", "-subj", subject)
	p.run("x509", "-req", "-in", name+".csr", "-CA", ca+".crt", "-CAkey", ca+".key", "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", ext, "-out", name+".crt")
}

func (p *PKI) write(name, data string) {
	if err := os.WriteFile(p.Path(name), []byte(data), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// Path is a file of the PKI directory.
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// Key and Cert are a signer's files.
func (p *PKI) Key(signer string) string  { return p.Path(signer + ".key") }
func (p *PKI) Cert(signer string) string { return p.Path(signer + ".crt") }

// ChainFor is the intermediate for the signers under it, "" otherwise.
func (p *PKI) ChainFor(signer string) string {
	if signer == Untrusted {
		return ""
	}
	return p.Chain
}

// run runs openssl in the PKI directory and returns its stdout.
func (p *PKI) run(args ...string) []byte {
	p.t.Helper()
	cmd := exec.Command(p.openssl, args...)
	cmd.Dir = p.Dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Options of Sign.
type Options struct {
	NoCerts bool   // -nocerts: the signer's certificate is not in the CMS
	NoAttr  bool   // -noattr: no signed attributes
	PSS     bool   // RSASSA-PSS padding
	MD      string // digest: sha256 (default), sha384, sha512, sha1
	DER     bool   // DER output instead of PEM
}

// Sign signs content with `openssl cms -sign -binary` (detached), as a
// vendor would, and returns the CMS (PEM unless o.DER).
func (p *PKI) Sign(content []byte, signer string, o Options) []byte {
	p.t.Helper()
	in := filepath.Join(p.Dir, "content.bin")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return p.SignFile(in, signer, o)
}

// SignFile is Sign of a file's content: openssl streams it, so it may be
// large.
func (p *PKI) SignFile(in, signer string, o Options) []byte {
	p.t.Helper()
	md := o.MD
	if md == "" {
		md = "sha256"
	}
	args := []string{"cms", "-sign", "-binary", "-in", in, "-signer", p.Cert(signer), "-inkey", p.Key(signer), "-md", md}
	if chain := p.ChainFor(signer); chain != "" && !o.NoCerts {
		args = append(args, "-certfile", chain)
	}
	if o.NoCerts {
		args = append(args, "-nocerts")
	}
	if o.NoAttr {
		args = append(args, "-noattr")
	}
	if o.PSS {
		args = append(args, "-keyopt", "rsa_padding_mode:pss")
	}
	if o.DER {
		args = append(args, "-outform", "DER")
	} else {
		args = append(args, "-outform", "PEM")
	}
	return p.run(args...)
}

// Verify runs `openssl cms -verify` of a detached PEM CMS over content
// against the PKI's root, and reports whether openssl accepted it.
func (p *PKI) Verify(content, cms []byte) (bool, string) {
	p.t.Helper()
	in, sig := filepath.Join(p.Dir, "verify.bin"), filepath.Join(p.Dir, "verify.cms")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(sig, cms, 0o600); err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.openssl, "cms", "-verify", "-binary", "-inform", "PEM", "-in", sig, "-content", in, "-CAfile", p.Root, "-purpose", "any", "-out", os.DevNull)
	cmd.Dir = p.Dir
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}
