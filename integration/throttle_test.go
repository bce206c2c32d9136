package integration

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/throttle"
)

const (
	// pairLimit is the pair counter's limit in these tests: the failure
	// that reaches it locks the user from that source.
	pairLimit = 4
	// degradedLine and recoveredLine are the gateway's log messages when
	// it loses and regains the shared counters.
	degradedLine  = "shared limiter unavailable; using per-node limits"
	recoveredLine = "back to shared limits"
	adminToken    = "integration-admin-token-0123456789"
)

// throttleSetup describes a gateway with one verbose Basic route in front
// of an app and a pair limit of pairLimit without delays; the other
// counters keep their defaults.
type throttleSetup struct {
	dataDir, appURL string
	// store is throttle.store; with "redis", prefix and redis (an
	// address) say where the counters are.
	store, prefix, redis string
	// logStore is log.store: "none", or "sqlite" for the admin API.
	logStore string
	// admin turns the admin listener on, on a free loopback port.
	admin bool
}

// yaml is the setup's configuration file.
func (s throttleSetup) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\ndata_dir: %q\nlog: {format: json, store: %s}\n", s.dataDir, s.logStore)
	b.WriteString("passwords:\n  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}\n")
	fmt.Fprintf(&b, "throttle:\n  store: %s\n  pair: {limit: %d, delay: 0}\n", s.store, pairLimit)
	if s.store == "redis" {
		// A generous timeout: a Redis slowed down by parallel tests must
		// not pass for an outage.
		fmt.Fprintf(&b, "  prefix: %q\nredis: {address: %q, timeout: 2s}\n", s.prefix, s.redis)
	}
	if s.admin {
		fmt.Fprintf(&b, "admin: {listen: 127.0.0.1:0, token: %s}\n", adminToken)
	}
	fmt.Fprintf(&b, "routes:\n  - {name: app, path: /app, upstream: %q, accept: [basic], detail: verbose}\n", s.appURL)
	return b.String()
}

// TestThrottleTwoGatewaysShareRedisCounters runs two authgate processes on
// one user store and one Redis, and checks that failures sent to either
// count as one: a user is locked from a source on both gateways although
// neither saw pairLimit failures itself. The same steps with store: memory
// lock neither, so the lock comes from sharing, not from the limits.
func TestThrottleTwoGatewaysShareRedisCounters(t *testing.T) {
	redisAddr := requireSharedRedis(t)
	bin := buildAuthgate(t)
	app := startApp(t)
	rc := newRedisClient(t, redisAddr)
	prefix := redisPrefix(t, rc)
	const source, otherSource = "198.51.100.7", "203.0.113.9"

	t.Run("with store redis, failures split over two gateways lock the user from that source on both", func(t *testing.T) {
		a, b := startTwoGateways(t, bin, throttleSetup{appURL: app.URL, store: "redis", prefix: prefix, redis: redisAddr, logStore: "none"})
		failAlternately(t, a, b, source)
		for _, g := range []*authgateProcess{a, b} {
			r := doFrom(t, "127.0.0.1", g.url, "GET", "/app/x", basicFrom(source, "alice", "wrong-after"))
			wantThrottled(t, g.name, r, reason.AccountLockedFromSource)
		}
		key := prefix + "{pair:" + source + " alice}:f"
		if n, err := rc.ZCard(context.Background(), key).Result(); err != nil || n != pairLimit {
			t.Errorf("Redis %s holds %d failures (%v), want the %d both gateways counted", key, n, err, pairLimit)
		}
		correctFromAnotherSource(t, a, b, otherSource)
		t.Run("the source stays locked after the user signs in elsewhere", func(t *testing.T) {
			r := doFrom(t, "127.0.0.1", b.url, "GET", "/app/x", basicFrom(source, "alice", alicePassword))
			wantThrottled(t, b.name, r, reason.AccountLockedFromSource)
		})
		for _, g := range []*authgateProcess{a, b} {
			g.stop(t)
			if n := countLog(g.log.String(), degradedLine); n != 0 {
				t.Errorf("gateway %s logged %q %d times: Redis did not answer within its timeout, so the test did not test sharing", g.name, degradedLine, n)
			}
		}
	})

	t.Run("with store memory, the same failures lock neither gateway", func(t *testing.T) {
		a, b := startTwoGateways(t, bin, throttleSetup{appURL: app.URL, store: "memory", logStore: "none"})
		failAlternately(t, a, b, source)
		for _, g := range []*authgateProcess{a, b} {
			r := doFrom(t, "127.0.0.1", g.url, "GET", "/app/x", basicFrom(source, "alice", "wrong-after"))
			r.wantRefusal(t, http.StatusUnauthorized, reason.PasswordWrong)
		}
		correctFromAnotherSource(t, a, b, otherSource)
		a.stop(t)
		b.stop(t)
	})
}

