package authserver

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/vnfpkgm/vnfpkgm/storage"
)

// KeyRing is the signing keys of the authorization server. They live in
// the database, so that every replica signs and verifies with the same
// ones; their private halves are sealed with AES-256-GCM under a key
// kept in a file (the data directory's auth-seal.key unless configured),
// which replicas share. A key signs for SignFor, then stays published
// until the last token it signed has expired; the first replica that
// finds no key still signing makes the next one.
type KeyRing struct {
	db      *storage.DB
	seal    cipher.AEAD
	SignFor time.Duration
	// TokenTTL is the lifetime of the tokens the keys sign: a key is
	// published that long after it stops signing.
	TokenTTL time.Duration
	Now      func() time.Time

	mu       sync.Mutex
	loadedAt time.Time
	public   jwk.Set
	signer   jwk.Key // private key of the newest key still signing
	until    time.Time
	loads    int
}

// reloadEvery is how often the ring looks at the database for keys other
// replicas made.
const reloadEvery = 30 * time.Second

// NewKeyRing opens the ring over db, with the sealing key of sealPath
// (created, 0600, when absent).
func NewKeyRing(db *storage.DB, sealPath string, signFor, tokenTTL time.Duration) (*KeyRing, error) {
	key, err := sealingKey(sealPath)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &KeyRing{db: db, seal: aead, SignFor: signFor, TokenTTL: tokenTTL}, nil
}

// sealingKey reads the 32-byte sealing key, making one if the file does
// not exist yet (O_EXCL: two processes starting together keep one).
func sealingKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return sealingKey(path)
		}
		if err != nil {
			return nil, fmt.Errorf("signing-key seal %s: %w", path, err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, err
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("signing-key seal %s: %w", path, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("signing-key seal %s: %d bytes, want 32", path, len(key))
	}
	return key, nil
}

func (r *KeyRing) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Keys returns the published keys (auth.KeySource).
func (r *KeyRing) Keys(ctx context.Context) (jwk.Set, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.loadIfOlder(ctx, reloadEvery); err != nil {
		return nil, err
	}
	return r.public, nil
}

// Refresh reloads the keys unless that was done within the last second:
// a token signed by a key another replica just made names a kid this one
// has not loaded yet.
func (r *KeyRing) Refresh(ctx context.Context) (jwk.Set, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.loadIfOlder(ctx, time.Second); err != nil {
		return nil, err
	}
	return r.public, nil
}

// Signer returns the private key that signs new tokens, making a new one
// when none is still signing.
func (r *KeyRing) Signer(ctx context.Context) (jwk.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.loadIfOlder(ctx, reloadEvery); err != nil {
		return nil, err
	}
	if r.signer != nil && r.now().Before(r.until) {
		return r.signer, nil
	}
	if err := r.load(ctx); err != nil { // another replica may have made one
		return nil, err
	}
	if r.signer != nil && r.now().Before(r.until) {
		return r.signer, nil
	}
	if err := r.create(ctx); err != nil {
		return nil, err
	}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if r.signer == nil {
		return nil, errors.New("authorization server: no signing key after making one")
	}
	return r.signer, nil
}

func (r *KeyRing) loadIfOlder(ctx context.Context, age time.Duration) error {
	if r.public != nil && r.now().Sub(r.loadedAt) < age {
		return nil
	}
	return r.load(ctx)
}

// load reads the published keys and unseals the newest one still signing.
func (r *KeyRing) load(ctx context.Context) error {
	now := r.now()
	rows, err := r.db.SigningKeys(ctx, now)
	if err != nil {
		return err
	}
	set := jwk.NewSet()
	var signer jwk.Key
	var until time.Time
	for _, row := range rows { // newest first
		pub, err := jwk.ParseKey(row.PublicJWK)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", row.KID, err)
		}
		if err := set.AddKey(pub); err != nil {
			return err
		}
		if signer == nil && now.Before(row.SignUntil) {
			if signer, err = r.unseal(row); err != nil {
				return err
			}
			until = row.SignUntil
		}
	}
	r.public, r.signer, r.until, r.loadedAt = set, signer, until, now
	r.loads++
	return nil
}

func (r *KeyRing) unseal(row storage.SigningKey) (jwk.Key, error) {
	n := r.seal.NonceSize()
	if len(row.Sealed) < n {
		return nil, fmt.Errorf("signing key %s: sealed data too short", row.KID)
	}
	plain, err := r.seal.Open(nil, row.Sealed[:n], row.Sealed[n:], []byte(row.KID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s cannot be unsealed: is the seal file the one the other replicas use? %w", row.KID, err)
	}
	return jwk.ParseKey(plain)
}

// create makes an ES256 key (P-256: small tokens, fast to make) and
// stores it, the private half sealed.
func (r *KeyRing) create(ctx context.Context) error {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		return err
	}
	kid := uuid.NewString()
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.ES256(), jwk.KeyUsageKey: "sig"} {
		if err := priv.Set(k, v); err != nil {
			return err
		}
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return err
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return err
	}
	privJSON, err := json.Marshal(priv)
	if err != nil {
		return err
	}
	nonce := make([]byte, r.seal.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	now := r.now()
	signUntil := now.Add(r.SignFor)
	err = r.db.AddSigningKey(ctx, storage.SigningKey{
		KID: kid, Algorithm: "ES256", PublicJWK: pubJSON,
		Sealed:    r.seal.Seal(nonce, nonce, privJSON, []byte(kid)),
		CreatedAt: now.UTC(), SignUntil: signUntil.UTC(), RetireAt: signUntil.Add(r.TokenTTL + time.Minute).UTC(),
	})
	if err != nil {
		return err
	}
	return r.db.DeleteRetiredSigningKeys(ctx, now)
}
