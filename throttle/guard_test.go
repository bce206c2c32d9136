package throttle_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/sqlite"
	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/throttle/limitertest"
)

// guardRules are small limits so that each case reaches them in a few
// attempts: a pair locks after 3, the whole account after 7 (so after
// failures from at least 3 sources), an address after 10.
var guardRules = throttle.Rules{
	throttle.KindPair:       {Limit: 3, Window: 15 * time.Minute, Lock: time.Hour, FreeFailures: 1, Delay: 500 * time.Millisecond, MaxDelay: time.Second},
	throttle.KindUser:       {Limit: 7, Window: time.Hour, Lock: 30 * time.Minute},
	throttle.KindAddress:    {Limit: 10, Window: 10 * time.Minute},
	throttle.KindNetwork:    {Limit: 12, Window: 10 * time.Minute},
	throttle.KindCredential: {Limit: 4, Window: 10 * time.Minute},
}

// guardFixture is a Guard on one backend with a real SQLite user store
// holding alice, and a clock the test moves.
type guardFixture struct {
	g     *throttle.Guard
	l     throttle.Limiter
	store *sqlite.Store
	now   time.Time
}

func newGuardFixture(t *testing.T, l throttle.Limiter, exempt ...netip.Prefix) *guardFixture {
	t.Helper()
	f := &guardFixture{l: l, now: limitertest.T0}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "users.db"), sqlite.Options{Now: func() time.Time { return f.now }, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := passhash.Hash("Correct-Horse 1", passhash.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(context.Background(), "alice", h, nil); err != nil {
		t.Fatal(err)
	}
	f.store = st
	f.g = throttle.NewGuard(l, throttle.GuardOptions{Rules: guardRules, Exempt: exempt, Users: st, Locker: st})
	return f
}

func basicFrom(user, src, fingerprint string) throttle.Attempt {
	return throttle.Attempt{Method: authgate.MethodBasic, User: user, Source: netip.MustParseAddr(src), Fingerprint: fingerprint}
}

// fail counts a failed attempt a second after the previous one.
func (f *guardFixture) fail(t *testing.T, a throttle.Attempt) (time.Duration, []authgate.Check) {
	t.Helper()
	f.now = f.now.Add(time.Second)
	return f.g.Failed(context.Background(), a, f.now)
}

// check runs Check and gives the attempt's turn back at once, as the
// engine does once it has counted the attempt.
func (f *guardFixture) check(a throttle.Attempt) throttle.Outcome {
	o := f.g.Check(context.Background(), a, f.now)
	o.Release()
	return o
}

// failingCheck returns the one check naming the outcome's reason.
func failingCheck(t *testing.T, o throttle.Outcome) authgate.Check {
	t.Helper()
	var found []authgate.Check
	for _, c := range o.Checks {
		if c.Reason != "" {
			found = append(found, c)
		}
	}
	if len(found) != 1 || found[0].Reason != o.Reason || found[0].Result != authgate.Fail {
		t.Fatalf("want exactly one failing check naming %s, got %+v", o.Reason, o.Checks)
	}
	return found[0]
}

func TestGuardMemory(t *testing.T) {
	runGuardSuite(t, func(t *testing.T) throttle.Limiter { return newTestMemory(t, guardRules) })
}

func TestGuardRedis(t *testing.T) {
	runGuardSuite(t, func(t *testing.T) throttle.Limiter { return newTestRedis(t, guardRules) })
}

func runGuardSuite(t *testing.T, newLimiter func(*testing.T) throttle.Limiter) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *guardFixture)
	}{
		{"a flood from one source locks that source out of the account, not other sources", floodLocksPairOnly},
		{"failures from several sources lock the whole account and record it in the store", distributedLocksAccount},
		{"an admin unlock lifts counter locks that began before it", unlockLiftsCounterLocks},
		{"a lock recorded in the store holds even when the counters forgot it", storeLockOutlivesCounters},
		{"a success clears the user's counters but not the source's", successResetsUserOnly},
		{"the same wrong credential is refused before it is checked once over its limit", credentialLimit},
		{"one address over its limit is refused passwords for every user, not its valid keys and tokens", addressLimit},
		{"an IPv6 source rotating addresses within its /64 meets the network limit", networkLimit},
		{"API keys and tokens meet only their credential counter; sessions meet none", nonGuessable},
		{"wrong 2-step codes have counters of their own that a right password does not clear", codeCounters},
		{"attempts for one user wait for each other's turn", turnsSerialise},
		{"failures past the free ones are delayed, doubling up to the cap", progressiveDelay},
		{"a name that looks like a secret is digested before it is counted", secretLikeName},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newGuardFixture(t, newLimiter(t))) })
	}
	t.Run("exempt networks are neither counted nor refused", func(t *testing.T) {
		f := newGuardFixture(t, newLimiter(t), netip.MustParsePrefix("10.0.0.0/8"))
		a := basicFrom("alice", "10.1.2.3", "fp-exempt")
		for range 20 {
			if _, checks := f.fail(t, a); len(checks) != 0 {
				t.Fatalf("an exempt failure was counted: %+v", checks)
			}
		}
		o := f.check(a)
		if o.Reason != "" || len(o.Checks) != 1 || o.Checks[0].Result != authgate.Skip {
			t.Errorf("exempt source: %+v, want one skip check and no reason", o)
		}
	})
}

