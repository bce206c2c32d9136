package doctor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/doctor"
)

// TestKeysFetchedWithoutTLSVerificationAreFlagged: with -k the issuer's
// keys come over an unverified connection too, so a verified signature
// proves less; the report says so.
func TestKeysFetchedWithoutTLSVerificationAreFlagged(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" {
			w.Write(set)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
		w.WriteHeader(401)
	}))
	defer srv.Close()
	tok := jwtlib.NewWithClaims(jwtlib.SigningMethodES256, jwtlib.MapClaims{"sub": "a", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	raw, _ := tok.SignedString(key)

	r, err := doctor.Check(context.Background(), doctor.Options{URL: srv.URL + "/api", Token: raw, JWKS: srv.URL + "/jwks", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Token == nil || r.Token.Signature == nil || r.Token.Signature.Result != "verified" {
		t.Fatalf("the signature should verify against the served keys: %+v", r.Token)
	}
	found := false
	for _, n := range r.Notes {
		found = found || n.ID == "keys_unverified_tls"
	}
	if !found {
		t.Errorf("no note that the keys came over an unverified connection: %+v", r.Notes)
	}
}
