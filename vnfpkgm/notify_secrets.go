package vnfpkgm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// secretBox seals the callback credentials (a Basic password, an OAuth 2.0
// client secret) before they are stored, with AES-256-GCM under a key
// kept in a file beside the data, never in the database. It protects the
// credentials in whatever holds the database without the key file: a
// dump or backup of the database, a PostgreSQL server or replica, its
// logs. It does not protect against someone who can read the key file
// (the server's own user), who can also read the process memory. The
// subscription id is the additional data: a sealed secret copied to
// another subscription's row does not open.
type secretBox struct {
	aead cipher.AEAD
}

// keySize is the AES-256 key length.
const keySize = 32

// secretKeeper opens the key file when it is first needed: a server whose
// subscriptions hold no credentials never writes one.
type secretKeeper struct {
	path string
	mu   sync.Mutex
	box  *secretBox
}

// load opens the key file if it exists (a bad one fails the start rather
// than the first delivery).
func (k *secretKeeper) load() error {
	_, err := k.get(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// get returns the box, reading the key file, or creating it when create.
// A secret is never opened with a key made up after it was sealed.
func (k *secretKeeper) get(create bool) (*secretBox, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.box != nil {
		return k.box, nil
	}
	box, err := openSecretBox(k.path, create)
	if err != nil {
		return nil, err
	}
	k.box = box
	return box, nil
}

func (k *secretKeeper) seal(id string, secret []byte) ([]byte, error) {
	box, err := k.get(true)
	if err != nil {
		return nil, err
	}
	return box.seal(id, secret)
}

func (k *secretKeeper) open(id string, sealed []byte) ([]byte, error) {
	box, err := k.get(false)
	if err != nil {
		return nil, err
	}
	return box.open(id, sealed)
}

// openSecretBox reads the key file, creating it if create (mode 0600,
// exclusively, so that replicas starting together agree on one key) when
// it is missing.
func openSecretBox(path string, create bool) (*secretBox, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("secrets key %s: %d bytes, want %d", path, len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead: aead}, nil
}

func createKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path) // another process created it first
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// seal encrypts secret for subscription id: nonce || ciphertext.
func (b *secretBox) seal(id string, secret []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(secret)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, secret, []byte(id)), nil
}

// open decrypts what seal produced for subscription id.
func (b *secretBox) open(id string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return nil, errors.New("the sealed secret does not open with this key (another --secrets-key-file?)")
	}
	return out, nil
}
