package sessiontest

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/session"
)

func roundTrip(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	full := newSession(t, "alice", -time.Hour+123_456_789*time.Nanosecond)
	full.LastSeen = at(-time.Minute + 987_654_321*time.Nanosecond)
	full.SecondFactorAt = at(-59*time.Minute + 1)
	full.Source = netip.MustParseAddr("2001:db8::1")
	zoned := newSession(t, "bob", 0)
	zoned.Source = netip.MustParseAddr("fe80::1%eth0")
	local := newSession(t, "carol", 0)
	local.CreatedAt = time.Date(2030, 1, 2, 5, 4, 5, 1, time.FixedZone("CEST", 2*3600))
	local.LastSeen = time.Now() // with a monotonic reading
	bare := session.Session{ID: newSession(t, "x", 0).ID, User: "dave"}
	mapped := newSession(t, "erin", 0)
	mapped.Source = netip.MustParseAddr("::ffff:192.0.2.1")
	for name, s := range map[string]session.Session{
		"every field set":            full,
		"an IPv6 source with a zone": zoned,
		"times in another zone":      local,
		"only id and user":           bare,
		"an IPv4-mapped IPv6 source": mapped,
	} {
		t.Run(name, func(t *testing.T) {
			save(t, st, s, at(time.Hour))
			wantSession(t, st, s)
			got, _ := get(t, st, s.ID)
			if got.SecondFactorAt.IsZero() != s.SecondFactorAt.IsZero() {
				t.Errorf("SecondFactorAt.IsZero() = %v, want %v", got.SecondFactorAt.IsZero(), s.SecondFactorAt.IsZero())
			}
			if got.Source.Is4In6() != s.Source.Is4In6() {
				t.Errorf("Source %v came back as %v", s.Source, got.Source)
			}
		})
	}
}

func replace(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	s := newSession(t, "alice", 0)
	save(t, st, s, at(time.Hour))
	clock.Set(10 * time.Minute)
	s.LastSeen = at(10 * time.Minute)
	s.SecondFactorAt = at(10 * time.Minute)
	save(t, st, s, at(2*time.Hour))
	wantSession(t, st, s)
	if got := ids(listOf(t, st, "alice")); !cmp.Equal(got, []string{s.ID}) {
		t.Errorf("List after replace = %v, want the one session", got)
	}
	clock.Set(90 * time.Minute)
	wantSession(t, st, s) // the new expiry holds
	s.LastSeen = at(90 * time.Minute)
	save(t, st, s, at(100*time.Minute)) // a shorter one too
	clock.Set(100 * time.Minute)
	wantGone(t, st, s.ID, "at the shortened expiry")
}

func expiry(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	s := newSession(t, "alice", 0)
	save(t, st, s, at(30*time.Minute))
	other := newSession(t, "alice", time.Second)
	save(t, st, other, at(time.Hour))
	clock.Set(30*time.Minute - time.Millisecond)
	wantSession(t, st, s)
	clock.Set(30 * time.Minute)
	wantGone(t, st, s.ID, "at expires")
	if got := ids(listOf(t, st, "alice")); !cmp.Equal(got, []string{other.ID}) {
		t.Errorf("List at expires = %v, want only the live session %s", got, other.ID)
	}
	clock.Set(time.Hour)
	wantGone(t, st, other.ID, "at its expires")
	if n, err := st.DeleteUser(context.Background(), "alice"); err != nil || n != 0 {
		t.Errorf("DeleteUser with only expired sessions = %d, %v; want 0", n, err)
	}
}

func savedExpired(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	clock.Set(time.Hour)
	for name, expires := range map[string]time.Duration{"expires now": time.Hour, "expired before": 0} {
		s := newSession(t, "alice", 0)
		save(t, st, s, at(expires))
		wantGone(t, st, s.ID, name)
	}
	s := newSession(t, "alice", 0)
	save(t, st, s, at(2*time.Hour))
	save(t, st, s, at(time.Hour))
	wantGone(t, st, s.ID, "replaced by an expired one")
	if got := listOf(t, st, "alice"); len(got) != 0 {
		t.Errorf("List = %v, want none", ids(got))
	}
}

