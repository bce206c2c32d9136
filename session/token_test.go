package session_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/authgate/authgate/session"
)

func TestNewTokenIsRandomAndItsIDIsItsDigest(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		token, id, err := session.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != session.TokenLen || len(id) != session.TokenLen {
			t.Fatalf("token %q, id %q: want %d characters each", token, id, session.TokenLen)
		}
		if seen[token] {
			t.Fatalf("token %q twice", token)
		}
		seen[token] = true
		sum := sha256.Sum256([]byte(token))
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); id != want {
			t.Fatalf("id = %q, want base64url(SHA-256(token)) = %q", id, want)
		}
		if got, ok := session.ID(token); !ok || got != id {
			t.Fatalf("ID(%q) = %q, %v; want %q", token, got, ok, id)
		}
	}
}

func TestIDRefusesAnythingButATokenOfNewToken(t *testing.T) {
	token, _, _ := session.NewToken()
	// A token's last character carries 4 bits; 'A' has the 2 unused bits
	// clear, 'B' sets one.
	canonical := token[:42] + "A"
	for _, c := range []struct{ name, token string }{
		{"empty", ""},
		{"one character short", token[:42]},
		{"one character long", token + "A"},
		{"padded", token + "="},
		{"standard alphabet '+'", "+" + token[1:]},
		{"standard alphabet '/'", token[:10] + "/" + token[11:]},
		{"a space", token[:10] + " " + token[11:]},
		{"a newline, which base64 decoders skip", token[:10] + "\n" + token[11:]},
		{"a NUL", token[:10] + "\x00" + token[11:]},
		{"non-ASCII", token[:40] + "é"},
		{"the unused bits of the last character set", token[:42] + "B"},
		{"quoted", `"` + token[1:42] + `"`},
		{"the Bearer scheme", "Bearer " + token[7:]},
		{"twice", token + token},
	} {
		if id, ok := session.ID(c.token); ok || id != "" {
			t.Errorf("%s: ID(%q) = %q, %v; want refused", c.name, c.token, id, ok)
		}
	}
	if _, ok := session.ID(canonical); !ok {
		t.Errorf("ID(%q) refused a canonical token", canonical)
	}
}

func FuzzID(f *testing.F) {
	token, id, _ := session.NewToken()
	for _, s := range []string{token, id, "", token + "=", strings.Repeat("A", 43), strings.Repeat("_", 43), token[:42] + "\n", "\xff" + token[1:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, ok := session.ID(token)
		if !ok {
			if id != "" {
				t.Fatalf("ID(%q) refused it but returned %q", token, id)
			}
			return
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(token)
		if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != token {
			t.Fatalf("ID(%q) accepted a token that is not 32 bytes in canonical base64url", token)
		}
		sum := sha256.Sum256([]byte(token))
		if id != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("ID(%q) = %q, not the digest", token, id)
		}
		if _, ok := session.ID(id); !ok {
			t.Fatalf("an id %q does not have the form of a token", id)
		}
	})
}
