package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upstreamApp is the app behind the gateway: it echoes the headers it got,
// streams server-sent events, and speaks a minimal upgraded protocol.
func upstreamApp(h *harness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-h.release:
		case <-time.After(5 * time.Second):
		}
		fmt.Fprint(w, "data: two\n\n")
	})
	mux.HandleFunc("/v/upgrade", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", 400)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo: " + line)
		rw.Flush()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(r.Header)
	})
	return mux
}

func upstreamHeaders(t *testing.T, body []byte) http.Header {
	t.Helper()
	var got http.Header
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	return got
}

func TestProxyForwardsIdentityNotCredentials(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "pw-alice", "read", "write")
	hdr := basic("alice", "pw-alice")
	hdr.Set("X-Authgate-Subject", "root")
	hdr.Set("X-Authgate-Scopes", "admin")
	hdr.Set("X-Authgate-Anything", "spoofed")
	hdr["X_Authgate_Subject"] = []string{"root"}                          // CGI servers fold _ into -
	hdr["Connection"] = []string{"X-Authgate-Subject, X-Authgate-Scopes"} // would strip ours after we set them
	hdr.Set("X-Forwarded-For", "203.0.113.9")
	resp, body := h.do("GET", "/v/x", hdr)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := upstreamHeaders(t, body)
	want := map[string]string{
		"X-Authgate-Subject":  "alice",
		"X-Authgate-Method":   "basic",
		"X-Authgate-Scopes":   "read write",
		"X-Authgate-Anything": "",
		"X_authgate_subject":  "",
		"X-Authgate-Issuer":   "",
		"Authorization":       "",
		"X-Forwarded-Host":    "api.test",
		"X-Forwarded-Proto":   "http",
		"X-Forwarded-For":     "203.0.113.9, 127.0.0.1",
		"X-Request-Id":        resp.Header.Get("X-Request-Id"),
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("upstream saw %s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestProxyForwardsCredentialsOnlyWhenTheRouteSaysSo(t *testing.T) {
	h := newHarness(t)
	tok := h.corpToken(nil)
	for path, want := range map[string]string{"/fc/x": "Bearer " + tok, "/v/x": ""} {
		resp, body := h.do("GET", path, bearer(tok))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		if iss := upstreamHeaders(t, body).Get("X-Authgate-Issuer"); iss != "corp" {
			t.Errorf("%s: upstream saw X-Authgate-Issuer %q, want corp", path, iss)
		}
		if got := upstreamHeaders(t, body).Get("Authorization"); got != want {
			t.Errorf("%s: upstream saw an Authorization header: %v, want one: %v", path, got != "", want != "")
		}
	}
}

func TestProxyStreamsResponses(t *testing.T) {
	h := newHarness(t)
	key, _ := h.srv.Store().CreateKey(t.Context(), "svc", nil, time.Time{})
	req, _ := http.NewRequest("GET", h.base+"/v/stream", nil)
	req.Host = "api.test"
	req.Header.Set("X-Api-Key", key.Key)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v: the gateway buffered a streaming response", line, err)
	}
	close(h.release) // the upstream sends its second event only now
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "data: two") {
		t.Errorf("second event missing: %q", rest)
	}
}

func TestProxyUpgradesConnections(t *testing.T) {
	h := newHarness(t)
	key, _ := h.srv.Store().CreateKey(t.Context(), "svc", nil, time.Time{})
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(h.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /v/upgrade HTTP/1.1\r\nHost: api.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Api-Key: %s\r\n\r\n", key.Key)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade answer %v, %v", resp, err)
	}
	fmt.Fprint(conn, "hello\n")
	line, err := r.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("after the upgrade got %q, %v", line, err)
	}
}

