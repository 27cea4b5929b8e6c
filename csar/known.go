package csar

import (
	"sync"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// KnownDigests supplies digests of package files computed before
// verification, so that VerifyDigestsUsing reads only what is missing.
// Implementations are safe for concurrent use.
type KnownDigests interface {
	// Digest returns the lowercase hex digest of the file at a package
	// path with algorithm a, if known.
	Digest(name string, a digest.Algorithm) (string, bool)
}

// Known returns the digests of pre that provably describe members of a
// as a reads them; the others are unknown and get read. A streamed member
// is trusted for an archive member when:
//
//   - zip: the central directory's entry starts its data at the offset
//     where the streamed member's data started (DataOffset, from the local
//     header the central directory points at), with the same method,
//     compressed size, uncompressed size and CRC-32, and, if the record
//     says a data descriptor follows, the stream found one there with that
//     CRC-32 (archive/zip checks it). The archive is the
//     very bytes that streamed, so the member's compressed bytes are the
//     same bytes, and inflating them gives the same content the digests
//     were computed on; a local header that disagrees with the central
//     directory (other sizes, another method, another position) makes the
//     streamed digests unusable, never wrong;
//   - tar and tar.gz: the member's bytes start at the same offset of the
//     (decompressed) stream and have the same size.
//
// pre must come from the same stored object; the caller keeps the two
// together (the server stores pre with the content key).
func (a *Archive) Known(pre *Precomputed) KnownDigests {
	k := &knownDigests{a: a, byOffset: map[int64]*PrecomputedEntry{}, trusted: map[*Entry]*PrecomputedEntry{}}
	if pre == nil || pre.Format != a.Format {
		return k
	}
	for i := range pre.Entries {
		pe := &pre.Entries[i]
		k.byOffset[pe.DataOffset] = pe
	}
	return k
}

type knownDigests struct {
	a        *Archive
	byOffset map[int64]*PrecomputedEntry
	mu       sync.Mutex
	trusted  map[*Entry]*PrecomputedEntry // nil value: checked, not trusted
}

func (k *knownDigests) Digest(name string, alg digest.Algorithm) (string, bool) {
	e, ok := k.a.Lookup(name)
	if !ok || e.IsDir() {
		return "", false
	}
	pe := k.entry(e)
	if pe == nil {
		return "", false
	}
	hex, ok := pe.Digests[alg.Name]
	return hex, ok
}

func (k *knownDigests) entry(e *Entry) *PrecomputedEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pe, seen := k.trusted[e]; seen {
		return pe
	}
	pe := k.match(e)
	k.trusted[e] = pe
	return pe
}

// match finds the streamed member that provably is e, or nil.
func (k *knownDigests) match(e *Entry) *PrecomputedEntry {
	if len(k.byOffset) == 0 {
		return nil
	}
	if f := e.zipFile; f != nil {
		off, err := f.DataOffset()
		if err != nil {
			return nil
		}
		pe := k.byOffset[off]
		// A record flagged with a data descriptor makes the reader check
		// the CRC-32 in the descriptor after the data too: the stream
		// must have found one there with that CRC-32.
		hasDescriptor := f.Flags&zipFlagDescriptor != 0
		if pe == nil || pe.Method != f.Method || pe.CompressedSize != int64(f.CompressedSize64) ||
			pe.Size != int64(f.UncompressedSize64) || pe.CRC32 != f.CRC32 || (hasDescriptor && !pe.Descriptor) {
			return nil
		}
		return pe
	}
	pe := k.byOffset[e.dataOffset]
	if pe == nil || pe.Size != e.Size || !e.Mode.IsRegular() {
		return nil
	}
	return pe
}
