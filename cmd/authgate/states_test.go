package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/internal/pgtest"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
)

// stateStores are the user and key stores the state commands are run
// against: the same steps must behave the same on both.
var stateStores = []struct {
	name   string
	config func(t *testing.T) string
}{
	{"sqlite", writeConfig},
	{"postgres", func(t *testing.T) string {
		path := writeConfig(t)
		dsn := pgtest.NewDatabase(t, "authgate_cli")
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("store: {type: postgres, postgres_dsn: \"" + dsn + "\"}\n"); err != nil {
			t.Fatal(err)
		}
		return path
	}},
}

// step is one command line and what it must print.
type step struct {
	name   string
	stdin  string
	args   []string
	code   int
	stdout string // must contain
	stderr string // must contain
}

func runSteps(t *testing.T, cfg string, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := cli(t, s.stdin, append(s.args, "--config", cfg)...)
			if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, s.code, out, s.stdout, errOut, s.stderr)
			}
		})
	}
}

func TestUserStateCommands(t *testing.T) {
	for _, st := range stateStores {
		t.Run(st.name, func(t *testing.T) {
			runSteps(t, st.config(t), []step{
				{"add alice", "s3cret pw\n", []string{"users", "add", "alice"}, 0, "user alice added", ""},
				{"disable alice", "", []string{"users", "disable", "alice"}, 0, "user alice disabled", ""},
				{"disabling her again is refused and says since when", "", []string{"users", "disable", "alice"}, exitUsage, "", "already disabled (since"},
				{"show says disabled", "", []string{"users", "show", "alice"}, 0, "disabled", ""},
				{"list shows the state", "", []string{"users", "list"}, 0, "disabled", ""},
				{"enable alice", "", []string{"users", "enable", "alice"}, 0, "user alice enabled", ""},
				{"enabling her again is refused", "", []string{"users", "enable", "alice"}, exitUsage, "", "is not disabled"},
				{"unlocking an unlocked user says so", "", []string{"users", "unlock", "alice"}, 0, "had no account lock", ""},
				{"unlocking an unknown user names the fix", "", []string{"users", "unlock", "nobody"}, exitUsage, "", "authgate users add nobody"},
				{"disabling an unknown user is refused", "", []string{"users", "disable", "nobody"}, exitUsage, "", "nobody"},
				{"expire alice's password", "", []string{"users", "expire-password", "alice"}, 0, "must change its password", ""},
				{"show says she must change it", "", []string{"users", "show", "alice"}, 0, "must change password", ""},
				{"expiring it twice is refused", "", []string{"users", "expire-password", "alice"}, exitUsage, "", "already change"},
				{"a new password clears it", "n3w pw\n", []string{"users", "set-password", "alice"}, 0, "password of alice changed", ""},
				{"show says active again, with no sign-in yet", "", []string{"users", "show", "alice"}, 0, "none in the sign-in log", ""},
				{"show of an unknown user is refused", "", []string{"users", "show", "nobody"}, exitUsage, "", "nobody"},
				{"show says 2-step verification is off", "", []string{"users", "show", "alice"}, 0, "2-step verification  off", ""},
				{"resetting 2-step of a user without it is refused", "", []string{"users", "reset-2fa", "alice"}, exitUsage, "", "no second factor"},
				{"sign-out ends her sessions", "", []string{"users", "sign-out", "alice"}, 0, "every session of alice ended", ""},
				{"show says when", "", []string{"users", "show", "alice"}, 0, "sessions ended", ""},
				{"sign-out of an unknown user is refused", "", []string{"users", "sign-out", "nobody"}, exitUsage, "", "nobody"},
			})
		})
	}
}

