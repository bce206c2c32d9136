package totp_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/sqlite"
	"github.com/authgate/authgate/verify/totp"
	"github.com/google/go-cmp/cmp"
)

// The user store is the recovery codes' real implementation.
var _ totp.RecoveryCodes = accounts.Store(nil)

// replayCache is an in-memory totp.Replay, standing in for the session
// package's cache (a seam this package may not import). err, when set,
// is what every call returns, as a cache that is down.
type replayCache struct {
	mu   sync.Mutex
	used map[string]time.Time
	err  error
}

func (c *replayCache) UseCode(_ context.Context, user string, step int64, expires time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false, c.err
	}
	k := fmt.Sprintf("%s\x00%d", user, step)
	if _, ok := c.used[k]; ok {
		return false, nil
	}
	if c.used == nil {
		c.used = map[string]time.Time{}
	}
	c.used[k] = expires
	return true, nil
}

// fixture is alice in a real SQLite user store, enrolled with a fresh
// secret and 10 recovery codes, and a Verifier using that store and an
// in-memory replay cache.
type fixture struct {
	v        *totp.Verifier
	key      []byte
	secret   []byte
	user     authgate.User
	recovery []string
	replay   *replayCache
	store    *sqlite.Store
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{key: newGatewayKey(t), secret: newSecret(t), replay: &replayCache{}}
	var err error
	f.store, err = sqlite.Open(filepath.Join(t.TempDir(), "users.db"), sqlite.Options{RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	if err := f.store.AddUser(ctx, "alice", "{SHA}W8r/fyL/UzygmbNAjq2HbA67qac=", nil); err != nil {
		t.Fatal(err)
	}
	sealed, err := totp.NewSealer(f.key).Seal("alice", f.secret)
	if err != nil {
		t.Fatal(err)
	}
	f.recovery, err = totp.NewRecoveryCodes(10)
	if err != nil {
		t.Fatal(err)
	}
	digests := make([][]byte, len(f.recovery))
	for i, c := range f.recovery {
		digests[i] = totp.RecoveryDigest(f.key, c)
	}
	if err := f.store.EnrollTOTP(ctx, "alice", sealed, digests); err != nil {
		t.Fatal(err)
	}
	f.user = f.alice(t)
	f.v, err = totp.New(f.key, f.replay, f.store, totp.Default)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// alice returns alice as the store has her now.
func (f *fixture) alice(t testing.TB) authgate.User {
	t.Helper()
	u, err := f.store.User(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// code returns alice's code offset steps from now.
func (f *fixture) code(t testing.TB, offset int) string { return codeAt(t, f.secret, offset) }

// outcome is what the table compares: the reason, the skew, and the trace
// as "check:result" steps.
type outcome struct {
	Reason    reason.Code
	ClockSkew time.Duration
	Trace     []string
}

func outcomeOf(vd authgate.Verdict) outcome {
	o := outcome{Reason: vd.Reason, ClockSkew: vd.ClockSkew}
	for _, c := range vd.Checks {
		o.Trace = append(o.Trace, c.Name+":"+string(c.Result))
	}
	return o
}

func TestVerify(t *testing.T) {
	enrolledFormat := []string{"totp.enrolled:pass", "totp.format:pass"}
	trace := func(steps ...string) []string { return append(append([]string{}, enrolledFormat...), steps...) }
	tests := []struct {
		name     string
		user     func(f *fixture) authgate.User
		code     func(t testing.TB, f *fixture) string
		want     outcome
		mentions []string // values the failing or last check shows
	}{
		{name: "a user who has not enrolled an app → second_factor_required",
			user: func(f *fixture) authgate.User { return authgate.User{Name: "bob"} },
			code: func(t testing.TB, f *fixture) string { return f.code(t, 0) },
			want: outcome{Reason: reason.SecondFactorRequired, Trace: []string{"totp.enrolled:fail"}}, mentions: []string{"has not set up"}},
		{name: "the code of the current step passes, without skew",
			code: func(t testing.TB, f *fixture) string { return f.code(t, 0) },
			want: outcome{Trace: trace("totp.code:pass", "totp.replay:pass")}, mentions: []string{"first use of the code of step"}},
		{name: "the code of one step back passes, with a skew of -30 s",
			code: func(t testing.TB, f *fixture) string { return f.code(t, -1) },
			want: outcome{ClockSkew: -30 * time.Second, Trace: trace("totp.code:pass", "totp.replay:pass")}},
		{name: "the code of two steps back → code_expired, trace says it was typed too slowly",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, -2) },
			want:     outcome{Reason: reason.CodeExpired, Trace: trace("totp.code:fail")},
			mentions: []string{"2 steps back", "60 s earlier", "stopped being accepted 17 seconds ago", "typed too slowly"}},
		{name: "the code of 6 steps ahead → code_clock_skew of +180 s: the device clock is 3 minutes fast",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, 6) },
			want:     outcome{Reason: reason.CodeClockSkew, ClockSkew: 180 * time.Second, Trace: trace("totp.replay:info", "totp.code:fail")},
			mentions: []string{"the code of 180 s later matches", "the device clock is about 3 minutes fast"}},
		{name: "the code of 8 steps back → code_clock_skew of -240 s: the device clock is 4 minutes slow",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, -8) },
			want:     outcome{Reason: reason.CodeClockSkew, ClockSkew: -240 * time.Second, Trace: trace("totp.code:fail")},
			mentions: []string{"240 s earlier", "about 4 minutes slow"}},
		{name: "the code of one step ahead → code_clock_skew of +30 s",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, 1) },
			want:     outcome{Reason: reason.CodeClockSkew, ClockSkew: 30 * time.Second, Trace: trace("totp.replay:info", "totp.code:fail")},
			mentions: []string{"about 30 seconds fast"}},
		{name: "the code of 21 steps ahead → code_wrong, trace names the window searched",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, 21) },
			want:     outcome{Reason: reason.CodeWrong, Trace: trace("totp.code:fail")},
			mentions: []string{"from 10 minutes before to 10 minutes after now"}},
		{name: "the code of another secret → code_wrong",
			code: func(t testing.TB, f *fixture) string { return codeAt(t, rfcSHA1, 0) },
			want: outcome{Reason: reason.CodeWrong, Trace: trace("totp.code:fail")}},
		{name: "5 digits → code_malformed, trace says what was typed without repeating it",
			code:     func(t testing.TB, f *fixture) string { return f.code(t, 0)[:5] },
			want:     outcome{Reason: reason.CodeMalformed, Trace: []string{"totp.enrolled:pass", "totp.format:fail"}},
			mentions: []string{"expected 6 digits", "5 characters (digits)"}},
		{name: "Arabic-Indic digits → code_malformed",
			code:     func(t testing.TB, f *fixture) string { return "١٢٣٤٥٦" },
			want:     outcome{Reason: reason.CodeMalformed, Trace: []string{"totp.enrolled:pass", "totp.format:fail"}},
			mentions: []string{"non-ASCII digits"}},
		{name: "an empty code → code_malformed",
			code:     func(t testing.TB, f *fixture) string { return "" },
			want:     outcome{Reason: reason.CodeMalformed, Trace: []string{"totp.enrolled:pass", "totp.format:fail"}},
			mentions: []string{"no characters"}},
		{name: "a recovery code mistyped with an o for a 0 → code_malformed, trace says codes never contain either",
			code:     func(t testing.TB, f *fixture) string { return "abcd-efgh-jkmo" },
			want:     outcome{Reason: reason.CodeMalformed, Trace: []string{"totp.enrolled:pass", "totp.format:fail"}},
			mentions: []string{"12 characters", "never contain 0, 1, i, l, o or u"}},
		{name: "an unused recovery code passes and says how many are left",
			code: func(t testing.TB, f *fixture) string { return f.recovery[3] },
			want: outcome{Trace: []string{"totp.enrolled:pass", "totp.recovery:pass"}}, mentions: []string{"9 left"}},
		{name: "a recovery code typed in upper case with spaces passes",
			code: func(t testing.TB, f *fixture) string {
				return strings.ToUpper(strings.ReplaceAll(f.recovery[0], "-", " "))
			},
			want: outcome{Trace: []string{"totp.enrolled:pass", "totp.recovery:pass"}}},
		{name: "a recovery code of another user → code_wrong, trace counts the user's codes",
			code:     func(t testing.TB, f *fixture) string { return "2345-6789-abcd" },
			want:     outcome{Reason: reason.CodeWrong, Trace: []string{"totp.enrolled:pass", "totp.recovery:fail"}},
			mentions: []string{"not one of the user's 10 unused recovery codes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.user
			if tt.user != nil {
				u = tt.user(f)
			}
			code := tt.code(t, f)
			vd, err := f.v.Verify(t.Context(), u, code, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, outcomeOf(vd)); diff != "" {
				t.Errorf("verdict (-want +got):\n%s\nchecks: %+v", diff, vd.Checks)
			}
			last := vd.Checks[len(vd.Checks)-1]
			for _, m := range tt.mentions {
				if !strings.Contains(last.Detail, m) {
					t.Errorf("last check %q does not mention %q", last.Detail, m)
				}
			}
			assertVerdictShape(t, vd, u.Name)
			assertNothingSecret(t, vd, nil, code, f)
		})
	}
}

