package csar

import "bytes"

// Problem codes of package authenticity (SOL 004 clause 5, security
// options 1 and 2). Each cause of a failed signature check has its own
// code so that an operator (and a test) can tell them apart.
const (
	// The package carries no signature although the policy requires one
	// (error), or it is unsigned under the default policy (warning).
	CodeSignatureMissing = "signature-missing"
	// The CMS block or .cms file is not a parseable CMS SignedData
	// (truncated, not base64, not DER, not SignedData, no signer).
	CodeSignatureMalformed = "signature-malformed"
	// The digest of the signed bytes differs from the CMS messageDigest:
	// the content changed after signing, or the CMS signs other bytes.
	CodeSignatureContentMismatch = "signature-content-mismatch"
	// The signature value does not verify with the signer's public key.
	CodeSignatureInvalid = "signature-invalid"
	// Neither the CMS nor the package holds the signer's certificate.
	CodeSignatureCertificateMissing = "signature-certificate-missing"
	// A certificate file named by the package is not PEM/DER X.509.
	CodeSignatureCertificateMalformed = "signature-certificate-malformed"
	// The signer's chain does not lead to a certificate of the trust
	// store (or no trust store is configured).
	CodeSignatureUntrusted = "signature-untrusted"
	// A certificate of the chain is expired or not yet valid at
	// onboarding time.
	CodeSignatureExpired = "signature-certificate-expired"
	// The signer's certificate is not for signing: its key usage lacks
	// digitalSignature/contentCommitment, or its extended key usage lacks
	// codeSigning/documentSigning.
	CodeSignatureKeyUsage = "signature-key-usage"
	// A certificate of the chain is on a configured CRL.
	CodeSignatureRevoked = "signature-certificate-revoked"
	// The chain is broken otherwise (an intermediate that is no CA, a
	// name constraint, ...).
	CodeSignatureChainInvalid = "signature-chain-invalid"
	// The digest algorithm is not one SOL 004 allows (SHA-256, SHA-384,
	// SHA-512), e.g. SHA-1 or MD5.
	CodeSignatureDigestNotAllowed = "signature-digest-algorithm-not-allowed"
	// The signature algorithm is neither RSA (PKCS#1 v1.5, PSS) nor ECDSA.
	CodeSignatureAlgorithmUnsupported = "signature-algorithm-unsupported"
	// A manifest entry names a Signature or Certificate file that is not
	// in the package.
	CodeArtifactSignatureNotFound = "artifact-signature-not-found"
	// A signed package (option 2) lacks its .cms or .cert member.
	CodeSignedPackageCMSMissing  = "signed-package-cms-missing"
	CodeSignedPackageCertMissing = "signed-package-cert-missing"
	// A signed package (option 2) holds members other than the CSAR, its
	// .cms and .cert, or several candidate CSARs.
	CodeSignedPackageLayout = "signed-package-layout"
	// The CSAR inside a signed package is compressed (it must be stored,
	// to be read in place).
	CodeSignedPackageCompressed = "signed-package-csar-compressed"
)

// ManifestSignedContent splits a manifest into the content its CMS
// signature covers and the CMS block. The signed content is the manifest
// as GET .../manifest serves it without signatures: the text before the
// "-----BEGIN CMS-----" line, its trailing line breaks reduced to one, so
// a client holding that download and the certificate can check it with
// `openssl cms -verify -content`. found is false for an unsigned manifest.
func ManifestSignedContent(data []byte) (content, cms []byte, found bool) {
	i := bytes.Index(data, []byte(beginCMS))
	for i > 0 && data[i-1] != '\n' {
		// BEGIN CMS inside a line is not the signature block.
		j := bytes.Index(data[i+1:], []byte(beginCMS))
		if j < 0 {
			return data, nil, false
		}
		i += 1 + j
	}
	if i < 0 {
		return data, nil, false
	}
	eol := []byte("\n")
	if bytes.Contains(data[:i], []byte("\r\n")) {
		eol = []byte("\r\n")
	}
	head := bytes.TrimRight(data[:i], "\r\n")
	content = make([]byte, 0, len(head)+len(eol))
	content = append(append(content, head...), eol...)
	return content, data[i:], true
}
