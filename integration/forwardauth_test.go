package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/internal/syncbuf"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
)

// gatewayConfig is authgate's configuration in these tests; %[1]s is the
// data directory and %[2]s a JWKS URL nobody listens on.
const gatewayConfig = `
data_dir: %[1]s
realm: integration
log: {format: json, level: debug}
passwords:
  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}
issuers:
  - name: unreachable
    issuer: https://idp.invalid
    jwks_url: %[2]s
    audiences: [integration]
    algorithms: [ES256]
routes:
  - name: app
    path: /app
    accept: [basic, api_key]
  - name: private
    path: /private
    accept: [basic, api_key]
    policy: {scopes: [admin]}
  - name: office
    path: /office
    accept: [api_key]
    policy: {networks: [192.0.2.0/24]}
  - name: token
    path: /token
    accept: [bearer]
`

const (
	alicePassword = "correct horse battery staple"
	keyOwner      = "ci-bot"
	// clientIP is where the test client connects from: a loopback address
	// outside the default trusted_proxies (127.0.0.1/32), so that authgate
	// treats it as the client, not as one more proxy.
	clientIP = "127.0.0.2"
)

// gateway is an authgate server running in the test process.
type gateway struct {
	srv  *server.Server
	addr string // host:port
	key  string // an API key of keyOwner with scope "read"
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "authgate.yaml"),
		[]byte(fmt.Sprintf(gatewayConfig, dir, "http://"+closedAddr(t)+"/jwks.json")))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	s, err := server.New(cfg, server.Options{LogOutput: logs})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Serve(ctx, ln); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("authgate shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("authgate log:\n%s", logs)
		}
	})

	hash, err := passhash.Hash(alicePassword, passhash.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store().AddUser(ctx, "alice", hash, []string{"read"}); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	k, err := s.Store().CreateKey(ctx, keyOwner, []string{"read"}, time.Time{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return &gateway{srv: s, addr: ln.Addr().String(), key: k.Key}
}

// decision returns the sign-in log's decision for request id, waiting
// briefly: the recorder files decisions off the request path.
func (g *gateway) decision(t *testing.T, id string) *authgate.Decision {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if d, ok := g.srv.Recorder().Lookup(id); ok {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision with request id %q in the sign-in log", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// appSaw is what the echo app reports about the request it received.
type appSaw struct {
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

// startApp starts the protected app: it answers every request with the
// request's URI and headers as JSON.
func startApp(t *testing.T) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(appSaw{URI: r.URL.RequestURI(), Header: r.Header})
	}))
	t.Cleanup(app.Close)
	return app
}

// proxy describes one forward-auth proxy under test.
type proxy struct {
	name string
	// url is the proxy's base URL.
	url string
	// keepsClientRequestID reports whether a client's valid X-Request-Id
	// survives to the answer (Caddy passes it to authgate; nginx uses its
	// own $request_id).
	keepsClientRequestID bool
}

func TestNginxForwardAuth(t *testing.T) {
	bin := requireBinary(t, "nginx", "/usr/sbin/nginx")
	g := startGateway(t)
	app := startApp(t)
	base := startNginx(t, bin, g.addr, app)

	testForwardAuth(t, g, proxy{name: "nginx", url: base})

	t.Run("the decision location and authgate's endpoints are not reachable", func(t *testing.T) {
		for _, p := range []string{"/_authgate", "/.authgate/verify", "/.authgate/health"} {
			r := do(t, base, "GET", p, http.Header{"X-Api-Key": {g.key}})
			if r.status != http.StatusNotFound {
				t.Errorf("GET %s through nginx = %d, want 404", p, r.status)
			}
		}
	})
	t.Run("reason pages are served through nginx", func(t *testing.T) {
		r := do(t, base, "GET", "/.authgate/reasons/credentials_missing", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"credentials_missing"`) {
			t.Errorf("reason page = %d %s", r.status, r.body)
		}
	})
	t.Run("authgate down is 502 and nothing reaches the app", func(t *testing.T) {
		down := startNginx(t, bin, closedAddr(t), app)
		r := do(t, down, "GET", "/app/", http.Header{"X-Api-Key": {g.key}})
		wantFailClosed(t, r)
	})
}

// startNginx runs nginx with docs/forward-auth/nginx.conf in front of app
// and returns its base URL.
func startNginx(t *testing.T, bin, authgateAddr string, app *httptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	listen := freeAddr(t)
	writeFile(t, filepath.Join(dir, "authgate.conf"), render(t, "nginx.conf", listen, authgateAddr, strings.TrimPrefix(app.URL, "http://")))
	// The docs file holds http-level blocks; wrap it like /etc/nginx/nginx.conf
	// does, with every temporary path inside dir.
	writeFile(t, filepath.Join(dir, "nginx.conf"), fmt.Sprintf(`
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/authgate.conf;
}
`, dir))
	startProcess(t, listen, nil, bin, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr",
		"-g", fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log stderr info;", dir))
	return "http://" + listen
}

func TestCaddyForwardAuth(t *testing.T) {
	bin := requireBinary(t, "caddy", "/usr/bin/caddy")
	g := startGateway(t)
	app := startApp(t)
	base := startCaddy(t, bin, g.addr, app)

	testForwardAuth(t, g, proxy{name: "caddy", url: base, keepsClientRequestID: true})

	t.Run("a refusal carries authgate's whole problem document", func(t *testing.T) {
		r := do(t, base, "GET", "/private/x", http.Header{"X-Api-Key": {g.key}})
		var p struct {
			Type   string `json:"type"`
			Title  string `json:"title"`
			Status int    `json:"status"`
			Scope  string `json:"scope"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("body %q: %v", r.body, err)
		}
		if p.Status != 403 || p.Title == "" || p.Scope != "admin" || !strings.HasSuffix(p.Type, "insufficient_scope") {
			t.Errorf("problem = %+v", p)
		}
	})
	t.Run("authgate down is 502 and nothing reaches the app", func(t *testing.T) {
		down := startCaddy(t, bin, closedAddr(t), app)
		r := do(t, down, "GET", "/app/", http.Header{"X-Api-Key": {g.key}})
		wantFailClosed(t, r)
	})
}

