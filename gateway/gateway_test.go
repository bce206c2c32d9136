package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/reason"
	"github.com/google/go-cmp/cmp"
)

func TestRequestIDKeepsValidOnesFromTrustedProxies(t *testing.T) {
	for in, keep := range map[string]bool{
		"7f3c9a":                               true,
		"0b9e6f1c-3d5e-4a8f-9b1d-2c4e6a8f0b1d": true,
		"trace:abc.def_1-2":                    true,
		"":                                     false,
		"has space":                            false,
		"line\nbreak":                          false,
		strings.Repeat("a", 129):               false,
		"<script>":                             false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if in != "" {
			r.Header["X-Request-Id"] = []string{in}
		}
		if got := requestID(r, false); in != "" && got == in {
			t.Errorf("an id from an untrusted client must not be kept: %q", in)
		}
		got := requestID(r, true)
		if (got == in) != keep {
			t.Errorf("requestID with incoming %q = %q, keep=%v", in, got, keep)
		}
		if !validRequestID(got) {
			t.Errorf("generated id %q is not itself valid", got)
		}
	}
	a, b := requestID(httptest.NewRequest("GET", "/", nil), false), requestID(httptest.NewRequest("GET", "/", nil), false)
	if a == b || len(a) != 26 {
		t.Errorf("generated ids %q and %q must differ and be 26 characters", a, b)
	}
}

func TestClientAddrBelievesOnlyTrustedProxies(t *testing.T) {
	g := &Gateway{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"a direct client is its peer address", "192.0.2.7:5555", nil, "192.0.2.7"},
		{"an untrusted peer cannot claim another address", "192.0.2.7:5555", []string{"203.0.113.9"}, "192.0.2.7"},
		{"a trusted proxy's X-Forwarded-For names the client", "127.0.0.1:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a chain through trusted proxies yields the right-most untrusted hop", "127.0.0.1:1", []string{"198.51.100.1, 203.0.113.9, 10.1.1.1"}, "203.0.113.9"},
		{"a spoofed left-most entry is ignored", "127.0.0.1:1", []string{"1.2.3.4", "203.0.113.9"}, "203.0.113.9"},
		{"a garbled chain falls back to the peer", "127.0.0.1:1", []string{"not-an-ip"}, "127.0.0.1"},
		{"IPv4-mapped IPv6 is unmapped", "[::ffff:192.0.2.7]:1", nil, "192.0.2.7"},
		{"IPv6 clients work", "[2001:db8::1]:1", nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != nil {
			r.Header["X-Forwarded-For"] = tt.xff
		}
		if got := g.clientAddr(r).String(); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestChallenges(t *testing.T) {
	g := &Gateway{cfg: Config{APIKeyHeader: "X-Api-Key", Realm: "gw"}}
	all := &policy.Route{Accept: []authgate.Method{authgate.MethodAPIKey, authgate.MethodBearer, authgate.MethodBasic}, Realm: `or"ders`, Scopes: []string{"a", "b"}}
	tests := []struct {
		name   string
		d      authgate.Decision
		reason reason.Code
		want   []string
	}{
		{"no credential: one challenge per scheme, Bearer without error (RFC 6750 §3)",
			authgate.Decision{}, reason.CredentialsMissing,
			[]string{`Basic realm="or\"ders", charset="UTF-8"`, `Bearer realm="or\"ders"`, `ApiKey realm="or\"ders", header="X-Api-Key"`}},
		{"an expired token: Bearer carries invalid_token",
			authgate.Decision{Method: authgate.MethodBearer}, reason.TokenExpired,
			[]string{`Basic realm="or\"ders", charset="UTF-8"`, `Bearer realm="or\"ders", error="invalid_token", error_description="Token expired"`, `ApiKey realm="or\"ders", header="X-Api-Key"`}},
		{"a doubled Bearer prefix: invalid_request",
			authgate.Decision{Method: authgate.MethodBearer}, reason.BearerPrefixDoubled,
			[]string{`Basic realm="or\"ders", charset="UTF-8"`, `Bearer realm="or\"ders", error="invalid_request", error_description="Bearer prefix doubled"`, `ApiKey realm="or\"ders", header="X-Api-Key"`}},
		{"insufficient scope for a token: only the Bearer challenge, with scope",
			authgate.Decision{Method: authgate.MethodBearer}, reason.InsufficientScopeCode,
			[]string{`Bearer realm="or\"ders", error="insufficient_scope", error_description="Insufficient scope", scope="a b"`}},
		{"insufficient scope for an API key: 403 without challenge",
			authgate.Decision{Method: authgate.MethodAPIKey}, reason.InsufficientScopeCode, nil},
		{"network denied: 403 without challenge", authgate.Decision{}, reason.NetworkNotAllowed, nil},
		{"dependency down: 503 without challenge", authgate.Decision{Method: authgate.MethodBearer}, reason.IssuerUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.challenges(&tt.d, all, reason.Lookup(tt.reason))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("challenges (-want +got):\n%s", diff)
			}
			// The header value, built once and then remembered: the same
			// route and reason with another method must not get it (the
			// two insufficient-scope cases).
			for range 2 {
				if h := g.challengeHeader(&tt.d, all, reason.Lookup(tt.reason)); h != strings.Join(tt.want, ", ") {
					t.Errorf("challengeHeader = %q, want %q", h, strings.Join(tt.want, ", "))
				}
			}
		})
	}
}

func TestWantsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,*/*;q=0.8": true,
		"application/json":                          false,
		"*/*":                                       false,
		"":                                          false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if wantsHTML(r) != want {
			t.Errorf("wantsHTML(%q) = %v", accept, !want)
		}
	}
	_ = http.StatusOK
}

// Response bodies are copied through pooled buffers: concurrent responses
// of different sizes, larger than a buffer, must each arrive whole and
// unmixed.
func TestPooledCopyBuffersKeepBodiesApart(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("c")
		w.Write([]byte(strings.Repeat(c, 100_000+int(c[0]))))
	}))
	defer upstream.Close()
	p := (&Gateway{cfg: Config{Logger: slogDiscard()}}).newProxy(RouteTarget{Upstream: mustURL(t, upstream.URL)})
	var wg sync.WaitGroup
	for _, c := range "abcdefgh" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("GET", "http://gw/x?c="+string(c), nil))
				if want := strings.Repeat(string(c), 100_000+int(c)); rec.Body.String() != want {
					t.Errorf("body for %c: %d bytes, not %d bytes of %c", c, rec.Body.Len(), len(want), c)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The problem document is written by hand; json.Marshal is the reference,
// over every reason of the catalogue and hostile text in each field that
// can carry the caller's input.
func TestProblemJSONMatchesEncodingJSON(t *testing.T) {
	hostile := "<script>\"&'\\\n\b\f\x00\xff\u2028 é 🙂"
	n := 0
	for _, rs := range reason.All() {
		for i, p := range []problem{
			{Type: "/.authgate/reasons/" + string(rs.Code), Title: rs.Title, Status: rs.Status, Detail: rs.Message,
				Instance: "urn:authgate:request:06h3csb19k5801sj4330cvwxv0", Code: string(rs.Code), RequestID: "06h3csb19k5801sj4330cvwxv0"},
			{Type: hostile, Title: rs.Title, Status: rs.Status, Detail: hostile, Instance: hostile, Code: string(rs.Code),
				RequestID: hostile, Hint: rs.Hint, Explanation: hostile, RetryAfter: 30, Scope: "orders:read " + hostile, ServerTime: "2026-12-02T12:00:00Z"},
			{RetryAfter: -1},
		} {
			want, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.appendJSON([]byte("x")); string(got) != "x"+string(want)+"\n" {
				t.Fatalf("%s, case %d:\n got %s\nwant %s", rs.Code, i, got[1:], want)
			}
			n++
		}
	}
	if n < 30 {
		t.Fatalf("only %d documents compared", n)
	}
}
