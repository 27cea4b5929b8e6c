package profiles

import (
	"embed"
	"encoding/hex"
)

// The precompiled profiles: every embedded profile file and every
// Published file parsed at build time into the form of
// tosca/internal/yamlbin, which loads without YAML parsing (YAML parsing
// was 61% of processing a Tacker package cold). precompiled/<sha256>.tyb
// is the form of the file whose bytes have that SHA-256; the generator
// writes them and a test fails when one is stale:
//
//go:generate go run ./internal/gen -corpus ../../../shared/corpus
//go:embed precompiled
var precompiled embed.FS

// PrecompiledDir is the directory of the precompiled forms in this
// package's source tree.
const PrecompiledDir = "precompiled"

// Precompiled returns the precompiled form of the file whose bytes have
// the SHA-256 sum, if it is an embedded profile or a Published file. The
// form is only valid together with those exact bytes.
func Precompiled(sum [32]byte) (form []byte, ok bool) {
	data, err := precompiled.ReadFile(PrecompiledDir + "/" + hex.EncodeToString(sum[:]) + ".tyb")
	return data, err == nil
}
