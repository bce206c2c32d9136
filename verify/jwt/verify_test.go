package jwt_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

// outcome is what a table case expects of a verdict.
type outcome struct {
	Reason    reason.Code
	FailCheck string        // the check that refused; empty on success
	Skew      time.Duration // Verdict.ClockSkew
}

func TestVerifyReasons(t *testing.T) {
	keys := standardKeys(t)
	f := newFixture(t, keys, jwtverify.Options{})
	ed1, ec256, ec384, rsa1 := keys[0], keys[2], keys[3], keys[4]
	with := func(change func(c gojwt.MapClaims)) gojwt.MapClaims {
		c := claimsAt(t0)
		change(c)
		return c
	}
	valid := mint(t, ec256, "ES256", claimsAt(t0))
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		token string
		want  outcome
		also  func(t *testing.T, v authgate.Verdict)
	}{
		{name: "valid ES256 token → allowed with subject, scopes, issuer name and audience",
			token: valid,
			also: func(t *testing.T, v authgate.Verdict) {
				want := authgate.Principal{Subject: "alice", Method: authgate.MethodBearer, Scopes: []string{"orders:read", "orders:write"}, Issuer: "corp", Audience: []string{testAudience}}
				if diff := cmp.Diff(want, v.Principal); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
				wantTok := &authgate.TokenInfo{Algorithm: "ES256", KeyID: "ec256", Type: "JWT", Issuer: testIssuer, Subject: "alice", Audience: []string{testAudience},
					IssuedAt: t0, NotBefore: t0, Expires: t0.Add(time.Hour), JTIHash: jtiHash("jti-1")}
				if diff := cmp.Diff(wantTok, v.Token); diff != "" {
					t.Errorf("token info (-want +got):\n%s", diff)
				}
				var names []string
				for _, c := range v.Checks {
					names = append(names, c.Name)
				}
				wantNames := []string{"jwt.structure", "jwt.issuer", "jwt.alg", "jwt.kid", "jwt.signature", "jwt.exp", "jwt.nbf", "jwt.iat", "jwt.aud", "jwt.sub"}
				if diff := cmp.Diff(wantNames, names); diff != "" {
					t.Errorf("trace (-want +got):\n%s", diff)
				}
			}},
		{name: "token with two parts → token_malformed",
			token: parts[0] + "." + parts[1],
			want:  outcome{Reason: reason.TokenMalformed, FailCheck: "jwt.structure"}},
		{name: "encrypted JWE with five parts → token_malformed",
			token: "a.b.c.d.e",
			want:  outcome{Reason: reason.TokenMalformed, FailCheck: "jwt.structure"}},
		{name: "claims part that is not JSON → token_malformed, header still recorded",
			token: parts[0] + "." + b64([]byte("not json")) + "." + parts[2],
			want:  outcome{Reason: reason.TokenMalformed, FailCheck: "jwt.structure"},
			also: func(t *testing.T, v authgate.Verdict) {
				if v.Token == nil || v.Token.Algorithm != "ES256" || v.Token.KeyID != "ec256" {
					t.Errorf("token info = %+v, want alg and kid from the header", v.Token)
				}
			}},
		{name: "exp given as a string → token_malformed",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["exp"] = "tomorrow" })),
			want:  outcome{Reason: reason.TokenMalformed, FailCheck: "jwt.structure"}},
		{name: "crit header naming an extension → token_malformed",
			token: b64([]byte(`{"alg":"ES256","kid":"ec256","crit":["exp-ext"],"exp-ext":1}`)) + "." + parts[1] + "." + parts[2],
			want:  outcome{Reason: reason.TokenMalformed, FailCheck: "jwt.structure"}},
		{name: "token without iss → issuer_untrusted",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { delete(c, "iss") })),
			want:  outcome{Reason: reason.IssuerUntrusted, FailCheck: "jwt.issuer"}},
		{name: "token from an issuer that is not configured → issuer_untrusted, Claimed still set",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["iss"] = "https://evil.example/" })),
			want:  outcome{Reason: reason.IssuerUntrusted, FailCheck: "jwt.issuer"},
			also: func(t *testing.T, v authgate.Verdict) {
				if v.Claimed != "alice" || v.Token == nil || v.Token.Issuer != "https://evil.example/" {
					t.Errorf("Claimed=%q Token=%+v, want the decoded sub and iss", v.Claimed, v.Token)
				}
			}},
		{name: "alg none → token_algorithm_rejected",
			token: func() string {
				s, err := gojwt.NewWithClaims(gojwt.SigningMethodNone, claimsAt(t0)).SignedString(gojwt.UnsafeAllowNoneSignatureType)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}(),
			want: outcome{Reason: reason.TokenAlgorithm, FailCheck: "jwt.alg"}},
		{name: "HS256 signed with the RSA public key's PEM bytes → token_algorithm_rejected",
			token: func() string {
				der, err := x509.MarshalPKIXPublicKey(rsa1.priv.Public())
				if err != nil {
					t.Fatal(err)
				}
				secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claimsAt(t0))
				tok.Header["kid"] = "rsa1"
				s, err := tok.SignedString(secret)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}(),
			want: outcome{Reason: reason.TokenAlgorithm, FailCheck: "jwt.alg"}},
		{name: "ES512 is not on the default allow-list → token_algorithm_rejected",
			token: mint(t, genKey(t, "p521", "ec521"), "ES512", claimsAt(t0)),
			want:  outcome{Reason: reason.TokenAlgorithm, FailCheck: "jwt.alg"}},
		{name: "alg ES256 but kid names the RSA key → token_algorithm_rejected",
			token: mint(t, testKey{kid: "rsa1", priv: ec256.priv}, "ES256", claimsAt(t0)),
			want:  outcome{Reason: reason.TokenAlgorithm, FailCheck: "jwt.kid"}},
		{name: "alg ES256 but kid names the P-384 key → token_algorithm_rejected",
			token: mint(t, testKey{kid: "ec384", priv: ec256.priv}, "ES256", claimsAt(t0)),
			want:  outcome{Reason: reason.TokenAlgorithm, FailCheck: "jwt.kid"}},
		{name: "kid the issuer never published, even after a refresh → key_unknown",
			token: mint(t, testKey{kid: "gone", priv: ec256.priv}, "ES256", claimsAt(t0)),
			want:  outcome{Reason: reason.KeyUnknown, FailCheck: "jwt.kid"}},
		{name: "EdDSA token without kid while two Ed25519 keys are published → key_unknown",
			token: mint(t, testKey{priv: ed1.priv}, "EdDSA", claimsAt(t0)),
			want:  outcome{Reason: reason.KeyUnknown, FailCheck: "jwt.kid"}},
		{name: "ES384 token without kid and exactly one P-384 key → allowed",
			token: mint(t, testKey{priv: ec384.priv}, "ES384", claimsAt(t0))},
		{name: "signed by another key under a published kid → token_signature_invalid",
			token: mint(t, testKey{kid: "ec256", priv: genKey(t, "p256", "impostor").priv}, "ES256", claimsAt(t0)),
			want:  outcome{Reason: reason.TokenSignatureInvalid, FailCheck: "jwt.signature"}},
		{name: "claims altered after signing (sub changed) → token_signature_invalid",
			token: parts[0] + "." + b64(mustJSON(t, with(func(c gojwt.MapClaims) { c["sub"] = "admin" }))) + "." + parts[2],
			want:  outcome{Reason: reason.TokenSignatureInvalid, FailCheck: "jwt.signature"}},
		{name: "token without exp → token_claim_missing",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { delete(c, "exp") })),
			want:  outcome{Reason: reason.TokenClaimMissing, FailCheck: "jwt.exp"}},
		{name: "token expired 5 minutes ago → token_expired, trace shows exp and now",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) {
				c["exp"] = t0.Add(-5 * time.Minute).Unix()
				c["iat"] = t0.Add(-time.Hour).Unix()
			})),
			want: outcome{Reason: reason.TokenExpired, FailCheck: "jwt.exp", Skew: 5 * time.Minute},
			also: func(t *testing.T, v authgate.Verdict) {
				d := failed(v).Detail
				for _, fact := range []string{"exp=2026-11-23T02:55:00Z", "now=2026-11-23T03:00:00Z", "leeway=60s", "300 s"} {
					if !strings.Contains(d, fact) {
						t.Errorf("exp detail %q lacks %q", d, fact)
					}
				}
			}},
		{name: "token expired 30 s ago, inside the 60 s leeway → allowed",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["exp"] = t0.Add(-30 * time.Second).Unix() }))},
		{name: "nbf 10 minutes ahead → token_not_yet_valid, skew 10 minutes",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["nbf"] = t0.Add(10 * time.Minute).Unix() })),
			want:  outcome{Reason: reason.TokenNotYetValid, FailCheck: "jwt.nbf", Skew: 10 * time.Minute}},
		{name: "iat 2 minutes ahead → token_issued_in_future, skew 2 minutes",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["iat"] = t0.Add(2 * time.Minute).Unix() })),
			want:  outcome{Reason: reason.TokenIssuedInFuture, FailCheck: "jwt.iat", Skew: 2 * time.Minute}},
		{name: "iat 45 s ahead, inside the leeway → allowed",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["iat"] = t0.Add(45 * time.Second).Unix() }))},
		{name: "aud minted for another API → audience_mismatch",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["aud"] = "api://billing" })),
			want:  outcome{Reason: reason.AudienceMismatch, FailCheck: "jwt.aud"}},
		{name: "no aud at all → audience_mismatch",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { delete(c, "aud") })),
			want:  outcome{Reason: reason.AudienceMismatch, FailCheck: "jwt.aud"}},
		{name: "aud array that includes one accepted audience → allowed",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { c["aud"] = []string{"api://billing", "api://other-accepted"} }))},
		{name: "token without sub → token_claim_missing",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { delete(c, "sub") })),
			want:  outcome{Reason: reason.TokenClaimMissing, FailCheck: "jwt.sub"}},
		{name: "scp array instead of scope → scopes taken from scp",
			token: mint(t, ec256, "ES256", with(func(c gojwt.MapClaims) { delete(c, "scope"); c["scp"] = []string{"a", "b"} })),
			also: func(t *testing.T, v authgate.Verdict) {
				if diff := cmp.Diff([]string{"a", "b"}, v.Principal.Scopes); diff != "" {
					t.Errorf("scopes (-want +got):\n%s", diff)
				}
			}},
		{name: "jku header pointing at an attacker's key set → ignored, verified with the issuer's keys",
			token: func() string {
				tok := gojwt.NewWithClaims(gojwt.SigningMethodES256, claimsAt(t0))
				tok.Header["kid"], tok.Header["jku"] = "ec256", "https://evil.example/jwks"
				s, err := tok.SignedString(ec256.priv)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}(),
			also: func(t *testing.T, v authgate.Verdict) {
				if check(v, "jwt.header").Result != authgate.Info {
					t.Errorf("no jwt.header info check noting the ignored jku")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := f.verify(t, tt.token)
			if err != nil {
				t.Fatalf("Verify error = %v, want a verdict", err)
			}
			got := outcome{Reason: v.Reason, FailCheck: failed(v).Name, Skew: v.ClockSkew}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s\ntrace: %+v", diff, v.Checks)
			}
			if fc := failed(v); fc.Name != "" && fc.Reason != v.Reason {
				t.Errorf("failing check reason %q != verdict reason %q", fc.Reason, v.Reason)
			}
			if v.Reason == "" && (v.Principal.Subject == "" || v.Token == nil) {
				t.Errorf("allowed verdict lacks principal or token info: %+v", v)
			}
			assertNoSecrets(t, tt.token, v)
			if tt.also != nil {
				tt.also(t, v)
			}
		})
	}
}

// assertNoSecrets fails if the trace contains the token or its signature.
func assertNoSecrets(t *testing.T, tok string, v authgate.Verdict) {
	t.Helper()
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	for _, c := range v.Checks {
		if len(sig) >= 16 && strings.Contains(c.Detail, sig[:16]) || strings.Contains(c.Detail, tok) {
			t.Errorf("check %s leaks the token or its signature: %q", c.Name, c.Detail)
		}
	}
}

// jtiHash is the documented JTIHash: the first 16 hex digits of SHA-256.
func jtiHash(jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return hex.EncodeToString(sum[:])[:16]
}

func mustJSON(t *testing.T, c gojwt.MapClaims) []byte {
	t.Helper()
	tok := gojwt.NewWithClaims(gojwt.SigningMethodNone, c)
	s, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(s, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMethodIsBearer(t *testing.T) {
	f := newFixture(t, standardKeys(t), jwtverify.Options{})
	if got := f.v.Method(); got != authgate.MethodBearer {
		t.Errorf("Method() = %q, want %q", got, authgate.MethodBearer)
	}
}