func TestUpgradeWithoutCredentialsIsRefusedBeforeReachingTheApp(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.do("GET", "/v/upgrade", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"echo"}})
	if resp.StatusCode != 401 || resp.Header.Get("X-Authgate-Reason") != "credentials_missing" {
		t.Fatalf("status %d reason %q", resp.StatusCode, resp.Header.Get("X-Authgate-Reason"))
	}
}

func TestForwardAuthEndpoint(t *testing.T) {
	h := newHarness(t)
	key, _ := h.srv.Store().CreateKey(t.Context(), "svc", []string{"read"}, time.Time{})
	tests := []struct {
		name   string
		header http.Header
		status int
		reason string
	}{
		{"Traefik-style headers and a valid key → 200 with identity", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Forwarded-Uri": {"/v/orders?id=1"}, "X-Forwarded-Method": {"POST"}, "X-Api-Key": {key.Key}}, 200, ""},
		{"nginx-style X-Original-URI → the same decision", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Original-Uri": {"/v/orders"}, "X-Api-Key": {key.Key}}, 200, ""},
		{"a full X-Original-URL names host and path", http.Header{"X-Original-Url": {"https://api.test/v/x"}, "X-Api-Key": {key.Key}}, 200, ""},
		{"no credentials → the same 401 as the proxy", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Forwarded-Uri": {"/v/x"}}, 401, "credentials_missing"},
		{"an encoded dot-dot is refused, never resolved to another route", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Forwarded-Uri": {"/v/%2e%2e/office"}, "X-Api-Key": {key.Key}}, 400, "path_not_canonical"},
		{"a host with no route → 404", http.Header{"X-Forwarded-Host": {"nowhere.test"}, "X-Forwarded-Uri": {"/"}}, 404, "route_not_found"},
		{"a client-added X-Forwarded-Uri that differs from nginx's X-Original-URI → conflict, not a choice", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Original-Uri": {"/office"}, "X-Forwarded-Uri": {"/v"}, "X-Api-Key": {key.Key}}, 400, "forwarded_headers_conflict"},
		{"two X-Forwarded-Method values that differ → conflict", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Forwarded-Uri": {"/v"}, "X-Forwarded-Method": {"GET", "DELETE"}, "X-Api-Key": {key.Key}}, 400, "forwarded_headers_conflict"},
		{"X-Original-URL naming another host than X-Forwarded-Host → conflict", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Original-Url": {"https://other.test/v"}, "X-Api-Key": {key.Key}}, 400, "forwarded_headers_conflict"},
		{"headers that agree are fine", http.Header{"X-Forwarded-Host": {"api.test"}, "X-Original-Uri": {"/v/a?b=1"}, "X-Forwarded-Uri": {"/v/a?b=1"}, "X-Api-Key": {key.Key}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.do("GET", "/.authgate/verify", tt.header)
			if resp.StatusCode != tt.status || resp.Header.Get("X-Authgate-Reason") != tt.reason {
				t.Fatalf("status %d reason %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Authgate-Reason"), tt.status, tt.reason)
			}
			if tt.status == 200 && (resp.Header.Get("X-Authgate-Subject") != "svc" || resp.Header.Get("X-Authgate-Method") != "api_key" || resp.Header.Get("X-Authgate-Scopes") != "read") {
				t.Errorf("identity headers %v", resp.Header)
			}
			if tt.status == 401 && !strings.Contains(resp.Header.Get("Www-Authenticate"), "ApiKey realm=") {
				t.Errorf("challenge %q", resp.Header.Get("Www-Authenticate"))
			}
		})
	}
}

func TestReasonDocumentsAreServed(t *testing.T) {
	h := newHarness(t)
	resp, body := h.do("GET", "/.authgate/reasons/token_expired", nil)
	var r struct{ Code, Hint string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil || r.Code != "token_expired" || r.Hint == "" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if resp, _ := h.do("GET", "/.authgate/reasons/no_such_code", nil); resp.StatusCode != 404 {
		t.Errorf("unknown code: status %d", resp.StatusCode)
	}
}
