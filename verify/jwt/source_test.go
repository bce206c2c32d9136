package jwt_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

// discoveryServer serves an OIDC discovery document naming issuer and its
// own /jwks endpoint. An empty issuer means the server's own URL.
func discoveryServer(t *testing.T, issuer string, keys ...testKey) (srv *httptest.Server, jwksFetches *atomic.Int32) {
	jwksFetches = new(atomic.Int32)
	mux := http.NewServeMux()
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if issuer == "" {
		issuer = srv.URL
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		jwksFetches.Add(1)
		w.Write(jwksJSON(t, keys...))
	})
	return srv, jwksFetches
}

func TestDiscoveryFindsKeys(t *testing.T) {
	k := genKey(t, "ed25519", "d1")
	srv, fetches := discoveryServer(t, "", k)
	v, err := jwtverify.New([]jwtverify.Issuer{{Name: "oidc", Issuer: srv.URL, DiscoveryURL: srv.URL + "/.well-known/openid-configuration", Audiences: []string{testAudience}}},
		jwtverify.Options{Now: (&clock{now: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())
	if err := v.Health(); err != nil {
		t.Fatalf("Health() = %v", err)
	}
	c := claimsAt(t0)
	c["iss"] = srv.URL
	verdict, err := v.Verify(t.Context(), authgate.Credential{Secret: mint(t, k, "EdDSA", c)})
	if err != nil || verdict.Reason != "" || verdict.Principal.Issuer != "oidc" {
		t.Fatalf("reason %q, err %v, principal %+v", verdict.Reason, err, verdict.Principal)
	}
	if fetches.Load() != 1 {
		t.Errorf("jwks fetched %d times, want 1", fetches.Load())
	}
}

func TestDiscoveryNamingAnotherIssuerIsRefused(t *testing.T) {
	k := genKey(t, "ed25519", "d1")
	srv, fetches := discoveryServer(t, "https://impostor.example/", k)
	v, err := jwtverify.New([]jwtverify.Issuer{{Name: "oidc", Issuer: testIssuer, DiscoveryURL: srv.URL + "/.well-known/openid-configuration", Audiences: []string{testAudience}}},
		jwtverify.Options{Now: (&clock{now: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())
	var mismatch *jwtverify.IssuerMismatchError
	if !errors.As(v.Health(), &mismatch) || mismatch.Configured != testIssuer || mismatch.Discovered != "https://impostor.example/" {
		t.Fatalf("Health() = %v, want an IssuerMismatchError naming both issuers", v.Health())
	}
	verdict, err := v.Verify(t.Context(), authgate.Credential{Secret: mint(t, k, "EdDSA", claimsAt(t0))})
	wantUnavailable(t, verdict, err)
	if !errors.As(err, &mismatch) {
		t.Errorf("Verify error %v does not carry the mismatch", err)
	}
	if fetches.Load() != 0 {
		t.Errorf("keys of a mismatched issuer were fetched %d times", fetches.Load())
	}
}

func TestJWKSFileIsReadAtStartAndOnUnknownKid(t *testing.T) {
	k1, k2 := genKey(t, "rsa", "file-1"), genKey(t, "p384", "file-2")
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(t, k1), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := jwtverify.New([]jwtverify.Issuer{{Name: "file", Issuer: testIssuer, JWKSFile: path, Audiences: []string{testAudience}}},
		jwtverify.Options{Now: (&clock{now: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())
	for _, tc := range []struct {
		key testKey
		alg string
	}{{k1, "PS256"}, {k2, "ES384"}} {
		if tc.key.kid == "file-2" {
			if err := os.WriteFile(path, jwksJSON(t, k1, k2), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		verdict, err := v.Verify(t.Context(), authgate.Credential{Secret: mint(t, tc.key, tc.alg, claimsAt(t0))})
		if err != nil || verdict.Reason != "" {
			t.Errorf("kid %s: reason %q, err %v", tc.key.kid, verdict.Reason, err)
		}
	}
}

func TestJWKSIgnoresUnusableKeys(t *testing.T) {
	k := genKey(t, "p256", "good")
	var set map[string][]json.RawMessage
	json.Unmarshal(jwksJSON(t, k), &set)
	set["keys"] = append([]json.RawMessage{
		json.RawMessage(`{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kid":"x"}`),
		json.RawMessage(`{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}`),
		json.RawMessage(`{"kty":"EC","crv":"P-256","use":"enc","kid":"enc","x":"AAAA","y":"AAAA"}`),
	}, set["keys"]...)
	body, _ := json.Marshal(set)
	srv := newJWKSServer(t)
	srv.setBody(body)
	v, err := jwtverify.New([]jwtverify.Issuer{{Name: "corp", Issuer: testIssuer, JWKSURL: srv.URL, Audiences: []string{testAudience}}}, jwtverify.Options{Now: (&clock{now: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())
	verdict, err := v.Verify(t.Context(), authgate.Credential{Secret: mint(t, k, "ES256", claimsAt(t0))})
	if err != nil || verdict.Reason != "" {
		t.Fatalf("reason %q, err %v", verdict.Reason, err)
	}
	tok := mint(t, testKey{kid: "hmac", priv: k.priv}, "ES256", claimsAt(t0))
	if verdict, _ := v.Verify(t.Context(), authgate.Credential{Secret: tok}); verdict.Reason != "key_unknown" {
		t.Errorf("kid of an ignored symmetric key: reason %q, want key_unknown", verdict.Reason)
	}
}

func TestNewRefusesBadIssuers(t *testing.T) {
	ok := jwtverify.Issuer{Name: "corp", Issuer: testIssuer, JWKSURL: "https://idp.example.com/jwks", Audiences: []string{testAudience}}
	tests := []struct {
		name   string
		change func(*jwtverify.Issuer)
	}{
		{"HS256 on the allow-list → error", func(is *jwtverify.Issuer) { is.Algorithms = []string{"ES256", "HS256"} }},
		{"none on the allow-list → error", func(is *jwtverify.Issuer) { is.Algorithms = []string{"none"} }},
		{"unknown algorithm → error", func(is *jwtverify.Issuer) { is.Algorithms = []string{"ES257"} }},
		{"no audiences → error", func(is *jwtverify.Issuer) { is.Audiences = nil }},
		{"no key source → error", func(is *jwtverify.Issuer) { is.JWKSURL = "" }},
		{"two key sources → error", func(is *jwtverify.Issuer) { is.JWKSFile = "/etc/jwks.json" }},
		{"JWKS URL that is not http(s) → error", func(is *jwtverify.Issuer) { is.JWKSURL = "file:///etc/jwks.json" }},
		{"no iss value → error", func(is *jwtverify.Issuer) { is.Issuer = "" }},
		{"leeway of an hour → error", func(is *jwtverify.Issuer) { is.Leeway = 3600e9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := ok
			tt.change(&is)
			if _, err := jwtverify.New([]jwtverify.Issuer{is}, jwtverify.Options{}); err == nil {
				t.Errorf("New accepted %+v", is)
			}
		})
	}
	t.Run("two issuers with the same iss → error", func(t *testing.T) {
		other := ok
		other.Name = "corp2"
		if _, err := jwtverify.New([]jwtverify.Issuer{ok, other}, jwtverify.Options{}); err == nil {
			t.Error("New accepted duplicate iss")
		}
	})
	t.Run("valid issuer → no error", func(t *testing.T) {
		if _, err := jwtverify.New([]jwtverify.Issuer{ok}, jwtverify.Options{}); err != nil {
			t.Error(err)
		}
	})
}
