package policy

import (
	"net/netip"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/google/go-cmp/cmp"
)

func TestMatch(t *testing.T) {
	routes := []*Route{
		{Name: "any-root", Path: "/"},
		{Name: "any-api", Path: "/api"},
		{Name: "wild-api", Host: "*.example.com", Path: "/api"},
		{Name: "exact-api", Host: "api.example.com", Path: "/api/"},
		{Name: "public", Host: "api.example.com", Path: "/public"},
		{Name: "admin", Host: "api.example.com", Path: "/admin"},
	}
	table := NewTable(routes)
	tests := []struct{ host, path, want string }{
		{"api.example.com", "/api/orders", "exact-api"},
		{"API.Example.com:8443", "/api/orders", "exact-api"},
		{"eu.example.com", "/api/orders", "wild-api"},
		{"example.com", "/api/orders", "any-api"},
		{"other.org", "/apix", "any-root"},
		{"other.org", "/api", "any-api"},
		{"api.example.com", "/public/../admin/users", "admin"},
		{"api.example.com", "/public/./../admin", "admin"},
		{"api.example.com", "//public//x", "public"},
		{"api.example.com", "/publicity", "any-root"},
		{"[::1]:8080", "/api", "any-api"},
	}
	for _, tt := range tests {
		got := table.Match(tt.host, tt.path)
		if got == nil || got.Name != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %s", tt.host, tt.path, got, tt.want)
		}
	}
	if r := NewTable(routes[1:2]).Match("x", "/other"); r != nil {
		t.Errorf("a path outside every prefix matched %s", r.Name)
	}
}

func TestCheckNetwork(t *testing.T) {
	r := &Route{Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}
	for addr, want := range map[string]reason.Code{
		"10.1.2.3":         "",
		"::ffff:10.1.2.3":  "",
		"2001:db8::1":      "",
		"192.168.1.1":      reason.NetworkNotAllowed,
		"2001:db9::1":      reason.NetworkNotAllowed,
		"::ffff:192.0.2.1": reason.NetworkNotAllowed,
	} {
		if got, _ := r.CheckNetwork(netip.MustParseAddr(addr)); got != want {
			t.Errorf("CheckNetwork(%s) = %q, want %q", addr, got, want)
		}
	}
	if got, c := (&Route{}).CheckNetwork(netip.MustParseAddr("192.0.2.1")); got != "" || c.Result != authgate.Skip {
		t.Errorf("a route without networks must skip the check, got %q %v", got, c.Result)
	}
}

func TestAuthorize(t *testing.T) {
	route := &Route{Scopes: []string{"orders:read", "orders:write"}, Issuers: []string{"corp"}, Audiences: []string{"api://orders"}}
	bearer := func(iss string, aud []string, scopes ...string) authgate.Principal {
		return authgate.Principal{Subject: "s", Method: authgate.MethodBearer, Issuer: iss, Audience: aud, Scopes: scopes}
	}
	tests := []struct {
		name    string
		p       authgate.Principal
		want    reason.Code
		missing []string
	}{
		{"a token with every scope from the right issuer and audience is allowed", bearer("corp", []string{"api://orders"}, "orders:read", "orders:write"), "", nil},
		{"a token from another configured issuer → issuer_not_allowed", bearer("partner", []string{"api://orders"}, "orders:read", "orders:write"), reason.IssuerNotAllowed, nil},
		{"a token for another audience → audience_mismatch", bearer("corp", []string{"api://billing"}, "orders:read", "orders:write"), reason.AudienceMismatch, nil},
		{"a token lacking one scope → insufficient_scope naming it", bearer("corp", []string{"api://orders"}, "orders:read"), reason.InsufficientScopeCode, []string{"orders:write"}},
		{"an API key without scopes → insufficient_scope naming both", authgate.Principal{Method: authgate.MethodAPIKey}, reason.InsufficientScopeCode, []string{"orders:read", "orders:write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, checks, missing := route.Authorize(tt.p)
			if got != tt.want {
				t.Fatalf("reason = %q, want %q (%+v)", got, tt.want, checks)
			}
			if diff := cmp.Diff(tt.missing, missing); diff != "" {
				t.Errorf("missing scopes (-want +got):\n%s", diff)
			}
			if tt.want != "" && checks[len(checks)-1].Result != authgate.Fail {
				t.Errorf("the last check must be the failing one: %+v", checks)
			}
		})
	}
}

func TestNonCanonicalPaths(t *testing.T) {
	for path, bad := range map[string]bool{
		"/":                   false,
		"/orders/7":           false,
		"/a%20b/c":            false,
		"/files/a%2Eb":        false, // an encoded dot inside a name is harmless
		"/orders/":            false,
		"/admin/../x":         true,
		"/./admin":            true,
		"/admin//x":           true,
		"/%2e%2e/admin":       true,
		"/admin%2Fx":          true,
		"/admin%2fx":          true,
		"/admin%5Cx":          true,
		"/public\\..\\admin":  true,
		"/admin;jsessionid=1": true,
		"/a%00b":              true,
		"/a%zz":               true,
		"relative":            true,
	} {
		if got := NonCanonical(path) != ""; got != bad {
			t.Errorf("NonCanonical(%q) refuses = %v, want %v", path, got, bad)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	for in, want := range map[string]string{
		"API.Example.com":       "api.example.com",
		"api.example.com.":      "api.example.com",
		"api.example.com.:8443": "api.example.com",
		"[::1]:8080":            "::1",
		"[::1]":                 "::1",
		"192.0.2.1:80":          "192.0.2.1",
	} {
		if got := CanonicalHost(in); got != want {
			t.Errorf("CanonicalHost(%q) = %q, want %q", in, got, want)
		}
	}
	r := NewTable([]*Route{{Name: "v6", Host: "::1", Path: "/"}, {Name: "secure", Host: "secure.test", Path: "/"}, {Name: "any", Path: "/"}})
	for host, want := range map[string]string{"[::1]:8080": "v6", "secure.test.": "secure", "secure.test.:80": "secure"} {
		if got := r.Match(host, "/"); got == nil || got.Name != want {
			t.Errorf("Match(%q) = %v, want %s", host, got, want)
		}
	}
}
