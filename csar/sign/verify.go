package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // SHA-384, SHA-512
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// Failure is a signature check that failed, with the csar problem code
// of its cause.
type Failure struct {
	Code    string
	Message string
}

func (f *Failure) Error() string { return f.Message }

func fail(code, format string, args ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Object identifiers of the algorithms a SOL 004 signature may use.
var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256RSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384RSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512RSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}

	// id-kp-documentSigning (RFC 9336).
	oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
)

// allowedDigests are SOL 004's hash algorithms for signatures.
var allowedDigests = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{oidSHA256, crypto.SHA256, "SHA-256"},
	{oidSHA384, crypto.SHA384, "SHA-384"},
	{oidSHA512, crypto.SHA512, "SHA-512"},
}

func digestFor(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, d := range allowedDigests {
		if d.oid.Equal(oid) {
			return d.hash, true
		}
	}
	return 0, false
}

// Signature is a parsed detached CMS SignedData.
type Signature struct {
	p7   *pkcs7.PKCS7
	hash crypto.Hash
}

// ParseCMS parses a CMS SignedData in PEM ("CMS" or "PKCS7" block) or
// DER. Every signer must use one allowed digest algorithm, so that the
// signed content is hashed once, while it is read.
func ParseCMS(data []byte) (*Signature, error) {
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		b, _ := pem.Decode(data)
		if b == nil {
			return nil, fail(csar.CodeSignatureMalformed, "the CMS signature is not valid PEM (truncated or corrupt base64)")
		}
		if b.Type != "CMS" && b.Type != "PKCS7" {
			return nil, fail(csar.CodeSignatureMalformed, "the signature is a PEM %q block, not CMS", b.Type)
		}
		der = b.Bytes
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fail(csar.CodeSignatureMalformed, "the CMS signature cannot be parsed: %v", err)
	}
	if len(p7.Signers) == 0 {
		return nil, fail(csar.CodeSignatureMalformed, "the CMS structure is no SignedData with a signer")
	}
	s := &Signature{p7: p7}
	for _, si := range p7.Signers {
		h, ok := digestFor(si.DigestAlgorithm.Algorithm)
		if !ok {
			return nil, fail(csar.CodeSignatureDigestNotAllowed, "the signature uses the digest algorithm %s; SOL 004 allows SHA-256, SHA-384 and SHA-512", digestName(si.DigestAlgorithm.Algorithm))
		}
		if s.hash != 0 && s.hash != h {
			return nil, fail(csar.CodeSignatureAlgorithmUnsupported, "the signers use different digest algorithms; one is supported")
		}
		s.hash = h
	}
	return s, nil
}

func digestName(oid asn1.ObjectIdentifier) string {
	switch {
	case oid.Equal(oidSHA1):
		return "SHA-1"
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}):
		return "MD5"
	case oid.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}):
		return "SHA-224"
	}
	return oid.String()
}

// Hash is the digest algorithm of the signed content.
func (s *Signature) Hash() crypto.Hash { return s.hash }

// NewHash returns a hash to feed the signed content to, for VerifyDigest.
func (s *Signature) NewHash() hash.Hash { return s.hash.New() }

// Certificates are the certificates the CMS carries.
func (s *Signature) Certificates() []*x509.Certificate { return s.p7.Certificates }

// Verification is what a signature is checked against.
type Verification struct {
	// Trust is the trust store; nil means no signer can be trusted.
	Trust *TrustStore
	// Certificates are further certificates from the package (the signer's
	// and intermediates), besides those the CMS carries.
	Certificates []*x509.Certificate
	// Now is when the certificates must be valid (onboarding time).
	Now time.Time
}

// VerifyContent hashes r and verifies the signature over it.
func (s *Signature) VerifyContent(r io.Reader, v Verification) (*x509.Certificate, error) {
	h := s.NewHash()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return s.VerifyDigest(h.Sum(nil), v)
}

