package server_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
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

// harness is a whole gateway built from a configuration file, in front of
// a real upstream, with real issuers (a JWKS over HTTP, a JWKS file, and an
// issuer whose endpoint is down), a real SQLite store and a clock the test
// moves.
type harness struct {
	t      testing.TB
	srv    *server.Server
	base   string
	client *http.Client
	// untrusted connects from 127.0.0.2, loopback but not a trusted proxy.
	untrusted *http.Client
	log       lockedBuffer
	upstream  *httptest.Server
	jwks      *httptest.Server

	mu    sync.Mutex
	clock time.Time

	release chan struct{} // lets the streaming upstream send its second event

	corpKey    *ecdsa.PrivateKey
	partnerKey ed25519.PrivateKey
	dataDir    string
}

const harnessConfig = `
listen: 127.0.0.1:0
data_dir: {{DATA}}
realm: test
admin:
  listen: 127.0.0.1:0
  token: test-admin-token-0123456789
passwords:
  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}
  max_concurrent_hashes: 1
  queue_timeout: 1ms
  max_age: 30d
throttle:
  # Requests from the test itself are not counted; throttling cases come
  # from other sources through X-Forwarded-For (loopback is a trusted proxy).
  exempt_networks: [127.0.0.1/32]
  pair: {limit: 3, window: 15m, lock: 1h, free_failures: 3}
  user: {limit: 5, window: 1h, lock: 30m}
  address: {limit: 6, window: 10m, free_failures: 6}
  network: off
  credential: {limit: 4, window: 10m, free_failures: 4}
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
  - {name: scoped, host: api.test, path: /scoped, upstream: "{{UP}}", accept: [api_key, bearer], policy: {scopes: [admin]}}
  - {name: corp-only, host: api.test, path: /corp, upstream: "{{UP}}", accept: [bearer], policy: {issuers: [corp]}}
  - {name: orders-aud, host: api.test, path: /orders, upstream: "{{UP}}", accept: [bearer], policy: {audiences: [api://orders]}}
  - {name: office, host: api.test, path: /office, upstream: "{{UP}}", accept: [api_key], policy: {networks: [10.0.0.0/8]}}
  - {name: dead, host: api.test, path: /dead, upstream: "http://127.0.0.1:1", accept: [api_key]}
  - {name: fwd-only, host: api.test, path: /fwd, accept: [api_key]}
  - {name: forward-creds, host: api.test, path: /fc, upstream: "{{UP}}", accept: [bearer], forward_credentials: true}
  - {name: app, host: app.test, path: /, upstream: "{{UP}}", accept: [session], detail: verbose}
  - {name: secure, host: app.test, path: /secure, upstream: "{{UP}}", accept: [session], detail: verbose, policy: {require_2fa: true}}
`

func newHarness(t *testing.T) *harness { t.Helper(); return newHarnessWith(t, "") }

// newHarnessOn is newHarness with the users and keys in PostgreSQL database
// dsn.
func newHarnessOn(t *testing.T, dsn string) *harness {
	t.Helper()
	return newHarnessWith(t, "store: {type: postgres, postgres_dsn: \""+dsn+"\"}\n")
}

// newHarnessWith is newHarness with more top-level configuration.
func newHarnessWith(t testing.TB, extra string) *harness {
	t.Helper()
	return newHarnessEdited(t, func(cfg string) string { return cfg + extra })
}

// newHarnessEdited is newHarness with its configuration's text edited.
func newHarnessEdited(t testing.TB, edit func(string) string) *harness {
	t.Helper()
	h := &harness{t: t, release: make(chan struct{}), clock: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), dataDir: t.TempDir()}
	var err error
	if h.corpKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, h.partnerKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	h.upstream = httptest.NewServer(upstreamApp(h))
	t.Cleanup(h.upstream.Close)
	corpSet := jwks(jose.JSONWebKey{Key: &h.corpKey.PublicKey, KeyID: "corp-1", Algorithm: "ES256", Use: "sig"})
	h.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(corpSet) }))
	t.Cleanup(h.jwks.Close)
	partnerSet := jwks(jose.JSONWebKey{Key: h.partnerKey.Public(), KeyID: "partner-1", Algorithm: "EdDSA", Use: "sig"})
	if err := os.WriteFile(filepath.Join(h.dataDir, "partner-jwks.json"), partnerSet, 0o600); err != nil {
		t.Fatal(err)
	}

	text := strings.NewReplacer("{{DATA}}", h.dataDir, "{{JWKS}}", h.jwks.URL, "{{UP}}", h.upstream.URL).Replace(harnessConfig)
	text = edit(text)
	cfg, err := config.Parse(filepath.Join(h.dataDir, "authgate.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	h.srv, err = server.New(cfg, server.Options{LogOutput: &h.log, Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Serve(ctx, ln); err != nil {
		t.Fatal(err)
	}
	h.base = h.srv.URL()
	h.client = &http.Client{Timeout: 10 * time.Second}
	from := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	h.untrusted = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: from.DialContext}}
	t.Cleanup(func() {
		cancel()
		h.srv.Shutdown(context.Background())
	})
	return h
}

// lockedBuffer collects the gateway's log, written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// discard drops what is written, as a benchmark's million lines
	// would otherwise measure the buffer's growth.
	discard bool
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.discard {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (h *harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock
}

// advance moves the clock the gateway sees.
func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.clock = h.clock.Add(d)
	h.mu.Unlock()
}

func jwks(keys ...jose.JSONWebKey) []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		panic(err)
	}
	return b
}

// token signs claims; the defaults make a valid corp token for
// api://orders, which edit changes.
func (h *harness) corpToken(edit func(jwtlib.MapClaims, map[string]any)) string {
	now := h.now()
	claims := jwtlib.MapClaims{"iss": "https://corp.test", "sub": "alice", "aud": "api://orders", "scope": "read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	header := map[string]any{"kid": "corp-1"}
	if edit != nil {
		edit(claims, header)
	}
	return sign(jwtlib.SigningMethodES256, claims, header, h.corpKey)
}

func (h *harness) partnerToken(aud string) string {
	now := h.now()
	return sign(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{"iss": "https://partner.test", "sub": "p", "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()},
		map[string]any{"kid": "partner-1"}, h.partnerKey)
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

// do sends a request for host api.test through the gateway.
func (h *harness) do(method, path string, header http.Header) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Host = "api.test"
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// failFrom sends n requests with header from source src (through
// X-Forwarded-For), each expected to be refused.
func (h *harness) failFrom(src string, n int, header func(i int) http.Header) {
	h.t.Helper()
	for i := range n {
		hd := header(i)
		hd.Set("X-Forwarded-For", src)
		if resp, _ := h.do("GET", "/v", hd); resp.StatusCode < 400 {
			h.t.Fatalf("preparing a throttle case: request %d from %s was allowed", i, src)
		}
	}
}

func (h *harness) addUser(name, password string, scopes ...string) {
	h.t.Helper()
	hash, err := passhash.Hash(password, passhash.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := h.srv.Store().User(ctx, name); err == nil {
		err = h.srv.Store().SetPassword(ctx, name, hash)
	} else {
		err = h.srv.Store().AddUser(ctx, name, hash, scopes)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}
