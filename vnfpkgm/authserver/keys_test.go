package authserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

func openDB(t *testing.T) *storage.DB {
	db, err := storage.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func kid(t *testing.T, r *KeyRing) string {
	t.Helper()
	k, err := r.Signer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id, _ := k.KeyID()
	return id
}

// Keys rotate: a key signs for SignFor, stays published while tokens it
// signed may live, and is then withdrawn; a second replica over the same
// database (and seal) signs with the same key and publishes the same set.
func TestKeyRotationAndSharing(t *testing.T) {
	db := openDB(t)
	seal := filepath.Join(t.TempDir(), "seal.key")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := NewKeyRing(db, seal, time.Hour, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a.Now = clock
	if st, err := os.Stat(seal); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("seal file: %v %v, want mode 0600", st.Mode(), err)
	}
	first := kid(t, a)
	b, err := NewKeyRing(db, seal, time.Hour, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b.Now = clock
	if got := kid(t, b); got != first {
		t.Fatalf("replica b signs with %s, a with %s: want one shared key", got, first)
	}

	now = now.Add(61 * time.Minute)
	a.loadedAt = time.Time{} // as after reloadEvery
	second := kid(t, a)
	if second == first {
		t.Fatal("the key was not rotated after SignFor")
	}
	set, _ := a.Keys(context.Background())
	if _, ok := set.LookupKeyID(first); !ok || set.Len() != 2 {
		t.Fatalf("after rotation the old key must stay published while its tokens live: %d keys", set.Len())
	}
	// b learns of the new key when a token names it (Refresh).
	bset, _ := b.Refresh(context.Background())
	if _, ok := bset.LookupKeyID(second); !ok {
		t.Fatal("replica b does not publish the key a made")
	}

	now = now.Add(20 * time.Minute) // past the last token of the first key
	a.loadedAt = time.Time{}
	set, _ = a.Keys(context.Background())
	if _, ok := set.LookupKeyID(first); ok {
		t.Fatal("a retired key is still published")
	}

	// Another seal cannot open the shared keys.
	c, err := NewKeyRing(db, filepath.Join(t.TempDir(), "other.key"), time.Hour, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = clock
	if _, err := c.Signer(context.Background()); err == nil {
		t.Fatal("a ring with another seal unsealed the signing key")
	}
}

func TestClientsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clients.yaml")
	secret, hash, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := AddClient(path, Client{ID: "nfvo", SecretHash: hash, Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	if err := AddClient(path, Client{ID: "nfvo", SecretHash: hash, Scopes: []string{"x"}}); err == nil {
		t.Fatal("a second client with the same id was added")
	}
	st, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	if st.Mode().Perm() != 0o600 || len(b) == 0 || strings.Contains(string(b), secret) {
		t.Fatalf("clients file mode %v; it must be 0600 and hold no secret in clear", st.Mode())
	}
	f, err := OpenClients(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Authenticate("nfvo", secret); !ok {
		t.Fatal("the right secret is refused")
	}
	if _, ok := f.Authenticate("nfvo", secret+"x"); ok {
		t.Fatal("a wrong secret is accepted")
	}
	if _, ok := f.Authenticate("nobody", secret); ok {
		t.Fatal("an unknown client is accepted")
	}
	// Added while open: seen without reopening.
	if err := AddClient(path, Client{ID: "vnfm", Subject: "CN=vnfm,O=Example", Scopes: []string{"vnfpkgm:read"}}); err != nil {
		t.Fatal(err)
	}
	if c, ok := f.BySubject("CN=vnfm,O=Example"); !ok || c.ID != "vnfm" {
		t.Fatal("a client added to the file is not seen")
	}
	if _, ok := f.Authenticate("vnfm", ""); ok {
		t.Fatal("a certificate-only client authenticated with an empty secret")
	}
	os.WriteFile(path, []byte("clients:\n  - id: plain\n    secret_hash: hunter2\n    scopes: [a]\n"), 0o600)
	if _, err := OpenClients(path); err == nil {
		t.Fatal("a clear-text secret_hash was accepted")
	}
}
