package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/signinlog"
)

const adminToken = "test-admin-token-0123456789"

// admin calls the admin API.
func (h *harness) admin(t *testing.T, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.srv.AdminURL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

type eventsPage struct {
	Events []struct {
		RequestID   string      `json:"request_id"`
		Reason      reason.Code `json:"reason"`
		Claimed     string      `json:"claimed"`
		Explanation string      `json:"explanation"`
	} `json:"events"`
	Next string `json:"next"`
}

func TestAdminAPI(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "pw-alice")
	var ids []string
	for i := 0; i < 5; i++ {
		resp, _ := h.do("GET", "/v", basic("alice", "wrong"))
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	ok, _ := h.do("GET", "/v", basic("alice", "pw-alice"))
	h.flushLog(t)

	t.Run("without the token → 401 with a Bearer challenge", func(t *testing.T) {
		for _, tok := range []string{"", "wrong-token-wrong-token"} {
			resp, _ := h.admin(t, "/api/v1/events", tok)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Bearer") {
				t.Errorf("token %q: status %d, challenge %q", tok, resp.StatusCode, resp.Header.Get("Www-Authenticate"))
			}
		}
	})
	t.Run("filters and cursor pagination", func(t *testing.T) {
		var got []string
		cursor := ""
		for page := 0; page < 5; page++ {
			q := url.Values{"user": {"alice"}, "reason": {"password_wrong"}, "limit": {"2"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			resp, body := h.admin(t, "/api/v1/events?"+q.Encode(), adminToken)
			var p eventsPage
			if resp.StatusCode != 200 || json.Unmarshal(body, &p) != nil {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
			for _, e := range p.Events {
				got = append(got, e.RequestID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if len(got) != 5 || got[0] != ids[4] || got[4] != ids[0] {
			t.Errorf("pages gave %v, want the 5 wrong-password ids newest first %v", got, ids)
		}
	})
	t.Run("one request id, explained", func(t *testing.T) {
		resp, body := h.admin(t, "/api/v1/events/"+ids[2], adminToken)
		var p eventsPage
		if resp.StatusCode != 200 || json.Unmarshal(body, &p) != nil || len(p.Events) != 1 {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		e := p.Events[0]
		if e.Reason != reason.PasswordWrong || !strings.Contains(e.Explanation, "password.hash") || !strings.Contains(e.Explanation, "Fix:") {
			t.Errorf("event %+v", e)
		}
		if resp, _ := h.admin(t, "/api/v1/events/no-such-id", adminToken); resp.StatusCode != 404 {
			t.Errorf("unknown id: status %d", resp.StatusCode)
		}
	})
	t.Run("bad filters are 400 problem documents naming the parameter", func(t *testing.T) {
		for q, param := range map[string]string{"ip=10.0.0.300/8": "ip", "since=yesterday": "since", "limit=5000": "limit", "colour=red": "colour", "cursor=garbage": "cursor", "reason=token_expird": "reason"} {
			resp, body := h.admin(t, "/api/v1/events?"+q, adminToken)
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
				Param  string `json:"param"`
			}
			json.Unmarshal(body, &p)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Param != param || p.Detail == "" {
				t.Errorf("%s: status %d, problem %+v", q, resp.StatusCode, p)
			}
		}
	})
	t.Run("metrics count decisions by route, method, outcome and reason", func(t *testing.T) {
		resp, body := h.admin(t, "/metrics", adminToken)
		text := string(body)
		for _, want := range []string{
			`authgate_decisions_total{method="basic",outcome="deny",reason="password_wrong",route="verbose"} 5`,
			`authgate_decisions_total{method="basic",outcome="allow",reason="",route="verbose"} 1`,
			`authgate_decision_duration_seconds_bucket`,
			`authgate_events_written_total`,
		} {
			if resp.StatusCode != 200 || !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	_ = ok
}

// TestEveryEventIsInTheStoreAfterShutdown records decisions and shuts the
// gateway down at once: each one must be in the durable store.
func TestEveryEventIsInTheStoreAfterShutdown(t *testing.T) {
	h := newHarness(t)
	key, _ := h.srv.Store().CreateKey(t.Context(), "svc", nil, time.Time{})
	var ids []string
	for i := 0; i < 50; i++ {
		resp, _ := h.do("GET", "/v", apiKey(key.Key))
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	store := h.reopenEvents(t)
	for _, id := range ids {
		if got, err := store.Get(t.Context(), id); err != nil || len(got) != 1 {
			t.Fatalf("request %s: %d events, %v", id, len(got), err)
		}
	}
	if n := countEvents(t, store, signinlog.Filter{KeyID: key.ID}); n != 50 {
		t.Errorf("%d events for the key, want 50", n)
	}
}

func countEvents(t *testing.T, s signinlog.Store, f signinlog.Filter) int64 {
	t.Helper()
	groups, err := s.Stats(t.Context(), f, signinlog.ByReason)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, g := range groups {
		n += g.Count
	}
	return n
}

func TestNoDurableLogWhenTheConfigurationSaysNone(t *testing.T) {
	dir := t.TempDir()
	text := "data_dir: " + dir + "\nlog: {store: none}\nroutes:\n  - {name: app, accept: [api_key]}\n"
	cfg, err := config.Parse(filepath.Join(dir, "authgate.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, server.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := s.Store().CreateKey(t.Context(), "svc", nil, time.Time{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := s.Serve(context.Background(), ln); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/.authgate/verify", nil)
	req.Header.Set("X-Forwarded-Uri", "/x")
	req.Header.Set("X-Api-Key", key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "signinlog.db")); !os.IsNotExist(err) {
		t.Errorf("log.store none still created a sign-in log database")
	}

	cfg.Admin.Listen, cfg.Admin.Token = "127.0.0.1:0", adminToken
	s2, err := server.New(cfg, server.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := s2.Serve(context.Background(), ln2); err == nil || !strings.Contains(err.Error(), "log.store is none") {
		t.Errorf("an admin API without a sign-in log must be refused with a clear error, got %v", err)
	}
	s2.Shutdown(context.Background())
}
