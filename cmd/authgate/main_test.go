package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authgate/authgate/reason"
)

// cli runs one command line in-process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// writeConfig writes a minimal valid configuration into a new folder.
func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "authgate.yaml")
	cfg := "data_dir: .\npasswords:\n  argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}\nroutes:\n  - name: app\n    upstream: http://127.0.0.1:9\n    accept: [basic, api_key]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckConfigAndServeReportTheSameFileLineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("routes:\n  - name: app\n    upstreem: http://x\n    accept: [basic]\n  - name: other\n    upstream: not a url\n    accept: []\n    policy: {networks: [10.0.0.300/8]}\n"), 0o600)
	code, _, errCheck := cli(t, "", "check-config", bad)
	if code != exitUsage {
		t.Fatalf("check-config exit %d, want %d; stderr %s", code, exitUsage, errCheck)
	}
	lineRE := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(bad) + `:\d+: .+ — .+$`)
	if n := len(lineRE.FindAllString(errCheck, -1)); n < 3 || !strings.HasPrefix(errCheck, bad+":") {
		t.Errorf("want every problem as FILE:LINE: what — fix, got %d in:\n%s", n, errCheck)
	}
	code, _, errServe := cli(t, "", "serve", "--config", bad)
	if code != exitUsage || errServe != errCheck {
		t.Errorf("serve must refuse with the same message (exit %d):\n%s\nvs\n%s", code, errServe, errCheck)
	}
	code, out, _ := cli(t, "", "check-config", writeConfig(t))
	if code != 0 || !strings.Contains(out, "OK") || !strings.Contains(out, "route app") {
		t.Errorf("a valid file: exit %d, output %q", code, out)
	}
	if code, _, e := cli(t, "", "check-config", filepath.Join(dir, "missing.yaml")); code != exitUsage || !strings.Contains(e, "not found") {
		t.Errorf("a missing file: exit %d, %q", code, e)
	}
}

func TestReasonsPrintsTheWholeCatalogue(t *testing.T) {
	code, out, _ := cli(t, "", "reasons", "--format", "json")
	var rs []reason.Reason
	if code != 0 || json.Unmarshal([]byte(out), &rs) != nil || len(rs) != len(reason.All()) {
		t.Fatalf("exit %d, %d reasons, want %d", code, len(rs), len(reason.All()))
	}
	code, out, _ = cli(t, "", "reasons")
	if code != 0 || !strings.Contains(out, "token_expired") || !strings.Contains(out, "HINT") {
		t.Errorf("table: exit %d", code)
	}
	if code, _, e := cli(t, "", "reasons", "--format", "xml"); code != exitUsage || !strings.Contains(e, "table, json or markdown") {
		t.Errorf("bad format: exit %d %q", code, e)
	}
}

func TestUsersCommands(t *testing.T) {
	cfg := writeConfig(t)
	steps := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string // must contain
		stderr string // must contain
	}{
		{"add reads the password from stdin", "s3cret pw\n", []string{"users", "add", "alice", "--scopes", "read,write"}, 0, "user alice added", ""},
		{"adding the same user again is refused", "x\n", []string{"users", "add", "alice"}, exitUsage, "", "already exists"},
		{"an empty password is refused", "\n", []string{"users", "add", "bob"}, exitUsage, "", "empty password"},
		{"a user name with a colon is refused", "x\n", []string{"users", "add", "b:ob"}, exitUsage, "", "colon"},
		{"set-password on an unknown user is refused", "x\n", []string{"users", "set-password", "nobody"}, exitUsage, "", "authgate users add nobody"},
		{"set-password keeps the old one as previous", "n3w pw\n", []string{"users", "set-password", "alice"}, 0, "password_previous", ""},
		{"list shows alice and not bob", "", []string{"users", "list"}, 0, "alice", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := cli(t, s.stdin, append(s.args, "--config", cfg)...)
			if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, s.code, out, s.stdout, errOut, s.stderr)
			}
			if strings.Contains(out+errOut, "s3cret") || strings.Contains(out+errOut, "n3w pw") {
				t.Errorf("a password was echoed")
			}
		})
	}
	if _, out, _ := cli(t, "", "users", "list", "--config", cfg); strings.Contains(out, "bob") {
		t.Errorf("a refused add left a user behind:\n%s", out)
	}
}