// startTwoGateways writes one configuration with a single user store, adds
// alice to it with the binary, and starts two gateways on it.
func startTwoGateways(t *testing.T, bin string, setup throttleSetup) (a, b *authgateProcess) {
	t.Helper()
	setup.dataDir = t.TempDir()
	path := filepath.Join(setup.dataDir, "authgate.yaml")
	writeFile(t, path, setup.yaml())
	add := exec.Command(bin, "users", "add", "alice", "--config", path)
	add.Stdin = strings.NewReader(alicePassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("authgate users add: %v\n%s", err, out)
	}
	// One after the other: the first creates the gateway's secret key in
	// the shared data directory.
	return startAuthgate(t, "A", bin, path), startAuthgate(t, "B", bin, path)
}

// failAlternately sends pairLimit wrong passwords for alice from source,
// alternately to a and b, so that neither gateway alone sees pairLimit.
// Each password differs, so that only the user and pair counters repeat.
func failAlternately(t *testing.T, a, b *authgateProcess, source string) {
	t.Helper()
	t.Run(fmt.Sprintf("%d wrong passwords alternately to both gateways are each a plain 401", pairLimit), func(t *testing.T) {
		for i := range pairLimit {
			g := []*authgateProcess{a, b}[i%2]
			r := doFrom(t, "127.0.0.1", g.url, "GET", "/app/x", basicFrom(source, "alice", fmt.Sprintf("wrong-%d", i)))
			t.Logf("failure %d on gateway %s: %d %s", i+1, g.name, r.status, r.header.Get("X-Authgate-Reason"))
			r.wantRefusal(t, http.StatusUnauthorized, reason.PasswordWrong)
		}
	})
}

// correctFromAnotherSource checks that alice's correct password from
// another source gets through both gateways.
func correctFromAnotherSource(t *testing.T, a, b *authgateProcess, source string) {
	t.Helper()
	t.Run("the correct password from another source is allowed on both gateways", func(t *testing.T) {
		for _, g := range []*authgateProcess{a, b} {
			r := doFrom(t, "127.0.0.1", g.url, "GET", "/app/x", basicFrom(source, "alice", alicePassword))
			wantHeader(t, r.app(t).Header, "X-Authgate-Subject", "alice")
		}
	})
}

