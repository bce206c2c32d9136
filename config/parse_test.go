package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/google/go-cmp/cmp"
)

// cmpPrefixes compares netip values, whose fields are unexported.
var cmpPrefixes = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func loadValid(t *testing.T, name string) (*Config, string) {
	t.Helper()
	file := filepath.Join("testdata", "valid", name)
	c, err := Load(file)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", file, err)
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestMinimalConfigFillsEveryDefault(t *testing.T) {
	c, dir := loadValid(t, "minimal.yaml")
	want := &Config{
		File:           filepath.Join("testdata", "valid", "minimal.yaml"),
		Listen:         "127.0.0.1:8080",
		DataDir:        filepath.Join(dir, "authgate-data"),
		SecretKeyFile:  filepath.Join(dir, "authgate-data", "secret.key"),
		Realm:          "authgate",
		TrustedProxies: prefixes("127.0.0.1/32", "::1/128"),
		Store:          Store{Type: StoreSQLite, SQLite: filepath.Join(dir, "authgate-data", "authgate.db"), RefreshInterval: time.Second, MaxStale: 30 * time.Second},
		Passwords: Passwords{
			MaxAge:          0,
			KeepPrevious:    90 * 24 * time.Hour,
			DetectSlips:     true,
			PreviousChecked: 1,
			HashPriority:    HashPriorityLow,
			QueueTimeout:    2 * time.Second,
			Argon2:          Argon2{MemoryKiB: 7168, Iterations: 5, Parallelism: 1},
			UpgradeHashes:   true,
			HashProcess:     true,
		},
		APIKeys:         APIKeys{Header: "X-Api-Key"},
		IdentityHeaders: IdentityHeaders{Subject: "X-Authgate-Subject", Method: "X-Authgate-Method", Scopes: "X-Authgate-Scopes", Issuer: "X-Authgate-Issuer"},
		Limits:          Limits{MaxCredentialBytes: 8192},
		Log: Log{Level: slog.LevelInfo, Format: LogJSON, KeepLast: 1000, Decisions: DecisionsRefused,
			Store: LogStoreSQLite, SQLite: filepath.Join(dir, "authgate-data", "signinlog.db"), RetentionDays: 90, BatchInterval: 100 * time.Millisecond, SpoolMaxBytes: 256 << 20},
		Throttle: Throttle{
			Enabled: true,
			Store:   ThrottleMemory,
			Prefix:  "authgate:throttle:",
			MaxKeys: 1 << 20,
			Rules: map[string]ThrottleRule{
				CounterPair:       {Limit: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, FreeFailures: 2, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second},
				CounterUser:       {Limit: 30, Window: time.Hour, Lock: 30 * time.Minute},
				CounterAddress:    {Limit: 100, Window: 10 * time.Minute, FreeFailures: 10, Delay: 250 * time.Millisecond, MaxDelay: 2 * time.Second},
				CounterNetwork:    {Limit: 300, Window: 10 * time.Minute},
				CounterCredential: {Limit: 10, Window: 10 * time.Minute, FreeFailures: 3, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second},
			},
		},
		Portal: Portal{Path: "/.authgate/", Title: "Sign in", Detail: DetailMinimal, SecureCookies: SecureAuto, CookieName: "authgate_session"},
		Sessions: Sessions{Store: SessionsMemory, Prefix: "authgate:session:", IdleTimeout: 30 * time.Minute,
			AbsoluteTimeout: 12 * time.Hour, MaxSessions: 1 << 20},
		TwoFactor: TwoFactor{Issuer: "authgate", Enroll: EnrollOptional, RecoveryCodes: 10},
		Redis:     Redis{}, // no section: nothing uses Redis
		Routes: []*Route{{
			Name:     "app",
			Path:     "/",
			Upstream: mustURL(t, "http://127.0.0.1:9000"),
			Accept:   []authgate.Method{authgate.MethodBasic},
			Detail:   DetailMinimal,
			Realm:    "authgate",
			Line:     3,
		}},
	}
	if diff := cmp.Diff(want, c, cmpPrefixes); diff != "" {
		t.Errorf("resolved config differs (-want +got):\n%s", diff)
	}
}

func TestFullConfigResolvesEveryKey(t *testing.T) {
	c, dir := loadValid(t, "full.yaml")
	want := &Config{
		File:           filepath.Join("testdata", "valid", "full.yaml"),
		Listen:         ":9443",
		DataDir:        "/var/lib/authgate",
		SecretKeyFile:  "/var/lib/authgate/secret.key",
		Realm:          "Example Corp",
		TrustedProxies: prefixes("10.0.0.0/8", "192.168.1.5/32", "fd00::/8", "::1/128"),
		Store:          Store{Type: StoreSQLite, SQLite: "/var/lib/authgate/gate.db", RefreshInterval: 500 * time.Millisecond, MaxStale: time.Minute},
		Users:          Users{Htpasswd: filepath.Join(dir, "secrets", ".htpasswd")},
		Passwords: Passwords{
			KeepPrevious:        36 * time.Hour,
			DetectSlips:         false,
			PreviousChecked:     3,
			MaxConcurrentHashes: 4,
			HashPriority:        HashPriorityNormal,
			QueueTimeout:        500 * time.Millisecond,
			Argon2:              Argon2{MemoryKiB: 65536, Iterations: 3, Parallelism: 4},
		},
		APIKeys:         APIKeys{Header: "X-Api-Token"},
		IdentityHeaders: IdentityHeaders{Subject: "X-User", Method: "X-Auth-Method", Scopes: "X-Scopes", Issuer: "X-Authgate-Issuer"},
		Limits:          Limits{MaxCredentialBytes: 16384},
		Log: Log{Level: slog.LevelDebug, Format: LogText, KeepLast: 0, Decisions: DecisionsRefused,
			Store: LogStoreSQLite, SQLite: "/var/lib/authgate/signinlog.db", RetentionDays: 90, BatchInterval: 100 * time.Millisecond, SpoolMaxBytes: 256 << 20},
		Throttle: Throttle{
			Enabled: false,
			Store:   ThrottleMemory,
			Prefix:  "authgate:throttle:",
			MaxKeys: 1 << 20,
			Rules: map[string]ThrottleRule{
				CounterPair:    DefaultThrottleRules()[CounterPair],
				CounterUser:    DefaultThrottleRules()[CounterUser],
				CounterAddress: DefaultThrottleRules()[CounterAddress],
				CounterNetwork: {Limit: 300, Window: time.Hour},
			},
		},
		Portal: Portal{
			Path:          "/.sso/",
			Title:         "Example Corp — sign in",
			AllowedHosts:  []string{"console.example.com", "*.apps.example.com", "192.0.2.7"},
			Detail:        DetailVerbose,
			SecureCookies: SecureAlways,
			CookieName:    "__Host-example_session",
		},
		Sessions: Sessions{Store: SessionsRedis, Prefix: "corp:session:", IdleTimeout: time.Hour,
			AbsoluteTimeout: 24 * time.Hour, MaxSessions: 5000},
		TwoFactor: TwoFactor{Issuer: "Example Corp SSO", Enroll: EnrollRequired, RecoveryCodes: 0},
		Redis:     Redis{Address: "redis.internal:6379", Timeout: 250 * time.Millisecond},
		Issuers: []*Issuer{{
			Name:               "corp",
			Issuer:             "https://idp.example.com",
			DiscoveryURL:       mustURL(t, "https://idp.example.com/.well-known/openid-configuration"),
			Audiences:          []string{"api://orders", "api://reports"},
			Algorithms:         []string{"ES256", "RS256"},
			Leeway:             0,
			RefreshInterval:    2 * time.Hour,
			MinRefreshInterval: time.Minute,
			FetchTimeout:       3 * time.Second,
			Line:               27,
		}, {
			Name:               "partner_2",
			Issuer:             "https://login.partner.example/tenant/",
			JWKSFile:           filepath.Join(dir, "keys", "partner.json"),
			Audiences:          []string{"orders"},
			Algorithms:         []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"},
			Leeway:             time.Minute,
			RefreshInterval:    time.Hour,
			MinRefreshInterval: 30 * time.Second,
			FetchTimeout:       5 * time.Second,
			Line:               36,
		}, {
			Name:               "local-dev",
			Issuer:             "http://127.0.0.1:8081",
			JWKSURL:            mustURL(t, "http://127.0.0.1:8081/jwks.json"),
			Audiences:          []string{"dev"},
			Algorithms:         []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"},
			Leeway:             time.Minute,
			RefreshInterval:    time.Hour,
			MinRefreshInterval: 30 * time.Second,
			FetchTimeout:       5 * time.Second,
			Line:               40,
		}},
		Routes: []*Route{{
			Name:               "orders",
			Host:               "api.example.com",
			Path:               "/orders",
			Upstream:           mustURL(t, "https://orders.internal:8443/base"),
			Accept:             []authgate.Method{authgate.MethodBearer, authgate.MethodAPIKey},
			ForwardCredentials: true,
			Detail:             DetailVerbose,
			Realm:              "orders",
			Policy: Policy{
				Scopes:    []string{"orders:read", "orders:write"},
				Issuers:   []string{"corp", "partner_2"},
				Audiences: []string{"api://orders"},
				Networks:  prefixes("10.0.0.0/8", "192.168.1.5/32"),
			},
			Line: 45,
		}, {
			Name:   "wildcard",
			Host:   "*.example.com",
			Path:   "/",
			Accept: []authgate.Method{authgate.MethodBasic},
			Detail: DetailMinimal,
			Realm:  "Example Corp",
			Line:   58,
		}, {
			Name:   "forward-auth-only",
			Path:   "/admin",
			Accept: []authgate.Method{authgate.MethodBasic, authgate.MethodBearer},
			Detail: DetailMinimal,
			Realm:  "Example Corp",
			Line:   61,
		}, {
			Name:   "console",
			Host:   "console.example.com",
			Path:   "/console",
			Accept: []authgate.Method{authgate.MethodSession},
			Detail: DetailMinimal,
			Realm:  "Example Corp",
			Policy: Policy{Require2FA: true},
			Line:   65,
		}},
	}
	if diff := cmp.Diff(want, c, cmpPrefixes); diff != "" {
		t.Errorf("resolved config differs (-want +got):\n%s", diff)
	}
}

func TestPortalDefaultsComeFromRoutesAndRealm(t *testing.T) {
	c, _ := loadValid(t, "portal.yaml")
	type parts struct {
		Portal    Portal
		Sessions  Sessions
		TwoFactor TwoFactor
		Console   Route
	}
	want := parts{
		Portal: Portal{
			Path:  "/.authgate/",
			Title: "Example Corp",
			// The hosts of the routes accepting session, each once, in file
			// order; the any-host route and the API-key-only one add none.
			AllowedHosts:  []string{"console.example.com", "*.apps.example.com"},
			Detail:        DetailMinimal,
			SecureCookies: SecureAuto,
			CookieName:    "authgate_session",
		},
		Sessions: Sessions{Store: SessionsMemory, Prefix: "authgate:session:", IdleTimeout: 30 * time.Minute,
			AbsoluteTimeout: 12 * time.Hour, MaxSessions: 1 << 20},
		// The issuer is the realm, since two_factor names none.
		TwoFactor: TwoFactor{Issuer: "Example Corp", Enroll: EnrollRequired, RecoveryCodes: 10},
		Console: Route{
			Name: "console", Host: "console.example.com", Path: "/console",
			Accept: []authgate.Method{authgate.MethodSession},
			Detail: DetailMinimal, Realm: "Example Corp", Policy: Policy{Require2FA: true}, Line: 10,
		},
	}
	got := parts{Portal: c.Portal, Sessions: c.Sessions, TwoFactor: c.TwoFactor, Console: *c.Route("console")}
	if diff := cmp.Diff(want, got, cmpPrefixes); diff != "" {
		t.Errorf("resolved config differs (-want +got):\n%s", diff)
	}
}

func TestAnchorsShareValuesBetweenRoutes(t *testing.T) {
	c, _ := loadValid(t, "anchors.yaml")
	reports := c.Route("reports")
	if reports == nil {
		t.Fatal(`Route("reports") = nil`)
	}
	want := Route{
		Name: "reports", Path: "/reports", Accept: []authgate.Method{authgate.MethodBearer},
		Detail: DetailMinimal, Realm: "authgate", Policy: Policy{Networks: prefixes("10.0.0.0/8")}, Line: 13,
	}
	if diff := cmp.Diff(want, *reports, cmpPrefixes); diff != "" {
		t.Errorf("route differs (-want +got):\n%s", diff)
	}
}

func TestLookups(t *testing.T) {
	c, _ := loadValid(t, "full.yaml")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"a defined route is found by name", c.Route("wildcard").Host, "*.example.com"},
		{"an undefined route is nil", c.Route("nope") == nil, true},
		{"a defined issuer is found by name", c.Issuer("local-dev").Issuer, "http://127.0.0.1:8081"},
		{"an undefined issuer is nil", c.Issuer("nope") == nil, true},
		{"a route accepting bearer says so", c.Route("orders").Accepts(authgate.MethodBearer), true},
		{"a route not accepting basic says so", c.Route("orders").Accepts(authgate.MethodBasic), false},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: "90d", want: 90 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "-5s", want: -5 * time.Second},
		{in: "1.5d", wantErr: true},
		{in: "d", wantErr: true},
		{in: "3 months", wantErr: true},
		{in: "1d-2h", wantErr: true},
		{in: "99999999999d", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Hour: "1h", 5 * time.Minute: "5m", 90 * time.Second: "1m30s",
		90 * 24 * time.Hour: "90d", 100 * time.Millisecond: "100ms", 26 * time.Hour: "26h",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestClosestSuggestsOnlyNearMisses(t *testing.T) {
	keys := []string{"name", "host", "path", "upstream", "accept", "forward_credentials", "detail"}
	tests := []struct{ in, want string }{
		{"upstreem", "upstream"},
		{"hots", "host"},
		{"forwardCredentials", "forward_credentials"},
		{"Accept", "accept"},
		{"details", "detail"},
		{"magic", ""},
		{"xyz", ""},
		{"timeout", ""},
	}
	for _, tt := range tests {
		if got := closest(tt.in, keys); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoadOfMissingFileIsAnErrorsValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Load(missing) = %v, want one config.Errors entry", err)
	}
	want := path + ": cannot read the configuration: no such file or directory — check the path, or write a configuration there (see authgate check-config)"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestEachProblemIsReachableWithErrorsAs(t *testing.T) {
	_, err := Parse("x.yaml", []byte("routes:\n  - name: a\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v, *Error) failed", err)
	}
	if e.File != "x.yaml" || e.Line != 2 || !strings.Contains(e.Msg, "accepts no method") {
		t.Errorf("first problem = %#v", e)
	}
}

func TestRelativePathsFollowTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "etc", "authgate.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	data := "data_dir: ../state\nstore: {sqlite: ':memory:'}\nroutes: [{name: a, accept: [basic]}]\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "state"); c.DataDir != want {
		t.Errorf("DataDir = %q, want %q", c.DataDir, want)
	}
	if c.Store.SQLite != ":memory:" {
		t.Errorf("Store.SQLite = %q, want :memory: kept as is", c.Store.SQLite)
	}
}
