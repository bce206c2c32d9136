package portal

import (
	"net/http/httptest"
	"testing"

	"github.com/authgate/authgate/reason"
)

func TestReturnTargets(t *testing.T) {
	p := &Portal{cfg: Config{Prefix: "/.authgate/", AllowedHosts: []string{"app.example.com", "*.apps.example.com"}}}
	r := httptest.NewRequest("GET", "http://portal.example.com/.authgate/sign-in", nil)
	tests := []struct {
		name, rd string
		ok       bool
	}{
		{"no return address is the account page", "", true},
		{"a path on this host", "/reports/q3?x=1", true},
		{"the portal's own host, absolute", "http://portal.example.com/x", true},
		{"an allowed host", "https://app.example.com/", true},
		{"a host under an allowed wildcard", "https://a.apps.example.com/x", true},
		{"an allowed host with a trailing dot and capitals", "https://APP.example.com./x", true},
		{"another site", "https://evil.example/", false},
		{"a look-alike of a wildcard", "https://evilapps.example.com/", false},
		{"the wildcard's own bare domain", "https://apps.example.com/", false},
		{"a scheme-relative URL", "//evil.example/x", false},
		{"a backslash after the slash", "/\\evil.example", false},
		{"an encoded slash that decodes to //", "/%2F/evil.example", false},
		{"an encoded backslash", "/%5Cevil.example", false},
		{"an encoded tab", "/%09/evil.example", false},
		{"javascript", "javascript:alert(1)", false},
		{"an opaque http URL", "http:evil.example", false},
		{"user info before an allowed host", "https://app.example.com@evil.example/", false},
		{"user info naming an allowed host", "https://evil.example@app.example.com/", false},
		{"a line break", "/x\r\nLocation: https://evil.example/", false},
		{"a relative path without a slash", "evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok, c := p.returnTarget(r, tt.rd)
			if ok != tt.ok {
				t.Fatalf("returnTarget(%q) ok = %v, want %v (%s)", tt.rd, ok, tt.ok, c.Detail)
			}
			if !ok && c.Reason != reason.RedirectNotAllowed {
				t.Errorf("refusal reason %q, want redirect_not_allowed", c.Reason)
			}
		})
	}
}

func TestHintsShowCommandsAsCode(t *testing.T) {
	got := string(hintHTML("run `authgate users unlock <name>` & wait"))
	want := "run <code>authgate users unlock &lt;name&gt;</code> &amp; wait"
	if got != want {
		t.Errorf("hintHTML = %q, want %q", got, want)
	}
}
