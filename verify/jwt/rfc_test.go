package jwt_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

// The example JWS of RFC 7515 Appendix A.3 (ES256) with its public key
// (A.3.1), and the example JWT of RFC 7519 §3.1 (HS256). Both carry
// iss "joe" and exp 1300819380, and no aud.
const (
	rfc7515ES256JWK = `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	rfc7515ES256JWS = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	rfc7519HS256JWT = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func TestRFCExamples(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(rfc7515ES256JWK)) }))
	defer srv.Close()
	beforeExp := time.Unix(1300819380, 0).Add(-time.Minute)
	v, err := jwtverify.New([]jwtverify.Issuer{{Name: "joe", Issuer: "joe", JWKSURL: srv.URL, Audiences: []string{"api://x"}}},
		jwtverify.Options{Now: func() time.Time { return beforeExp }})
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())

	t.Run("RFC 7515 A.3: the ES256 signature verifies with the published key; no aud → audience_mismatch", func(t *testing.T) {
		got, err := v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Secret: rfc7515ES256JWS})
		if err != nil {
			t.Fatal(err)
		}
		if check(got, "jwt.signature").Result != authgate.Pass || got.Reason != reason.AudienceMismatch {
			t.Errorf("reason %q; trace %+v", got.Reason, got.Checks)
		}
	})
	t.Run("RFC 7519 §3.1: an HS256 token is never accepted → token_algorithm_rejected", func(t *testing.T) {
		got, _ := v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Secret: rfc7519HS256JWT})
		if got.Reason != reason.TokenAlgorithm {
			t.Errorf("reason %q; trace %+v", got.Reason, got.Checks)
		}
	})
}