// assertVerdictShape checks what every verdict of this verifier has in
// common: no principal, the claimed user, and the reason on exactly the
// failing check.
func assertVerdictShape(t *testing.T, vd authgate.Verdict, user string) {
	t.Helper()
	if !cmp.Equal(vd.Principal, authgate.Principal{}) {
		t.Errorf("verdict has a principal %+v; the caller sets its own", vd.Principal)
	}
	if vd.Claimed != user {
		t.Errorf("Claimed = %q, want %q", vd.Claimed, user)
	}
	for i, c := range vd.Checks {
		failing := vd.Reason != "" && i == len(vd.Checks)-1
		if (c.Reason != "") != failing || failing && (c.Reason != vd.Reason || c.Result != authgate.Fail) {
			t.Errorf("check %d %+v: the reason belongs on the last check, and only when the verdict fails", i, c)
		}
	}
	if vd.Reason != "" && !reason.Known(vd.Reason) {
		t.Errorf("reason %q is not in the catalogue", vd.Reason)
	}
}

// assertNothingSecret fails if the code presented, the secret, a recovery
// code or a digest shows in a check or the error.
func assertNothingSecret(t *testing.T, vd authgate.Verdict, err error, code string, f *fixture) {
	t.Helper()
	var text []string
	for _, c := range vd.Checks {
		text = append(text, c.Detail)
	}
	if err != nil {
		text = append(text, err.Error())
	}
	all := strings.Join(text, "\n")
	assertNoSecret(t, all, f.secret)
	forbidden := []string{totp.NormalizeRecoveryCode(code)}
	for _, r := range f.recovery {
		forbidden = append(forbidden, r, totp.NormalizeRecoveryCode(r))
	}
	for _, d := range f.user.RecoveryCodes {
		forbidden = append(forbidden, string(d), fmt.Sprintf("%x", d))
	}
	for _, s := range forbidden {
		if len(s) >= 6 && strings.Contains(all, s) {
			t.Errorf("the trace or error shows a code or digest: %q", all)
		}
	}
}

