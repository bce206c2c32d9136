package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/doctor"
	"github.com/authgate/authgate/reason"
)

// TestDoctorAgainstNginxAuthBasic runs `authgate doctor`'s diagnosis
// against a server no one here wrote: Debian's nginx with auth_basic and a
// users file made by htpasswd (apache2-utils).
func TestDoctorAgainstNginxAuthBasic(t *testing.T) {
	nginx := requireTool(t, "nginx", "/usr/sbin/nginx", "nginx-light")
	htpasswd := requireTool(t, "htpasswd", "/usr/bin/htpasswd", "apache2-utils")
	dir := t.TempDir()
	users := filepath.Join(dir, "htpasswd")
	const password = "staff-Password-7"
	cmd := exec.Command(htpasswd, "-c", "-B", "-i", users, "alice")
	cmd.Stdin = strings.NewReader(password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("htpasswd: %v\n%s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(dir, "www", "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "www", "reports", "index.html"), "welcome\n")
	listen := freeAddr(t)
	writeFile(t, filepath.Join(dir, "nginx.conf"), fmt.Sprintf(`
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen %[2]s;
        location / {
            auth_basic "Staff only";
            auth_basic_user_file %[3]s;
            # not "return": it runs before the access phase, so
            # auth_basic would never be asked.
            root %[1]s/www;
        }
    }
}
`, dir, listen, users))
	startProcess(t, listen, nil, nginx, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr",
		"-g", fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log stderr info;", dir))
	target := "http://" + listen + "/reports/"

	tests := []struct {
		name    string
		opts    doctor.Options
		outcome doctor.Outcome
		top     reason.Code
	}{
		{name: "the right password gets in", opts: doctor.Options{BasicUser: "alice", BasicPassword: password}, outcome: doctor.Succeeded},
		{name: "no credentials is credentials_missing", outcome: doctor.Failed, top: reason.CredentialsMissing},
		{name: "a wrong password is invalid_credentials", opts: doctor.Options{BasicUser: "alice", BasicPassword: "guess"}, outcome: doctor.Failed, top: reason.InvalidCredentials},
		{name: "an unknown user is invalid_credentials too: nginx does not tell", opts: doctor.Options{BasicUser: "mallory", BasicPassword: password}, outcome: doctor.Failed, top: reason.InvalidCredentials},
		{name: "a bearer token where nginx challenges Basic is scheme_not_accepted", opts: doctor.Options{Token: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}, outcome: doctor.Failed, top: reason.SchemeNotAccepted},
		{name: "Basic credentials without a colon are basic_separator_missing", outcome: doctor.Failed, top: reason.BasicSeparatorMissing,
			opts: doctor.Options{Header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.URL = target
			o.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
			r, err := doctor.Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s; response %+v", r.Outcome, tt.outcome, r.Response)
			}
			if got := r.TopCause().Code; got != tt.top {
				t.Errorf("top cause %q, want %q; causes %+v", got, tt.top, r.Causes)
			}
			if tt.outcome == doctor.Failed {
				if cs := r.Response.Challenges; len(cs) != 1 || !cs[0].Is("Basic") || cs[0].Param("realm") != "Staff only" {
					t.Errorf("challenges %+v, want nginx's Basic realm=\"Staff only\"", cs)
				}
				if r.Response.Authgate != nil || r.ExplainCommand != "" {
					t.Errorf("nginx taken for authgate: %+v", r.Response.Authgate)
				}
			}
		})
	}
}

// requireTool finds a program, or skips the test (fails it when
// AUTHGATE_REQUIRE_INTEGRATION=1) if it is not installed.
func requireTool(t *testing.T, name, usual, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(usual); err == nil {
		return usual
	}
	if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("%s is not installed (not on PATH, not at %s) and AUTHGATE_REQUIRE_INTEGRATION=1: install it (apt-get install %s)", name, usual, pkg)
	}
	t.Skipf("%s is not installed, so doctor is not tested against it; install it (apt-get install %s) and rerun, or set AUTHGATE_REQUIRE_INTEGRATION=1 to make this a failure", name, pkg)
	return ""
}
