package doctor

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Secret describes a credential without revealing it: a short prefix, a
// fingerprint that lets two people check they hold the same value, and the
// length. Short secrets get no prefix at all.
type Secret struct {
	Prefix      string `json:"prefix,omitempty"`
	Fingerprint string `json:"sha256_prefix"`
	Length      int    `json:"length"`
}

// describeSecret returns the printable description of s. A password gets
// no prefix: its first characters are a large part of its strength.
func describeSecret(s string, withPrefix bool) Secret {
	sum := sha256.Sum256([]byte(s))
	d := Secret{Fingerprint: hex.EncodeToString(sum[:4]), Length: len(s)}
	if n := min(6, len(s)/4); withPrefix && n > 0 {
		d.Prefix = s[:n]
	}
	return d
}

// String renders the description, e.g. "eyJhbG… (412 bytes, sha256 1a2b3c4d)".
func (s Secret) String() string {
	p := ""
	if s.Prefix != "" {
		p = s.Prefix + "… "
	}
	return p + "(" + itoa(s.Length) + " bytes, sha256 " + s.Fingerprint + ")"
}

// redactor removes every known secret from text a server sent back or a
// URL the user typed, so no output ever carries one.
type redactor struct{ secrets []string }

func (r *redactor) add(s string) {
	// Very short values would redact ordinary words; they are not secrets
	// worth the name anyway.
	if len(s) >= 4 {
		r.secrets = append(r.secrets, s)
	}
}

// clean replaces each secret that stands as a word of its own in s: a
// short password "wrong" must not mangle the reason code "password_wrong".
func (r *redactor) clean(s string) string {
	for _, sec := range r.secrets {
		var b strings.Builder
		rest := s
		for {
			i := strings.Index(rest, sec)
			if i < 0 {
				break
			}
			j := i + len(sec)
			if (i > 0 && isWordByte(rest[i-1])) || (j < len(rest) && isWordByte(rest[j])) {
				b.WriteString(rest[:i+1])
				rest = rest[i+1:]
				continue
			}
			b.WriteString(rest[:i])
			b.WriteString("[redacted " + describeSecret(sec, false).Fingerprint + "]")
			rest = rest[j:]
		}
		b.WriteString(rest)
		s = b.String()
	}
	return s
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
