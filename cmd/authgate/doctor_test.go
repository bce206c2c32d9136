package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/doctor"
	"github.com/authgate/authgate/reason"
)

// basicServer answers 200 to alice:right and 401 with a Basic challenge to
// anything else, reporting what it got in X-Got.
func basicServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "alice" && p == "right-password" {
			w.Write([]byte("ok"))
			return
		}
		if r.Header.Get("Authorization") == "Bearer env-token-0123456789" {
			w.Write([]byte("ok"))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="t", charset="UTF-8"`)
		w.WriteHeader(401)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestDoctorExitStatuses(t *testing.T) {
	t.Setenv("NO_PROXY", "*")
	s := basicServer(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{name: "a request that succeeds exits 0", args: []string{"doctor", "-u", "alice:right-password", s.URL}, want: exitOK},
		{name: "a refused request exits 1", args: []string{"doctor", "-u", "alice:wrong", s.URL}, want: exitError},
		{name: "-u without a password reads it from stdin when stdin is not a terminal", stdin: "right-password\n", args: []string{"doctor", "-u", "alice", s.URL}, want: exitOK},
		{name: "an unreachable server exits 2", args: []string{"doctor", "http://" + closed + "/"}, want: exitUsage},
		{name: "a URL without scheme is a usage error", args: []string{"doctor", "example.com"}, want: exitUsage},
		{name: "an unknown format is a usage error", args: []string{"doctor", "--format", "xml", s.URL}, want: exitUsage},
		{name: "a malformed -H is a usage error", args: []string{"doctor", "-H", "no colon", s.URL}, want: exitUsage},
		{name: "--token with -u is a usage error", args: []string{"doctor", "--token", "t", "-u", "a:b", s.URL}, want: exitUsage},
		{name: "no URL is a usage error", args: []string{"doctor"}, want: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, tt.stdin, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colour codes in output that is not a terminal")
			}
			if strings.Contains(out+errOut, "right-password") {
				t.Errorf("the password was printed")
			}
		})
	}
}

func TestDoctorJSONAndEnvironmentCredentials(t *testing.T) {
	t.Setenv("NO_PROXY", "*")
	s := basicServer(t)
	t.Setenv(envDoctorToken, "env-token-0123456789")
	code, out, errOut := cli(t, "", "doctor", "--format", "json", s.URL)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(r.Request.Credentials) != 1 || r.Request.Credentials[0].Kind != "bearer" || strings.Contains(out, "env-token-0123456789") {
		t.Errorf("credentials %+v; the token must be used from %s and never printed", r.Request.Credentials, envDoctorToken)
	}

	t.Setenv(envDoctorToken, "")
	code, out, _ = cli(t, "", "doctor", "--format", "json", "-u", "alice:nope", s.URL)
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitError || r.TopCause().Code != reason.InvalidCredentials {
		t.Errorf("exit %d, top cause %s, err %v", code, r.TopCause().Code, err)
	}
}

func TestDoctorTokenLintsFromStdinAndFiles(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	none := enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"iss":"i","sub":"s","aud":"a","exp":4102444800}`)) + "."
	code, out, _ := cli(t, none+"\n", "doctor", "token")
	if code != exitError || !strings.Contains(out, string(reason.TokenAlgorithm)) {
		t.Errorf("alg none from stdin: exit %d\n%s", code, out)
	}
	iat := time.Now().Unix()
	good := enc([]byte(`{"alg":"ES256","kid":"k"}`)) + "." + enc(fmt.Appendf(nil, `{"iss":"i","sub":"s","aud":"a","iat":%d,"exp":%d}`, iat, iat+3600)) + "." + enc(make([]byte, 64))
	f := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(f, []byte(good+"\n"), 0o600)
	if code, out, _ := cli(t, "", "doctor", "token", f, "--format", "json"); code != exitOK || !json.Valid([]byte(out)) {
		t.Errorf("a good token from a file: exit %d\n%s", code, out)
	}
	if code, _, _ := cli(t, "", "doctor", "token"); code != exitUsage {
		t.Errorf("no token: exit %d, want %d", code, exitUsage)
	}
}
