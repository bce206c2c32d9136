package doctor_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/doctor"
	"github.com/authgate/authgate/reason"
)

// now is the local clock of every test that does not use a gateway.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return now }

// fakeJWT builds a token with the given claims and a signature that is
// never checked; its bytes are the same on every run.
func fakeJWT(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc([]byte(strings.Repeat("s", 64)))
}

// tokenAt is an ES256 token issued at iat and expiring at exp (Unix seconds).
func tokenAt(iat, exp time.Time) string {
	return fakeJWT(`{"alg":"ES256","kid":"k1","typ":"JWT"}`,
		fmt.Sprintf(`{"iss":"https://idp.example","sub":"alice","aud":"api://orders","scope":"read","iat":%d,"exp":%d}`, iat.Unix(), exp.Unix()))
}

// serve starts a test server whose Date header says date (the tests' now
// when zero), so that no test depends on the real clock.
func serve(t *testing.T, date time.Time, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(withDate(date, h))
	t.Cleanup(s.Close)
	return s
}

func withDate(date time.Time, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if date.IsZero() {
			date = now
		}
		w.Header().Set("Date", date.UTC().Format(http.TimeFormat))
		h(w, r)
	}
}

func check(t *testing.T, o doctor.Options) *doctor.Report {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	o.Proxy = noProxy
	r, err := doctor.Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func noteIDs(r *doctor.Report) []string {
	var ids []string
	for _, n := range r.Notes {
		ids = append(ids, n.ID)
	}
	return ids
}

func hasNote(r *doctor.Report, id string) bool {
	for _, n := range r.Notes {
		if n.ID == id {
			return true
		}
	}
	return false
}

// Servers no one here wrote behave in many ways; each case is one common
// behaviour and the cause doctor must rank first.
func TestDoctorOnCommonServers(t *testing.T) {
	fresh := tokenAt(now.Add(-time.Minute), now.Add(time.Hour))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		date    time.Time
		opts    doctor.Options
		outcome doctor.Outcome
		top     reason.Code // "" when no cause is expected
		notes   []string
	}{
		{
			name:    "a 401 without any challenge and no credentials is credentials_missing and a server bug",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) },
			outcome: doctor.Failed, top: reason.CredentialsMissing, notes: []string{"no_challenge"},
		},
		{
			name:    "a 401 without any challenge for a fresh token suggests checking its key and audience",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) },
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Failed, top: reason.KeyUnknown, notes: []string{"no_challenge"},
		},
		{
			name: "a Bearer invalid_token challenge for an expired token is token_expired, said by both",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The access token expired"`)
				w.WriteHeader(401)
			},
			date:    now,
			opts:    doctor.Options{Token: tokenAt(now.Add(-2*time.Hour), now.Add(-time.Hour))},
			outcome: doctor.Failed, top: reason.TokenExpired,
		},
		{
			name: "a Bearer invalid_token challenge about the signature is token_signature_invalid",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="signature verification failed"`)
				w.WriteHeader(401)
			},
			date:    now,
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Failed, top: reason.TokenSignatureInvalid,
		},
		{
			name: "a server whose clock is 10 minutes ahead rejects a token that is valid by ours: token_expired",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
				w.WriteHeader(401)
			},
			date:    now.Add(10 * time.Minute),
			opts:    doctor.Options{Token: tokenAt(now.Add(-55*time.Minute), now.Add(5*time.Minute))},
			outcome: doctor.Failed, top: reason.TokenExpired, notes: []string{"clock_skew"},
		},
		{
			name: "a server whose clock is 10 minutes behind sees a fresh token as issued in the future",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
				w.WriteHeader(401)
			},
			date:    now.Add(-10 * time.Minute),
			opts:    doctor.Options{Token: tokenAt(now, now.Add(time.Hour))},
			outcome: doctor.Failed, top: reason.TokenIssuedInFuture, notes: []string{"clock_skew"},
		},
		{
			name: "Basic sent where only Bearer is challenged is scheme_not_accepted",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
				w.WriteHeader(401)
			},
			opts:    doctor.Options{BasicUser: "alice", BasicPassword: "s3cret-pass"},
			outcome: doctor.Failed, top: reason.SchemeNotAccepted,
		},
		{
			name: "a wrong password against a Basic challenge is invalid_credentials",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic realm="intranet", charset="UTF-8"`)
				w.WriteHeader(401)
			},
			opts:    doctor.Options{BasicUser: "alice", BasicPassword: "s3cret-pass"},
			outcome: doctor.Failed, top: reason.InvalidCredentials,
		},
		{
			name: "a 403 with a Bearer insufficient_scope challenge is insufficient_scope",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="orders:write"`)
				w.WriteHeader(403)
			},
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Failed, top: reason.InsufficientScopeCode,
		},
		{
			name: "a 407 from a proxy asks for the proxy's credentials: credentials_missing",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Proxy-Authenticate", `Basic realm="corp-proxy"`)
				w.WriteHeader(407)
			},
			outcome: doctor.Failed, top: reason.CredentialsMissing,
		},
		{
			name: "a 429 with Retry-After is throttling, not a credential problem",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(429)
			},
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Failed, notes: []string{"throttled"},
		},
		{
			name:    "a 503 is the server's outage, not the caller's fault",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Failed, notes: []string{"server_error"},
		},
		{
			name:    "a 200 succeeds with no cause",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) },
			opts:    doctor.Options{Token: fresh},
			outcome: doctor.Succeeded,
		},
		{
			name:    "a 200 for a token without aud or exp still flags the token",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) },
			opts:    doctor.Options{Token: fakeJWT(`{"alg":"RS256"}`, `{"iss":"x","sub":"y"}`)},
			outcome: doctor.Succeeded, notes: []string{"token_no_aud"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, tt.date, tt.handler)
			o := tt.opts
			o.URL = s.URL + "/api"
			r := check(t, o)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s", r.Outcome, tt.outcome)
			}
			if got := r.TopCause().Code; got != tt.top {
				t.Errorf("top cause %q, want %q; causes %s", got, tt.top, codes(r.Causes))
			}
			for _, n := range tt.notes {
				if !hasNote(r, n) {
					t.Errorf("no note %s; notes %v", n, noteIDs(r))
				}
			}
		})
	}
}

func TestARedirectToAnotherHostDropsTheCredentials(t *testing.T) {
	target := serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(401)
			return
		}
		w.Write([]byte("ok"))
	})
	front := serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/v2/orders", http.StatusFound)
	})
	r := check(t, doctor.Options{URL: front.URL + "/orders", Token: tokenAt(now, now.Add(time.Hour))})
	if got := r.TopCause().Code; got != reason.CredentialsMissing {
		t.Fatalf("top cause %s, want credentials_missing; causes %s", got, codes(r.Causes))
	}
	if len(r.Hops) != 2 || !r.Hops[0].Credentials || r.Hops[1].Credentials || len(r.Hops[1].Dropped) != 1 || r.Hops[1].Dropped[0] != "Authorization" {
		t.Errorf("hops %+v: want the first with credentials, the second without Authorization", r.Hops)
	}
	if !hasNote(r, "redirect_drops_credentials") {
		t.Errorf("no redirect_drops_credentials note; notes %v", noteIDs(r))
	}

	t.Run("a redirect loop stops after the limit", func(t *testing.T) {
		var loop *httptest.Server
		loop = serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loop.URL+"/again", http.StatusFound) })
		r := check(t, doctor.Options{URL: loop.URL, MaxRedirects: 3})
		if len(r.Hops) != 4 || !hasNote(r, "too_many_redirects") {
			t.Errorf("%d hops, notes %v", len(r.Hops), noteIDs(r))
		}
	})
}

func TestUnreachableServersAreExplained(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	plain := serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) {})
	tests := []struct {
		name, url, kind string
	}{
		{"a closed port is refused", "http://" + closed + "/", "refused"},
		{"a certificate from an unknown authority is a TLS problem", tlsSrv.URL, "tls"},
		{"https to a plain HTTP port is a TLS problem", strings.Replace(plain.URL, "http:", "https:", 1), "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, doctor.Options{URL: tt.url, Timeout: 5 * time.Second})
			if r.Outcome != doctor.Unreachable || r.Network == nil || r.Network.Kind != tt.kind {
				t.Fatalf("outcome %s, network %+v; want unreachable, %s", r.Outcome, r.Network, tt.kind)
			}
			if r.Network.Explanation == "" || len(r.Causes) != 0 {
				t.Errorf("explanation %q, causes %s", r.Network.Explanation, codes(r.Causes))
			}
		})
	}
}

func TestAServerThatAsksForAClientCertificateIsNoted(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mtls"`)
		w.WriteHeader(401)
	}))
	s.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	s.StartTLS()
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	r := check(t, doctor.Options{URL: s.URL, RootCAs: pool})
	if r.Response == nil || r.Response.TLS == nil || !r.Response.TLS.CertAsked || r.Response.TLS.Version == "" {
		t.Fatalf("response TLS %+v", r.Response)
	}
	if !hasNote(r, "client_certificate_requested") {
		t.Errorf("notes %v", noteIDs(r))
	}
}

func TestOptionErrors(t *testing.T) {
	for name, o := range map[string]doctor.Options{
		"a URL without scheme":                   {URL: "example.com/x"},
		"a token and a password together":        {URL: "http://127.0.0.1/", Token: "t", BasicUser: "u"},
		"a token and an Authorization header":    {URL: "http://127.0.0.1/", Token: "t", Header: http.Header{"Authorization": {"Basic x"}}},
		"a header value with a line break":       {URL: "http://127.0.0.1/", Header: http.Header{"X-A": {"a\nb"}}},
		"an API key given twice":                 {URL: "http://127.0.0.1/", APIKey: "k", Header: http.Header{"X-Api-Key": {"k"}}},
		"a token file holding two lines of text": {URL: "http://127.0.0.1/", Token: "a\nb"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := doctor.Check(context.Background(), o)
			if _, ok := err.(*doctor.OptionError); !ok {
				t.Errorf("err = %v, want an *OptionError", err)
			}
		})
	}
}