func realClockExpiry(t *testing.T, ns NewStore) {
	st := ns(t, time.Now)
	s := newSession(t, "alice", 0)
	const ttl = 150 * time.Millisecond
	start := time.Now()
	save(t, st, s, start.Add(ttl))
	if _, ok := get(t, st, s.ID); !ok && time.Since(start) < ttl {
		t.Fatal("Get right after Save: ErrNotFound")
	}
	for {
		if _, ok := get(t, st, s.ID); !ok {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the session is still there %v after it expired", time.Since(start)-ttl)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d < ttl {
		t.Errorf("gone after %v, before its %v", d, ttl)
	}
}

func deleteOne(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	ctx := context.Background()
	a, b := newSession(t, "alice", 0), newSession(t, "alice", time.Second)
	save(t, st, a, at(time.Hour))
	save(t, st, b, at(time.Hour))
	if err := st.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantGone(t, st, a.ID, "after Delete")
	wantSession(t, st, b)
	if got := ids(listOf(t, st, "alice")); !cmp.Equal(got, []string{b.ID}) {
		t.Errorf("List after Delete = %v, want %s", got, b.ID)
	}
	for _, id := range []string{a.ID, newSession(t, "x", 0).ID, ""} {
		if err := st.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q) of an unknown id: %v", id, err)
		}
	}
	wantGone(t, st, "", "the empty id")
}

func deleteUser(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	ctx := context.Background()
	var alice, bob []session.Session
	for i := range 5 {
		a, b := newSession(t, "alice", time.Duration(i)*time.Second), newSession(t, "bob", time.Duration(i)*time.Second)
		save(t, st, a, at(time.Hour))
		save(t, st, b, at(time.Hour))
		alice, bob = append(alice, a), append(bob, b)
	}
	expired := newSession(t, "alice", 0)
	save(t, st, expired, at(time.Minute))
	deleted := newSession(t, "alice", 0)
	save(t, st, deleted, at(time.Hour))
	if err := st.Delete(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(2 * time.Minute)
	n, err := st.DeleteUser(ctx, "alice")
	if err != nil || n != 5 {
		t.Errorf("DeleteUser(alice) = %d, %v; want 5 (not the expired or deleted ones)", n, err)
	}
	for _, s := range alice {
		wantGone(t, st, s.ID, "alice's after DeleteUser")
	}
	for _, s := range bob {
		wantSession(t, st, s)
	}
	if got := listOf(t, st, "alice"); len(got) != 0 {
		t.Errorf("List(alice) = %v, want none", ids(got))
	}
	if n, err := st.DeleteUser(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("DeleteUser(alice) again = %d, %v; want 0", n, err)
	}
	if n, err := st.DeleteUser(ctx, "nobody"); err != nil || n != 0 {
		t.Errorf("DeleteUser(nobody) = %d, %v; want 0", n, err)
	}
	fresh := newSession(t, "alice", 3*time.Minute)
	save(t, st, fresh, at(time.Hour))
	wantSession(t, st, fresh)
}

func list(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	if got := listOf(t, st, "alice"); len(got) != 0 {
		t.Errorf("List of a user without sessions = %v, want none", ids(got))
	}
	var want []session.Session
	// Saved out of creation order, two with the same CreatedAt, some
	// expiring earlier.
	for i, created := range []time.Duration{3, 1, 4, 1, 5, 9, 2, 6} {
		s := newSession(t, "alice", created*time.Minute)
		expires := at(time.Hour)
		if i%3 == 2 {
			expires = at(10 * time.Minute)
		} else {
			want = append(want, s)
		}
		save(t, st, s, expires)
		save(t, st, newSession(t, "bob", created*time.Minute), at(time.Hour))
	}
	slices.SortStableFunc(want, func(a, b session.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	clock.Set(10 * time.Minute)
	got := listOf(t, st, "alice")
	if d := cmp.Diff(want, got, Options); d != "" {
		t.Errorf("List(alice) (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, listOf(t, st, "alice"), Options); d != "" {
		t.Errorf("List(alice) again (-want +got):\n%s", d)
	}
}

func changeUser(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	ctx := context.Background()
	s := newSession(t, "alice", 0)
	save(t, st, s, at(time.Hour))
	s.User = "bob"
	save(t, st, s, at(time.Hour))
	if got := listOf(t, st, "alice"); len(got) != 0 {
		t.Errorf("List(alice) = %v, want none", ids(got))
	}
	if got := ids(listOf(t, st, "bob")); !cmp.Equal(got, []string{s.ID}) {
		t.Errorf("List(bob) = %v, want %s", got, s.ID)
	}
	if n, err := st.DeleteUser(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("DeleteUser(alice) = %d, %v; want 0", n, err)
	}
	wantSession(t, st, s)
}
