package vnfpkgm

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSecretKeeper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.key")
	k := &secretKeeper{path: path}
	if err := k.load(); err != nil {
		t.Fatalf("a missing key is no error at start: %v", err)
	}
	if _, err := k.open("sub", []byte("0123456789abcdefghijklmnopqrstuvwxyz")); err == nil {
		t.Fatal("opened a secret without a key file")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("opening created a key: it could never open what was sealed before")
	}
	sealed, err := k.seal("sub-1", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || st.Size() != keySize {
		t.Fatalf("key file: %v %v", st, err)
	}
	again := &secretKeeper{path: path} // another process with the same key file
	if pw, err := again.open("sub-1", sealed); err != nil || string(pw) != "pw" {
		t.Fatalf("open: %q %v", pw, err)
	}
	if _, err := again.open("sub-2", sealed); err == nil {
		t.Fatal("a sealed secret opened for another subscription")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.open("sub-1", sealed); err == nil {
		t.Fatal("a tampered secret opened")
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&secretKeeper{path: path}).load(); err == nil {
		t.Fatal("a key file of the wrong size was accepted")
	}
}

func TestBackoff(t *testing.T) {
	c := NotifyConfig{BackoffMin: time.Second, BackoffMax: 10 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		for range 50 {
			if d := c.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %s, want between %s and %s", attempt, d, want/2, want)
			}
		}
	}
}