// startCaddy runs Caddy with docs/forward-auth/Caddyfile in front of app
// and returns its base URL.
func startCaddy(t *testing.T, bin, authgateAddr string, app *httptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	listen := freeAddr(t)
	writeFile(t, filepath.Join(dir, "Caddyfile"), render(t, "Caddyfile", "http://"+listen, authgateAddr, strings.TrimPrefix(app.URL, "http://")))
	// Keep Caddy's state (it writes some even with auto_https off) in dir.
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	startProcess(t, listen, env, bin, "run", "--config", filepath.Join(dir, "Caddyfile"), "--adapter", "caddyfile")
	return "http://" + listen
}

// wantFailClosed checks that a request that could not be decided was
// refused by the proxy and did not reach the app.
func wantFailClosed(t *testing.T, r *response) {
	t.Helper()
	if r.status != http.StatusBadGateway {
		t.Errorf("status %d, want 502 when authgate cannot be reached; body %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte(`"uri"`)) {
		t.Errorf("the request reached the app: %s", r.body)
	}
}

// testForwardAuth runs the checks every proxy must pass.
func testForwardAuth(t *testing.T, g *gateway, px proxy) {
	basic := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}

	t.Run("a valid API key reaches the app as its owner, without the key", func(t *testing.T) {
		r := do(t, px.url, "GET", "/app/orders?page=2", http.Header{
			"X-Api-Key":          {g.key},
			"X-Authgate-Subject": {"admin"}, // the client's try at claiming an identity
			"X-Authgate-Scopes":  {"admin"},
			"X-Authgate-Method":  {"basic"},
		})
		saw := r.app(t)
		if saw.URI != "/app/orders?page=2" {
			t.Errorf("app got URI %q", saw.URI)
		}
		wantHeader(t, saw.Header, "X-Authgate-Subject", keyOwner)
		wantHeader(t, saw.Header, "X-Authgate-Method", string(authgate.MethodAPIKey))
		wantHeader(t, saw.Header, "X-Authgate-Scopes", "read")
		for _, h := range []string{"X-Api-Key", "Authorization"} {
			if v, ok := saw.Header[h]; ok {
				t.Errorf("app got %s: %q; the proxy must remove the credential", h, v)
			}
		}
		id := r.header.Get("X-Request-Id")
		if id == "" || saw.Header.Get("X-Request-Id") != id {
			t.Errorf("X-Request-Id: client got %q, app got %q; want the same id", id, saw.Header.Get("X-Request-Id"))
		}
		if d := g.decision(t, id); !d.Allowed || d.Route != "app" || d.Principal.Subject != keyOwner {
			t.Errorf("decision %s: allowed=%v route=%q reason=%s", id, d.Allowed, d.Route, d.Reason)
		}
	})

	t.Run("a valid password reaches the app without the Authorization header", func(t *testing.T) {
		r := do(t, px.url, "POST", "/app/form", http.Header{"Authorization": {basic("alice", alicePassword)}})
		saw := r.app(t)
		wantHeader(t, saw.Header, "X-Authgate-Subject", "alice")
		wantHeader(t, saw.Header, "X-Authgate-Method", string(authgate.MethodBasic))
		if v, ok := saw.Header["Authorization"]; ok {
			t.Errorf("app got Authorization: %q", v)
		}
		if d := g.decision(t, r.header.Get("X-Request-Id")); d.HTTPMethod != "POST" {
			t.Errorf("decision saw method %q, want the original POST", d.HTTPMethod)
		}
	})

	t.Run("no credentials is 401 credentials_missing with every challenge in one field", func(t *testing.T) {
		r := do(t, px.url, "GET", "/app/", nil)
		id := r.wantRefusal(t, 401, reason.CredentialsMissing)
		challenges := r.header.Values("Www-Authenticate")
		if len(challenges) != 1 {
			t.Fatalf("WWW-Authenticate fields = %q, want exactly one", challenges)
		}
		for _, want := range []string{"Basic realm=", "ApiKey realm="} {
			if !strings.Contains(challenges[0], want) {
				t.Errorf("WWW-Authenticate %q lacks %s", challenges[0], want)
			}
		}
		if d := g.decision(t, id); d.Reason != reason.CredentialsMissing {
			t.Errorf("logged reason %s, want %s", d.Reason, reason.CredentialsMissing)
		}
	})

	t.Run("a wrong password is invalid_credentials publicly and password_wrong in the log", func(t *testing.T) {
		r := do(t, px.url, "GET", "/app/", http.Header{"Authorization": {basic("alice", "not the password at all")}})
		id := r.wantRefusal(t, 401, reason.InvalidCredentials)
		if d := g.decision(t, id); d.Reason != reason.PasswordWrong {
			t.Errorf("logged reason %s, want %s", d.Reason, reason.PasswordWrong)
		}
	})

	t.Run("malformed Basic credentials keep their 400", func(t *testing.T) {
		r := do(t, px.url, "GET", "/app/", http.Header{"Authorization": {"Basic !!not-base64!!"}})
		r.wantRefusal(t, 400, reason.BasicEncodingInvalid)
		if !strings.Contains(r.header.Get("Www-Authenticate"), "Basic realm=") {
			t.Errorf("WWW-Authenticate = %q, want the route's challenges", r.header.Values("Www-Authenticate"))
		}
	})

	t.Run("a doubled Bearer prefix keeps its 400", func(t *testing.T) {
		r := do(t, px.url, "GET", "/token/", http.Header{"Authorization": {"Bearer Bearer abc.def.ghi"}})
		r.wantRefusal(t, 400, reason.BearerPrefixDoubled)
	})

	t.Run("a key without the route's scope is 403 insufficient_scope", func(t *testing.T) {
		r := do(t, px.url, "GET", "/private/report", http.Header{"X-Api-Key": {g.key}})
		r.wantRefusal(t, 403, reason.InsufficientScopeCode)
	})

	t.Run("a client's X-Original-URI, which the proxy does not set, is a conflict, never another route's decision", func(t *testing.T) {
		r := do(t, px.url, "GET", "/private/report", http.Header{"X-Api-Key": {g.key}, "X-Original-Uri": {"/app/"}})
		r.wantRefusal(t, 400, reason.ForwardedConflict)
	})

	t.Run("a client's X-Forwarded-* headers are overridden by the proxy and cannot borrow another route's decision", func(t *testing.T) {
		r := do(t, px.url, "GET", "/private/report", http.Header{
			"X-Api-Key":          {g.key},
			"X-Forwarded-Uri":    {"/app/"},
			"X-Forwarded-Host":   {"elsewhere.example"},
			"X-Forwarded-Method": {"OPTIONS"},
		})
		id := r.wantRefusal(t, 403, reason.InsufficientScopeCode)
		d := g.decision(t, id)
		if host, _, _ := strings.Cut(d.Host, ":"); d.Route != "private" || d.Path != "/private/report" || d.HTTPMethod != "GET" || host != "127.0.0.1" {
			t.Errorf("decision judged route=%q host=%q path=%q method=%q; want private 127.0.0.1 /private/report GET", d.Route, d.Host, d.Path, d.HTTPMethod)
		}
	})

	t.Run("the network rule sees the real client, not a forged X-Forwarded-For", func(t *testing.T) {
		r := do(t, px.url, "GET", "/office/", http.Header{
			"X-Api-Key":       {g.key},
			"X-Forwarded-For": {"192.0.2.7"}, // inside the route's network
			"X-Real-Ip":       {"192.0.2.7"},
		})
		id := r.wantRefusal(t, 403, reason.NetworkNotAllowed)
		if d := g.decision(t, id); d.Source != netip.MustParseAddr(clientIP) {
			t.Errorf("decision source %s, want the client's %s (from the proxy's X-Forwarded-For)", d.Source, clientIP)
		}
	})

	t.Run("a client on a trusted proxy's address cannot forge X-Forwarded-For either", func(t *testing.T) {
		// 127.0.0.1 is in the default trusted_proxies: if the proxy passed
		// the client's X-Forwarded-For on, authgate would believe it.
		r := doFrom(t, "127.0.0.1", px.url, "GET", "/office/", http.Header{
			"X-Api-Key":       {g.key},
			"X-Forwarded-For": {"192.0.2.7"},
		})
		id := r.wantRefusal(t, 403, reason.NetworkNotAllowed)
		if d := g.decision(t, id); d.Source != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("decision source %s, want 127.0.0.1", d.Source)
		}
	})

	t.Run("a path no route covers is 404 route_not_found", func(t *testing.T) {
		r := do(t, px.url, "GET", "/nowhere", http.Header{"X-Api-Key": {g.key}})
		r.wantRefusal(t, 404, reason.RouteNotFound)
	})

	t.Run("an unreachable issuer is 503 issuer_unavailable with Retry-After", func(t *testing.T) {
		r := do(t, px.url, "GET", "/token/", http.Header{"Authorization": {"Bearer " + wellFormedToken()}})
		r.wantRefusal(t, 503, reason.IssuerUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		if r.header.Get("Www-Authenticate") != "" {
			t.Errorf("503 carries WWW-Authenticate %q: an outage must not ask for new credentials", r.header.Get("Www-Authenticate"))
		}
	})

	t.Run("a client's request id", func(t *testing.T) {
		const mine = "client-trace-0001"
		r := do(t, px.url, "GET", "/app/", http.Header{"X-Request-Id": {mine}})
		id := r.wantRefusal(t, 401, reason.CredentialsMissing)
		if px.keepsClientRequestID && id != mine {
			t.Errorf("X-Request-Id %q, want the client's %q kept", id, mine)
		}
		if !px.keepsClientRequestID && id == mine {
			t.Errorf("X-Request-Id is the client's %q; this proxy was expected to use its own", mine)
		}
		g.decision(t, id)
	})
}

