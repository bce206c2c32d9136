package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"unicode"
)

// recoveryAlphabet has lower-case letters and digits without those people
// confuse when reading or typing: 0/o, 1/l/i, u/v. 30 symbols, so a
// 12-character code holds 58 bits.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstvwxyz"

// RecoveryLength is the number of characters of a recovery code, without
// its dashes.
const RecoveryLength = 12

// NewRecoveryCodes returns n new recovery codes, shown as xxxx-xxxx-xxxx.
// Show them to the user once and store only their RecoveryDigest. The
// error is that of the system's random source.
func NewRecoveryCodes(n int) ([]string, error) {
	codes := make([]string, n)
	for i := range codes {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, fmt.Errorf("totp: generating recovery codes: %w", err)
		}
		codes[i] = c
	}
	return codes, nil
}

func newRecoveryCode() (string, error) {
	code := make([]byte, 0, RecoveryLength+2)
	var buf [32]byte
	for n := 0; n < RecoveryLength; {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			// Rejection sampling: 240 = 8×30, so every symbol is equally
			// likely.
			if c >= 240 || n == RecoveryLength {
				continue
			}
			if n == 4 || n == 8 {
				code = append(code, '-')
			}
			code = append(code, recoveryAlphabet[int(c)%len(recoveryAlphabet)])
			n++
		}
	}
	return string(code), nil
}

// NormalizeRecoveryCode returns code as its digest is computed: without
// dashes and spaces, ASCII letters in lower case.
func NormalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == '-' || unicode.IsSpace(r):
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LooksLikeRecoveryCode reports whether s has the shape of a recovery
// code: RecoveryLength characters of the recovery alphabet once dashes and
// spaces are removed, in either case. It says nothing about whether s is
// one of a user's codes.
func LooksLikeRecoveryCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	n := NormalizeRecoveryCode(s)
	if len(n) != RecoveryLength {
		return false
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(recoveryAlphabet, n[i]) < 0 {
			return false
		}
	}
	return true
}

// RecoveryDigest returns the digest of a recovery code as the user store
// keeps it: HMAC-SHA256 of the normalised code (NormalizeRecoveryCode),
// keyed with a key derived from gatewayKey by HKDF-SHA256 (info "authgate
// recovery code v1"). Without the gateway key, stored digests cannot be
// tested against guesses offline. It panics if gatewayKey is shorter than
// MinGatewayKey.
func RecoveryDigest(gatewayKey []byte, code string) []byte {
	return recoveryDigest(derive(gatewayKey, recoveryInfo), code)
}

const recoveryInfo = "authgate recovery code v1"

// recoveryDigest is RecoveryDigest with the derived key.
func recoveryDigest(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(NormalizeRecoveryCode(code)))
	return m.Sum(nil)
}
