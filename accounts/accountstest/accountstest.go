// Package accountstest is the conformance suite every accounts.Store
// passes: the SQLite and PostgreSQL stores run the same tests, so an admin
// command and a lookup mean the same whichever database holds the users.
//
// Semantics the suite pins down beyond the interface's comments:
//   - times come back to the nanosecond (as the same instant; the location
//     may differ), and empty scope lists may come back nil;
//   - every admin operation that fails changes nothing, and no error
//     quotes a password hash, good or bad;
//   - an operation on a name or id no row can hold (invalid UTF-8) is
//     authgate.ErrNotFound, like any other unknown name;
//   - LockUser ignores a lock that has already ended or that ends no later
//     than the one recorded (it returns nil and changes nothing); a longer
//     lock replaces the recorded one, its start and its cause;
//   - UnlockUser records the unlock time even when the user was not
//     locked, since it also ends locks kept by the failure counters;
//   - a revoked key may still be disabled, and a disabled key may still be
//     revoked, but a key that is revoked can no longer be enabled;
//   - lookups read the snapshot: another handle on the same database sees
//     a write after its Refresh, and Users and Keys always read afresh;
//   - a user's TOTPSecret and recovery-code digests come back byte for
//     byte, the codes in the order enrolled; EnrollTOTP may be given no
//     codes; a new enrollment does not bring back codes already used;
//   - UseRecoveryCode reports false, without an error, for a digest the
//     user does not hold (another user's, one already used, an empty
//     one), and wraps authgate.ErrNotFound for an unknown user; it
//     decides on the database, not on the snapshot;
//   - RevokeSessions may be repeated, and each time records its own time;
//     SetPassword, ImportUsers and EnrollTOTP leave SessionsRevokedAt
//     alone, and password changes leave the second factor alone.
package accountstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/passhash"
)

// Opener opens a store for one test on a new, empty database, on clock now
// and with its background refresh off, so that only its own writes,
// Refresh, Users and Keys reload its snapshot. again opens one more handle
// on the same database with the same settings, as a second gateway or the
// CLI would. Run closes every store it is given when the test ends.
type Opener func(t *testing.T, now func() time.Time) (s accounts.Store, again func() accounts.Store)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"a new user comes back exactly as added, and users are listed by name", testAddUser},
		{"lookups return copies and answer not found for unknown names and ids", testLookups},
		{"bad admin input is refused with its error and changes nothing", testBadInputChangesNothing},
		{"setting a password keeps the newest previous hashes, newest first", testSetPasswordKeepsPrevious},
		{"upgrading a hash replaces only the hash, and only while it is the one matched", testUpgradePasswordHash},
		{"deleting a user removes its previous passwords", testDeleteUser},
		{"an import reports every bad line and changes nothing", testImportRejected},
		{"an import adds new users and, with replace, updates existing ones", testImportReplace},
		{"disabling or enabling a user twice is refused the second time", testDisableUser},
		{"a lock is recorded with its cause, and a shorter one does not shorten it", testLockUser},
		{"a lock cause must be short printable text", testLockCause},
		{"unlocking reports whether the user was locked and records when", testUnlockUser},
		{"a required password change lasts until the password is set", testRequirePasswordChange},
		{"a new key stores only the hash of its secret, and keys are listed oldest first", testCreateKey},
		{"a rotated key lasts until its overlap ends, and revoking ends it at once", testRotateThenRevoke},
		{"disabling a key keeps its lifecycle state, and a revoked key cannot be enabled", testDisableKey},
		{"a write through one handle is seen by another after it refreshes", testSecondHandle},
		{"enrolling stores the secret and codes as given, and enrolling again is refused until a reset", testEnrollTOTP},
		{"of enrollments racing on two handles exactly one succeeds", testConcurrentEnrollment},
		{"a recovery code works once, and only for its own user", testRecoveryCodeOnce},
		{"of several callers racing with one recovery code exactly one succeeds", testRecoveryCodeRace},
		{"resetting the second factor removes secret and codes, and the user can enroll again", testResetTOTP},
		{"revoking sessions records the time of the store's clock", testRevokeSessions},
		{"setting a password or importing over a user keeps its second factor", testPasswordChangesKeepSecondFactor},
		{"deleting a user removes its second factor and recovery codes", testDeleteUserRemovesSecondFactor},
		{"second-factor changes through one handle are seen by another after it refreshes", testSecondHandleTOTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: T0}
			s, again := open(t, c.Now)
			closeAtEnd(t, s)
			e := &env{ctx: context.Background(), clock: c, s: s}
			e.again = func() accounts.Store {
				s := again()
				closeAtEnd(t, s)
				return s
			}
			tt.run(t, e)
		})
	}
}

// T0 is the suite clock's start. It has a nanosecond part so that a store
// that loses precision shows.
var T0 = time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)

// env is what each test works with.
type env struct {
	ctx   context.Context
	clock *clock
	s     accounts.Store
	again func() accounts.Store
}

// clock is the settable time source the stores are opened on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's current time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func closeAtEnd(t *testing.T, s accounts.Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// fast keeps hashing cheap: the suite tests storage, not hashing.
var fast = passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func hash(t *testing.T, password string) string {
	t.Helper()
	h, err := passhash.Hash(password, fast)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// must stops the test when a set-up step fails.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// options compare what stores return: times as instants (cmp uses
// time.Time.Equal) and empty lists as nil.
var options = cmp.Options{cmpopts.EquateEmpty()}

// contents is everything a store holds, to compare before and after an
// operation that must change nothing.
type contents struct {
	Users []authgate.User
	Keys  []authgate.APIKey
}

// dump reads everything s holds, afresh.
func dump(t *testing.T, s accounts.Store) contents {
	t.Helper()
	ctx := context.Background()
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	return contents{users, keys}
}

// user looks name up in s's snapshot, failing the test if it cannot.
func user(t *testing.T, s accounts.Store, name string) authgate.User {
	t.Helper()
	u, err := s.User(context.Background(), name)
	if err != nil {
		t.Fatalf("User(%q): %v", name, err)
	}
	return u
}

// key looks id up in s's snapshot, failing the test if it cannot.
func key(t *testing.T, s accounts.Store, id string) authgate.APIKey {
	t.Helper()
	k, err := s.APIKey(context.Background(), id)
	if err != nil {
		t.Fatalf("APIKey(%q): %v", id, err)
	}
	return k
}
