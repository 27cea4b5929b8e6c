package profiles

// Published lists SOL 001 type files exactly as ETSI publishes them
// (forge.etsi.org/rep/nfv/SOL001, tag vX.Y.Z), by the SHA-256 of their
// bytes. Tacker's sample packages and many vendors' ship these copies, so
// the processor serves them from a precompiled parse (Precompiled) instead
// of parsing ~77 KB of YAML per package. Only the hashes are public facts
// recorded here; the files themselves are not part of this repository: the
// precompiled form of a published file holds its structure and positions
// and takes its scalar values from the package's own copy, verified by
// this hash. A copy that differs by one byte is parsed normally.
//
// Add a version only with a hash taken from the published bytes.
var Published = []PublishedFile{
	{Version: "2.6.1", Name: CommonTypes, SHA256: "18a277cc398e1ee6785766014a7a668e3b11d2b78b580b4ca3417ba6a63633d8"},
	{Version: "2.6.1", Name: VNFDTypes, SHA256: "01c27cc56d9f2b022d0c20dd5408e3f2bcc8868656b7a520f9b687db2837c693"},
}

// PublishedFile is one SOL 001 file as ETSI publishes it.
type PublishedFile struct {
	Version string // "2.6.1"
	Name    string // CommonTypes or VNFDTypes
	SHA256  string // hex, of the published bytes
}
