package csar_test

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// The digester runs while an upload waits on it: whatever the archive
// holds, its work must stay linear in the bytes streamed. These tests
// count the work (StreamWork) on archives built to make it explode; a
// hang shows up as the deadline, never as a timing assertion.

// streamWithin streams data as an upload would and fails the test if the
// digester has not finished by the deadline (a hang, not a slow run: each
// input here takes well under a second when the work is bounded).
func streamWithin(t *testing.T, data []byte, opts csar.StreamOptions) *csar.Precomputed {
	t.Helper()
	done := make(chan *csar.Precomputed, 1)
	go func() { done <- streamThrough(data, 64<<10, opts) }()
	select {
	case pre := <-done:
		return pre
	case <-time.After(30 * time.Second):
		t.Fatalf("the digester did not finish a %d-byte archive in 30 s", len(data))
		return nil
	}
}

// TestStreamStoredScanIsLinear: a stored member with a data descriptor
// whose content is a descriptor signature every 4 bytes made the scan for
// its end quadratic (2 MiB did not finish in 10 minutes). The candidates
// tested must stay a small fraction of the member's bytes; past that the
// digester stops following the stream (onboarding reads it back).
func TestStreamStoredScanIsLinear(t *testing.T) {
	for _, sig := range []string{"PK\x07\x08", "PK\x03\x04", "PK\x01\x02"} {
		body := strings.Repeat(sig, 512<<10) // 2 MiB
		data := makeZip(t, zipEntry{name: "Files/a.bin", body: body, method: zip.Store}, zipEntry{name: "b", body: "after", method: zip.Store})
		pre := streamWithin(t, data, csar.StreamOptions{})
		t.Logf("%q: %+v, stopped: %s", sig, pre.Work, pre.Stopped)
		if most := int64(len(body)/16 + 8192); pre.Work.Candidates > most {
			t.Errorf("%q: %d descriptor candidates tested in a %d-byte member (at most %d)", sig, pre.Work.Candidates, len(body), most)
		}
		if pre.Stopped == "" && len(pre.Entries) != 2 {
			t.Errorf("%q: neither stopped nor both members recorded: %+v", sig, pre)
		}
	}
}

// zipOfManifests is a zip of n deflated members named by name(i), each
// with a 1 MiB Source line: a few hundred KiB that held 432 MiB of
// learned paths when every .mf was parsed and kept.
func zipOfManifests(t *testing.T, n int, name func(int) string, body func(int) string) []byte {
	entries := make([]zipEntry, n)
	for i := range entries {
		entries[i] = zipEntry{name: name(i), body: body(i), method: zip.Deflate}
	}
	return makeZip(t, entries...)
}

// TestStreamMetadataLearningIsBounded: only TOSCA.meta and the one
// manifest it names (or, without it, a root-level .mf) are learned from;
// the text parsed per stream and the paths kept are capped.
func TestStreamMetadataLearningIsBounded(t *testing.T) {
	longSource := func(i int) string {
		return fmt.Sprintf("Source: %d%s\nAlgorithm: SHA-256\nHash: %064d\n", i, strings.Repeat("a", 1<<20-200), 0)
	}
	const most = 4 << 20 // DefaultMaxMetadataBytes
	t.Run("many manifests", func(t *testing.T) {
		data := zipOfManifests(t, 16, func(i int) string { return fmt.Sprintf("m%d.mf", i) }, longSource)
		pre := streamWithin(t, data, csar.StreamOptions{})
		if pre.Work.MetadataBytes > most || pre.Work.Declared > 1 {
			t.Errorf("%d bytes of metadata parsed, %d paths kept from %d manifests in a %d-byte zip", pre.Work.MetadataBytes, pre.Work.Declared, 16, len(data))
		}
	})
	t.Run("many manifests in a directory", func(t *testing.T) {
		data := zipOfManifests(t, 16, func(i int) string { return fmt.Sprintf("Files/m%d.mf", i) }, longSource)
		pre := streamWithin(t, data, csar.StreamOptions{})
		if pre.Work.MetadataBytes != 0 || pre.Work.Declared != 0 {
			t.Errorf("%d bytes parsed, %d paths kept from manifests outside the root", pre.Work.MetadataBytes, pre.Work.Declared)
		}
	})
	t.Run("many YAML files", func(t *testing.T) {
		yaml := func(i int) string {
			return fmt.Sprintf("k%d: [%s]\n", i, strings.Repeat("{algorithm: sha-256, hash: x}, ", (1<<20-100)/31))
		}
		data := zipOfManifests(t, 16, func(i int) string { return fmt.Sprintf("Definitions/d%d.yaml", i) }, yaml)
		pre := streamWithin(t, data, csar.StreamOptions{})
		if pre.Work.MetadataBytes > most {
			t.Errorf("%d bytes of YAML parsed from a %d-byte zip (at most %d)", pre.Work.MetadataBytes, len(data), most)
		}
	})
	t.Run("paths kept", func(t *testing.T) {
		var mf strings.Builder
		for i := range 100 {
			fmt.Fprintf(&mf, "Source: Files/f%d\nAlgorithm: SHA-512\nHash: %0128d\n\n", i, 0)
		}
		data := makeZip(t, zipEntry{name: "p.mf", body: mf.String(), method: zip.Deflate})
		pre := streamWithin(t, data, csar.StreamOptions{MaxEntries: 10})
		if pre.Work.Declared > 10 {
			t.Errorf("%d paths kept with MaxEntries 10", pre.Work.Declared)
		}
	})
	t.Run("only the manifest TOSCA.meta names", func(t *testing.T) {
		meta := "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: t\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: Definitions/vnfd.mf\n"
		data := makeZip(t,
			zipEntry{name: "TOSCA-Metadata/TOSCA.meta", body: meta, method: zip.Deflate},
			zipEntry{name: "decoy.mf", body: fmt.Sprintf("Source: Files/x\nAlgorithm: SHA-512\nHash: %0128d\n", 0), method: zip.Deflate},
			zipEntry{name: "Definitions/vnfd.mf", body: fmt.Sprintf("Source: Files/x\nAlgorithm: SHA-384\nHash: %096d\n", 0), method: zip.Deflate},
			zipEntry{name: "Files/x", body: "content", method: zip.Deflate},
		)
		pre := streamWithin(t, data, csar.StreamOptions{})
		var got map[string]string
		for _, e := range pre.Entries {
			if e.Name == "Files/x" {
				got = e.Digests
			}
		}
		if _, ok := got["SHA-384"]; !ok {
			t.Errorf("Files/x lacks the SHA-384 the named manifest asks for: %v", got)
		}
		if _, ok := got["SHA-512"]; ok {
			t.Errorf("Files/x has the SHA-512 only a decoy manifest asks for: %v", got)
		}
	})
}

