package main

import (
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readState(t *testing.T, path string) partState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st partState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// An interrupted download, sequential or parallel, saves the digest of the
// prefix it completed, and --continue continues that digest instead of
// reading the prefix again: given the digest of other bytes, the resumed
// download fails its checksum (and is deleted) although the file holds the
// right bytes. Without the saved digest, it falls back to hashing the
// prefix again.
func TestDownloadResumesItsDigest(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	for _, tc := range []struct {
		name     string
		cutAfter int64
		args     []string
	}{
		{"sequential", 100_000, nil},
		{"parallel", 20_000, []string{"--connections", "4"}},
	} {
		cutter, viaCutter := newProxy(t, s.base)
		cutter.cutAfter = tc.cutAfter
		dir := t.TempDir()
		file := filepath.Join(dir, "pkg.zip")
		interrupt := func() partState {
			t.Helper()
			r := cliAt(t, viaCutter, append([]string{"package", "download", id, "--file", file}, tc.args...)...)
			if r.code != exitUnreachable {
				t.Fatalf("%s: interrupted download: %s", tc.name, r)
			}
			return readState(t, file+".part.state")
		}

		// The digest covers the whole prefix on disk. In parallel, the
		// first piece may have been cancelled (by another's failure)
		// before its first byte: then there is no prefix, and the
		// interruption is tried again.
		var st partState
		for attempt := 0; ; attempt++ {
			st = interrupt()
			part, err := os.ReadFile(file + ".part")
			if err != nil {
				t.Fatal(err)
			}
			prefix := int64(len(part))
			if !st.Sequential {
				prefix = prefixEnd(st.Have)
			}
			if st.Hashed != prefix {
				t.Fatalf("%s: %d bytes hashed of the %d-byte prefix on disk", tc.name, st.Hashed, prefix)
			}
			if prefix > 0 || attempt == 20 {
				break
			}
		}
		if st.Hashed <= 0 || st.Hashed > tc.cutAfter || st.HashAlgorithm != "SHA-256" || len(st.HashState) == 0 {
			t.Fatalf("%s: the state saves no digest of the prefix: hashed %d, %q, %d bytes of state", tc.name, st.Hashed, st.HashAlgorithm, len(st.HashState))
		}

		// The digest of other bytes, as long: the resumed download cannot match.
		other := sha256.New()
		other.Write(make([]byte, st.Hashed))
		st.HashState, _ = other.(encoding.BinaryMarshaler).MarshalBinary()
		if err := saveState(file+".part.state", &st); err != nil {
			t.Fatal(err)
		}
		r := s.cli(t, "package", "download", id, "--file", file, "--continue")
		if r.code != exitFailed || !strings.Contains(r.stderr, "does not match its checksum") {
			t.Fatalf("%s: a resume with another digest: %s", tc.name, r)
		}

		// Without a usable digest state the prefix is hashed again.
		st = interrupt()
		st.HashState = []byte("garbage")
		if err := saveState(file+".part.state", &st); err != nil {
			t.Fatal(err)
		}
		r = s.cli(t, "package", "download", id, "--file", file, "--continue")
		if r.code != exitOK || !strings.Contains(r.stdout, "SHA-256 verified") {
			t.Fatalf("%s: resume without a usable digest: %s", tc.name, r)
		}
		sameFile(t, file, want)

		// And with its own, it completes.
		os.Remove(file)
		interrupt()
		r = s.cli(t, "package", "download", id, "--file", file, "--continue", "--connections", "2")
		if r.code != exitOK || !strings.Contains(r.stdout, "SHA-256 verified") {
			t.Fatalf("%s: resume: %s", tc.name, r)
		}
		sameFile(t, file, want)
	}
}
