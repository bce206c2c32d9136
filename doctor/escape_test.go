package doctor_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate/doctor"
)

// TestServerTextCannotRewriteTheTerminal: a server's problem document with
// terminal escapes (a colour, a window-title OSC) is printed with the
// escapes made visible, with or without colour.
func TestServerTextCannotRewriteTheTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("WWW-Authenticate", `Bearer realm="r"`)
		w.WriteHeader(401)
		w.Write([]byte(`{"title":"T\u001b[31mRED\u001b]0;pwned\u0007","status":401,"detail":"line\nbreak"}`))
	}))
	defer srv.Close()
	r, err := doctor.Check(context.Background(), doctor.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := doctor.WriteText(&b, r, doctor.TextOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "\x1b]") || strings.Contains(out, "\a") || strings.Contains(out, "\x1b[31mRED") {
			t.Errorf("color %v: a server's escape reached the output:\n%q", color, out)
		}
		if !strings.Contains(out, `\x1b[31mRED`) {
			t.Errorf("color %v: the escape should be shown as text:\n%s", color, out)
		}
	}
}

// TestQueryCredentialsStayRedactedWhenTheServerIsUnreachable: the network
// error repeats the URL; its query credentials must be redacted there too.
func TestQueryCredentialsStayRedactedWhenTheServerIsUnreachable(t *testing.T) {
	r, err := doctor.Check(context.Background(), doctor.Options{URL: "http://127.0.0.1:1/x?access_token=SuperSecretTok3n&api_key=K3ySecretValue"})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	doctor.WriteText(&text, r, doctor.TextOptions{})
	doctor.WriteJSON(&js, r)
	for _, out := range []string{text.String(), js.String()} {
		if strings.Contains(out, "SuperSecretTok3n") || strings.Contains(out, "K3ySecretValue") {
			t.Errorf("a query credential reached the output:\n%s", out)
		}
	}
}

// TestADiscoveredJWKSURINeverNamesALocalFile: only what the user typed may
// be a file; a discovery document pointing at /etc/passwd is refused.
func TestADiscoveredJWKSURINeverNamesALocalFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			w.Write([]byte(`{"issuer":"x","jwks_uri":"/etc/passwd"}`))
			return
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	tok := "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln"
	r, err := doctor.Check(context.Background(), doctor.Options{URL: srv.URL, Token: tok, Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	doctor.WriteJSON(&js, r)
	if strings.Contains(js.String(), "root:") || !strings.Contains(js.String(), "not an http(s) URL") {
		t.Errorf("doctor must refuse a discovered jwks_uri that is a file path:\n%s", js.String())
	}
}

// TestRedirectFragmentsAreRedacted: an OAuth implicit-flow redirect carries
// its token in the fragment; the hop must not print it.
func TestRedirectFragmentsAreRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/callback#access_token=Fr4gmentS3cret&state=xyz", http.StatusFound)
			return
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	r, err := doctor.Check(context.Background(), doctor.Options{URL: srv.URL + "/start"})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	doctor.WriteText(&text, r, doctor.TextOptions{})
	doctor.WriteJSON(&js, r)
	for _, out := range []string{text.String(), js.String()} {
		if strings.Contains(out, "Fr4gmentS3cret") {
			t.Errorf("a fragment token reached the output:\n%s", out)
		}
	}
	if !strings.Contains(text.String(), "state=xyz") {
		t.Errorf("non-credential parameters should stay readable:\n%s", text.String())
	}
}