// VerifyDigest verifies the signature given the digest (by Hash) of the
// signed content, computed while the content was read, then the signer's
// certificate: usage, chain to the trust store, validity at v.Now and
// revocation. It returns the signer's certificate, also with a failed
// chain check (so that the report can name it). The error is a *Failure.
func (s *Signature) VerifyDigest(contentDigest []byte, v Verification) (*x509.Certificate, error) {
	pool := append(append([]*x509.Certificate{}, s.p7.Certificates...), v.Certificates...)
	var signer *x509.Certificate
	for _, si := range s.p7.Signers {
		cert := findCert(pool, si.IssuerAndSerialNumber.IssuerName.FullBytes, si.IssuerAndSerialNumber.SerialNumber)
		if cert == nil {
			return nil, fail(csar.CodeSignatureCertificateMissing, "the signer's certificate (serial %s) is neither in the CMS signature nor in the package", si.IssuerAndSerialNumber.SerialNumber)
		}
		// The library's attribute type is unexported; its fields are not.
		attrs := make([]signerAttribute, 0, len(si.AuthenticatedAttributes))
		for _, a := range si.AuthenticatedAttributes {
			attrs = append(attrs, signerAttribute{Type: a.Type, Value: a.Value})
		}
		digest, err := signedDigest(attrs, contentDigest, s.hash)
		if err != nil {
			return cert, err
		}
		if err := checkSignature(cert, si.DigestEncryptionAlgorithm, s.hash, digest, si.EncryptedDigest); err != nil {
			return cert, err
		}
		if signer == nil {
			signer = cert
		}
		if err := checkCertificate(cert, pool, v); err != nil {
			return cert, err
		}
	}
	return signer, nil
}

func findCert(certs []*x509.Certificate, issuer []byte, serial *big.Int) *x509.Certificate {
	for _, c := range certs {
		if serial != nil && c.SerialNumber.Cmp(serial) == 0 && bytes.Equal(c.RawIssuer, issuer) {
			return c
		}
	}
	return nil
}

// signerAttribute mirrors the library's attribute so that the signed
// attributes can be encoded again as the SET OF that was signed.
type signerAttribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// signedDigest returns the digest the signature value is over: with
// signed attributes (what openssl cms -sign makes by default), the digest
// of their DER SET, after checking their messageDigest against the
// content's digest; without, the content digest itself.
func signedDigest(attrs []signerAttribute, contentDigest []byte, h crypto.Hash) ([]byte, error) {
	if len(attrs) == 0 {
		return contentDigest, nil
	}
	var messageDigest []byte
	for _, a := range attrs {
		if a.Type.Equal(oidMessageDigest) {
			if _, err := asn1.Unmarshal(a.Value.Bytes, &messageDigest); err != nil {
				return nil, fail(csar.CodeSignatureMalformed, "the CMS messageDigest attribute is malformed: %v", err)
			}
		}
	}
	if messageDigest == nil {
		return nil, fail(csar.CodeSignatureMalformed, "the CMS signed attributes have no messageDigest")
	}
	if subtle.ConstantTimeCompare(messageDigest, contentDigest) != 1 {
		return nil, fail(csar.CodeSignatureContentMismatch, "the signed content changed: its %s digest is not the one the CMS signature covers (the content was modified after signing, or the signature is over other bytes)", hashName(h))
	}
	// The signature covers the attributes encoded as a SET OF (RFC 5652
	// 5.4), not as the [0] IMPLICIT field they are carried in.
	der, err := asn1.Marshal(struct {
		A []signerAttribute `asn1:"set"`
	}{A: attrs})
	if err != nil {
		return nil, fail(csar.CodeSignatureMalformed, "the CMS signed attributes cannot be encoded: %v", err)
	}
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, fail(csar.CodeSignatureMalformed, "the CMS signed attributes cannot be encoded: %v", err)
	}
	d := h.New()
	d.Write(outer.Bytes)
	return d.Sum(nil), nil
}

func hashName(h crypto.Hash) string {
	for _, d := range allowedDigests {
		if d.hash == h {
			return d.name
		}
	}
	return h.String()
}

// pssParameters is RSASSA-PSS-params (RFC 4055 section 3.1).
type pssParameters struct {
	Hash         pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MaskGen      pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
	SaltLength   int                      `asn1:"explicit,optional,default:20,tag:2"`
	TrailerField int                      `asn1:"explicit,optional,default:1,tag:3"`
}