func floodLocksPairOnly(t *testing.T, f *guardFixture) {
	a := basicFrom("alice", "203.0.113.5", "fp-1")
	for i := range 3 {
		if o := f.check(a); o.Reason != "" {
			t.Fatalf("attempt %d refused before the limit: %s", i+1, o.Reason)
		}
		f.fail(t, basicFrom("alice", "203.0.113.5", "fp-"+string(rune('a'+i))))
	}
	o := f.check(a)
	if o.Reason != reason.AccountLockedFromSource || o.RetryAfter <= 0 {
		t.Fatalf("after 3 failures from one source: %s (retry %v), want account_locked_from_source with a Retry-After", o.Reason, o.RetryAfter)
	}
	if c := failingCheck(t, o); !strings.Contains(c.Detail, "203.0.113.5") {
		t.Errorf("the failing check does not name the source: %q", c.Detail)
	}
	if o := f.check(basicFrom("alice", "198.51.100.7", "fp-2")); o.Reason != "" {
		t.Errorf("alice from another source: %s, want allowed to try", o.Reason)
	}
	u, _ := f.store.User(context.Background(), "alice")
	if u.Locked(f.now) {
		t.Errorf("a flood from one source locked the whole account in the store")
	}
}

func distributedLocksAccount(t *testing.T, f *guardFixture) {
	var locking []authgate.Check
	for i, src := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		for j := range 3 {
			if i == 2 && j == 0 {
				// the 7th failure: 3 + 3 + 1
				_, locking = f.fail(t, basicFrom("alice", src, "fp-"+src+string(rune('a'+j))))
				break
			}
			f.fail(t, basicFrom("alice", src, "fp-"+src+string(rune('a'+j))))
		}
	}
	if !hasCheck(locking, "throttle.user", "locked the whole account") {
		t.Errorf("the 7th failure's trace does not say it locked the account: %+v", locking)
	}
	u, err := f.store.User(context.Background(), "alice")
	if err != nil || !u.Locked(f.now) || !strings.Contains(u.LockCause, "from at least 3 sources") {
		t.Fatalf("store: %+v, %v; want alice locked with the cause naming several sources", u, err)
	}
	o := f.check(basicFrom("alice", "192.0.2.99", "fp-new"))
	if o.Reason != reason.AccountLocked || o.RetryAfter < 29*time.Minute {
		t.Errorf("a fresh source after the account lock: %s, retry %v; want account_locked for about 30 minutes", o.Reason, o.RetryAfter)
	}
}

