package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// tokenBytes is the entropy of a cookie token: 256 bits, beyond guessing
// however many gateways answer guesses.
const tokenBytes = 32

// TokenLen is the length of a token (and of an id): 32 bytes in base64url
// without padding.
const TokenLen = (tokenBytes*8 + 5) / 6

// strict rejects the encodings that differ only in the unused low bits of
// the last character, so that one token has exactly one spelling.
var strict = base64.RawURLEncoding.Strict()

// NewToken returns a new cookie token and the id of its session. The token
// goes to the browser only; stores and logs see the id. It returns an error
// only when the system's random source fails.
func NewToken() (token, id string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("session: new token: %w", err)
	}
	token = strict.EncodeToString(b[:])
	return token, digest(token), nil
}

// ID returns the id of the session named by token, as read from a cookie,
// and reports whether token has the exact form NewToken makes. Anything
// else (other lengths, padding, '+' or '/', whitespace, a non-canonical last
// character) gives "", false, so that junk never reaches a store.
func ID(token string) (string, bool) {
	if len(token) != TokenLen {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if !urlSafe(token[i]) {
			return "", false
		}
	}
	// The decoder ignores CR and LF, excluded above; strictness rejects
	// the non-canonical last characters.
	var b [tokenBytes + 2]byte
	if n, err := strict.Decode(b[:], []byte(token)); err != nil || n != tokenBytes {
		return "", false
	}
	return digest(token), true
}

// digest is the id of token: the SHA-256 of its text, base64url.
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func urlSafe(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
