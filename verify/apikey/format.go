// Package apikey verifies the API keys authgate issues and defines their
// format: agk_<id>_<secret>, where the id is public (it appears in logs and
// in `authgate keys list`) and only a SHA-256 of the secret is stored.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

const (
	// Prefix starts every key, so that keys are recognisable in code
	// search and secret scanners.
	Prefix = "agk_"
	// IDLen is the length of a key id: 12 lowercase base32 characters.
	IDLen = 12
	// secretBytes is the entropy of a key's secret part.
	secretBytes = 32
	// secretLen is the length of the secret part in unpadded base64url.
	secretLen = (secretBytes*8 + 5) / 6
	// KeyLen is the length of a whole key.
	KeyLen = len(Prefix) + IDLen + 1 + secretLen
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Generate returns a new key, its id, and the hash of its secret to store.
// The key is shown once to whoever asked for it and never stored. Generate
// fails only if the system's random source does.
func Generate() (key, id string, secretHash []byte, err error) {
	var idRaw [8]byte
	if _, err := rand.Read(idRaw[:]); err != nil {
		return "", "", nil, fmt.Errorf("apikey: reading random id: %w", err)
	}
	var secretRaw [secretBytes]byte
	if _, err := rand.Read(secretRaw[:]); err != nil {
		return "", "", nil, fmt.Errorf("apikey: reading random secret: %w", err)
	}
	id = idEncoding.EncodeToString(idRaw[:])[:IDLen]
	secret := base64.RawURLEncoding.EncodeToString(secretRaw[:])
	return Prefix + id + "_" + secret, id, HashSecret(secret), nil
}

// Parse splits key into its id and secret. ok is false when key does not
// have this gateway's format; see Problem for why.
func Parse(key string) (id, secret string, ok bool) {
	if Problem(key) != "" {
		return "", "", false
	}
	id = key[len(Prefix) : len(Prefix)+IDLen]
	return id, key[len(Prefix)+IDLen+1:], true
}

// Problem says why key does not have this gateway's format, or returns ""
// if it does. The answer never quotes the key.
func Problem(key string) string {
	switch {
	case !strings.HasPrefix(key, Prefix):
		return "the key does not start with " + Prefix
	case len(key) != KeyLen:
		return fmt.Sprintf("the key is %d characters long, not %d (truncated or with extra characters)", len(key), KeyLen)
	case key[len(Prefix)+IDLen] != '_':
		return "the key has no _ between its 12-character id and its secret"
	}
	for _, c := range key[len(Prefix) : len(Prefix)+IDLen] {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return "the key's id contains characters other than a-z and 2-7"
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(key[len(Prefix)+IDLen+1:])
	if err != nil || len(raw) != secretBytes {
		return "the key's secret is not 32 bytes of unpadded base64url"
	}
	return ""
}

// HashSecret returns the SHA-256 of a key's secret part. A fast hash is
// right here: the secret is 256 random bits, so there is nothing to guess.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
