package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/crypto/hkdf"
)

// MinGatewayKey is the shortest gateway key NewSealer and New accept, in
// bytes. Use 32 random bytes.
const MinGatewayKey = 16

// sealVersion is the first byte of every sealed secret, so that a later
// format can be told apart.
const sealVersion = 1

// ErrNotOpened is wrapped by Open when a sealed secret does not open: it
// was sealed with another gateway key or for another user, or altered.
var ErrNotOpened = errors.New("sealed secret does not open")

// Sealer encrypts TOTP secrets at rest with AES-256-GCM under a key derived
// from the gateway key, binding each to its user's name. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer whose key is derived from gatewayKey with
// HKDF-SHA256 (info "authgate totp secret v1"). It panics if gatewayKey is
// shorter than MinGatewayKey: a short key would make sealing a pretence.
func NewSealer(gatewayKey []byte) *Sealer {
	key := derive(gatewayKey, "authgate totp secret v1")
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the key is 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // unreachable: AES has 16-byte blocks
	}
	return &Sealer{aead: aead}
}

// derive returns the 32-byte key for info from gatewayKey.
func derive(gatewayKey []byte, info string) []byte {
	if len(gatewayKey) < MinGatewayKey {
		panic("totp: the gateway key is " + strconv.Itoa(len(gatewayKey)) + " bytes; it needs at least " + strconv.Itoa(MinGatewayKey))
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, gatewayKey, nil, []byte(info)), key); err != nil {
		panic(err) // unreachable: HKDF-SHA256 yields up to 8160 bytes
	}
	return key
}

// Seal encrypts secret for user with a random nonce: version byte, nonce,
// ciphertext and tag. The user's name is authenticated with it, so the
// result opens only for the same name. An empty secret is an error.
func (s *Sealer) Seal(user string, secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, errors.New("totp: refusing to seal an empty secret")
	}
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(secret)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("totp: generating a nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], secret, additional(user)), nil
}

// Open decrypts what Seal returned for user. A sealed secret that does not
// open wraps ErrNotOpened; no error includes the secret or the sealed
// bytes.
func (s *Sealer) Open(user string, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	switch {
	case len(sealed) < 1+ns+s.aead.Overhead():
		return nil, fmt.Errorf("totp: the stored secret of user %q is %d bytes, too short to be sealed: %w", user, len(sealed), ErrNotOpened)
	case sealed[0] != sealVersion:
		return nil, fmt.Errorf("totp: the stored secret of user %q is sealed in format %d, which this gateway does not know: %w", user, sealed[0], ErrNotOpened)
	}
	secret, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], additional(user))
	if err != nil {
		return nil, fmt.Errorf("totp: the stored secret of user %q was sealed with another gateway key, for another user, or altered: %w", user, ErrNotOpened)
	}
	return secret, nil
}

// additional is the data authenticated with a user's secret: the format
// version and the user's name.
func additional(user string) []byte {
	return append([]byte{sealVersion}, user...)
}