func TestUsersImport(t *testing.T) {
	cfg := writeConfig(t)
	dir := filepath.Dir(cfg)
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	good := filepath.Join(dir, "users.htpasswd")
	os.WriteFile(good, []byte("# nginx users\ncarol:"+strings.Replace(string(h), "$2a$", "$2y$", 1)+"\ndave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600)
	if code, out, e := cli(t, "", "users", "import", good, "--config", cfg); code != 0 || !strings.Contains(out, "2 user(s) added") {
		t.Fatalf("exit %d %q %q", code, out, e)
	}
	bad := filepath.Join(dir, "bad.htpasswd")
	os.WriteFile(bad, []byte("erin:"+string(h)+"\nfrank:plaintextpassword\n"), 0o600)
	code, _, e := cli(t, "", "users", "import", bad, "--config", cfg)
	if code != exitUsage || !strings.Contains(e, ":2:") || strings.Contains(e, "plaintextpassword") {
		t.Errorf("a plain-text line must be refused with its line number and without echoing it: exit %d %q", code, e)
	}
	if _, out, _ := cli(t, "", "users", "list", "--config", cfg); strings.Contains(out, "erin") {
		t.Errorf("a refused import must change nothing:\n%s", out)
	}
	yml := filepath.Join(dir, "users.yaml")
	os.WriteFile(yml, []byte("- name: gina\n  password: from-yaml\n  scopes: [read]\n"), 0o600)
	if code, out, e := cli(t, "", "users", "import", yml, "--config", cfg); code != 0 || !strings.Contains(out, "1 user(s) added") {
		t.Errorf("yaml import: exit %d %q %q", code, out, e)
	}
}

func TestKeysCommands(t *testing.T) {
	cfg := writeConfig(t)
	keyRE := regexp.MustCompile(`^agk_([a-z2-7]{12})_[A-Za-z0-9_-]{43}\n$`)
	if code, _, e := cli(t, "", "keys", "create", "--scopes", "read", "--config", cfg); code != exitUsage || !strings.Contains(e, "--owner is required") {
		t.Errorf("no owner: exit %d %q", code, e)
	}
	if code, _, e := cli(t, "", "keys", "create", "--owner", "svc", "--expires", "soon", "--config", cfg); code != exitUsage || !strings.Contains(e, "90d") {
		t.Errorf("bad --expires: exit %d %q", code, e)
	}
	code, out, _ := cli(t, "", "keys", "create", "--owner", "svc", "--scopes", "read", "--expires", "90d", "--config", cfg)
	m := keyRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create: exit %d, stdout %q is not one key", code, out)
	}
	id := m[1]
	code, out, _ = cli(t, "", "keys", "rotate", id, "--overlap", "1h", "--config", cfg)
	if code != 0 || !keyRE.MatchString(out) {
		t.Fatalf("rotate: exit %d %q", code, out)
	}
	if code, _, e := cli(t, "", "keys", "rotate", id, "--config", cfg); code != exitUsage {
		t.Errorf("rotating a rotated key: exit %d %q", code, e)
	}
	if code, _, e := cli(t, "", "keys", "revoke", "nosuchkeyid0", "--config", cfg); code != exitUsage || !strings.Contains(e, "nosuchkeyid0") {
		t.Errorf("revoking an unknown key: exit %d %q", code, e)
	}
	_, list, _ := cli(t, "", "keys", "list", "--config", cfg)
	if !strings.Contains(list, "rotated") || !strings.Contains(list, "replaced by") || !strings.Contains(list, "active") {
		t.Errorf("list:\n%s", list)
	}
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	if code, _, e := cli(t, "", "serv"); code != exitUsage || !strings.Contains(e, "unknown command") {
		t.Errorf("exit %d %q", code, e)
	}
}
