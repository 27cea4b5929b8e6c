package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The digest's state survives F.part.state (JSON) and continues where it
// stopped; a state that does not fit is refused, and the digest then
// starts again from 0.
func TestPrefixHashSaveRestore(t *testing.T) {
	data := randomBytes(300_000, 1)
	want := &checksum{Algorithm: "SHA-256", Hash: sha256Hex(data)}
	ph, err := newPrefixHash(want)
	if err != nil {
		t.Fatal(err)
	}
	ph.Write(data[:123_456])
	var st partState
	ph.save(&st)
	b, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	var loaded partState
	if err := json.Unmarshal(b, &loaded); err != nil {
		t.Fatal(err)
	}
	if loaded.Hashed != 123_456 || loaded.HashAlgorithm != "SHA-256" || len(loaded.HashState) == 0 {
		t.Fatalf("saved state: %s", b)
	}

	resumed, _ := newPrefixHash(want)
	if !resumed.restore(&loaded, 200_000) || resumed.hashed() != 123_456 {
		t.Fatalf("restore refused or at %d", resumed.hashed())
	}
	resumed.Write(data[123_456:])
	if sum, ok := resumed.result(); !ok {
		t.Fatalf("resumed digest %s, want %s", sum, want.Hash)
	}

	for name, mutate := range map[string]func(*partState){
		"beyond what is on disk": func(s *partState) { s.Hashed = 250_000 },
		"another algorithm":      func(s *partState) { s.HashAlgorithm = "SHA-512" },
		"an unknown algorithm":   func(s *partState) { s.HashAlgorithm = "crc32" },
		"a corrupt state":        func(s *partState) { s.HashState = []byte("not a sha-256 state") },
		"no state":               func(s *partState) { s.HashState = nil },
	} {
		st := loaded
		mutate(&st)
		ph, _ := newPrefixHash(want)
		if ph.restore(&st, 200_000) || ph.hashed() != 0 {
			t.Errorf("%s: restored (at %d)", name, ph.hashed())
		}
	}

	// Names match as the digest package matches them ("sha-512").
	s512 := sha512.Sum512(data)
	other := &checksum{Algorithm: "sha-512", Hash: hex.EncodeToString(s512[:])}
	ph512, err := newPrefixHash(other)
	if err != nil {
		t.Fatal(err)
	}
	ph512.Write(data)
	if _, ok := ph512.result(); !ok {
		t.Fatal("sha-512 digest mismatch")
	}
	// Algorithms whose state cannot be saved are verified all the same,
	// and save nothing.
	blake, err := newPrefixHash(&checksum{Algorithm: "blake2b", Hash: hex.EncodeToString(make([]byte, 64))})
	if err != nil {
		t.Fatal(err)
	}
	blake.Write(data[:10])
	var none partState
	blake.save(&none)
	if none.HashState != nil || none.Hashed != 0 {
		t.Fatalf("blake2b saved %+v", none)
	}
	if _, err := newPrefixHash(&checksum{Algorithm: "SHA-256", Hash: "abc"}); err == nil {
		t.Fatal("a short SHA-256 value is accepted")
	}
}

// The follower hashes pieces written out of order, in small writes from
// several goroutines, in file order; when the writers stop early it ends
// with the digest of the contiguous prefix on disk.
func TestFollowOutOfOrderPieces(t *testing.T) {
	const size = 5 << 20
	data := randomBytes(size, 2)
	f, err := os.Create(filepath.Join(t.TempDir(), "part"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The first MiB is on disk already (a resumed download).
	if _, err := f.WriteAt(data[:1<<20], 0); err != nil {
		t.Fatal(err)
	}
	have := [][2]int64{{0, 1 << 20}}
	var pieces []*piece
	for _, r := range split(missing(have, size), 4) {
		pieces = append(pieces, &piece{start: r[0], end: r[1]})
	}
	write := func(p *piece, upTo int64, wu *wakeup) {
		w := &fileWriter{w: nil, count: &p.done, wrote: func() { wu.wrote(p) }}
		for off := p.start + p.done.Load(); off < upTo; {
			n := min(upTo-off, 7919) // odd sizes, so that writes straddle the follower's reads
			w.w = &offsetFile{f, off}
			if _, err := w.Write(data[off : off+n]); err != nil {
				t.Error(err)
				return
			}
			off += n
		}
	}

	run := func(upTo func(p *piece) int64) (*prefixHash, error) {
		ph, _ := newPrefixHash(&checksum{Algorithm: "SHA-256", Hash: sha256Hex(data)})
		wu, stopped := newWakeup(), make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- ph.follow(t.Context(), f, segments(have, pieces, size), size, wu, stopped) }()
		var wg sync.WaitGroup
		for i := len(pieces) - 1; i >= 0; i-- { // the last piece first
			wg.Add(1)
			go func(p *piece) { defer wg.Done(); write(p, upTo(p), wu) }(pieces[i])
		}
		wg.Wait()
		close(stopped)
		return ph, <-done
	}

	// Writers that stop in the middle of the second piece.
	ph, err := run(func(p *piece) int64 {
		if p == pieces[1] {
			return p.start + 1000
		}
		return p.end
	})
	if !errors.Is(err, errStopped) || ph.hashed() != pieces[1].start+1000 {
		t.Fatalf("stopped early: %v at %d, want errStopped at %d", err, ph.hashed(), pieces[1].start+1000)
	}
	// The same pieces completed.
	ph, err = run(func(p *piece) int64 { return p.end })
	if err != nil || ph.hashed() != size {
		t.Fatalf("follow: %v at %d", err, ph.hashed())
	}
	if sum, ok := ph.result(); !ok {
		t.Fatalf("digest %s, want %s", sum, sha256Hex(data))
	}
}

// offsetFile writes at a fixed offset of a file.
type offsetFile struct {
	f   *os.File
	off int64
}

func (o *offsetFile) Write(b []byte) (int, error) { return o.f.WriteAt(b, o.off) }

func TestPieceCount(t *testing.T) {
	for _, c := range []struct {
		holes [][2]int64
		conns int
		want  int
	}{
		{[][2]int64{{0, 1000}}, 4, 4},                           // small: one piece per connection
		{[][2]int64{{0, 1 << 30}}, 4, 64},                       // large: pieces of pieceSize
		{[][2]int64{{0, 1 << 30}}, 1, 64},                       // one connection takes them in turn
		{[][2]int64{{0, pieceSize + 1}}, 1, 2},                  // never a piece beyond pieceSize
		{[][2]int64{{0, 10 << 20}, {20 << 20, 40 << 20}}, 2, 2}, // 30 MiB missing
	} {
		if got := pieceCount(c.holes, c.conns); got != c.want {
			t.Errorf("pieceCount(%v, %d) = %d, want %d", c.holes, c.conns, got, c.want)
		}
	}
}
