package accountstest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// userStep is one operation in a sequence on one user: after the clock
// moved by advance, op must fail with wantErr (nil: succeed) and leave the
// user as before, changed by change.
type userStep struct {
	name    string
	advance time.Duration
	op      func() error
	wantErr error
	change  func(u *authgate.User, now time.Time)
}

// runUserSteps runs steps in order on user name, checking after each what
// lookups return and what the database holds. Steps depend on the ones
// before, so the first failure ends the test.
func runUserSteps(t *testing.T, e *env, name string, steps []userStep) {
	t.Helper()
	for _, st := range steps {
		e.clock.Advance(st.advance)
		want := user(t, e.s, name)
		err := st.op()
		if !errors.Is(err, st.wantErr) || (err != nil) != (st.wantErr != nil) {
			t.Fatalf("%s: error = %v, want %v", st.name, err, st.wantErr)
		}
		if st.change != nil {
			st.change(&want, e.clock.Now())
		}
		if diff := cmp.Diff(want, user(t, e.s, name), options); diff != "" {
			t.Fatalf("%s: the user looked up (-want +got):\n%s", st.name, diff)
		}
		for _, u := range dump(t, e.s).Users {
			if diff := cmp.Diff(want, u, options); u.Name == name && diff != "" {
				t.Fatalf("%s: the user read afresh (-want +got):\n%s", st.name, diff)
			}
		}
	}
}

func testDisableUser(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	disable := func(d bool) func() error { return func() error { return e.s.SetUserDisabled(e.ctx, "Aladdin", d) } }
	runUserSteps(t, e, "Aladdin", []userStep{
		{"enabling a user who was never disabled", 0, disable(false), accounts.ErrState, nil},
		{"disabling the user", time.Minute, disable(true), nil, func(u *authgate.User, now time.Time) { u.DisabledAt = now }},
		{"disabling the user again", time.Minute, disable(true), accounts.ErrState, nil},
		{"enabling the user", time.Minute, disable(false), nil, func(u *authgate.User, _ time.Time) { u.DisabledAt = time.Time{} }},
		{"enabling the user again", time.Minute, disable(false), accounts.ErrState, nil},
		{"disabling the user once more", time.Minute, disable(true), nil, func(u *authgate.User, now time.Time) { u.DisabledAt = now }},
	})
	if got := user(t, e.s, "Aladdin").State(e.clock.Now()); got != "disabled" {
		t.Errorf("State = %q, want disabled", got)
	}
}

func testLockUser(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	lock := func(until time.Duration, cause string) func() error {
		return func() error { return e.s.LockUser(e.ctx, "Aladdin", T0.Add(until), cause) }
	}
	locked := func(until time.Duration, cause string) func(u *authgate.User, now time.Time) {
		return func(u *authgate.User, now time.Time) {
			u.LockedUntil, u.LockedAt, u.LockCause = T0.Add(until), now, cause
		}
	}
	runUserSteps(t, e, "Aladdin", []userStep{
		{"a lock that already ended is not recorded", time.Minute, lock(0, "old failures"), nil, nil},
		{"a lock for an hour is recorded with its cause", time.Minute, lock(time.Hour+time.Nanosecond, "5 failures from 3 sources"), nil,
			locked(time.Hour+time.Nanosecond, "5 failures from 3 sources")},
		{"a lock ending earlier does not shorten it", time.Minute, lock(30*time.Minute, "3 failures"), nil, nil},
		{"a lock ending at the same time changes nothing", time.Minute, lock(time.Hour+time.Nanosecond, "again"), nil, nil},
		{"a lock ending later extends it, with its own cause", time.Minute, lock(2*time.Hour, "10 failures"), nil, locked(2*time.Hour, "10 failures")},
		{"a disabled user can still be locked", time.Minute, func() error {
			if err := e.s.SetUserDisabled(e.ctx, "Aladdin", true); err != nil {
				return err
			}
			return lock(3*time.Hour, "")()
		}, nil, func(u *authgate.User, now time.Time) { u.DisabledAt = now; locked(3*time.Hour, "")(u, now) }},
	})
	if got := user(t, e.s, "Aladdin"); !got.Locked(T0.Add(3*time.Hour-time.Nanosecond)) || got.Locked(T0.Add(3*time.Hour)) {
		t.Errorf("Locked does not end at LockedUntil %s", got.LockedUntil)
	}
}