func TestACodeWorksOnce(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	step := totp.StepAt(now, totp.Default)
	verify := func(code string, at time.Time) authgate.Verdict {
		t.Helper()
		vd, err := f.v.Verify(ctx, f.user, code, at)
		if err != nil {
			t.Fatal(err)
		}
		return vd
	}
	current := f.code(t, 0)
	if vd := verify(current, now); vd.Reason != "" {
		t.Fatalf("first use: %s", vd.Reason)
	}
	vd := verify(current, now.Add(time.Second))
	if vd.Reason != reason.CodeReused {
		t.Fatalf("second use in the same step: %q, want code_reused", vd.Reason)
	}
	if d := vd.Checks[len(vd.Checks)-1].Detail; !strings.Contains(d, fmt.Sprintf("used at step %d", step)) {
		t.Errorf("code_reused trace %q does not name step %d", d, step)
	}
	// 30 s later the used code is one step back: acceptable, but used.
	if vd := verify(current, now.Add(30*time.Second)); vd.Reason != reason.CodeReused {
		t.Errorf("the used code one step later: %q, want code_reused", vd.Reason)
	}
	// The next step's code works.
	if vd := verify(f.code(t, 1), now.Add(30*time.Second)); vd.Reason != "" {
		t.Errorf("the next step's code: %q, want it accepted", vd.Reason)
	}
	// The replay cache keeps each step until its code stops being acceptable.
	if got, want := f.replay.used[fmt.Sprintf("alice\x00%d", step)], totp.StepStart(step+2, totp.Default); !got.Equal(want) {
		t.Errorf("step %d kept until %s, want %s (end of the step plus one period)", step, got, want)
	}
}