// TestStreamInflateIsBounded: deflate members are inflated no further than
// the archive index would accept them (it refuses them before inflating
// at onboarding), per member and for the stream as a whole; a tar.gz as a
// whole. Small limits keep the archives small.
func TestStreamInflateIsBounded(t *testing.T) {
	limits := csar.Limits{MaxRatio: 10, RatioFloor: 64 << 10, MaxArchiveRatio: 10}
	opts := csar.StreamOptions{Limits: limits}
	zeros := strings.Repeat("\x00", 8<<20)
	allowed := func(data []byte) int64 {
		return max(limits.RatioFloor, int64(limits.MaxRatio*float64(len(data)))) + 64<<10
	}

	t.Run("member with a data descriptor", func(t *testing.T) {
		data := makeZip(t, zipEntry{name: "Files/bomb", body: zeros, method: zip.Deflate})
		pre := streamWithin(t, data, opts)
		t.Logf("%+v, stopped: %s", pre.Work, pre.Stopped)
		if pre.Work.Inflated > allowed(data) {
			t.Errorf("%d bytes inflated from a %d-byte zip", pre.Work.Inflated, len(data))
		}
		if pre.Stopped == "" {
			t.Errorf("the digester did not say it stopped: %+v", pre)
		}
	})
	t.Run("member whose local header declares less", func(t *testing.T) {
		data := rawZip(t, []rawMember{{name: "Files/bomb", body: zeros, method: zip.Deflate}, {name: "after", body: "after", method: zip.Store}})
		binary.LittleEndian.PutUint32(data[22:], 1000) // uncompressed size of the first local header
		pre := streamWithin(t, data, opts)
		if pre.Work.Inflated > 1000+64<<10 {
			t.Errorf("%d bytes inflated from a member declaring 1000", pre.Work.Inflated)
		}
		for _, e := range pre.Entries {
			if e.Name == "Files/bomb" {
				t.Errorf("the member inflated beyond its declared size was recorded: %+v", e)
			}
		}
	})
	t.Run("many members below the floor", func(t *testing.T) {
		members := make([]rawMember, 200)
		for i := range members {
			members[i] = rawMember{name: fmt.Sprintf("Files/z%d", i), body: zeros[:64<<10], method: zip.Deflate}
		}
		data := rawZip(t, members)
		pre := streamWithin(t, data, opts)
		t.Logf("%+v, stopped: %s", pre.Work, pre.Stopped)
		if pre.Work.Inflated > allowed(data) {
			t.Errorf("%d bytes inflated from a %d-byte zip", pre.Work.Inflated, len(data))
		}
	})
	t.Run("tar.gz", func(t *testing.T) {
		data := makeTar(t, true, tarEntry{name: "Files/bomb", body: zeros})
		pre := streamWithin(t, data, opts)
		t.Logf("%+v, stopped: %s", pre.Work, pre.Stopped)
		if pre.Work.Inflated > allowed(data) {
			t.Errorf("%d bytes inflated from a %d-byte tar.gz", pre.Work.Inflated, len(data))
		}
	})
}
