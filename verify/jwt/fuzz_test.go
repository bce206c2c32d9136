package jwt_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

func FuzzVerify(f *testing.F) {
	keys := standardKeys(f)
	fx := newFixture(f, keys, jwtverify.Options{})
	valid := mint(f, keys[2], "ES256", claimsAt(t0))
	for _, seed := range []string{
		valid, mint(f, keys[0], "EdDSA", claimsAt(t0)), mint(f, keys[4], "RS256", claimsAt(t0)),
		"", ".", "..", "a.b.c", "a.b.c.d.e", valid + "x", valid[:len(valid)-3],
		"eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLmNvbS8ifQ.",
		"eyJhbGciOiJFUzI1NiJ9.bnVsbA.AAAA",
		"eyJhbGciOiJFUzI1NiIsImNyaXQiOltdfQ.e30.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		v, err := fx.v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Secret: tok})
		if err != nil {
			var ue *authgate.UnavailableError
			if !errors.As(err, &ue) || !reason.Known(ue.Reason) {
				t.Fatalf("error %v is not a catalogued UnavailableError", err)
			}
			return
		}
		if v.Reason == "" {
			if v.Principal.Subject == "" || v.Principal.Issuer != "corp" {
				t.Fatalf("allowed without a principal: %+v", v)
			}
			return
		}
		if !reason.Known(v.Reason) {
			t.Fatalf("reason %q is not in the catalogue", v.Reason)
		}
		for _, c := range v.Checks {
			if c.Result == authgate.Fail && c.Reason != v.Reason {
				t.Fatalf("failing check %s has reason %q, verdict %q", c.Name, c.Reason, v.Reason)
			}
		}
	})
}

// FuzzVerifyParts fuzzes the decoded header and claims JSON, which the
// string-level target rarely reaches through base64.
func FuzzVerifyParts(f *testing.F) {
	keys := standardKeys(f)
	fx := newFixture(f, keys, jwtverify.Options{})
	f.Add(`{"alg":"ES256","kid":"ec256"}`, `{"iss":"https://idp.example.com/","exp":1795402800,"aud":["api://orders"],"sub":"a","scp":"x y"}`, []byte("sig"))
	f.Add(`{"alg":"EdDSA"}`, `{"iss":"https://idp.example.com/","exp":1e400,"nbf":-1,"aud":7}`, []byte{})
	f.Add(`{"alg":"RS256","kid":"rsa1","crit":["b64"]}`, `{"iss":"https://idp.example.com/","exp":"1"}`, []byte{0})
	enc := base64.RawURLEncoding.EncodeToString
	f.Fuzz(func(t *testing.T, header, claims string, sig []byte) {
		tok := enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc(sig)
		v, err := fx.v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Secret: tok})
		if err != nil {
			var ue *authgate.UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not an UnavailableError", err)
			}
			return
		}
		if v.Reason == "" || !reason.Known(v.Reason) {
			t.Fatalf("forged token got reason %q; trace %+v", v.Reason, v.Checks)
		}
	})
}
