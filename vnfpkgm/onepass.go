package vnfpkgm

import (
	"encoding/json"
	"slices"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/storage"
)

// One-pass onboarding: while an upload streams into the blob store, a
// csar.StreamDigester follows the archive and digests each member with the
// algorithms the package declares before it (and a cheap speculative
// one). The result is kept in the package row, bound to the content key,
// so the onboarding job, in whatever process or after whatever restart,
// verifies those digests without reading the members again; members or
// algorithms the stream could not know are read back as before.

// maxPersistedDigests bounds the members whose digests a package row
// keeps: the largest ones, which are the ones worth not reading twice.
const maxPersistedDigests = 1024

// uploadDigests is the UploadDigests column: the digests of one stored
// content.
type uploadDigests struct {
	ContentKey  string            `json:"contentKey"`
	Precomputed *csar.Precomputed `json:"precomputed"`
}

// newUploadDigester starts the digester an upload feeds. It decompresses
// no more than the archive limits let onboarding accept.
func newUploadDigester(limits csar.Limits) *csar.StreamDigester {
	return csar.NewStreamDigester(csar.StreamOptions{Speculative: csar.DefaultSpeculative, Limits: limits})
}

// encodeUploadDigests is the column value for the content stored under
// key: nil when the stream gave nothing usable.
func encodeUploadDigests(key string, pre *csar.Precomputed) storage.JSON {
	if pre == nil {
		return nil
	}
	entries := make([]csar.PrecomputedEntry, 0, len(pre.Entries))
	for _, e := range pre.Entries {
		if len(e.Digests) > 0 {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if len(entries) > maxPersistedDigests {
		slices.SortStableFunc(entries, func(a, b csar.PrecomputedEntry) int { return int(min(max(b.Size-a.Size, -1), 1)) })
		entries = entries[:maxPersistedDigests]
	}
	kept := *pre
	kept.Entries = entries
	return storage.MustJSON(uploadDigests{ContentKey: key, Precomputed: &kept})
}

// storedUploadDigests returns the digests recorded at upload for the
// package's current content, or nil (none, another content, unreadable).
func storedUploadDigests(p *storage.Package) *csar.Precomputed {
	if p.UploadDigests == nil || !p.HasContent() {
		return nil
	}
	var d uploadDigests
	if json.Unmarshal(p.UploadDigests, &d) != nil || d.ContentKey != *p.ContentKey {
		return nil
	}
	return d.Precomputed
}
