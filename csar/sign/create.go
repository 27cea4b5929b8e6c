package sign

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/smallstep/pkcs7"
)

// Signer is a private key with its certificate and the intermediates to
// ship with each signature.
type Signer struct {
	Key   crypto.Signer
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	// Hash is the digest algorithm; zero means SHA-256.
	Hash crypto.Hash
}

// LoadSigner reads a PEM private key (PKCS#8, PKCS#1 or SEC 1), the
// signer's certificate and optionally a PEM file of intermediates.
func LoadSigner(keyFile, certFile, chainFile string) (*Signer, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	s := &Signer{Key: key, Cert: certs[0], Chain: certs[1:]}
	if chainFile != "" {
		data, err := os.ReadFile(chainFile)
		if err != nil {
			return nil, err
		}
		chain, err := ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", chainFile, err)
		}
		s.Chain = append(s.Chain, chain...)
	}
	return s, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM private key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("a %T key cannot sign", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("the PEM %q block is no PKCS#8, PKCS#1 or SEC 1 private key", b.Type)
}

// SignDetached makes a detached CMS SignedData over content, with signed
// attributes and the signer's certificate and chain, as PEM "CMS".
func (s *Signer) SignDetached(content []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	switch s.Hash {
	case 0, crypto.SHA256:
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	case crypto.SHA384:
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA384)
	case crypto.SHA512:
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA512)
	default:
		return nil, fmt.Errorf("digest %s: SOL 004 allows SHA-256, SHA-384 and SHA-512", s.Hash)
	}
	if err := sd.AddSignerChain(s.Cert, s.Key, s.Chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, err
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: der}), nil
}