// checkSignature verifies the signature value sig over digest (made
// with h) with the certificate's public key, by the CMS signature
// algorithm: RSA PKCS#1 v1.5, RSASSA-PSS or ECDSA.
func checkSignature(cert *x509.Certificate, alg pkix.AlgorithmIdentifier, h crypto.Hash, digest, sig []byte) error {
	bad := func(kind string, err error) error {
		return fail(csar.CodeSignatureInvalid, "the %s signature does not verify with the key of %s: %v", kind, cert.Subject, err)
	}
	switch oid := alg.Algorithm; {
	case oid.Equal(oidRSA), oid.Equal(oidSHA256RSA), oid.Equal(oidSHA384RSA), oid.Equal(oidSHA512RSA):
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fail(csar.CodeSignatureInvalid, "the signature is RSA but the key of %s is %T", cert.Subject, cert.PublicKey)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
			return bad("RSA PKCS#1 v1.5", err)
		}
		return nil
	case oid.Equal(oidRSAPSS):
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fail(csar.CodeSignatureInvalid, "the signature is RSA-PSS but the key of %s is %T", cert.Subject, cert.PublicKey)
		}
		var params pssParameters
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
			return fail(csar.CodeSignatureMalformed, "the RSASSA-PSS parameters are malformed: %v", err)
		}
		// An absent hash means SHA-1 (RFC 4055), which SOL 004 does not allow.
		ph, ok := digestFor(params.Hash.Algorithm)
		if !ok || ph != h {
			return fail(csar.CodeSignatureDigestNotAllowed, "the RSASSA-PSS hash %s is not the signer's digest algorithm %s", digestName(params.Hash.Algorithm), hashName(h))
		}
		if err := rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: params.SaltLength, Hash: h}); err != nil {
			return bad("RSA-PSS", err)
		}
		return nil
	case oid.Equal(oidECPublicKey), oid.Equal(oidECDSASHA256), oid.Equal(oidECDSASHA384), oid.Equal(oidECDSASHA512):
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fail(csar.CodeSignatureInvalid, "the signature is ECDSA but the key of %s is %T", cert.Subject, cert.PublicKey)
		}
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return bad("ECDSA", errors.New("verification failed"))
		}
		return nil
	}
	return fail(csar.CodeSignatureAlgorithmUnsupported, "the signature algorithm %s is not supported (RSA PKCS#1 v1.5, RSA-PSS and ECDSA are)", alg.Algorithm)
}

// checkCertificate checks the signer's certificate: its usage, its chain
// to the trust store at v.Now, and the CRLs of the store.
func checkCertificate(cert *x509.Certificate, pool []*x509.Certificate, v Verification) error {
	if err := checkUsage(cert); err != nil {
		return err
	}
	if v.Trust == nil || v.Trust.count == 0 {
		return fail(csar.CodeSignatureUntrusted, "the signer %s cannot be trusted: no trust store is configured (--trust-store)", cert.Subject)
	}
	intermediates := x509.NewCertPool()
	for _, c := range pool {
		if c != cert {
			intermediates.AddCert(c)
		}
	}
	now := v.Now
	if now.IsZero() {
		now = time.Now()
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: v.Trust.roots, Intermediates: intermediates, CurrentTime: now,
		// Usage was checked above on the signer; CAs may restrict their
		// extended usages to anything.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return chainFailure(cert, err, now)
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			if v.Trust.revoked(chain[i], chain[i+1]) {
				return fail(csar.CodeSignatureRevoked, "the certificate %s (serial %s) is revoked by its issuer's CRL", chain[i].Subject, chain[i].SerialNumber)
			}
		}
	}
	return nil
}

func chainFailure(cert *x509.Certificate, err error, now time.Time) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fail(csar.CodeSignatureUntrusted, "the signer %s is not trusted: its chain leads to no certificate of the trust store (%v)", cert.Subject, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fail(csar.CodeSignatureExpired, "the certificate %s is not valid at %s (valid from %s to %s)", invalid.Cert.Subject, now.UTC().Format(time.RFC3339),
			invalid.Cert.NotBefore.UTC().Format(time.RFC3339), invalid.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return fail(csar.CodeSignatureChainInvalid, "the certificate chain of %s is invalid: %v", cert.Subject, err)
}

// checkUsage refuses a signer certificate whose key usage or extended key
// usage, where present, does not allow signing code or documents.
func checkUsage(cert *x509.Certificate) error {
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fail(csar.CodeSignatureKeyUsage, "the certificate %s may not sign: its key usage has neither digitalSignature nor contentCommitment", cert.Subject)
	}
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	for _, u := range cert.UnknownExtKeyUsage {
		if u.Equal(oidDocumentSigning) {
			return nil
		}
	}
	return fail(csar.CodeSignatureKeyUsage, "the certificate %s may not sign packages: its extended key usage has neither codeSigning nor documentSigning", cert.Subject)
}

// HashName is the SOL 004 name of the digest algorithm ("SHA-256").
func (s *Signature) HashName() string { return hashName(s.hash) }
