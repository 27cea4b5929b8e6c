package csar_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// streamThrough feeds data to a StreamDigester in writes of chunk bytes,
// as an upload would, and returns what it computed.
func streamThrough(data []byte, chunk int, opts csar.StreamOptions) *csar.Precomputed {
	d := csar.NewStreamDigester(opts)
	for len(data) > 0 {
		n := min(chunk, len(data))
		d.Write(data[:n])
		data = data[n:]
	}
	return d.Close()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// randomBody is incompressible content of n bytes with the zip signatures
// a naive scanner would stop at planted inside it.
func randomBody(n int, seed byte) string {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	for i, sig := range []string{"PK\x07\x08", "PK\x03\x04", "PK\x01\x02", "PK\x07\x08\x00\x00\x00\x00"} {
		copy(b[(i+1)*n/6:], sig)
	}
	return string(b)
}

var sha256Alg, _ = digest.Lookup("SHA-256")

// TestStreamDigestsAgreeWithArchive streams zips (Go's writer: stored and
// deflated members with data descriptors; raw members with their sizes in
// the local header), a tar and a tar.gz, and checks that every regular
// member got a digest, that the archive index trusts it, and that it is
// the digest of the member as the archive reads it.
func TestStreamDigestsAgreeWithArchive(t *testing.T) {
	big := randomBody(3<<20+17, 1)
	small := "hello\n"
	text := strings.Repeat("compressible text ", 10000)
	raw := rawZip(t, []rawMember{
		{name: "Files/big.img", body: big, method: zip.Store},
		{name: "Files/text.txt", body: text, method: zip.Deflate},
		{name: "Scripts/x.sh", body: small, method: zip.Store},
	})
	cases := map[string][]byte{
		"zip, data descriptors": makeZip(t,
			zipEntry{name: "Files/"},
			zipEntry{name: "Files/big.img", body: big, method: zip.Store},
			zipEntry{name: "Files/text.txt", body: text, method: zip.Deflate},
			zipEntry{name: "Scripts/x.sh", body: small, method: zip.Store},
			zipEntry{name: "empty", body: "", method: zip.Deflate},
			zipEntry{name: "empty-stored", body: "", method: zip.Store},
		),
		"zip, sizes in local headers": raw,
		"tar": makeTar(t, false, tarEntry{name: "Files/big.img", body: big}, tarEntry{name: "Files/text.txt", body: text},
			tarEntry{name: "l", typeflag: '2', link: "Files/text.txt"}, tarEntry{name: "./Scripts/x.sh", body: small}),
		"tar.gz": makeTar(t, true, tarEntry{name: "Files/big.img", body: big}, tarEntry{name: "Files/text.txt", body: text},
			tarEntry{name: "Scripts/x.sh", body: small}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			for _, chunk := range []int{1 << 20, 4093} {
				pre := streamThrough(data, chunk, csar.StreamOptions{Speculative: []string{"SHA-256"}})
				if pre.Stopped != "" {
					t.Fatalf("chunk %d: stream stopped: %s", chunk, pre.Stopped)
				}
				a, err := open(data, csar.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				known := a.Known(pre)
				digested := 0
				for _, e := range a.Files() {
					if e.Mode.Type() != 0 {
						continue
					}
					content, err := fs.ReadFile(a, e.Path)
					if err != nil {
						t.Fatal(err)
					}
					got, ok := known.Digest(e.Path, sha256Alg)
					if !ok {
						t.Fatalf("chunk %d: no trusted digest for %s (precomputed %+v)", chunk, e.Path, pre.Entries)
					}
					if want := sha256Hex(content); got != want {
						t.Fatalf("chunk %d: %s: streamed %s, content %s", chunk, e.Path, got, want)
					}
					digested++
				}
				if digested < 3 {
					t.Fatalf("only %d members checked", digested)
				}
			}
		})
	}
}

// TestStreamLearnsAlgorithmsFromEarlierMetadata: a manifest (the one
// TOSCA.meta names) and a VNFD streamed before the files they describe
// decide what those files get; without a manifest yet, the speculative
// algorithm is added.
func TestStreamLearnsAlgorithmsFromEarlierMetadata(t *testing.T) {
	data := makeZip(t,
		zipEntry{name: "early.img", body: "a", method: zip.Store},
		zipEntry{name: "TOSCA-Metadata/TOSCA.meta", body: "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: t\nEntry-Definitions: vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n\nName: meta.bin\nContent-Type: x\nAlgorithm: md5\nHash: 0cc175b9c0f1b6a831c399e269772661\n"},
		zipEntry{name: "vnfd.yaml", body: "x:\n  sw_image_data:\n    checksum: {algorithm: sha3_256, hash: ab}\n", method: zip.Deflate},
		zipEntry{name: "manifest.mf", body: "Source: late.img\nAlgorithm: SHA-384\nHash: 00\n\nSource: ./meta.bin\nAlgorithm: SHA-512\nHash: 00\n"},
		zipEntry{name: "late.img", body: "b", method: zip.Store},
		zipEntry{name: "meta.bin", body: "a", method: zip.Deflate},
	)
	pre := streamThrough(data, 1<<20, csar.StreamOptions{Speculative: []string{"SHA-256"}})
	got := map[string][]string{}
	for _, e := range pre.Entries {
		for alg := range e.Digests {
			got[e.Name] = append(got[e.Name], alg)
		}
	}
	want := map[string]string{
		"early.img":                 "SHA-256",
		"TOSCA-Metadata/TOSCA.meta": "SHA-256",
		"vnfd.yaml":                 "SHA-256",
		"manifest.mf":               "SHA-256 sha3_256",
		"late.img":                  "SHA-384 sha3_256",
		"meta.bin":                  "SHA-512 md5 sha3_256",
	}
	for name, w := range want {
		g := got[name]
		slicesSort(g)
		if strings.Join(g, " ") != w {
			t.Errorf("%s: algorithms %v, want %s", name, g, w)
		}
	}
}

func slicesSort(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

// TestStreamNeverFailsOnGarbage: bytes that are no archive, or an archive
// cut short, stop the digester with a reason; they never block or panic.
func TestStreamNeverFailsOnGarbage(t *testing.T) {
	data := makeZip(t, zipEntry{name: "a", body: randomBody(100000, 2), method: zip.Deflate})
	for name, in := range map[string][]byte{
		"not an archive": []byte(randomBody(5000, 3)),
		"truncated zip":  data[:len(data)/2],
		"empty":          nil,
	} {
		pre := streamThrough(in, 1000, csar.StreamOptions{})
		if pre.Stopped == "" {
			t.Errorf("%s: the digester did not say it stopped (%+v)", name, pre)
		}
		if len(pre.Entries) != 0 {
			t.Errorf("%s: %d members recorded", name, len(pre.Entries))
		}
	}
}

// rawMember is one member of a zip written byte by byte, so that its
// local header and central directory record can disagree.
type rawMember struct {
	name   string
	body   string // content; compressed here when method is Deflate
	method uint16
	// Central directory overrides (zero: as in the local header).
	cdOffsetOf   int    // index of the member whose local header the record points at, +1
	cdMethod     uint16 // +1
	cdCRC        uint32
	cdSize       int64 // compressed = uncompressed (stored)
	skipInCD     bool
	cdNameOverri string
	cdFlags      uint16
}

// rawZip writes members with their sizes and CRC-32 in the local headers
// (no data descriptors) and a central directory built from them, with the
// overrides a hostile archive would use.
func rawZip(t testing.TB, members []rawMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	le := binary.LittleEndian
	type local struct {
		off          int64
		crc          uint32
		csize, usize int64
	}
	locals := make([]local, len(members))
	for i, m := range members {
		data := []byte(m.body)
		if m.method == zip.Deflate {
			var c bytes.Buffer
			fw, _ := flate.NewWriter(&c, flate.DefaultCompression)
			fw.Write(data)
			fw.Close()
			data = c.Bytes()
		}
		locals[i] = local{off: int64(buf.Len()), crc: crc32.ChecksumIEEE([]byte(m.body)), csize: int64(len(data)), usize: int64(len(m.body))}
		var h [30]byte
		copy(h[:], "PK\x03\x04")
		le.PutUint16(h[4:], 20)
		le.PutUint16(h[8:], m.method)
		le.PutUint32(h[14:], locals[i].crc)
		le.PutUint32(h[18:], uint32(locals[i].csize))
		le.PutUint32(h[22:], uint32(locals[i].usize))
		le.PutUint16(h[26:], uint16(len(m.name)))
		buf.Write(h[:])
		buf.WriteString(m.name)
		buf.Write(data)
	}
	cdStart := buf.Len()
	count := 0
	for i, m := range members {
		if m.skipInCD {
			continue
		}
		count++
		l := locals[i]
		if m.cdOffsetOf > 0 {
			l = locals[m.cdOffsetOf-1]
		}
		method := m.method
		if m.cdMethod > 0 {
			method = m.cdMethod - 1
		}
		if m.cdSize > 0 {
			l.csize, l.usize, l.crc = m.cdSize, m.cdSize, m.cdCRC
		}
		name := m.name
		if m.cdNameOverri != "" {
			name = m.cdNameOverri
		}
		var h [46]byte
		copy(h[:], "PK\x01\x02")
		le.PutUint16(h[4:], 20)
		le.PutUint16(h[6:], 20)
		le.PutUint16(h[8:], m.cdFlags)
		le.PutUint16(h[10:], method)
		le.PutUint32(h[16:], l.crc)
		le.PutUint32(h[20:], uint32(l.csize))
		le.PutUint32(h[24:], uint32(l.usize))
		le.PutUint16(h[28:], uint16(len(name)))
		le.PutUint32(h[42:], uint32(l.off))
		buf.Write(h[:])
		buf.WriteString(name)
	}
	var end [22]byte
	copy(end[:], "PK\x05\x06")
	le.PutUint16(end[8:], uint16(count))
	le.PutUint16(end[10:], uint16(count))
	le.PutUint32(end[12:], uint32(buf.Len()-cdStart))
	le.PutUint32(end[16:], uint32(cdStart))
	buf.Write(end[:])
	return buf.Bytes()
}

// TestHostileLocalHeadersDoNotFoolVerification builds zips whose local
// headers tell the stream one thing and whose central directory tells
// the reader another, with the manifest's hash being that of what the
// stream saw. Verification must compute the digest of what the archive
// really holds for that path (a mismatch), never take the streamed one.
func TestHostileLocalHeadersDoNotFoolVerification(t *testing.T) {
	good := randomBody(300000, 4)
	evil := randomBody(300000, 5)
	cases := map[string][]rawMember{
		// The path's central record points at a second local header.
		"central record points elsewhere": {
			{name: "Files/a.img", body: good, method: zip.Store, skipInCD: true},
			{name: "Files/b.img", body: evil, method: zip.Store, cdNameOverri: "Files/a.img"},
		},
		// Same local header, but the central record reads only a prefix.
		"central record declares another size": {
			{name: "Files/a.img", body: good, method: zip.Store, cdSize: 1000, cdCRC: crc32.ChecksumIEEE([]byte(good[:1000]))},
		},
		// Same bytes, local header says deflate, central record says
		// stored: the reader sees the compressed bytes as the content.
		"central record declares another method": {
			{name: "Files/a.img", body: good + strings.Repeat("z", 100000), method: zip.Deflate, cdMethod: zip.Store + 1},
		},
	}
	for name, members := range cases {
		t.Run(name, func(t *testing.T) {
			data := rawZip(t, members)
			if name == "central record declares another method" {
				data = fixStoredRecord(t, data)
			}
			pre := streamThrough(data, 1<<20, csar.StreamOptions{Speculative: []string{"SHA-256"}})
			streamed := ""
			for _, e := range pre.Entries {
				if e.Name == "Files/a.img" {
					streamed = e.Digests["SHA-256"]
				}
			}
			if streamed == "" {
				t.Fatalf("the stream digested nothing for Files/a.img: %+v", pre)
			}
			a, err := open(data, csar.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			content, err := fs.ReadFile(a, "Files/a.img")
			if err != nil {
				t.Fatal(err)
			}
			if sha256Hex(content) == streamed {
				t.Fatal("the archive reads what the stream saw: the case tests nothing")
			}
			checks := []csar.DigestCheck{{Path: "Files/a.img", Algorithm: "SHA-256", Expected: streamed, MismatchCode: csar.CodeManifestHashMismatch}}
			outcomes, problems := csar.VerifyDigestsUsing(context.Background(), a, checks, 1, a.Known(pre))
			// A digest may come from the stream only if it is that of the
			// member the central record designates (the first case: the
			// stream also digested the second local header's bytes).
			if outcomes[0].Match || len(problems) != 1 || problems[0].Code != csar.CodeManifestHashMismatch {
				t.Fatalf("the hostile member passed: outcome %+v, problems %v", outcomes[0], problems)
			}
			if outcomes[0].Computed != sha256Hex(content) {
				t.Fatalf("computed %s, want the digest of the archive's member", outcomes[0].Computed)
			}
		})
	}
}

// fixStoredRecord sets the central record of the single member of data to
// a stored entry of its compressed bytes: sizes both the compressed size,
// CRC-32 of the compressed bytes.
func fixStoredRecord(t *testing.T, data []byte) []byte {
	le := binary.LittleEndian
	nameLen := int(le.Uint16(data[26:]))
	csize := int(le.Uint32(data[18:]))
	body := data[30+nameLen : 30+nameLen+csize]
	cd := bytes.LastIndex(data, []byte("PK\x01\x02"))
	if cd < 0 {
		t.Fatal("no central record")
	}
	out := bytes.Clone(data)
	le.PutUint32(out[cd+16:], crc32.ChecksumIEEE(body))
	le.PutUint32(out[cd+24:], uint32(csize))
	return out
}

// TestDescriptorFlagOnlyInCentralRecord: the central record says a data
// descriptor follows the member, the local header (and the stream) has
// none. archive/zip then checks the CRC-32 of whatever follows the data
// and fails the read; the streamed digest must not hide that failure.
func TestDescriptorFlagOnlyInCentralRecord(t *testing.T) {
	body := randomBody(100000, 6)
	data := rawZip(t, []rawMember{
		{name: "Files/a.img", body: body, method: zip.Store, cdFlags: 0x8},
		{name: "z", body: "after", method: zip.Store},
	})
	pre := streamThrough(data, 1<<20, csar.StreamOptions{Speculative: []string{"SHA-256"}})
	a, err := open(data, csar.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(a, "Files/a.img"); err == nil {
		t.Fatal("archive/zip read the member: the case tests nothing")
	}
	checks := []csar.DigestCheck{{Path: "Files/a.img", Algorithm: "SHA-256", Expected: sha256Hex([]byte(body)), MismatchCode: csar.CodeManifestHashMismatch}}
	outcomes, problems := csar.VerifyDigestsUsing(context.Background(), a, checks, 1, a.Known(pre))
	if outcomes[0].Known || outcomes[0].Match || len(problems) != 1 || problems[0].Code != csar.CodeReadError {
		t.Fatalf("outcome %+v, problems %v; want the read error verification without the stream reports", outcomes[0], problems)
	}
}

// TestSpeculationIsCapped: the speculative algorithm covers small members
// only; a member longer than SpeculativeLimit gets no speculative digest
// (its hashing stopped at the limit), while declared algorithms cover it
// whole.
func TestSpeculationIsCapped(t *testing.T) {
	data := makeZip(t,
		zipEntry{name: "small", body: strings.Repeat("s", 1000), method: zip.Store},
		zipEntry{name: "vnfd.yaml", body: "checksum: {algorithm: SHA-512, hash: ab}\n", method: zip.Deflate},
		zipEntry{name: "large", body: strings.Repeat("l", 5000), method: zip.Store},
	)
	pre := streamThrough(data, 1<<20, csar.StreamOptions{Speculative: []string{"SHA-256"}, SpeculativeLimit: 4096})
	got := map[string]int{}
	for _, e := range pre.Entries {
		_, spec := e.Digests["SHA-256"]
		_, decl := e.Digests["SHA-512"]
		got[e.Name] = map[[2]bool]int{{false, false}: 0, {true, false}: 1, {false, true}: 2, {true, true}: 3}[[2]bool{spec, decl}]
	}
	if got["small"] != 1 || got["large"] != 2 {
		t.Fatalf("small: %d, large: %d (1: speculative SHA-256 only, 2: declared SHA-512 only); entries %+v", got["small"], got["large"], pre.Entries)
	}
}