// response is a proxy's answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// app decodes what the echo app saw, failing unless the request got through.
func (r *response) app(t *testing.T) appSaw {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d (X-Authgate-Reason %q), want 200 from the app; body %s", r.status, r.header.Get("X-Authgate-Reason"), r.body)
	}
	var saw appSaw
	if err := json.Unmarshal(r.body, &saw); err != nil {
		t.Fatalf("app answer %q: %v", r.body, err)
	}
	return saw
}

// wantRefusal checks a refusal's status, reason header, request id and
// problem document, and returns the request id.
func (r *response) wantRefusal(t *testing.T, status int, code reason.Code) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; headers %v; body %s", r.status, status, r.header, r.body)
	}
	if got := r.header.Get("X-Authgate-Reason"); got != string(code) {
		t.Errorf("X-Authgate-Reason %q, want %q", got, code)
	}
	if vs := r.header.Values("X-Authgate-Reason"); len(vs) > 1 {
		t.Errorf("X-Authgate-Reason sent %d times: %q", len(vs), vs)
	}
	id := r.header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("refusal without X-Request-Id")
	}
	if vs := r.header.Values("X-Request-Id"); len(vs) > 1 {
		t.Errorf("X-Request-Id sent %d times: %q", len(vs), vs)
	}
	// Retry-After only on 503; challenges on 401 and on 400-class refusals
	// of a known route (RFC 9110 §15.5.2), never on a 403 without Bearer,
	// an outage, or a request the gateway could not place on a route.
	if got, want := r.header.Get("Retry-After") != "", status == 503; got != want {
		t.Errorf("Retry-After %q on a %d", r.header.Get("Retry-After"), status)
	}
	routeKnown := code != reason.ForwardedConflict && code != reason.RouteNotFound
	if got, want := len(r.header.Values("Www-Authenticate")), routeKnown && (status == 400 || status == 401 || status == 431); (got > 0) != want {
		t.Errorf("WWW-Authenticate %q on a %d", r.header.Values("Www-Authenticate"), status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Status    int    `json:"status"`
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Errorf("body %q is not a problem document: %v", r.body, err)
	} else if p.Status != status || p.Code != string(code) || p.RequestID != id {
		t.Errorf("problem document %+v, want status %d, code %s, request_id %s", p, status, code, id)
	}
	return id
}

