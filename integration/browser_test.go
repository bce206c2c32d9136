//go:build unix

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
)

// portalConfig is the gateway of the browser test: one forward-auth route
// for people, by session only and with 2-step verification, and sessions
// that end after 5 minutes without a request. With no route accepting
// basic, the portal's sign-in must still check passwords. %[1]s is the
// data directory.
const portalConfig = `
data_dir: %[1]s
realm: browser-e2e
log: {format: json, level: debug}
passwords:
  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}
portal:
  title: Example Corp
sessions:
  idle_timeout: 5m
two_factor:
  issuer: Example Corp
routes:
  - name: reports
    path: /
    accept: [session]
    policy: {require_2fa: true}
`

const (
	// reportPage is the protected page the browser asks for.
	reportPage = "/reports/q3?period=2024-Q3&view=full"
	// idleAdvance moves the gateway's clock past sessions.idle_timeout.
	idleAdvance = "6m"
	// e2eDeadline bounds the Node script, Chromium included.
	e2eDeadline = 2 * time.Minute
)

// TestBrowserSignInThroughNginx drives a real Chromium through the sign-in
// portal behind real nginx with docs/forward-auth/nginx.conf: sent to sign
// in, a wrong password (its request id is the one logged as
// password_wrong), the right one, enrollment of an authenticator app, the
// recovery codes, the protected page; then a session that times out, a
// second sign-in with a code, and sign-out from the account page. The
// browser's part is integration/browser/e2e.mjs; it takes the screenshots
// in docs/screenshots when AUTHGATE_UPDATE_SCREENSHOTS=1.
func TestBrowserSignInThroughNginx(t *testing.T) {
	nginx := requireBinary(t, "nginx", "/usr/sbin/nginx")
	e2e := requireBrowserTools(t)
	clock := &testClock{now: time.Now()}
	g := startPortalGateway(t, clock.Now)
	app := startReportApp(t)
	base := startNginx(t, nginx, g.addr, app.Server)
	control := startClockControl(t, clock)

	t.Run("an API client on the session route gets the 401 problem document, not a redirect", func(t *testing.T) {
		r := do(t, base, "GET", reportPage, nil)
		r.wantRefusal(t, 401, reason.CredentialsMissing)
		if loc := r.header.Get("Location"); loc != "" {
			t.Errorf("Location %q on an API client's 401", loc)
		}
	})
	t.Run("a browser is redirected to the sign-in page with a relative Location", func(t *testing.T) {
		r := doHTML(t, base, reportPage)
		want := "/.authgate/sign-in?rd=" + url.QueryEscape(base+reportPage)
		if r.status != http.StatusFound || r.header.Get("Location") != want {
			t.Errorf("%d Location %q, want 302 to %q", r.status, r.header.Get("Location"), want)
		}
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Request-Id") == "" {
			t.Errorf("the redirect lacks Cache-Control: no-store or X-Request-Id: %v", r.header)
		}
		if d := g.decision(t, r.header.Get("X-Request-Id")); d.Reason != reason.CredentialsMissing {
			t.Errorf("logged %s, want %s", d.Reason, reason.CredentialsMissing)
		}
	})
	t.Run("the portal's pages are served through nginx, the decision endpoint is not", func(t *testing.T) {
		if r := doHTML(t, base, "/.authgate/sign-in"); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`name="password"`)) {
			t.Errorf("sign-in page: %d %.200s", r.status, r.body)
		}
		if r := doHTML(t, base, "/.authgate/static/portal.css"); r.status != http.StatusOK {
			t.Errorf("stylesheet: %d", r.status)
		}
		for _, p := range []string{"/.authgate/verify", "/.authgate//verify", "/.authgate/%76erify", "/.authgate/./verify", "/.authgate/health", "/_authgate"} {
			if r := doHTML(t, base, p); r.status != http.StatusNotFound {
				t.Errorf("GET %s through nginx = %d, want 404", p, r.status)
			}
		}
	})

	shots := t.TempDir()
	if os.Getenv("AUTHGATE_UPDATE_SCREENSHOTS") == "1" {
		var err error
		if shots, err = filepath.Abs(filepath.Join("..", "docs", "screenshots")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	steps, done := e2e.run(t, map[string]string{
		"AUTHGATE_E2E_BASE":        base,
		"AUTHGATE_E2E_PAGE":        reportPage,
		"AUTHGATE_E2E_CONTROL":     control,
		"AUTHGATE_E2E_IDLE":        idleAdvance,
		"AUTHGATE_E2E_USER":        "alice",
		"AUTHGATE_E2E_PASSWORD":    alicePassword,
		"AUTHGATE_E2E_SCREENSHOTS": shots,
	})

	t.Run("the browser went through every step", func(t *testing.T) {
		want := []string{
			"sent to sign in",
			"wrong password refused",
			"enrollment shown",
			"recovery codes shown",
			"protected page after enrollment",
			"idle session sent to sign in",
			"signed in again with a code",
			"signed out",
			"sent to sign in after sign-out",
		}
		if diff := cmp.Diff(want, steps); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
	})
	t.Run("the request id on the wrong-password page is logged as password_wrong", func(t *testing.T) {
		d := g.decision(t, done.WrongPasswordRequestID)
		if d.Reason != reason.PasswordWrong || d.Route != "portal" || d.Claimed != "alice" {
			t.Errorf("decision %s: reason %s, route %q, user %q; want password_wrong on the portal for alice", d.RequestID, d.Reason, d.Route, d.Claimed)
		}
	})
	t.Run("the redirect after the idle timeout is logged as session_idle_timeout", func(t *testing.T) {
		if d := g.decision(t, done.IdleTimeoutRequestID); d.Reason != reason.SessionIdleTimeout {
			t.Errorf("decision %s: reason %s, want %s", d.RequestID, d.Reason, reason.SessionIdleTimeout)
		}
	})
	t.Run("only signed-in requests reached the app, never with the session cookie", func(t *testing.T) {
		pages := 0
		for _, r := range app.requests() {
			if r.uri == reportPage {
				pages++
			}
			if c := r.header.Get("Cookie"); strings.Contains(c, "authgate_session") || !strings.Contains(c, "theme=dark") {
				t.Errorf("the app got %s with Cookie %q; want theme=dark without authgate_session", r.uri, c)
			}
			if r.header.Get("X-Authgate-Subject") != "alice" || r.header.Get("X-Authgate-Method") != "session" {
				t.Errorf("the app got %s with subject %q method %q", r.uri, r.header.Get("X-Authgate-Subject"), r.header.Get("X-Authgate-Method"))
			}
		}
		// After enrollment and after the second sign-in; the browser's
		// favicon requests come besides.
		if pages != 2 {
			t.Errorf("the app served the report %d times, want 2", pages)
		}
	})
	t.Run("the screenshots are phone-sized PNGs", func(t *testing.T) {
		for _, name := range []string{"sign-in-error.png", "two-step.png"} {
			f, err := os.Open(filepath.Join(shots, name))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(f)
			f.Close()
			if err != nil || cfg.Width != 780 || cfg.Height < 844*2 {
				t.Errorf("%s: %dx%d, %v; want 780 pixels wide (390 at 2x), at least a screen high", name, cfg.Width, cfg.Height, err)
			}
		}
		t.Logf("screenshots in %s", shots)
	})
}

// startPortalGateway starts the browser test's authgate in the test
// process, with now as its clock, and adds alice.
func startPortalGateway(t *testing.T, now func() time.Time) *gateway {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "authgate.yaml"), []byte(fmt.Sprintf(portalConfig, dir)))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	s, err := server.New(cfg, server.Options{LogOutput: logs, Now: now})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err != nil {
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
	if err := s.Store().AddUser(context.Background(), "alice", hash, []string{"read"}); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	return &gateway{srv: s, addr: ln.Addr().String()}
}