func TestACodeRacedByTwoGatewaysWorksOnce(t *testing.T) {
	f := newFixture(t)
	code := f.code(t, 0)
	var wg sync.WaitGroup
	results := make(chan reason.Code, 8)
	for range 8 {
		wg.Go(func() {
			vd, err := f.v.Verify(context.Background(), f.user, code, now)
			if err != nil {
				t.Error(err)
			}
			results <- vd.Reason
		})
	}
	wg.Wait()
	close(results)
	count := map[reason.Code]int{}
	for r := range results {
		count[r]++
	}
	if diff := cmp.Diff(map[reason.Code]int{"": 1, reason.CodeReused: 7}, count); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestARecoveryCodeWorksOnce(t *testing.T) {
	f := newFixture(t)
	use := func(code string) authgate.Verdict {
		t.Helper()
		vd, err := f.v.Verify(t.Context(), f.alice(t), code, now)
		if err != nil {
			t.Fatal(err)
		}
		assertNothingSecret(t, vd, err, code, f)
		return vd
	}
	if vd := use(f.recovery[5]); vd.Reason != "" {
		t.Fatalf("first use: %q", vd.Reason)
	}
	vd := use(f.recovery[5])
	if vd.Reason != reason.CodeWrong {
		t.Fatalf("second use: %q, want code_wrong", vd.Reason)
	}
	if d := vd.Checks[len(vd.Checks)-1].Detail; !strings.Contains(d, "not one of the user's 9 unused recovery codes") {
		t.Errorf("trace %q does not count the 9 codes left", d)
	}
	if vd := use(strings.ToUpper(f.recovery[6])); vd.Reason != "" {
		t.Errorf("another code after it: %q, want it accepted", vd.Reason)
	}
	if n := len(f.alice(t).RecoveryCodes); n != 8 {
		t.Errorf("%d codes left in the store, want 8", n)
	}
}

func TestARecoveryCodeRacedByTwoGatewaysWorksOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	results := make(chan reason.Code, 6)
	for range 6 {
		wg.Go(func() {
			vd, err := f.v.Verify(context.Background(), f.user, f.recovery[0], now)
			if err != nil {
				t.Error(err)
			}
			results <- vd.Reason
		})
	}
	wg.Wait()
	close(results)
	count := map[reason.Code]int{}
	for r := range results {
		count[r]++
	}
	if diff := cmp.Diff(map[reason.Code]int{"": 1, reason.CodeWrong: 5}, count); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestARecoveryCodeOfAUserDeletedMeanwhileIsUserUnknown(t *testing.T) {
	f := newFixture(t)
	if err := f.store.DeleteUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	vd, err := f.v.Verify(t.Context(), f.user, f.recovery[0], now)
	if err != nil || vd.Reason != reason.UserUnknown {
		t.Fatalf("Verify = %q, %v; want user_unknown and no error", vd.Reason, err)
	}
	assertVerdictShape(t, vd, "alice")
}

func TestOutagesAreUnavailableErrors(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name    string
		break_  func(f *fixture)
		code    func(t testing.TB, f *fixture) string
		want    reason.Code
		wantErr error
	}{
		{"the replay cache is down → session_store_unavailable, not a wrong code",
			func(f *fixture) { f.replay.err = down },
			func(t testing.TB, f *fixture) string { return f.code(t, 0) },
			reason.SessionStoreUnavailable, down},
		{"the user store is closed while using a recovery code → store_unavailable",
			func(f *fixture) { f.store.Close() },
			func(t testing.TB, f *fixture) string { return f.recovery[0] },
			reason.StoreUnavailable, nil},
		{"a sealed secret copied from another user does not open → store_unavailable",
			func(f *fixture) {
				f.user.TOTPSecret, _ = totp.NewSealer(f.key).Seal("mallory", f.secret)
			},
			func(t testing.TB, f *fixture) string { return f.code(t, 0) },
			reason.StoreUnavailable, totp.ErrNotOpened},
		{"a secret sealed under another gateway key does not open → store_unavailable",
			func(f *fixture) {
				f.user.TOTPSecret, _ = totp.NewSealer(newGatewayKey(t)).Seal("alice", f.secret)
			},
			func(t testing.TB, f *fixture) string { return f.code(t, 0) },
			reason.StoreUnavailable, totp.ErrNotOpened},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.break_(f)
			code := tt.code(t, f)
			vd, err := f.v.Verify(t.Context(), f.user, code, now)
			var ue *authgate.UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not an *authgate.UnavailableError", err)
			}
			if ue.Reason != tt.want || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v: reason %q, want %q wrapping %v", err, ue.Reason, tt.want, tt.wantErr)
			}
			if vd.Reason != "" {
				t.Errorf("verdict reason %q beside the error; the error decides", vd.Reason)
			}
			if last := vd.Checks[len(vd.Checks)-1]; last.Result != authgate.Fail {
				t.Errorf("the trace does not end with the check that could not run: %+v", vd.Checks)
			}
			assertNothingSecret(t, vd, err, code, f)
		})
	}
}

