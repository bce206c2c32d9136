package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPortalPathChecks(t *testing.T) {
	tests := []struct {
		name, in string
		wantMsg  string // "" when the path is fine
		wantFix  string
	}{
		{"the default is fine", "/.authgate/", "", ""},
		{"a nested prefix is fine", "/auth/sso-2/", "", ""},
		{"an empty path names no prefix", "", "portal.path is empty", "leave it out for /.authgate/, or write a prefix of its own, e.g. /.sso/"},
		{"a relative path gets a leading slash", "sso/", `portal.path "sso/" does not start with /`, "write it like path: /sso/"},
		{"a missing trailing slash is added", "/sso", `portal.path "/sso" does not end with /`, "write it like path: /sso/"},
		{"a query is not part of a prefix", "/sso/?next=1", `portal.path "/sso/?next=1" contains ? or #`, "the portal is a path prefix: remove the query or fragment, e.g. path: /sso/"},
		{"a fragment is not part of a prefix", "/sso/#top", `portal.path "/sso/#top" contains ? or #`, "the portal is a path prefix: remove the query or fragment, e.g. path: /sso/"},
		{"dot-dot is refused", "/a/../sso/", `portal.path "/a/../sso/" contains ..`, "write a plain prefix without .., e.g. path: /sso/"},
		{"the root would take every route", "/", "portal.path is /, which would take every path from the routes", "give the portal a prefix of its own, e.g. path: /.authgate/"},
		{"an empty segment is refused", "/a//b/", `portal.path "/a//b/" has an empty or . segment`, "write it like path: /a/b/"},
		{"a dot segment is refused", "/./sso/", `portal.path "/./sso/" has an empty or . segment`, "write it like path: /sso/"},
		{"a ServeMux wildcard is refused", "/{x}/", `portal.path "/{x}/" contains '{'`, "use letters, digits, -, ., _ and ~ between the slashes, e.g. path: /.sso/"},
		{"a space is refused", "/sign in/", `portal.path "/sign in/" contains ' '`, "use letters, digits, -, ., _ and ~ between the slashes, e.g. path: /.sso/"},
		{"percent escapes are refused", "/%41/", `portal.path "/%41/" contains '%'`, "use letters, digits, -, ., _ and ~ between the slashes, e.g. path: /.sso/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkPortalPath(tt.in)
			if diff := cmp.Diff(problem{tt.wantMsg, tt.wantFix}, got, cmp.AllowUnexported(problem{})); diff != "" {
				t.Errorf("checkPortalPath(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCookieNameChecks(t *testing.T) {
	tests := []struct {
		name, in   string
		ok         bool
		secureOnly string // the prefix that needs Secure cookies
	}{
		{"the default is a token", "authgate_session", true, ""},
		{"a __Host- name is a token that needs Secure", "__Host-sid", true, "__Host-"},
		{"browsers match the prefix in any case", "__HOST-sid", true, "__Host-"},
		{"a __Secure- name needs Secure too", "__Secure-sid", true, "__Secure-"},
		{"a name merely containing Host does not", "my__Host-sid", true, ""},
		{"an empty name is refused", "", false, ""},
		{"a space is refused", "a b", false, ""},
		{"a separator is refused", "sid=1", false, ""},
		{"a non-ASCII letter is refused", "sitzung_ä", false, ""},
		{"64 characters are allowed", strings.Repeat("s", 64), true, ""},
		{"65 characters are not", strings.Repeat("s", 65), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkCookieName(tt.in).ok(); got != tt.ok {
				t.Errorf("checkCookieName(%q).ok() = %v, want %v", tt.in, got, tt.ok)
			}
			if got := secureOnlyPrefix(tt.in); got != tt.secureOnly {
				t.Errorf("secureOnlyPrefix(%q) = %q, want %q", tt.in, got, tt.secureOnly)
			}
		})
	}
}

func TestTwoFactorIssuerChecks(t *testing.T) {
	tests := []struct {
		name, in       string
		ok             bool
		wantSuggestion string
	}{
		{"a plain name is fine", "Example Corp", true, "Example Corp"},
		{"a colon is refused and dropped", "Example: Corp", false, "Example Corp"},
		{"64 characters are allowed", strings.Repeat("x", 64), true, strings.Repeat("x", 64)},
		{"a long name is cut between words", strings.Repeat("word ", 20), false, strings.TrimSpace(strings.Repeat("word ", 13))},
		{"a long single word is cut", strings.Repeat("x", 70), false, strings.Repeat("x", 64)},
		{"a tab is not printable", "Example\tCorp", false, "Example Corp"},
		{"an empty name is refused", " ", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkTwoFactorIssuer("two_factor.issuer", tt.in).ok(); got != tt.ok {
				t.Errorf("checkTwoFactorIssuer(%q).ok() = %v, want %v", tt.in, got, tt.ok)
			}
			if got := issuerSuggestion(tt.in); got != tt.wantSuggestion {
				t.Errorf("issuerSuggestion(%q) = %q, want %q", tt.in, got, tt.wantSuggestion)
			}
		})
	}
}

func TestSessionRoutesDecideWhetherThePortalIsUsed(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    string // "" when the file is valid
	}{
		{"a session route with no portal sections takes every default",
			"routes: [{name: app, accept: [session]}]", ""},
		{"an empty sections mapping without a session route is still unused",
			"sessions: {}\nroutes: [{name: app, accept: [basic]}]", "sessions: is set but no route accepts session"},
		{"a null section counts as absent",
			"portal:\nroutes: [{name: app, accept: [basic]}]", ""},
		{"a misspelt session in accept is reported once, not as an unused portal",
			"portal: {title: x}\nroutes: [{name: app, accept: [sesion]}]", `unknown method "sesion"`},
		{"require_2fa false needs no session",
			"routes: [{name: app, accept: [basic], policy: {require_2fa: false}}]", ""},
		{"sessions in Redis with a session route use the redis section",
			"sessions: {store: redis}\nredis: {address: 127.0.0.1:6379}\nroutes: [{name: app, accept: [session]}]", ""},
		{"the default allowed_hosts may be empty when session routes match any host",
			"routes: [{name: app, accept: [session]}]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("Parse accepted it, want %q", tt.wantErr)
			case tt.wantErr != "" && strings.Count(err.Error(), "\n") > 0:
				t.Errorf("Parse reported more than one problem:\n%v", err)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Parse = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
