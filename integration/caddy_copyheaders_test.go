package integration

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCaddyCopyHeadersNeverPassesTheClientsValue pins down what Caddy does
// with a copy_headers header that the auth service's 2xx answer lacks or
// sends empty: authgate always sends all three identity headers for this
// reason, and the documentation describes the result. The property that
// must hold in any Caddy version is that the client's own value never
// reaches the app.
func TestCaddyCopyHeadersNeverPassesTheClientsValue(t *testing.T) {
	bin := requireBinary(t, "caddy", "/usr/bin/caddy")
	// A stand-in for authgate that allows everything but sends only the
	// subject, and an empty scopes header.
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Authgate-Subject", "from-auth")
		w.Header()["X-Authgate-Scopes"] = []string{""}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(auth.Close)
	app := startApp(t)
	base := startCaddy(t, bin, strings.TrimPrefix(auth.URL, "http://"), app)

	r := do(t, base, "GET", "/app/", http.Header{
		"X-Authgate-Subject": {"forged"},
		"X-Authgate-Method":  {"forged"},
		"X-Authgate-Scopes":  {"forged"},
	})
	saw := r.app(t)
	wantHeader(t, saw.Header, "X-Authgate-Subject", "from-auth")
	for _, h := range []string{"X-Authgate-Method", "X-Authgate-Scopes"} {
		vs, present := saw.Header[h]
		t.Logf("auth answer without a usable %s: app got %q (present: %v)", h, vs, present)
		for _, v := range vs {
			if v == "forged" {
				t.Errorf("app got the client's %s: %q", h, vs)
			}
		}
	}
}