// reportApp is the protected app: a page that shows what nginx passed on
// (identity and cookies), and remembers every request.
type reportApp struct {
	*httptest.Server
	mu   sync.Mutex
	seen []appRequest
}

// appRequest is a request the app received.
type appRequest struct {
	uri    string
	header http.Header
}

var reportTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Quarterly report</title></head>
<body><h1 id="app">Quarterly report</h1>
<p>Signed in as <span id="subject">{{.Get "X-Authgate-Subject"}}</span> by <span id="method">{{.Get "X-Authgate-Method"}}</span>.</p>
<p>Cookies: <span id="cookies">{{.Get "Cookie"}}</span></p></body></html>`))

func startReportApp(t *testing.T) *reportApp {
	t.Helper()
	a := &reportApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, appRequest{uri: r.URL.RequestURI(), header: r.Header.Clone()})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		reportTemplate.Execute(w, r.Header)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *reportApp) requests() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]appRequest(nil), a.seen...)
}

// startClockControl serves the gateway's clock to the Node script on a
// loopback port of the test's own: GET /now, and POST /advance?by=30s to
// move it. Both answer {"unix_ms": N}.
func startClockControl(t *testing.T, c *testClock) string {
	t.Helper()
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"unix_ms\": %d}\n", c.Now().UnixMilli())
	}
	mux.HandleFunc("GET /now", func(w http.ResponseWriter, _ *http.Request) { answer(w) })
	mux.HandleFunc("POST /advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d <= 0 {
			http.Error(w, "by: want a positive duration such as 6m", http.StatusBadRequest)
			return
		}
		c.Advance(d)
		answer(w)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s.URL
}

// doHTML sends a browser's GET for path, from clientIP, without following
// redirects.
func doHTML(t *testing.T, base, path string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	resp, err := clientFrom(clientIP).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
}

// browserTools is what the browser test runs: node, the script with its
// installed playwright-core, and Chromium.
type browserTools struct {
	node, script, chromium string
}

// requireBrowserTools finds node, integration/browser's node_modules and
// Chromium, or skips the test (fails it when
// AUTHGATE_REQUIRE_INTEGRATION=1) saying what to install.
func requireBrowserTools(t *testing.T) browserTools {
	t.Helper()
	missing := func(what, fix string) {
		t.Helper()
		if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("%s, and AUTHGATE_REQUIRE_INTEGRATION=1: %s", what, fix)
		}
		t.Skipf("%s, so the portal is not tested in a browser; %s and rerun, or set AUTHGATE_REQUIRE_INTEGRATION=1 to make this a failure", what, fix)
	}
	var b browserTools
	var err error
	if b.node, err = exec.LookPath("node"); err != nil {
		missing("node is not installed", "install Node.js 20 or later")
	}
	dir, err := filepath.Abs("browser")
	if err != nil {
		t.Fatal(err)
	}
	b.script = filepath.Join(dir, "e2e.mjs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("integration/browser/node_modules has no playwright-core", "run `npm ci` in integration/browser")
	}
	b.chromium = os.Getenv("AUTHGATE_CHROMIUM")
	if b.chromium == "" {
		if b.chromium, err = exec.LookPath("chromium"); err != nil {
			b.chromium = "/usr/bin/chromium"
		}
	}
	if _, err := os.Stat(b.chromium); err != nil {
		missing("Chromium is not installed (no "+b.chromium+"; AUTHGATE_CHROMIUM names another)", "install it (apt-get install chromium)")
	}
	return b
}

// e2eDone is the script's last line.
type e2eDone struct {
	Done                   bool   `json:"done"`
	WrongPasswordRequestID string `json:"wrong_password_request_id"`
	IdleTimeoutRequestID   string `json:"idle_timeout_request_id"`
}

// run runs the Node script with env added, in a process group of its own
// that is killed at e2eDeadline (Chromium with it), and returns the steps
// it reported and its last line; a failure of the script fails the test
// with its output.
func (b browserTools) run(t *testing.T, env map[string]string) ([]string, e2eDone) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eDeadline)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, b.node, b.script)
	cmd.Dir = filepath.Dir(b.script)
	// Chromium's profile, caches and crash reports stay in the test's
	// temporary directory.
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "AUTHGATE_E2E_CHROMIUM="+b.chromium,
		fmt.Sprintf("AUTHGATE_E2E_DEADLINE_MS=%d", (e2eDeadline-10*time.Second).Milliseconds()))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever the script left behind
	}
	t.Logf("node %s: %v in %s", filepath.Base(b.script), cmd.ProcessState, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("the browser script failed (%v):\n--- stdout\n%s--- stderr\n%s", err, &stdout, &stderr)
	}
	var steps []string
	var done e2eDone
	s := bufio.NewScanner(strings.NewReader(stdout.String()))
	for s.Scan() {
		var line struct {
			Step string `json:"step"`
			e2eDone
		}
		if err := json.Unmarshal(s.Bytes(), &line); err != nil {
			t.Fatalf("the script wrote %q, which is not a JSON line: %v", s.Text(), err)
		}
		switch {
		case line.Step != "":
			steps = append(steps, line.Step)
			t.Logf("browser: %s", s.Text())
		case line.Done:
			done = line.e2eDone
		}
	}
	if !done.Done || done.WrongPasswordRequestID == "" || done.IdleTimeoutRequestID == "" {
		t.Fatalf("the script exited 0 without its last line %+v:\n--- stdout\n%s--- stderr\n%s", done, &stdout, &stderr)
	}
	return steps, done
}
