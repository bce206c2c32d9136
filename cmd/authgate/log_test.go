package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
)

// runGateway serves the configuration at path, sends requests, and stops
// it, leaving the sign-in log behind; it returns the request ids.
func runGateway(t *testing.T, path string, requests func(base string) []string) []string {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, server.Options{LogOutput: &lockedBuf{}})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := s.Serve(context.Background(), ln); err != nil {
		t.Fatal(err)
	}
	ids := requests(s.URL())
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ids
}

func get(t *testing.T, url string, user, pw string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(user, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Request-Id")
}

func TestExplainAndLogReadTheSignInLog(t *testing.T) {
	path := writeConfig(t)
	if code, _, e := cli(t, "old-pw\n", "users", "add", "alice", "--config", path); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := cli(t, "new-pw\n", "users", "set-password", "alice", "--config", path); code != 0 {
		t.Fatal(e)
	}
	ids := runGateway(t, path, func(base string) []string {
		return []string{
			get(t, base+"/x", "alice", "new-pw"), // allowed
			get(t, base+"/x", "alice", "old-pw"), // password_previous
			get(t, base+"/x", "bob", "pw"),       // user_unknown
		}
	})

	code, out, errOut := cli(t, "", "explain", ids[1], "--config", path)
	if code != 0 {
		t.Fatalf("explain: exit %d %s", code, errOut)
	}
	for _, want := range []string{"refused: password_previous", "password.previous", "Fix:", "The caller was shown invalid_credentials", "was alice's password until"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "old-pw") || strings.Contains(out, "new-pw") {
		t.Errorf("explain printed a password")
	}
	if code, _, e := cli(t, "", "explain", "no-such-request", "--config", path); code != exitError || !strings.Contains(e, "retention") {
		t.Errorf("unknown id: exit %d %q", code, e)
	}

	code, out, _ = cli(t, "", "log", "--user", "alice", "--format", "json", "--config", path)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			t.Fatalf("not JSON lines: %q", out)
		}
		lines = append(lines, m)
	}
	if code != 0 || len(lines) != 2 || lines[0]["request_id"] != ids[0] || lines[1]["reason"] != "password_previous" {
		t.Errorf("log --user alice: exit %d, %v", code, lines)
	}
	code, out, _ = cli(t, "", "log", "--outcome", "deny", "--config", path)
	if code != 0 || !strings.Contains(out, "user_unknown") || strings.Contains(out, "allow") {
		t.Errorf("log --outcome deny:\n%s", out)
	}
	code, out, _ = cli(t, "", "log", "--stats", "--since", "1h", "--config", path)
	if code != 0 || !strings.Contains(out, "password_previous") || !strings.Contains(out, "total") {
		t.Errorf("log --stats:\n%s", out)
	}
	if code, _, e := cli(t, "", "log", "--ip", "10.0.0.300/8", "--config", path); code != exitUsage || !strings.Contains(e, "--ip") || !strings.Contains(e, "10.0.0.0/8") {
		t.Errorf("bad --ip: exit %d %q", code, e)
	}
	if code, _, e := cli(t, "", "log", "--since", "last week", "--config", path); code != exitUsage || !strings.Contains(e, "7d") {
		t.Errorf("bad --since: exit %d %q", code, e)
	}
}

func TestLogGenerateFillsOnlyAnEmptyLog(t *testing.T) {
	path := writeConfig(t)
	code, out, e := cli(t, "", "log", "generate", "--events", "2500", "--days", "2", "--config", path)
	if code != 0 || !strings.Contains(out, "2500 made-up events") {
		t.Fatalf("generate: exit %d %q %q", code, out, e)
	}
	if code, _, e := cli(t, "", "log", "generate", "--events", "10", "--config", path); code != exitUsage || !strings.Contains(e, "already holds events") {
		t.Errorf("second generate: exit %d %q", code, e)
	}
	code, out, _ = cli(t, "", "log", "--stats", "--by", "route", "--config", path)
	if code != 0 || !regexp.MustCompile(`(?m)^total\s+2500$`).MatchString(out) {
		t.Errorf("stats after generate:\n%s", out)
	}
}

func TestLogFollowStreamsNewEvents(t *testing.T) {
	path := writeConfig(t)
	if code, _, e := cli(t, "", "log", "generate", "--events", "3", "--days", "1", "--config", path); code != 0 {
		t.Fatal(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuf{}
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"log", "--follow", "--format", "json", "--config", path}, strings.NewReader(""), out, out)
	}()
	// Once the first page is out, a gateway run adds one more event.
	waitFor(t, func() bool { return strings.Count(out.String(), "\n") >= 3 })
	id := runGateway(t, path, func(base string) []string { return []string{get(t, base+"/x", "nobody", "pw")} })[0]
	waitFor(t, func() bool { return strings.Contains(out.String(), id) })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("log --follow ended with %d after Ctrl-C:\n%s", code, out.String())
	}
}

// waitFor polls cond for up to 10 s: the follower polls the store twice a
// second.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLogFollowPrintsAnEventStoredAfterANewerOne(t *testing.T) {
	path := writeConfig(t)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := server.OpenEventStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuf{}
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"log", "--follow", "--format", "json", "--config", path}, strings.NewReader(""), out, out)
	}()

	now := time.Now()
	write := func(id string, at time.Time) {
		d := &authgate.Decision{RequestID: id, Time: at, Route: "app", Reason: reason.UserUnknown, Status: 401}
		if err := store.Write(context.Background(), []*authgate.Decision{d}); err != nil {
			t.Fatal(err)
		}
	}
	write("newer", now)
	waitFor(t, func() bool { return strings.Contains(out.String(), `"newer"`) })
	// Decided ten seconds earlier (a slow check, a replayed spool), stored now.
	write("decided-earlier", now.Add(-10*time.Second))
	waitFor(t, func() bool { return strings.Contains(out.String(), `"decided-earlier"`) })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if n := strings.Count(out.String(), `"newer"`); n != 1 {
		t.Errorf("an event was printed %d times", n)
	}
}
