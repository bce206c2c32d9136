// Package sessiontest is the conformance suite every session.Store passes,
// so that one node (Memory) and many (Redis) keep the same semantics.
// Backends run it from their tests with Run.
//
// The suite drives each store with its own clock and never sleeps to make
// time pass, except in one case that checks a store on the real clock: it
// saves a session expiring 150 ms ahead and polls for at most 3 s until it
// is gone.
package sessiontest

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/session"
)

// NewStore returns a fresh, empty store whose clock is now. It registers
// its own cleanup with t.
type NewStore func(t *testing.T, now func() time.Time) session.Store

// T0 is the clock the suite starts from: far from the real time, so that
// nothing passes by accident, and not a whole second, so that precision
// shows.
var T0 = time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading T0.
func NewClock() *Clock { return &Clock{t: T0} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to T0+d.
func (c *Clock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = T0.Add(d)
}

// Options compares sessions: netip.Addr by value.
var Options = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

// Run runs the conformance suite against the stores newStore builds.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, NewStore)
	}{
		{"a saved session comes back exactly, times to the nanosecond", roundTrip},
		{"saving again replaces the session", replace},
		{"a session is forgotten when the store's clock reaches expires", expiry},
		{"a session saved already expired is not stored and replaces nothing", savedExpired},
		{"a session on the real clock is gone soon after expires", realClockExpiry},
		{"delete forgets one session and an unknown id is no error", deleteOne},
		{"DeleteUser forgets all and only that user's live sessions", deleteUser},
		{"List gives the user's live sessions newest first", list},
		{"a session saved again for another user moves to that user", changeUser},
		{"a touch updates only LastSeen and keeps the expiry", touchUpdatesLastSeen},
		{"a touch of a deleted, expired or unknown session is not found and does not recreate it", touchGoneIsNotFound},
		{"a touch racing a delete never leaves the session behind", touchRacingDelete},
		{"a touch racing a save never undoes the save", touchRacingSave},
		{"user names with key characters stay apart", awkwardNames},
		{"a code is first once per user and step, until expires", useCode},
		{"a code whose window has passed is refused", useCodeExpired},
		{"concurrent uses of one code give exactly one first", concurrentUseCode},
		{"the store knows sessions by id, never by token", idsNotTokens},
		{"a session without id or user is refused", invalid},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore) })
	}
}

func at(d time.Duration) time.Time { return T0.Add(d) }

// fixture returns a store on a fresh Clock.
func fixture(t *testing.T, ns NewStore) (session.Store, *Clock) {
	c := NewClock()
	return ns(t, c.Now), c
}

// newSession returns a session of user created at T0+created, with a fresh
// id.
func newSession(t *testing.T, user string, created time.Duration) session.Session {
	t.Helper()
	_, id, err := session.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	return session.Session{
		ID:        id,
		User:      user,
		CreatedAt: at(created),
		LastSeen:  at(created),
		Source:    netip.MustParseAddr("192.0.2.10"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
	}
}

func save(t *testing.T, st session.Store, s session.Session, expires time.Time) {
	t.Helper()
	if err := st.Save(context.Background(), s, expires); err != nil {
		t.Fatalf("Save(%s, %v): %v", s.ID, expires, err)
	}
}

// get returns the session with id, failing the test on any error but
// ErrNotFound, and reports whether it was found.
func get(t *testing.T, st session.Store, id string) (session.Session, bool) {
	t.Helper()
	s, err := st.Get(context.Background(), id)
	if errors.Is(err, session.ErrNotFound) {
		return session.Session{}, false
	}
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return s, true
}

func wantSession(t *testing.T, st session.Store, want session.Session) {
	t.Helper()
	got, ok := get(t, st, want.ID)
	if !ok {
		t.Fatalf("Get(%s): ErrNotFound, want the session of %s", want.ID, want.User)
	}
	if d := cmp.Diff(want, got, Options); d != "" {
		t.Errorf("Get(%s) (-want +got):\n%s", want.ID, d)
	}
}

func wantGone(t *testing.T, st session.Store, id, when string) {
	t.Helper()
	if s, ok := get(t, st, id); ok {
		t.Errorf("%s: Get(%s) = session of %s, want ErrNotFound", when, id, s.User)
	}
}

func listOf(t *testing.T, st session.Store, user string) []session.Session {
	t.Helper()
	ss, err := st.List(context.Background(), user)
	if err != nil {
		t.Fatalf("List(%s): %v", user, err)
	}
	return ss
}

// ids returns the ids of ss in order, nil for none.
func ids(ss []session.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}