func TestNewRefusesAShortKeyOrBadParams(t *testing.T) {
	if _, err := totp.New(make([]byte, 8), &replayCache{}, nil, totp.Default); err == nil {
		t.Error("New accepted an 8-byte gateway key")
	}
	if _, err := totp.New(newGatewayKey(t), &replayCache{}, nil, totp.Params{Digits: 4}); err == nil {
		t.Error("New accepted 4-digit codes")
	}
}

// TestACodeRevealedAsSkewedIsBurned: the answer code_clock_skew tells
// whoever typed a code of a later step that it is right; that step's code
// must not work when its time comes.
func TestACodeRevealedAsSkewedIsBurned(t *testing.T) {
	f := newFixture(t)
	ahead := f.code(t, 2)
	vd, err := f.v.Verify(t.Context(), f.user, ahead, now)
	if err != nil || vd.Reason != reason.CodeClockSkew {
		t.Fatalf("a code 60 s ahead: %q, %v; want code_clock_skew", vd.Reason, err)
	}
	vd, err = f.v.Verify(t.Context(), f.user, ahead, now.Add(60*time.Second))
	if err != nil || vd.Reason != reason.CodeReused {
		t.Fatalf("the same code when its step came: %q, %v; want code_reused", vd.Reason, err)
	}
}