// TestThrottleFallsBackWhileRedisIsDown runs a gateway on a private
// redis-server, stops that server and starts it again: the gateway keeps
// answering with per-node limits during the outage, says so once in its
// log and its metrics, and goes back to Redis at the first probe after
// Redis returns. The gateway's clock is the test's, so the probe interval
// passes without waiting.
func TestThrottleFallsBackWhileRedisIsDown(t *testing.T) {
	rs := startRedisServer(t, requireRedisServer(t))
	rc := newRedisClient(t, rs.addr)
	prefix := "authgate-test:"
	clock := &testClock{now: time.Now()}
	app := startApp(t)
	g := startThrottleGateway(t, throttleSetup{dataDir: t.TempDir(), appURL: app.URL,
		store: "redis", prefix: prefix, redis: rs.addr, logStore: "sqlite", admin: true}.yaml(), clock.Now)
	pairKey := func(source string) string { return prefix + "{pair:" + source + " alice}:f" }
	ctx := context.Background()

	if !t.Run("failures are counted in Redis", func(t *testing.T) {
		for i := range 2 {
			g.signIn(t, "198.51.100.1", fmt.Sprintf("wrong-%d", i)).wantRefusal(t, http.StatusUnauthorized, reason.PasswordWrong)
		}
		for key, want := range map[string]int64{pairKey("198.51.100.1"): 2, prefix + "{user:alice}:f": 2} {
			if n, err := rc.ZCard(ctx, key).Result(); err != nil || n != want {
				t.Errorf("Redis %s holds %d failures (%v), want %d", key, n, err, want)
			}
		}
		g.wantMetric(t, "authgate_throttle_degraded", 0)
	}) {
		return
	}

	rs.stop(t)

	if !t.Run("while Redis is down, requests are answered with per-node limits, never 5xx", func(t *testing.T) {
		g.signIn(t, "198.51.100.2", alicePassword).app(t)
		const source = "198.51.100.3"
		for i := range pairLimit {
			g.signIn(t, source, fmt.Sprintf("down-%d", i)).wantRefusal(t, http.StatusUnauthorized, reason.PasswordWrong)
		}
		wantThrottled(t, "in-process", g.signIn(t, source, "down-after"), reason.AccountLockedFromSource)
		g.signIn(t, "198.51.100.2", alicePassword).app(t)
		if n := countLog(g.logs.String(), degradedLine); n != 1 {
			t.Errorf("the log has %d lines %q, want exactly 1", n, degradedLine)
		}
		g.wantMetric(t, "authgate_throttle_degraded", 1)
		g.wantMetric(t, "authgate_throttle_degradations_total", 1)
	}) {
		return
	}

	rs.start(t)
	clock.Advance(throttle.DefaultProbeInterval + time.Second)

	t.Run("after Redis returns and the probe interval passes, the next request counts in Redis again", func(t *testing.T) {
		const source = "198.51.100.4"
		g.signIn(t, source, "back-0").wantRefusal(t, http.StatusUnauthorized, reason.PasswordWrong)
		logs := g.logs.String()
		if n := countLog(logs, recoveredLine); n != 1 {
			t.Errorf("the log has %d lines %q, want exactly 1", n, recoveredLine)
		}
		if n := countLog(logs, degradedLine); n != 1 {
			t.Errorf("the log has %d lines %q, want still exactly 1", n, degradedLine)
		}
		g.wantMetric(t, "authgate_throttle_degraded", 0)
		g.wantMetric(t, "authgate_throttle_degradations_total", 1)
		if n, err := rc.ZCard(ctx, pairKey(source)).Result(); err != nil || n != 1 {
			t.Errorf("Redis %s holds %d failures (%v), want the 1 just counted", pairKey(source), n, err)
		}
	})
}

// throttleGateway is a gateway running in the test process.
type throttleGateway struct {
	srv  *server.Server
	url  string
	logs *syncBuffer
}

// startThrottleGateway starts a gateway from yaml with now as its clock and
// shuts it down when the test ends.
func startThrottleGateway(t *testing.T, yaml string, now func() time.Time) *throttleGateway {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "authgate.yaml"), []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	g := &throttleGateway{logs: &syncBuffer{}}
	if g.srv, err = server.New(cfg, server.Options{LogOutput: g.logs, Now: now}); err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Serve(context.Background(), ln); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	g.url = g.srv.URL()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.srv.Shutdown(ctx); err != nil {
			t.Errorf("authgate shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("authgate log:\n%s", g.logs)
		}
	})
	hash, err := passhash.Hash(alicePassword, passhash.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Store().AddUser(context.Background(), "alice", hash, nil); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	return g
}

