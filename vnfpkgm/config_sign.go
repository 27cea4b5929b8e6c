package vnfpkgm

import (
	"flag"
	"fmt"

	"github.com/vnfpkgm/vnfpkgm/csar/sign"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// SignConfig configures package authenticity checks at onboarding
// (SOL 004 security options 1 and 2).
type SignConfig struct {
	// Signatures is the policy: required, verify (default) or ignore.
	Signatures string
	// TrustStore is a PEM bundle or a directory of certificates the
	// signers' chains must lead to.
	TrustStore string
	// CRLFile holds CRLs (PEM or DER) the chains are checked against.
	CRLFile string

	// trust is the store loaded by ParseConfig, so that a bad store stops
	// the server at startup rather than failing every onboarding.
	trust *sign.TrustStore
}

func defaultSignConfig() SignConfig { return SignConfig{Signatures: string(sign.PolicyVerify)} }

func registerSignFlags(fs *flag.FlagSet, c *SignConfig) {
	fs.StringVar(&c.Signatures, "signatures", c.Signatures, "package signatures: required (unsigned packages are refused), verify (signed packages must verify, unsigned ones onboard with a warning) or ignore")
	fs.StringVar(&c.TrustStore, "trust-store", c.TrustStore, "PEM bundle or directory of the CA certificates package signers must chain to")
	fs.StringVar(&c.CRLFile, "crl-file", c.CRLFile, "file of CRLs (PEM or DER) the signers' certificates are checked against")
}

// load checks the policy and loads the trust store and CRLs.
func (c *SignConfig) load() error {
	if _, err := sign.ParsePolicy(c.Signatures); err != nil {
		return fmt.Errorf("signatures: %w", err)
	}
	if c.TrustStore == "" {
		if c.CRLFile != "" {
			return fmt.Errorf("crl-file needs a trust-store")
		}
		c.trust = nil
		return nil
	}
	store, err := sign.LoadTrustStore(c.TrustStore)
	if err != nil {
		return err
	}
	if c.CRLFile != "" {
		if err := store.AddCRLFile(c.CRLFile); err != nil {
			return err
		}
	}
	c.trust = store
	return nil
}

// options are the signature options of a validation.
func (c SignConfig) options() (validate.Signatures, error) {
	if c.trust == nil && c.TrustStore != "" {
		if err := c.load(); err != nil {
			return validate.Signatures{}, err
		}
	}
	policy, err := sign.ParsePolicy(c.Signatures)
	if err != nil {
		return validate.Signatures{}, err
	}
	return validate.Signatures{Policy: policy, Trust: c.trust}, nil
}