func testLockCause(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	tests := []struct {
		name    string
		cause   string
		wantErr error
	}{
		{"an empty cause is accepted", "", nil},
		{"a cause of 200 bytes is accepted", strings.Repeat("é", 100), nil},
		{"a cause in any script is accepted", "5 échecs depuis 192.0.2.1 — 3 sources", nil},
		{"a cause of 201 bytes is refused", strings.Repeat("x", 201), accounts.ErrInvalid},
		{"a cause with a line break is refused", "5 failures\nfrom 3 sources", accounts.ErrInvalid},
		{"a cause with a NUL is refused", "5 failures\x00", accounts.ErrInvalid},
		{"a cause that is not UTF-8 is refused", "5 failures \xff", accounts.ErrInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := user(t, e.s, "Aladdin")
			until := T0.Add(time.Duration(i+1) * time.Hour) // later each time, so an accepted lock is recorded
			err := e.s.LockUser(e.ctx, "Aladdin", until, tt.cause)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			want := before
			if tt.wantErr == nil {
				want.LockedUntil, want.LockedAt, want.LockCause = until, e.clock.Now(), tt.cause
			}
			if diff := cmp.Diff(want, user(t, e.s, "Aladdin"), options); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

func testUnlockUser(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	var wasLocked bool
	unlock := func() error {
		var err error
		wasLocked, err = e.s.UnlockUser(e.ctx, "Aladdin")
		return err
	}
	unlocked := func(u *authgate.User, now time.Time) {
		u.LockedUntil, u.LockedAt, u.LockCause, u.UnlockedAt = time.Time{}, time.Time{}, "", now
	}
	tests := []struct {
		name          string
		lockFor       time.Duration // before the unlock; 0: no lock
		advance       time.Duration // between lock and unlock
		wantWasLocked bool
	}{
		{"a user who was never locked was not locked, and the unlock is recorded", 0, time.Minute, false},
		{"a locked user was locked", time.Hour, time.Minute, true},
		{"a user whose lock ended was not locked", time.Hour, time.Hour, false},
		{"a user unlocked a moment ago is not locked", 0, time.Nanosecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.lockFor > 0 {
				must(t, e.s.LockUser(e.ctx, "Aladdin", e.clock.Now().Add(tt.lockFor), "failures"))
			}
			wasLocked = !tt.wantWasLocked
			runUserSteps(t, e, "Aladdin", []userStep{{"unlocking", tt.advance, unlock, nil, unlocked}})
			if wasLocked != tt.wantWasLocked {
				t.Errorf("wasLocked = %t, want %t", wasLocked, tt.wantWasLocked)
			}
		})
	}
}

func testRequirePasswordChange(t *testing.T, e *env) {
	first, second := hash(t, "first"), hash(t, "second")
	must(t, e.s.AddUser(e.ctx, "Aladdin", first, nil))
	require := func() error { return e.s.RequirePasswordChange(e.ctx, "Aladdin") }
	runUserSteps(t, e, "Aladdin", []userStep{
		{"requiring a change", time.Minute, require, nil, func(u *authgate.User, _ time.Time) { u.MustChangePassword = true }},
		{"requiring it again", time.Minute, require, accounts.ErrState, nil},
		{"setting a password clears it", time.Minute, func() error { return e.s.SetPassword(e.ctx, "Aladdin", second) },
			nil, func(u *authgate.User, now time.Time) {
				u.MustChangePassword, u.PasswordHash, u.PasswordChangedAt = false, second, now
				u.Previous = []authgate.PreviousPassword{{Hash: first, ReplacedAt: now}}
			}},
		{"requiring a change after the password was set", time.Minute, require, nil,
			func(u *authgate.User, _ time.Time) { u.MustChangePassword = true }},
	})
	if got := user(t, e.s, "Aladdin").State(e.clock.Now()); got != "must change password" {
		t.Errorf("State = %q, want must change password", got)
	}
}