// signIn sends alice's Basic credentials with password, as if from source
// behind the trusted loopback proxy, and fails the test on a 5xx: an
// outage of the counters must never become the caller's error.
func (g *throttleGateway) signIn(t *testing.T, source, password string) *response {
	t.Helper()
	r := doFrom(t, "127.0.0.1", g.url, "GET", "/app/x", basicFrom(source, "alice", password))
	if r.status >= 500 {
		t.Fatalf("status %d (X-Authgate-Reason %q) from %s: the gateway failed instead of counting per node; body %s",
			r.status, r.header.Get("X-Authgate-Reason"), source, r.body)
	}
	return r
}

// wantMetric checks a metric's value on the admin listener's /metrics.
func (g *throttleGateway) wantMetric(t *testing.T, name string, want float64) {
	t.Helper()
	req, err := http.NewRequest("GET", g.srv.AdminURL()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := clientFrom("127.0.0.1").Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		v, ok := strings.CutPrefix(s.Text(), name+" ")
		if !ok {
			continue
		}
		got, err := strconv.ParseFloat(v, 64)
		if err != nil || got != want {
			t.Errorf("/metrics: %s %s, want %v", name, v, want)
		}
		return
	}
	t.Errorf("/metrics has no %s (scan error: %v)", name, s.Err())
}

// testClock is a clock the test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// authgateProcess is an `authgate serve` child process.
type authgateProcess struct {
	name    string
	url     string
	cmd     *exec.Cmd
	log     *syncBuffer
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// buildAuthgate builds the authgate binary into the test's temporary
// directory.
func buildAuthgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "authgate")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/authgate/authgate/cmd/authgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startAuthgate runs `authgate serve --config path` until the test ends and
// waits for its "authgate listening" log line.
func startAuthgate(t *testing.T, name, bin, path string) *authgateProcess {
	t.Helper()
	p := &authgateProcess{name: name, log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", path)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start gateway %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("gateway %s log:\n%s", name, p.log)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if p.url = listeningURL(p.log.String()); p.url != "" {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("gateway %s exited before listening (%v):\n%s", name, p.waitErr, p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway %s logged no \"authgate listening\" within 30s:\n%s", name, p.log)
		}
	}
}

// stop sends SIGTERM and checks that the gateway exits 0.
func (p *authgateProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to gateway %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			t.Errorf("gateway %s after SIGTERM: %v, want exit status 0", p.name, p.waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("gateway %s did not exit within 20s of SIGTERM", p.name)
	}
}

// listeningURL returns the url of the JSON log's "authgate listening" line,
// or "" when there is none yet.
func listeningURL(log string) string {
	for _, l := range strings.Split(log, "\n") {
		var line struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "authgate listening" {
			return line.URL
		}
	}
	return ""
}

// countLog counts the JSON log lines whose message contains msg.
func countLog(log, msg string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		var line struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && strings.Contains(line.Msg, msg) {
			n++
		}
	}
	return n
}

// basicFrom is the header of a Basic sign-in relayed by the trusted
// loopback proxy for a client at source.
func basicFrom(source, user, password string) http.Header {
	return http.Header{
		"Authorization":   {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))},
		"X-Forwarded-For": {source},
	}
}

// wantThrottled checks a 429 refusal: its precise reason, a Retry-After in
// whole seconds, and a request id.
func wantThrottled(t *testing.T, gateway string, r *response, code reason.Code) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.header.Get("X-Authgate-Reason") != string(code) {
		t.Errorf("gateway %s: %d %q, want 429 %s; body %s", gateway, r.status, r.header.Get("X-Authgate-Reason"), code, r.body)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("gateway %s: Retry-After %q, want a positive number of seconds", gateway, r.header.Get("Retry-After"))
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("gateway %s: a 429 without X-Request-Id", gateway)
	}
}