func unlockLiftsCounterLocks(t *testing.T, f *guardFixture) {
	distributedLocksAccount(t, f)
	src := basicFrom("alice", "203.0.113.1", "fp-x")
	if o := f.check(src); o.Reason == "" {
		t.Fatal("alice is not locked before the unlock")
	}
	f.now = f.now.Add(time.Second)
	if was, err := f.store.UnlockUser(context.Background(), "alice"); err != nil || !was {
		t.Fatalf("UnlockUser: %v, %v", was, err)
	}
	f.now = f.now.Add(time.Second)
	o := f.check(src)
	if o.Reason != "" {
		t.Fatalf("after the unlock: %s, want the attempt let through", o.Reason)
	}
	if !hasCheck(o.Checks, "throttle.", "lifted by the admin unlock") {
		t.Errorf("the trace does not say the unlock lifted a block: %+v", o.Checks)
	}
	// The reset is real: a later failure starts counting from one.
	if _, checks := f.fail(t, src); !hasCheck(checks, "throttle.count", "pair 1/3") {
		t.Errorf("after the unlock the pair counter did not restart: %+v", checks)
	}
}

func storeLockOutlivesCounters(t *testing.T, f *guardFixture) {
	until := f.now.Add(time.Hour)
	if err := f.store.LockUser(context.Background(), "alice", until, "locked by a test"); err != nil {
		t.Fatal(err)
	}
	o := f.check(basicFrom("alice", "192.0.2.1", "fp"))
	if o.Reason != reason.AccountLocked || o.RetryAfter != time.Hour {
		t.Fatalf("%s retry %v, want account_locked for 1h", o.Reason, o.RetryAfter)
	}
	if c := failingCheck(t, o); !strings.Contains(c.Detail, "locked by a test") {
		t.Errorf("the trace does not give the lock's cause: %q", c.Detail)
	}
	if o := f.check(basicFrom("bob", "192.0.2.1", "fp")); o.Reason != "" {
		t.Errorf("another user: %s, want let through", o.Reason)
	}
}

func successResetsUserOnly(t *testing.T, f *guardFixture) {
	a := basicFrom("alice", "203.0.113.9", "fp-bad")
	f.fail(t, a)
	f.fail(t, a)
	f.g.Succeeded(context.Background(), basicFrom("alice", "203.0.113.9", "fp-good"))
	_, checks := f.fail(t, a)
	if !hasCheck(checks, "throttle.count", "user 1/7") || !hasCheck(checks, "throttle.count", "pair 1/3") || !hasCheck(checks, "throttle.count", "address 3/10") {
		t.Errorf("after a success: %+v; want user and pair back at 1, the address still at 3", checks)
	}
}

func credentialLimit(t *testing.T, f *guardFixture) {
	key := throttle.Attempt{Method: authgate.MethodAPIKey, Source: netip.MustParseAddr("198.51.100.20"), Fingerprint: "fp-stale-key"}
	for range 4 {
		f.fail(t, key)
	}
	o := f.check(key)
	if o.Reason != reason.TooManyFailuresCredential {
		t.Fatalf("after 4 failures of one key: %s, want too_many_failures_credential", o.Reason)
	}
	other := key
	other.Fingerprint = "fp-new-key"
	if o := f.check(other); o.Reason != "" {
		t.Errorf("the same client with another key: %s, want let through", o.Reason)
	}
}

func addressLimit(t *testing.T, f *guardFixture) {
	for i := range 10 {
		f.fail(t, basicFrom("user"+string(rune('a'+i)), "192.0.2.50", "fp"+string(rune('a'+i))))
	}
	o := f.check(basicFrom("alice", "192.0.2.50", "fp-alice"))
	if o.Reason != reason.TooManyFailures {
		t.Fatalf("a password from the address over its limit: %s, want too_many_failures", o.Reason)
	}
	failingCheck(t, o)
	for _, m := range []authgate.Method{authgate.MethodBearer, authgate.MethodAPIKey, authgate.MethodSession} {
		if o := f.check(throttle.Attempt{Method: m, Source: netip.MustParseAddr("192.0.2.50"), Fingerprint: "fp-" + string(m)}); o.Reason != "" {
			t.Errorf("a %s from the address over its limit: %s, want let through (nothing to guess)", m, o.Reason)
		}
	}
}

