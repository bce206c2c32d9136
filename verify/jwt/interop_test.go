package jwt_test

import (
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"

	jwtverify "github.com/authgate/authgate/verify/jwt"
)

// Tokens from both Go JOSE libraries verify for every default algorithm.
func TestInteropEveryAllowedAlgorithm(t *testing.T) {
	keys := standardKeys(t)
	f := newFixture(t, keys, jwtverify.Options{CacheSize: -1})
	keyFor := map[string]testKey{"EdDSA": keys[0], "ES256": keys[2], "ES384": keys[3], "RS256": keys[4], "PS256": keys[4]}
	signers := map[string]func(testing.TB, testKey, string, gojwt.MapClaims) string{
		"golang-jwt": mint,
		"go-jose":    mintJose,
	}
	for _, alg := range jwtverify.DefaultAlgorithms {
		for lib, sign := range signers {
			t.Run(alg+" token signed by "+lib+" → allowed", func(t *testing.T) {
				v, err := f.verify(t, sign(t, keyFor[alg], alg, claimsAt(t0)))
				if err != nil || v.Reason != "" {
					t.Fatalf("Verify = %q, %v; trace %+v", v.Reason, err, v.Checks)
				}
				if v.Token.Algorithm != alg || v.Principal.Subject != "alice" {
					t.Errorf("alg=%q subject=%q", v.Token.Algorithm, v.Principal.Subject)
				}
			})
		}
	}
}

// An issuer limited to ES256 refuses an EdDSA token from the same key set.
func TestIssuerAllowListNarrowsAlgorithms(t *testing.T) {
	keys := standardKeys(t)
	f := newFixture(t, keys, jwtverify.Options{}, func(is *jwtverify.Issuer) { is.Algorithms = []string{"ES256"} })
	v, err := f.verify(t, mint(t, keys[0], "EdDSA", claimsAt(t0)))
	if err != nil || v.Reason != "token_algorithm_rejected" || failed(v).Name != "jwt.alg" {
		t.Fatalf("EdDSA on an ES256-only issuer: reason %q, err %v, trace %+v", v.Reason, err, v.Checks)
	}
}
