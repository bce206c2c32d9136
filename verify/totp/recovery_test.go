package totp_test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/authgate/authgate/verify/totp"
)

func TestNewRecoveryCodesAreUnambiguousAndUnique(t *testing.T) {
	codes, err := totp.NewRecoveryCodes(200)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 200 {
		t.Fatalf("got %d codes, want 200", len(codes))
	}
	shape := regexp.MustCompile(`^[2-9a-hjkmnp-tv-z]{4}-[2-9a-hjkmnp-tv-z]{4}-[2-9a-hjkmnp-tv-z]{4}$`)
	seen := map[string]bool{}
	used := map[rune]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("%q is not xxxx-xxxx-xxxx from the unambiguous alphabet", c)
		}
		if !totp.LooksLikeRecoveryCode(c) {
			t.Errorf("LooksLikeRecoveryCode(%q) = false for a new code", c)
		}
		if seen[c] {
			t.Errorf("%q issued twice", c)
		}
		seen[c] = true
		for _, r := range c {
			used[r] = true
		}
	}
	// 2400 characters from 30 symbols: every symbol shows up.
	if len(used) != 30+1 {
		t.Errorf("%d distinct characters (with the dash) in 200 codes, want 31", len(used))
	}
}

func TestLooksLikeRecoveryCode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a code as shown looks like one", "abcd-efgh-jkmn", true},
		{"a code typed in upper case looks like one", "ABCD-EFGH-JKMN", true},
		{"a code typed without dashes looks like one", "abcdefghjkmn", true},
		{"a code typed with spaces for dashes looks like one", "abcd efgh jkmn", true},
		{"a code of digits only looks like one", "2345-6789-2345", true},
		{"11 characters do not", "abcd-efgh-jkm", false},
		{"13 characters do not", "abcd-efgh-jkmnp", false},
		{"a code with an o (never issued) does not", "abcd-efgh-jkmo", false},
		{"a code with a 0 or 1 (never issued) does not", "abcd-efgh-jk01", false},
		{"a 6-digit TOTP code does not", "123456", false},
		{"an empty string does not", "", false},
		{"a Kelvin sign does not pass for a k", "abcd-efgh-j\u212amn", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := totp.LooksLikeRecoveryCode(tt.in); got != tt.want {
				t.Errorf("LooksLikeRecoveryCode(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRecoveryDigestIsKeyedAndIgnoresHowTheCodeWasTyped(t *testing.T) {
	key := newGatewayKey(t)
	d := totp.RecoveryDigest(key, "abcd-efgh-jkmn")
	if len(d) != 32 {
		t.Fatalf("digest is %d bytes, want 32 (HMAC-SHA256)", len(d))
	}
	for _, typed := range []string{"ABCD-EFGH-JKMN", "abcdefghjkmn", " abcd efgh jkmn ", "Abcd-Efgh-Jkmn"} {
		if !bytes.Equal(totp.RecoveryDigest(key, typed), d) {
			t.Errorf("%q has another digest than abcd-efgh-jkmn", typed)
		}
	}
	if bytes.Equal(totp.RecoveryDigest(key, "abcd-efgh-jkmp"), d) {
		t.Error("two codes have the same digest")
	}
	if bytes.Equal(totp.RecoveryDigest(newGatewayKey(t), "abcd-efgh-jkmn"), d) {
		t.Error("the digest does not depend on the gateway key")
	}
	if bytes.Contains(d, []byte("abcdefghjkmn")) {
		t.Error("the digest holds the code")
	}
}
