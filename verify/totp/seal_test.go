package totp_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/verify/totp"
)

// newGatewayKey returns a random gateway key for one test.
func newGatewayKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func newSecret(t testing.TB) []byte {
	t.Helper()
	s, err := totp.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != totp.SecretSize {
		t.Fatalf("NewSecret returned %d bytes, want %d", len(s), totp.SecretSize)
	}
	return s
}

func TestSealedSecretOpensForTheSameUserAndKey(t *testing.T) {
	key, secret := newGatewayKey(t), newSecret(t)
	sealed, err := totp.NewSealer(key).Seal("alice", secret)
	if err != nil {
		t.Fatal(err)
	}
	// A second Sealer from the same key: as after a restart.
	got, err := totp.NewSealer(key).Open("alice", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatalf("Open returned another secret")
	}
}

func TestSealedSecretDoesNotOpen(t *testing.T) {
	key, secret := newGatewayKey(t), newSecret(t)
	s := totp.NewSealer(key)
	sealed, err := s.Seal("alice", secret)
	if err != nil {
		t.Fatal(err)
	}
	flipped := func(i int, bit byte) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= bit
		return b
	}
	tests := []struct {
		name   string
		sealer *totp.Sealer
		user   string
		sealed []byte
	}{
		{"copied to another user's row, it does not open for that user", s, "bob", sealed},
		{"for a name differing only in case, it does not open", s, "Alice", sealed},
		{"under another gateway key, it does not open", totp.NewSealer(newGatewayKey(t)), "alice", sealed},
		{"with a bit flipped in the version byte, it does not open", s, "alice", flipped(0, 1)},
		{"with a bit flipped in the nonce, it does not open", s, "alice", flipped(1, 0x80)},
		{"with a bit flipped in the ciphertext, it does not open", s, "alice", flipped(14, 4)},
		{"with a bit flipped in the tag, it does not open", s, "alice", flipped(len(sealed)-1, 1)},
		{"cut short, it does not open", s, "alice", sealed[:len(sealed)-1]},
		{"empty, it does not open", s, "alice", nil},
		{"with a byte added, it does not open", s, "alice", append(bytes.Clone(sealed), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.user, tt.sealed)
			if !errors.Is(err, totp.ErrNotOpened) {
				t.Fatalf("Open = %d bytes, %v; want ErrNotOpened", len(got), err)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes with its error", len(got))
			}
			assertNoSecret(t, err.Error(), secret)
		})
	}
	// Every single bit matters, not only those above.
	for i := range sealed {
		for bit := range 8 {
			if _, err := s.Open("alice", flipped(i, 1<<bit)); err == nil {
				t.Fatalf("flipping bit %d of byte %d: Open succeeded", bit, i)
			}
		}
	}
}

func TestSealedBytesNeverContainTheSecret(t *testing.T) {
	s := totp.NewSealer(newGatewayKey(t))
	secret := newSecret(t)
	seen := map[string]bool{}
	for range 100 {
		sealed, err := s.Seal("alice", secret)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, string(sealed), secret)
		if seen[string(sealed)] {
			t.Fatal("two seals of one secret are equal: the nonce is not random")
		}
		seen[string(sealed)] = true
	}
}

func TestSealRefusesAnEmptySecret(t *testing.T) {
	if _, err := totp.NewSealer(newGatewayKey(t)).Seal("alice", nil); err == nil {
		t.Fatal("Seal of an empty secret succeeded")
	}
}

func TestAShortGatewayKeyIsRefused(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewSealer with a 15-byte key did not panic")
		}
	}()
	totp.NewSealer(make([]byte, totp.MinGatewayKey-1))
}

// assertNoSecret fails if s holds secret, raw or in base32 (plain, lower
// case, or grouped as an enrollment page shows it).
func assertNoSecret(t testing.TB, s string, secret []byte) {
	t.Helper()
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	for _, form := range []string{string(secret), b32, strings.ToLower(b32), totp.Base32(secret)} {
		if strings.Contains(s, form) {
			t.Fatalf("%q contains the secret", s)
		}
	}
}
