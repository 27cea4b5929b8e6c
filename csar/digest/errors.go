package digest

import (
	"fmt"
	"strings"
)

// UnknownAlgorithmError reports an algorithm name that [Lookup] does not know.
type UnknownAlgorithmError struct {
	Name string // the name as given
}

func (e *UnknownAlgorithmError) Error() string {
	return fmt.Sprintf("digest: unknown hash algorithm %q (known: %s)", e.Name, strings.Join(names.Get(), ", "))
}

// MalformedHashError reports an expected hash value that cannot be a digest
// of its algorithm: a character that is not a hex digit, or a length that
// does not fit.
type MalformedHashError struct {
	Algorithm string // canonical name of the algorithm
	Hash      string // the expected value as given
	Reason    string // e.g. "63 hex digits, want 64"
}

func (e *MalformedHashError) Error() string {
	h := e.Hash
	if len(h) > 160 {
		h = h[:160] + "..."
	}
	return fmt.Sprintf("digest: malformed %s hash %q: %s", e.Algorithm, h, e.Reason)
}
