package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
)

func TestStuffingPlanSpreadsAttemptsEvenlyOverUsersAndSources(t *testing.T) {
	o := StuffingOptions{Attempts: 1000, Users: 40, Sources: 300}
	plan := stuffingPlan(o)
	perUser, perSource, passwords := map[string]int{}, map[string]int{}, map[string]bool{}
	for _, a := range plan {
		perUser[a.user]++
		perSource[a.source.String()]++
		passwords[a.password] = true
		if !attackNetwork.Contains(a.source) {
			t.Errorf("source %s is outside %s", a.source, attackNetwork)
		}
	}
	if len(perUser) != 40 || len(perSource) != 300 || len(passwords) != 1000 {
		t.Fatalf("%d users, %d sources, %d distinct passwords; want 40, 300, 1000", len(perUser), len(perSource), len(passwords))
	}
	for u, n := range perUser {
		if n != 25 {
			t.Errorf("user %s gets %d attempts, want 25", u, n)
		}
	}
	for s, n := range perSource {
		if n < 3 || n > 4 {
			t.Errorf("source %s sends %d attempts, want 3 or 4", s, n)
		}
	}
	if perUser[legitUser] != 0 {
		t.Errorf("the legitimate user is attacked without -stuffing-target-legit")
	}
	o.TargetLegit = true
	if n := strings.Count(strings.Join(targetNames(o), " "), legitUser); n != 1 {
		t.Errorf("with TargetLegit the legitimate user is among the targets %d times, want once", n)
	}
	if again := stuffingPlan(StuffingOptions{Attempts: 1000, Users: 40, Sources: 300}); !slices.Equal(plan, again) {
		t.Errorf("two plans of the same options differ, so runs do not compare")
	}
}

func TestStuffingConfigurationKeepsTheThrottlingDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authgate.yaml")
	if err := os.WriteFile(path, []byte(stuffingConfig("http://127.0.0.1:9999", 4096, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the stuffing configuration does not load: %v", err)
	}
	if !cfg.Throttle.Enabled || len(cfg.Throttle.ExemptNetworks) != 0 || !cmp.Equal(cfg.Throttle.Rules, config.DefaultThrottleRules()) {
		t.Errorf("throttle enabled %v, exempt %v, rules %+v; want the defaults, nothing exempt", cfg.Throttle.Enabled, cfg.Throttle.ExemptNetworks, cfg.Throttle.Rules)
	}
	if !slices.Equal(cfg.TrustedProxies, config.DefaultTrustedProxies()) {
		t.Errorf("trusted proxies %v, want the default (loopback), which X-Forwarded-For from the attack relies on", cfg.TrustedProxies)
	}
	if a := cfg.Passwords.Argon2; a.MemoryKiB != 4096 || a.Iterations != 1 {
		t.Errorf("argon2 %+v, want 4096 KiB and 1 iteration", a)
	}
	if r := cfg.Route("app"); r == nil || r.Detail != config.DetailVerbose {
		t.Errorf("route app = %+v, want a verbose route, so the answers name the precise reason", r)
	}
}

func TestStuffingRowClassifiesReasonsAndMarksMisses(t *testing.T) {
	res := &StuffingResult{
		Options: StuffingOptions{Attempts: 100, Users: 5, Sources: 10, MemoryKiB: 4096, Iterations: 1},
		Idle:    &LoadResult{Requests: 50},
		Busy:    &LoadResult{Requests: 40, Errors: 1, Statuses: map[int]uint64{200: 39, 429: 1}},
		Attack: &attackResult{Sent: 100, Wall: 2 * time.Second, Answers: map[answer]uint64{
			{429, "account_locked"}: 50, {401, "password_wrong"}: 30, abandoned: 19, undelivered: 1,
		}},
		Log: &stuffingOutcome{ByReason: map[reason.Code]int64{
			reason.AccountLocked: 50, reason.TooManyFailures: 5, reason.PasswordWrong: 40, reason.PasswordCheckBusy: 3,
		}, Logged: 98, Refused: 5, Locked: 5},
	}
	row := newStuffingRow(res)
	got := map[string]int64{"before": row.RefusedBeforeHash, "hashed": row.Hashed, "busy": row.Busy, "other": row.Other, "difference": row.Difference}
	want := map[string]int64{"before": 55, "hashed": 40, "busy": 3, "other": 0, "difference": 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if row.AttemptsPerS != 50 || row.Answers["abandoned unanswered"] != 19 || row.Undelivered != 1 {
		t.Errorf("%.0f attempts/s, %d abandoned, %d undelivered; want 50, 19, 1", row.AttemptsPerS, row.Answers["abandoned unanswered"], row.Undelivered)
	}
	if m := row.misses(); len(m) != 2 || !strings.Contains(m[0], "39 of 40") || !strings.Contains(m[1], "2 unaccounted") {
		t.Errorf("misses %q, want the refused legitimate sign-in and the 2 attempts unaccounted for", m)
	}
}

func TestOnlyStuffingNeedsNoMainGateway(t *testing.T) {
	for pattern, want := range map[string]bool{"stuffing": false, "proxy/api_key$": true, "isolation": true, "log-": true, "stuffing|jwt-EdDSA": true} {
		if got := wantsMainGateway(options{run: regexp.MustCompile(pattern), isolation: true}); got != want {
			t.Errorf("-run %q: main gateway %v, want %v", pattern, got, want)
		}
	}
}

// TestStuffingInMiniature runs the whole scenario against the real binary,
// built for the test, with a few hundred attempts: every attempt must be
// in the sign-in log, and the legitimate client must never be refused.
func TestStuffingInMiniature(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the authgate binary and runs a gateway")
	}
	dir := t.TempDir()
	binary := filepath.Join(dir, "authgate")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/authgate/authgate/cmd/authgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	up := httptest.NewServer(upstreamHandler())
	defer up.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// 20 attempts per user lock it (the user rule's limit); 40 each leaves
	// room for refusals before hashing. 40 sources keep each under the
	// address rule's free failures, so few answers are delayed; a patience
	// shorter than the pair rule's first delay drops those few unanswered.
	o := StuffingOptions{Attempts: 400, Users: 10, Sources: 40, Conns: 16, MaxTime: time.Minute, Patience: 300 * time.Millisecond,
		LegitRate: 20, Idle: time.Second, MemoryKiB: 1024, Iterations: 1}
	res, err := measureStuffing(ctx, binary, dir, up.URL, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	row := newStuffingRow(res)
	var report strings.Builder
	row.writeText(&report)
	t.Log(report.String())
	if row.Sent != 400 || row.Difference != 0 {
		t.Errorf("%d attempts sent, %d in the sign-in log, %d dropped: difference %d, want 400 sent and 0", row.Sent, row.LoggedTotal, row.Dropped, row.Difference)
	}
	if row.LegitRequests == 0 || row.LegitOK != row.LegitRequests || row.IdleErrors != 0 {
		t.Errorf("the legitimate client signed in %d of %d times during the attack (%v), %d errors before", row.LegitOK, row.LegitRequests, row.LegitStatuses, row.IdleErrors)
	}
	if row.RefusedBeforeHash == 0 || row.Hashed < 200 || row.AccountsLocked == 0 {
		t.Errorf("%d refused before hashing, %d hashed, %d accounts locked; want refusals, at least 200 hashed (20 per user) and locks\nsign-in log: %v",
			row.RefusedBeforeHash, row.Hashed, row.AccountsLocked, row.Logged)
	}
}