func TestUsersShowAndUnlockAfterALock(t *testing.T) {
	cfg := writeConfig(t)
	if code, _, e := cli(t, "pw\n", "users", "add", "bob", "--config", cfg); code != 0 {
		t.Fatal(e)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenAccounts(context.Background(), c, server.AccountsOptions{OneShot: true})
	if err != nil {
		t.Fatal(err)
	}
	// What a gateway records when failures from several sources lock him.
	if err := st.LockUser(context.Background(), "bob", time.Now().Add(time.Hour), "20 failed sign-ins within 1h0m0s from at least 4 sources"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	runSteps(t, cfg, []step{
		{"show gives the lock's end and cause", "", []string{"users", "show", "bob"}, 0, "from at least 4 sources", ""},
		{"list says locked", "", []string{"users", "list"}, 0, "locked", ""},
		{"unlock ends it", "", []string{"users", "unlock", "bob"}, 0, "user bob unlocked", ""},
		{"show no longer says locked, and says when he was unlocked", "", []string{"users", "show", "bob"}, 0, "last unlocked", ""},
	})
	if _, out, _ := cli(t, "", "users", "show", "bob", "--config", cfg); strings.Contains(out, "from at least 4 sources") {
		t.Errorf("the lock is still shown after unlock:\n%s", out)
	}
}

func TestKeyStateCommands(t *testing.T) {
	keyRE := regexp.MustCompile(`agk_([a-z2-7]{12})_`)
	for _, st := range stateStores {
		t.Run(st.name, func(t *testing.T) {
			cfg := st.config(t)
			_, out, _ := cli(t, "", "keys", "create", "--owner", "svc", "--config", cfg)
			m := keyRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("create printed %q", out)
			}
			id := m[1]
			runSteps(t, cfg, []step{
				{"show an active key", "", []string{"keys", "show", id}, 0, "active", ""},
				{"disable it", "", []string{"keys", "disable", id}, 0, "key " + id + " disabled", ""},
				{"list says disabled", "", []string{"keys", "list"}, 0, "active, disabled", ""},
				{"disabling it again is refused", "", []string{"keys", "disable", id}, exitUsage, "", "already disabled"},
				{"enable it", "", []string{"keys", "enable", id}, 0, "key " + id + " enabled", ""},
				{"show of an unknown key names the fix", "", []string{"keys", "show", "nosuchkeyid0"}, exitUsage, "", "authgate keys list"},
				{"disable before revoking", "", []string{"keys", "disable", id}, 0, "disabled", ""},
				{"revoke it", "", []string{"keys", "revoke", id}, 0, "revoked", ""},
				{"a revoked key cannot be enabled", "", []string{"keys", "enable", id}, exitUsage, "", "revoked"},
			})
		})
	}
}

// TestKeysShowCountsUsesOfARotatedOutKey checks that `keys show` and
// `keys list` read the sign-in log: when the new key was last used, and how
// often the old one was still presented after its rotation.
func TestKeysShowCountsUsesOfARotatedOutKey(t *testing.T) {
	cfg := writeConfig(t)
	keyRE := regexp.MustCompile(`agk_([a-z2-7]{12})_`)
	_, out, _ := cli(t, "", "keys", "create", "--owner", "billing", "--config", cfg)
	old := keyRE.FindStringSubmatch(out)[1]
	_, out, _ = cli(t, "", "keys", "rotate", old, "--overlap", "1h", "--config", cfg)
	successor := keyRE.FindStringSubmatch(out)[1]

	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	events, err := server.OpenEventStore(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ds []*authgate.Decision
	for i := range 3 {
		ds = append(ds, &authgate.Decision{RequestID: "old" + string(rune('a'+i)), Time: now.Add(time.Duration(i) * time.Second), Method: authgate.MethodAPIKey,
			Claimed: old, Reason: reason.KeyRotated, Status: 401, Source: netip.MustParseAddr("192.0.2.7")})
	}
	ds = append(ds, &authgate.Decision{RequestID: "old-in-overlap", Time: now, Method: authgate.MethodAPIKey, Claimed: old, Allowed: true, Status: 200,
		Principal: &authgate.Principal{Subject: "billing", Method: authgate.MethodAPIKey, KeyID: old}, Source: netip.MustParseAddr("192.0.2.7")})
	ds = append(ds, &authgate.Decision{RequestID: "new", Time: now, Method: authgate.MethodAPIKey, Claimed: successor, Allowed: true, Status: 200,
		Principal: &authgate.Principal{Subject: "billing", Method: authgate.MethodAPIKey, KeyID: successor}, Source: netip.MustParseAddr("192.0.2.8")})
	if err := events.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	events.Close()

	runSteps(t, cfg, []step{
		{"the old key's uses since its rotation", "", []string{"keys", "show", old}, 0, "presented 4 time(s) since its rotation, 3 of them refused as key_rotated", ""},
		{"the old key's refusals over the last day", "", []string{"keys", "show", old}, 0, "3 key_rotated", ""},
		{"the new key's last success names the request", "", []string{"keys", "show", successor}, 0, "(request new)", ""},
		{"list says who still presents the old key", "", []string{"keys", "list"}, 0, "presented 4 time(s) since its rotation", ""},
	})
	if _, out, _ := cli(t, "", "keys", "list", "--config", cfg); !strings.Contains(out, successor) || strings.Count(out, stamp(now)) < 1 {
		t.Errorf("list does not show the successor's last use:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "signinlog.db")); err != nil {
		t.Errorf("the sign-in log was not where the configuration says: %v", err)
	}
}
