package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
)

// BenchmarkForwardAuth measures one forward-auth decision in process,
// through the gateway's handler, for an acceptance and a refusal of each
// kind that the bench's refusal rows send. The refusal target (no more
// costly than an acceptance) compares sub-benchmarks of one run: ns/op and
// allocs/op move far less with the machine's noise than `make bench`'s
// rps. The durable sign-in log is off, as a loop faster than its store
// would measure the spool: `make bench` prices the log on its own, and
// the refusals' log lines are written as by default.
func BenchmarkForwardAuth(b *testing.B) {
	h := newHarnessEdited(b, func(cfg string) string {
		cfg = strings.Replace(cfg, "admin:\n  listen: 127.0.0.1:0\n  token: test-admin-token-0123456789\n", "", 1)
		return cfg + "log: {store: none, decisions: refused}\n"
	})
	key, err := h.srv.Store().CreateKey(b.Context(), "svc", []string{"read"}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	expired := h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) {
		c["iat"] = h.now().Add(-2 * time.Hour).Unix()
		c["exp"] = h.now().Add(-5 * time.Minute).Unix()
	})
	cases := []struct {
		name   string
		header string
		value  string
		status int
	}{
		{"api_key", "X-Api-Key", key.Key, 200},
		{"refuse-api_key", "X-Api-Key", key.Key[:len(key.Key)-4] + "AAAA", 401},
		{"jwt-ES256", "Authorization", "Bearer " + h.corpToken(nil), 200},
		{"refuse-jwt-expired", "Authorization", "Bearer " + expired, 401},
	}
	h.log.mu.Lock()
	h.log.discard = true // the lines are still formatted and written
	h.log.mu.Unlock()
	handler := h.srv.Handler()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/.authgate/verify", nil)
			req.RemoteAddr = "127.0.0.1:40000" // exempt from throttling, as the bench's clients
			req.Header = http.Header{
				c.header:             {c.value},
				"X-Forwarded-Method": {"GET"},
				"X-Forwarded-Host":   {"api.test"},
				"X-Forwarded-Uri":    {"/m/orders"},
				"X-Forwarded-Proto":  {"https"},
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != c.status {
					b.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
				}
			}
		})
	}
}