// do sends one request from clientIP to base+path.
func do(t *testing.T, base, method, path string, h http.Header) *response {
	t.Helper()
	return doFrom(t, clientIP, base, method, path, h)
}

// doFrom sends one request from the loopback address ip to base+path.
func doFrom(t *testing.T, ip, base, method, path string, h http.Header) *response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	resp, err := clientFrom(ip).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}
}

// clientFrom returns a client whose connections come from the loopback
// address ip.
func clientFrom(ip string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: (&net.Dialer{
				LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)},
				Timeout:   5 * time.Second,
			}).DialContext,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func wantHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if vs := h.Values(name); len(vs) != 1 || vs[0] != want {
		t.Errorf("app got %s: %q, want exactly %q", name, vs, want)
	}
}

// wellFormedToken is an ES256 JWT of the configured issuer whose keys
// cannot be fetched; its signature is never checked.
func wellFormedToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"ES256","kid":"k1","typ":"JWT"}`))
	exp := time.Now().Add(time.Hour).Unix()
	claims := enc(fmt.Appendf(nil, `{"iss":"https://idp.invalid","aud":"integration","sub":"u1","exp":%d}`, exp))
	return header + "." + claims + "." + enc(make([]byte, 64))
}

// requireBinary finds a server's executable, or skips the test (fails it
// when AUTHGATE_REQUIRE_INTEGRATION=1) if it is not installed.
func requireBinary(t *testing.T, name, usual string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(usual); err == nil {
		return usual
	}
	const install = "apt-get install nginx-light caddy"
	if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("%s is not installed (not on PATH, not at %s) and AUTHGATE_REQUIRE_INTEGRATION=1: install it (%s)", name, usual, install)
	}
	t.Skipf("%s is not installed, so docs/forward-auth's %s configuration is not tested; install it (%s) and rerun, or set AUTHGATE_REQUIRE_INTEGRATION=1 to make this a failure", name, name, install)
	return ""
}

// render reads a configuration from docs/forward-auth and fills in its
// placeholders.
func render(t *testing.T, file, listen, authgateAddr, appAddr string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "forward-auth", file))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{LISTEN}}", listen, "{{AUTHGATE}}", authgateAddr, "{{APP}}", appAddr).Replace(string(b))
	if m := regexp.MustCompile(`\{\{[A-Z_]+\}\}`).FindString(s); m != "" {
		t.Fatalf("%s has a placeholder the test does not fill: %s", file, m)
	}
	return s
}

// startProcess runs bin, with env added to the environment, until the test
// ends, and waits until addr accepts connections.
func startProcess(t *testing.T, addr string, env []string, bin string, args ...string) {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before listening on %s (%v):\n%s", bin, addr, err, out)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not listening on %s after 10s:\n%s", bin, addr, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port nobody listened on a
// moment ago, for a server that must be given its port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// closedAddr is an address where connections are refused.
func closedAddr(t *testing.T) string { return freeAddr(t) }

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test
// reading it.
type syncBuffer = syncbuf.Buffer