func nonGuessable(t *testing.T, f *guardFixture) {
	key := throttle.Attempt{Method: authgate.MethodAPIKey, Source: netip.MustParseAddr("198.51.100.30"), Fingerprint: "fp-stale"}
	_, checks := f.fail(t, key)
	if !hasCheck(checks, "throttle.count", "credential 1/4") || hasCheck(checks, "throttle.count", "address") {
		t.Errorf("a wrong API key counted %+v, want its credential only", checks)
	}
	sess := throttle.Attempt{Method: authgate.MethodSession, Source: netip.MustParseAddr("198.51.100.30"), Fingerprint: "fp-cookie"}
	if _, checks := f.fail(t, sess); len(checks) != 0 {
		t.Errorf("an ended session counted %+v, want nothing", checks)
	}
}

func codeCounters(t *testing.T, f *guardFixture) {
	code := throttle.Attempt{Method: authgate.MethodTOTP, User: "alice", Source: netip.MustParseAddr("203.0.113.40")}
	f.fail(t, code)
	f.fail(t, code)
	f.g.Succeeded(context.Background(), basicFrom("alice", "203.0.113.40", "fp-right-password"))
	_, checks := f.fail(t, code)
	if !hasCheck(checks, "throttle.count", "user 3/7") || !hasCheck(checks, "throttle.count", "pair 3/3") {
		t.Fatalf("after a right password the code counters say %+v, want 3 (not cleared)", checks)
	}
	if o := f.check(code); o.Reason != reason.AccountLockedFromSource {
		t.Errorf("a fourth code from the source: %s, want account_locked_from_source", o.Reason)
	}
	if o := f.check(basicFrom("alice", "203.0.113.40", "fp-pw")); o.Reason != "" {
		t.Errorf("a password from the same source: %s; the code counters must not block passwords", o.Reason)
	}
}

func turnsSerialise(t *testing.T, f *guardFixture) {
	a := basicFrom("alice", "203.0.113.41", "fp")
	first := f.g.Check(context.Background(), a, f.now)
	done := make(chan throttle.Outcome)
	go func() { done <- f.g.Check(context.Background(), a, f.now) }()
	select {
	case o := <-done:
		t.Fatalf("a second attempt did not wait for the first: %+v", o)
	case <-time.After(50 * time.Millisecond):
	}
	f.g.Failed(context.Background(), a, f.now)
	first.Release()
	second := <-done
	second.Release()
	if second.Reason != "" || !hasCheck(second.Checks, "throttle", "no failure counter") {
		t.Errorf("the second attempt after the first was counted: %+v", second)
	}
}

func networkLimit(t *testing.T, f *guardFixture) {
	for i := range 12 {
		src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, byte(i + 1)})
		f.fail(t, basicFrom("user"+string(rune('a'+i)), src.String(), "fp"+src.String()))
	}
	o := f.check(basicFrom("alice", "2001:db8:0:7::ffff", "fp-fresh"))
	if o.Reason != reason.TooManyFailures || !strings.Contains(failingCheck(t, o).Detail, "2001:db8:0:7::/64") {
		t.Errorf("a fresh address in the same /64: %+v, want too_many_failures naming the network", o)
	}
}

func progressiveDelay(t *testing.T, f *guardFixture) {
	var got []time.Duration
	for i := range 3 {
		d, _ := f.fail(t, basicFrom("alice", "203.0.113.77", "fp"+string(rune('a'+i))))
		got = append(got, d)
	}
	want := []time.Duration{0, 500 * time.Millisecond, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delays %v, want %v", got, want)
			break
		}
	}
}

