package doctor_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/server"
)

// gateway is a whole authgate built in-process from a configuration, the
// way server/harness_test.go builds one: a real upstream, a JWKS over
// HTTP, a JWKS file, an issuer that is down, a SQLite store, and a clock
// the test moves. Its clock starts at the real time so that the Date
// header net/http writes agrees with the clock the gateway decides by.
type gateway struct {
	t    *testing.T
	srv  *server.Server
	base string
	jwks *httptest.Server

	mu    sync.Mutex
	clock time.Time

	corpKey    *ecdsa.PrivateKey
	partnerKey ed25519.PrivateKey
}

const gatewayConfig = `
listen: 127.0.0.1:0
data_dir: {{DATA}}
realm: test
passwords:
  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}
limits:
  max_credential_bytes: 512
issuers:
  - name: corp
    issuer: https://corp.test
    jwks_url: {{JWKS}}
    audiences: [api://orders]
    algorithms: [ES256]
  - name: partner
    issuer: https://partner.test
    jwks_file: {{DATA}}/partner-jwks.json
    audiences: [api://orders, api://other]
    algorithms: [EdDSA]
  - name: down
    issuer: https://down.test
    jwks_url: http://127.0.0.1:1/jwks
    audiences: [api://orders]
    fetch_timeout: 500ms
routes:
  - {name: verbose, host: api.test, path: /v, upstream: "{{UP}}", accept: [basic, api_key, bearer], detail: verbose}
  - {name: minimal, host: api.test, path: /m, upstream: "{{UP}}", accept: [basic, api_key, bearer]}
  - {name: bearer, host: api.test, path: /b, upstream: "{{UP}}", accept: [bearer], detail: verbose}
  - {name: scoped, host: api.test, path: /scoped, upstream: "{{UP}}", accept: [api_key, bearer], detail: verbose, policy: {scopes: [admin]}}
  - {name: corp-only, host: api.test, path: /corp, upstream: "{{UP}}", accept: [bearer], detail: verbose, policy: {issuers: [corp]}}
  - {name: orders-aud, host: api.test, path: /orders, upstream: "{{UP}}", accept: [bearer], detail: verbose, policy: {audiences: [api://orders]}}
  - {name: office, host: api.test, path: /office, upstream: "{{UP}}", accept: [api_key], detail: verbose, policy: {networks: [10.0.0.0/8]}}
  - {name: dead, host: api.test, path: /dead, upstream: "http://127.0.0.1:1", accept: [api_key]}
  - {name: app, host: app.test, path: /, upstream: "{{UP}}", accept: [session]}
`

func newGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{t: t, clock: time.Now().UTC().Truncate(time.Second)}
	dir := t.TempDir()
	var err error
	if g.corpKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, g.partnerKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello\n")) }))
	t.Cleanup(upstream.Close)
	corpSet := jwksJSON(jose.JSONWebKey{Key: &g.corpKey.PublicKey, KeyID: "corp-1", Algorithm: "ES256", Use: "sig"})
	g.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(corpSet) }))
	t.Cleanup(g.jwks.Close)
	partnerSet := jwksJSON(jose.JSONWebKey{Key: g.partnerKey.Public(), KeyID: "partner-1", Algorithm: "EdDSA", Use: "sig"})
	if err := os.WriteFile(filepath.Join(dir, "partner-jwks.json"), partnerSet, 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("{{DATA}}", dir, "{{JWKS}}", g.jwks.URL, "{{UP}}", upstream.URL).Replace(gatewayConfig)
	cfg, err := config.Parse(filepath.Join(dir, "authgate.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	g.srv, err = server.New(cfg, server.Options{LogOutput: &bytes.Buffer{}, Now: g.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Serve(ctx, ln); err != nil {
		t.Fatal(err)
	}
	g.base = g.srv.URL()
	t.Cleanup(func() {
		cancel()
		g.srv.Shutdown(context.Background())
	})
	return g
}

func (g *gateway) now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.clock
}

func (g *gateway) advance(d time.Duration) {
	g.mu.Lock()
	g.clock = g.clock.Add(d)
	g.mu.Unlock()
}

func (g *gateway) addUser(name, password string, scopes ...string) {
	g.t.Helper()
	hash, err := passhash.Hash(password, passhash.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		g.t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := g.srv.Store().User(ctx, name); err == nil {
		err = g.srv.Store().SetPassword(ctx, name, hash)
	} else {
		err = g.srv.Store().AddUser(ctx, name, hash, scopes)
	}
	if err != nil {
		g.t.Fatal(err)
	}
}

// corpToken signs a valid corp token for api://orders, which edit changes.
func (g *gateway) corpToken(edit func(jwtlib.MapClaims, map[string]any)) string {
	now := g.now()
	claims := jwtlib.MapClaims{"iss": "https://corp.test", "sub": "alice", "aud": "api://orders", "scope": "read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	header := map[string]any{"kid": "corp-1"}
	if edit != nil {
		edit(claims, header)
	}
	return sign(jwtlib.SigningMethodES256, claims, header, g.corpKey)
}

func (g *gateway) partnerToken(aud string) string {
	now := g.now()
	return sign(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{"iss": "https://partner.test", "sub": "p", "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()},
		map[string]any{"kid": "partner-1"}, g.partnerKey)
}

func sign(m jwtlib.SigningMethod, claims jwtlib.MapClaims, header map[string]any, key crypto.Signer) string {
	t := jwtlib.NewWithClaims(m, claims)
	for k, v := range header {
		t.Header[k] = v
	}
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

func jwksJSON(keys ...jose.JSONWebKey) []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		panic(err)
	}
	return b
}

// noneToken is an unsigned JWT (alg none) for a corp subject.
func noneToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(`{"iss":"https://corp.test","sub":"a","aud":"api://orders","exp":4102444800}`)) + "."
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}
