// Package digest is the one registry of hash algorithms known by name and the
// engine that computes several digests of a stream in a single read of its bytes.
//
// Known algorithms: SHA-224, SHA-256, SHA-384 and SHA-512 (the names SOL 004
// manifests use) and OpenStack Glance's list: md5, sha1, sha224, sha256,
// sha384, sha512, sha3_256, sha3_384, sha3_512, blake2b (512-bit output),
// blake2s (256-bit output), shake_128 and shake_256.
//
// Names match case-insensitively with '-' and '_' ignored, so "SHA-256",
// "sha256" and "Sha_256" are one algorithm and "sha3_256" is "SHA3-256".
// Hex digests compare case-insensitively.
//
// SHAKE-128 and SHAKE-256 are extendable-output functions: their output
// length is taken from the length of the expected hex value. Without an
// expected value, 32 bytes are produced for shake_128 and 64 bytes for
// shake_256: the shortest outputs giving their full 128- and 256-bit
// security, which is also what golang.org/x/crypto/sha3's Sum returns.
// At most [MaxExtendableSize] bytes of output can be requested.
//
// Memory use of [Sum] is independent of the stream size: the stream is read
// in pooled 1 MiB chunks and never buffered.
package digest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"hash"
	"slices"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"
)

// MaxExtendableSize is the largest output, in bytes, that may be requested
// from an extendable-output function (shake_128, shake_256), that is an
// expected value of at most 2*MaxExtendableSize hex digits.
const MaxExtendableSize = 1024

// Algorithm is one known hash algorithm. The zero Algorithm is not a known
// algorithm. Algorithms are comparable with ==.
type Algorithm struct {
	// Name is the canonical display name: "SHA-224".."SHA-512" for SHA-2,
	// otherwise Glance's spelling ("md5", "sha1", "sha3_256", "blake2b",
	// "shake_128", ...).
	Name string
	// Size is the digest size in bytes; 0 for the extendable-output SHAKE
	// functions.
	Size int

	id uint8 // index into registry; 0 for the zero Algorithm
}

// spec describes one registry entry.
type spec struct {
	name        string
	size        int // 0 for an extendable-output function
	defaultSize int // output size when nothing else asks for one
	newHasher   func() hasher
}

// hasher is a running hash computation.
type hasher interface {
	Write(p []byte) (int, error) // never fails
	// sum returns n bytes of output. It is called once, after the last Write.
	sum(n int) []byte
}

// fixed adapts a fixed-size hash.Hash.
type fixed struct{ h hash.Hash }

func (f fixed) Write(p []byte) (int, error) { return f.h.Write(p) }
func (f fixed) sum(int) []byte              { return f.h.Sum(nil) }

// xof adapts an extendable-output function.
type xof struct{ s *sha3.SHAKE }

func (x xof) Write(p []byte) (int, error) { return x.s.Write(p) }
func (x xof) sum(n int) []byte {
	out := make([]byte, n)
	_, _ = x.s.Read(out) // never fails
	return out
}

// unkeyed makes the unkeyed hash from a keyed BLAKE2 constructor; those
// constructors only fail for a key that is too long.
func unkeyed(f func([]byte) (hash.Hash, error)) hasher {
	h, err := f(nil)
	if err != nil {
		panic("digest: " + err.Error())
	}
	return fixed{h}
}

// registry lists every known algorithm; index 0 is the zero Algorithm.
// The standard library is used wherever it has the algorithm (including
// crypto/sha3, which golang.org/x/crypto/sha3 merely wraps); BLAKE2 comes
// from golang.org/x/crypto.
var registry = [...]spec{
	{},
	{"SHA-224", sha256.Size224, sha256.Size224, func() hasher { return fixed{sha256.New224()} }},
	{"SHA-256", sha256.Size, sha256.Size, func() hasher { return fixed{sha256.New()} }},
	{"SHA-384", sha512.Size384, sha512.Size384, func() hasher { return fixed{sha512.New384()} }},
	{"SHA-512", sha512.Size, sha512.Size, func() hasher { return fixed{sha512.New()} }},
	{"md5", md5.Size, md5.Size, func() hasher { return fixed{md5.New()} }},
	{"sha1", sha1.Size, sha1.Size, func() hasher { return fixed{sha1.New()} }},
	{"sha3_256", 32, 32, func() hasher { return fixed{sha3.New256()} }},
	{"sha3_384", 48, 48, func() hasher { return fixed{sha3.New384()} }},
	{"sha3_512", 64, 64, func() hasher { return fixed{sha3.New512()} }},
	{"blake2b", blake2b.Size, blake2b.Size, func() hasher { return unkeyed(blake2b.New512) }},
	{"blake2s", blake2s.Size, blake2s.Size, func() hasher { return unkeyed(blake2s.New256) }},
	{"shake_128", 0, 32, func() hasher { return xof{sha3.NewSHAKE128()} }},
	{"shake_256", 0, 64, func() hasher { return xof{sha3.NewSHAKE256()} }},
}

// byKey and names are built on first use: every program linking this
// package, the CLI's `help` included, would otherwise build them at start
// (internal/lazy).
var (
	byKey = &lazy.Value[map[string]uint8]{Build: func() map[string]uint8 {
		m := make(map[string]uint8, len(registry))
		for i := 1; i < len(registry); i++ {
			m[Normalize(registry[i].name)] = uint8(i)
		}
		return m
	}}
	names = &lazy.Value[[]string]{Build: func() []string {
		s := make([]string, 0, len(registry)-1)
		for i := 1; i < len(registry); i++ {
			s = append(s, registry[i].name)
		}
		slices.Sort(s)
		return s
	}}
)

// Normalize returns the lookup key of an algorithm name: surrounding white
// space removed, ASCII letters lowered, '-' and '_' dropped ("SHA-256" ->
// "sha256", "sha3_256" -> "sha3256").
func Normalize(name string) string {
	name = strings.TrimSpace(name)
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Lookup returns the algorithm the name designates, after [Normalize].
func Lookup(name string) (Algorithm, bool) {
	id, ok := byKey.Get()[Normalize(name)]
	if !ok {
		return Algorithm{}, false
	}
	return algorithm(id), true
}

func algorithm(id uint8) Algorithm {
	return Algorithm{Name: registry[id].name, Size: registry[id].size, id: id}
}

// Names returns the canonical names of every known algorithm, sorted, for
// error messages ("known: ...").
func Names() []string { return slices.Clone(names.Get()) }

// Algorithms returns every known algorithm, in the order of [Names].
func Algorithms() []Algorithm {
	out := make([]Algorithm, len(names.Get()))
	for i, n := range names.Get() {
		out[i] = algorithm(byKey.Get()[Normalize(n)])
	}
	return out
}

// String returns the canonical name.
func (a Algorithm) String() string { return a.Name }

// Extendable reports whether a is an extendable-output function (shake_128,
// shake_256), whose output length is chosen by the caller.
func (a Algorithm) Extendable() bool { return a.id != 0 && registry[a.id].size == 0 }

// DefaultSize is the size in bytes of the digest computed when no expected
// value is given: Size, or 32 for shake_128 and 64 for shake_256.
func (a Algorithm) DefaultSize() int { return registry[a.id].defaultSize }

// Equal reports whether a and b are the same non-empty hex string, ignoring
// ASCII case. Strings containing anything but hex digits are never equal.
// The comparison is not constant-time.
func Equal(a, b string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, okx := unhex(a[i])
		y, oky := unhex(b[i])
		if !okx || !oky || x != y {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