func secretLikeName(t *testing.T, f *guardFixture) {
	secret := "Zq8vR2mK9xLw4NcT7bYp3sHd" // a password typed into the name field
	a := basicFrom(secret, "203.0.113.88", "fp")
	_, checks := f.fail(t, a)
	for range 2 {
		f.fail(t, a)
	}
	o := f.check(a)
	if o.Reason != reason.AccountLockedFromSource {
		t.Fatalf("%s, want the digested name counted like any other", o.Reason)
	}
	for _, c := range append(checks, o.Checks...) {
		if strings.Contains(c.Detail, secret) {
			t.Errorf("a trace check holds the secret-like name: %q", c.Detail)
		}
	}
}

func hasCheck(checks []authgate.Check, name, detail string) bool {
	for _, c := range checks {
		if strings.HasPrefix(c.Name, name) && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

func TestGuardKeepsSecretsOutOfRedis(t *testing.T) {
	c, prefix := testRedis(t)
	l, err := throttle.NewRedis(c, guardRules, throttle.RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	f := newGuardFixture(t, l)
	secret := "Zq8vR2mK9xLw4NcT7bYp3sHd"
	f.fail(t, basicFrom(secret, "203.0.113.88", "fp"))
	keys := redisKeys(t, c, prefix)
	if len(keys) == 0 {
		t.Fatal("no counter was written")
	}
	for _, k := range keys {
		if strings.Contains(k, secret) {
			t.Errorf("Redis key %q holds the secret-like user name", k)
		}
	}
}

func TestGuardLetsAttemptsThroughWhenTheLimiterCannotAnswer(t *testing.T) {
	l, err := throttle.NewRedis(newTestClient(t, closedAddr(t)), guardRules, throttle.RedisOptions{Prefix: "authgate-test:closed:", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := throttle.NewGuard(l, throttle.GuardOptions{Rules: guardRules})
	o := g.Check(context.Background(), basicFrom("alice", "192.0.2.1", "fp"), limitertest.T0)
	if o.Reason != "" {
		t.Fatalf("%s, want the attempt let through", o.Reason)
	}
	if !hasCheck(o.Checks, "throttle.", "not checked") {
		t.Errorf("the trace does not say the counters were not checked: %+v", o.Checks)
	}
}

// TestGuardRecordsALockWhenTheClientHasGone: attack tools hang up on slow
// answers; the lock their failures earned must still reach the store.
func TestGuardRecordsALockWhenTheClientHasGone(t *testing.T) {
	f := newGuardFixture(t, newTestMemory(t, guardRules))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i, src := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		for j := range 3 {
			if i == 2 && j == 1 {
				break
			}
			f.now = f.now.Add(time.Second)
			f.g.Failed(ctx, basicFrom("alice", src, "fp-"+src+string(rune('a'+j))), f.now)
		}
	}
	if u, err := f.store.User(context.Background(), "alice"); err != nil || !u.Locked(f.now) {
		t.Fatalf("the account lock of a cancelled request was not recorded: %+v, %v", u.LockedUntil, err)
	}
}

// TestGuardRefusesAnAttemptThatWaitedTooLongForItsTurn: while another
// attempt for the same user holds the turn past TurnWait, the next one is
// password_check_busy (503), never let through unchecked.
func TestGuardRefusesAnAttemptThatWaitedTooLongForItsTurn(t *testing.T) {
	g := throttle.NewGuard(newTestMemory(t, guardRules), throttle.GuardOptions{Rules: guardRules, TurnWait: 20 * time.Millisecond})
	a := basicFrom("alice", "203.0.113.42", "fp")
	first := g.Check(context.Background(), a, limitertest.T0)
	defer first.Release()
	second := g.Check(context.Background(), a, limitertest.T0)
	second.Release()
	if second.Reason != reason.PasswordCheckBusy || second.RetryAfter <= 0 {
		t.Fatalf("%+v, want password_check_busy with a Retry-After", second)
	}
	failingCheck(t, second)
	if other := g.Check(context.Background(), basicFrom("bob", "203.0.113.42", "fp2"), limitertest.T0); other.Reason != "" {
		t.Errorf("another user waited for alice's turn: %s", other.Reason)
	} else {
		other.Release()
	}
}
