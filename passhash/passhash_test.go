package passhash_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"golang.org/x/crypto/bcrypt"
)

// fast keeps unit tests quick where the cost is not the subject.
var fast = passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Fixed vectors computed independently with OpenSSL:
//
//	openssl passwd -apr1 -salt 8kX3Q0aA 'open sesame'
//	printf 'open sesame' | openssl sha1 -binary | base64
const (
	apr1OpenSesame = "$apr1$8kX3Q0aA$kA66dqR6GKGF9DOKrrp7T."
	shaOpenSesame  = "{SHA}W8r/fyL/UzygmbNAjq2HbA67qac="
)

func mustHash(t testing.TB, password string) string {
	t.Helper()
	h, err := passhash.Hash(password, fast)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustBcrypt(t testing.TB, password, prefix string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + string(h[4:])
}

func TestVerify(t *testing.T) {
	argon := mustHash(t, "open sesame")
	tests := []struct {
		name     string
		encoded  string
		password string
		want     bool
		wantErr  error
	}{
		{"argon2id with the right password matches", argon, "open sesame", true, nil},
		{"argon2id with a wrong password does not match", argon, "open sesame!", false, nil},
		{"bcrypt $2a$ matches", mustBcrypt(t, "open sesame", "$2a$"), "open sesame", true, nil},
		{"bcrypt $2b$ with a wrong password does not match", mustBcrypt(t, "open sesame", "$2b$"), "Open sesame", false, nil},
		{"bcrypt $2y$ from htpasswd -B matches", mustBcrypt(t, "open sesame", "$2y$"), "open sesame", true, nil},
		{"Apache {SHA} matches", shaOpenSesame, "open sesame", true, nil},
		{"Apache {SHA} with a wrong password does not match", shaOpenSesame, "open", false, nil},
		{"Apache $apr1$ matches", apr1OpenSesame, "open sesame", true, nil},
		{"Apache $apr1$ with a wrong password does not match", apr1OpenSesame, "open sesamE", false, nil},
		{"a plain-text password is unsupported, even when it equals the password", "open sesame", "open sesame", false, passhash.ErrUnsupported},
		{"crypt(3) DES is unsupported", "rl0uE2d0TEVuA", "x", false, passhash.ErrUnsupported},
		{"MD5-crypt is unsupported", "$1$abc$def", "x", false, passhash.ErrUnsupported},
		{"an empty hash is unsupported", "", "", false, passhash.ErrUnsupported},
		{"argon2i is unsupported", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, passhash.ErrUnsupported},
		{"a truncated argon2id hash is corrupt", argon[:len(argon)-30], "open sesame", false, passhash.ErrCorrupt},
		{"argon2id with absurd memory is corrupt", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, passhash.ErrCorrupt},
		{"a truncated bcrypt hash is corrupt", "$2y$10$abc", "x", false, passhash.ErrCorrupt},
		{"{SHA} with bad base64 is corrupt", "{SHA}not base64!", "x", false, passhash.ErrCorrupt},
		{"$apr1$ with a short digest is corrupt", "$apr1$8kX3Q0aA$kA66", "x", false, passhash.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := passhash.Verify(tt.encoded, tt.password)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
			if err != nil {
				assertNoSecret(t, err, tt.encoded, tt.password)
				if check := passhash.Check(tt.encoded); !errors.Is(check, tt.wantErr) {
					t.Errorf("Check error = %v, want %v", check, tt.wantErr)
				}
			} else if check := passhash.Check(tt.encoded); check != nil {
				t.Errorf("Check = %v, want nil", check)
			}
		})
	}
}

func TestCheckExplainsTheFix(t *testing.T) {
	tests := []struct {
		name, encoded, wantFormat string
	}{
		{"a plain-text password is named as plain text", "hunter2", "plain text"},
		{"crypt(3) DES is named", "rl0uE2d0TEVuA", "crypt(3) DES (or a 13-character plain-text password)"},
		{"SHA-crypt is named", "$6$rounds=5000$salt$hash", "SHA-crypt ($5$ or $6$)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe *passhash.FormatError
			if err := passhash.Check(tt.encoded); !errors.As(err, &fe) {
				t.Fatalf("Check = %v, want *FormatError", err)
			}
			if fe.Format != tt.wantFormat {
				t.Errorf("Format = %q, want %q", fe.Format, tt.wantFormat)
			}
			if !strings.Contains(fe.Fix, "htpasswd -B") {
				t.Errorf("Fix %q does not suggest htpasswd -B", fe.Fix)
			}
		})
	}
}

func TestHashUsesFreshSaltsAndTheGivenParameters(t *testing.T) {
	a, b := mustHash(t, "pw"), mustHash(t, "pw")
	if a == b {
		t.Error("two hashes of the same password are equal; the salt is not random")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not carry its parameters", a)
	}
	if _, err := passhash.Hash("pw", passhash.Argon2Params{MemoryKiB: 64}); err == nil {
		t.Error("Hash with zero iterations and parallelism succeeded")
	}
}

func TestDummyIsComputedOnceAndMatchesNoGuess(t *testing.T) {
	d := passhash.Dummy(fast)
	if passhash.Dummy(fast) != d {
		t.Error("Dummy computed a second hash for the same parameters")
	}
	if ok, err := passhash.Verify(d, ""); ok || err != nil {
		t.Errorf("Verify(dummy, \"\") = %v, %v; want false, nil", ok, err)
	}
	if passhash.Name(d) != "argon2id" {
		t.Errorf("Name(dummy) = %q", passhash.Name(d))
	}
}

func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

// The configuration's defaults and the package's are written twice (config
// does not import passhash); they must say the same.
func TestDefaultArgon2MatchesTheConfigurationDefault(t *testing.T) {
	got := passhash.DefaultArgon2
	want := passhash.Argon2Params{MemoryKiB: config.DefaultArgon2MemoryKiB, Iterations: config.DefaultArgon2Iterations, Parallelism: config.DefaultArgon2Parallelism}
	if got != want {
		t.Fatalf("passhash.DefaultArgon2 = %+v, but config's defaults say %+v", got, want)
	}
}

func TestOutdated(t *testing.T) {
	current := passhash.Argon2Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}
	same, err := passhash.Hash("pw", current)
	if err != nil {
		t.Fatal(err)
	}
	other, err := passhash.Hash("pw", passhash.Argon2Params{MemoryKiB: 64, Iterations: 3, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, hash string
		want       bool
		describe   string
	}{
		{"argon2id with the current parameters", same, false, "argon2id m=64 t=2 p=1"},
		{"argon2id with other parameters", other, true, "argon2id m=64 t=3 p=1"},
		{"bcrypt", mustBcrypt(t, "pw", "$2y$"), true, "bcrypt"},
		{"{SHA}", "{SHA}" + "qUqP5cyxm6YcTAhz05Hph5gvu9M=", true, "{SHA}"},
		{"$apr1$", apr1OpenSesame, true, "$apr1$"},
		{"plain text (nothing verifies it)", "hunter2", false, "unsupported"},
		{"a corrupt argon2id hash", "$argon2id$v=19$m=64,t=2,p=1$!!$!!", false, "argon2id (unreadable parameters)"},
	} {
		if got := passhash.Outdated(c.hash, current); got != c.want {
			t.Errorf("%s: Outdated = %v, want %v", c.name, got, c.want)
		}
		if got := passhash.Describe(c.hash); got != c.describe {
			t.Errorf("%s: Describe = %q, want %q", c.name, got, c.describe)
		}
	}
}
