package jwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "api://orders"
)

// t0 is the injected "now" of every test.
var t0 = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// testKey is a signing key generated for the tests, with the kid its JWK
// is published under.
type testKey struct {
	kid  string
	priv crypto.Signer
}

var (
	keyMu    sync.Mutex
	keyCache = map[string]testKey{}
)

// genKey returns a key of kind "ed25519", "p256", "p384", "p521" or "rsa",
// generated once per kid and test binary (RSA generation is slow).
func genKey(t testing.TB, kind, kid string) testKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kind+"/"+kid]; ok {
		return k
	}
	var priv crypto.Signer
	var err error
	switch kind {
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	k := testKey{kid: kid, priv: priv}
	keyCache[kind+"/"+kid] = k
	return k
}

// jwk returns the public JWK of k.
func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig"}
}

// jwksJSON renders the public JWKS of keys.
func jwksJSON(t testing.TB, keys ...testKey) []byte {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwksServer is a real HTTP JWKS endpoint whose keys and status can be
// changed while it runs; it counts the fetches it answers.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	body    []byte
	status  int
}

func newJWKSServer(t testing.TB, keys ...testKey) *jwksServer {
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		status, body := s.status, s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...testKey) { s.setBody(jwksJSON(t, keys...)) }

func (s *jwksServer) setBody(b []byte) {
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// clock is an injected clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// claimsAt returns valid claims for the test issuer as of now.
func claimsAt(now time.Time) gojwt.MapClaims {
	return gojwt.MapClaims{
		"iss":   testIssuer,
		"sub":   "alice",
		"aud":   testAudience,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"jti":   "jti-1",
		"scope": "orders:read orders:write",
	}
}

// mint signs claims with golang-jwt, kid in the header set to k.kid.
func mint(t testing.TB, k testKey, alg string, claims gojwt.MapClaims) string {
	t.Helper()
	tok := gojwt.NewWithClaims(gojwt.GetSigningMethod(alg), claims)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return s
}

// mintJose signs claims with go-jose.
func mintJose(t testing.TB, k testKey, alg string, claims gojwt.MapClaims) string {
	t.Helper()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a started verifier trusting one issuer whose JWKS is served
// by a real HTTP server, with an injected clock at t0.
type fixture struct {
	clock *clock
	srv   *jwksServer
	v     *jwtverify.Verifier
}

// standardKeys are the keys the default fixture publishes: two Ed25519
// keys (so a kid-less EdDSA token is ambiguous), one of each EC curve and
// one RSA key used for RS256 and PS256.
func standardKeys(t testing.TB) []testKey {
	return []testKey{
		genKey(t, "ed25519", "ed1"), genKey(t, "ed25519", "ed2"),
		genKey(t, "p256", "ec256"), genKey(t, "p384", "ec384"),
		genKey(t, "rsa", "rsa1"),
	}
}

func newFixture(t testing.TB, keys []testKey, opts jwtverify.Options, tweak ...func(*jwtverify.Issuer)) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: t0}, srv: newJWKSServer(t, keys...)}
	iss := jwtverify.Issuer{Name: "corp", Issuer: testIssuer, JWKSURL: f.srv.URL, Audiences: []string{testAudience, "api://other-accepted"}}
	for _, fn := range tweak {
		fn(&iss)
	}
	opts.Now = f.clock.Now
	v, err := jwtverify.New([]jwtverify.Issuer{iss}, opts)
	if err != nil {
		t.Fatal(err)
	}
	v.Start(t.Context())
	f.v = v
	return f
}

func (f *fixture) verify(t testing.TB, tok string) (authgate.Verdict, error) {
	t.Helper()
	return f.v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Header: "Authorization", Secret: tok})
}

// failed returns the failing check of a verdict, or a zero Check.
func failed(v authgate.Verdict) authgate.Check {
	for _, c := range v.Checks {
		if c.Result == authgate.Fail {
			return c
		}
	}
	return authgate.Check{}
}

// check returns the named check of a verdict, or a zero Check.
func check(v authgate.Verdict, name string) authgate.Check {
	for _, c := range v.Checks {
		if c.Name == name {
			return c
		}
	}
	return authgate.Check{}
}
