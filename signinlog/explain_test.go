package signinlog

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// TestExplainGolden renders decisions an admin typically looks up and
// compares them with the golden files (regenerate with -update).
func TestExplainGolden(t *testing.T) {
	tests := map[string]struct {
		d *authgate.Decision
		c Context
	}{
		"key_rotated": {
			d: &authgate.Decision{RequestID: "06h0cp6awevptwweygm01bzhtm", Time: t0, Route: "orders", Host: "api.example.com", Path: "/orders/7", HTTPMethod: "GET",
				Source: netip.MustParseAddr("203.0.113.9"), UserAgent: "billing-sync/2.1", Method: authgate.MethodAPIKey, Reason: reason.KeyRotated, Status: 401, Shown: reason.KeyRotated,
				Claimed: "k1aaaaaaaaaa", Fingerprint: "4c9a5027b1e9eb4b", Latency: 95 * time.Microsecond,
				Checks: []authgate.Check{
					{Name: "route", Result: authgate.Pass, Detail: `route orders (host "api.example.com", path /orders) accepts api_key`},
					{Name: "credential", Result: authgate.Pass, Detail: "api_key in X-Api-Key (60 bytes)"},
					{Name: "apikey.format", Result: authgate.Pass, Detail: "key id k1aaaaaaaaaa"},
					{Name: "apikey.secret", Result: authgate.Pass, Detail: "secret matches"},
					{Name: "apikey.state", Result: authgate.Fail, Detail: "rotated out 2026-11-20T10:00Z (3 days ago), replaced by k2bbbbbbbbbb; overlap ended 2026-11-21T10:00Z", Reason: reason.KeyRotated},
				}},
			c: Context{Now: t0, KeyUsesSinceRotation: 412, SameSecret: 9000,
				Key: &authgate.APIKey{ID: "k1aaaaaaaaaa", Owner: "billing", State: authgate.KeyRotated, Successor: "k2bbbbbbbbbb", RotatedAt: t0.Add(-72 * time.Hour)}},
		},
		"password_previous_masked": {
			d: &authgate.Decision{RequestID: "req-pw", Time: t0, Route: "app", Host: "app.example.com", Path: "/", HTTPMethod: "POST",
				Source: netip.MustParseAddr("2001:db8::7"), Method: authgate.MethodBasic, Reason: reason.PasswordPrevious, Status: 401, Shown: reason.InvalidCredentials,
				Claimed: "alice", Fingerprint: "217bf7ceec19ced3", Latency: 61 * time.Millisecond,
				Checks: []authgate.Check{
					{Name: "password.hash", Result: authgate.Fail, Detail: "does not match the current argon2id hash"},
					{Name: "password.previous", Result: authgate.Fail, Detail: "was this user's password until 2026-11-21 (2 days ago)", Reason: reason.PasswordPrevious},
				}},
			c: Context{Now: t0, User: &authgate.User{Name: "alice", Previous: []authgate.PreviousPassword{{ReplacedAt: t0.Add(-49 * time.Hour)}}}},
		},
		"token_issued_in_future": {
			d: &authgate.Decision{RequestID: "req-tok", Time: t0, Route: "api", Host: "api.example.com", Path: "/v1/x", HTTPMethod: "GET",
				Source: netip.MustParseAddr("10.0.0.5"), Method: authgate.MethodBearer, Reason: reason.TokenIssuedInFuture, Status: 401, Shown: reason.TokenIssuedInFuture,
				Claimed: "svc-reports", ClockSkew: 95 * time.Second, Latency: 80 * time.Microsecond,
				Token: &authgate.TokenInfo{Algorithm: "ES256", KeyID: "corp-1", Issuer: "https://login.example.com", Subject: "svc-reports", Audience: []string{"api://orders"},
					IssuedAt: t0.Add(95 * time.Second), Expires: t0.Add(time.Hour)},
				Checks: []authgate.Check{
					{Name: "jwt.signature", Result: authgate.Pass, Detail: "ES256 signature verifies with kid corp-1"},
					{Name: "jwt.iat", Result: authgate.Fail, Detail: "iat=2026-11-23T10:01:35Z now=2026-11-23T10:00:00Z leeway=60s → issued 95 s in the future", Reason: reason.TokenIssuedInFuture},
				}},
			c: Context{Now: t0, IssuerSkewN: 57, IssuerSkewMean: 95 * time.Second},
		},
		"allowed": {
			d: &authgate.Decision{RequestID: "req-ok", Time: t0, Route: "api", Host: "api.example.com", Path: "/v1/x", HTTPMethod: "GET", Allowed: true, Status: 200,
				Source: netip.MustParseAddr("10.0.0.5"), Method: authgate.MethodAPIKey, Claimed: "k1", Latency: 40 * time.Microsecond,
				Principal: &authgate.Principal{Subject: "billing", Method: authgate.MethodAPIKey, Scopes: []string{"orders:read"}},
				Checks:    []authgate.Check{{Name: "apikey.state", Result: authgate.Pass, Detail: "active"}}},
			c: Context{Now: t0},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Explain(&b, tt.d, tt.c); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "explain", name+".golden")
			if *update {
				os.WriteFile(path, b.Bytes(), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, b.Bytes()) {
				t.Errorf("explain output differs from %s (run with -update after checking):\n%s", path, b.String())
			}
		})
	}
}
