package sessiontest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/session"
)

func touch(t *testing.T, st session.Store, id string, lastSeen time.Time) error {
	t.Helper()
	err := st.Touch(context.Background(), id, lastSeen)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch(%s): %v", id, err)
	}
	return err
}

func touchUpdatesLastSeen(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	s := newSession(t, "alice", 0)
	s.SecondFactorAt = at(time.Second)
	other := newSession(t, "alice", time.Second)
	save(t, st, s, at(time.Hour))
	save(t, st, other, at(time.Hour))

	clock.Set(10 * time.Minute)
	// Another zone and a nanosecond part: it comes back as the same
	// instant, like a saved time.
	seen := at(10*time.Minute + 123_456_789).In(time.FixedZone("CEST", 2*3600))
	if err := touch(t, st, s.ID, seen); err != nil {
		t.Fatalf("Touch of a live session: %v", err)
	}
	s.LastSeen = seen
	wantSession(t, st, s)
	wantSession(t, st, other)
	if d := cmp.Diff([]session.Session{other, s}, listOf(t, st, "alice"), Options); d != "" {
		t.Errorf("List after Touch (-want +got):\n%s", d)
	}

	// The expiry is the one saved: a touch neither extends nor shortens it.
	clock.Set(time.Hour - time.Millisecond)
	wantSession(t, st, s)
	clock.Set(time.Hour)
	wantGone(t, st, s.ID, "at the expiry saved before the touch")
}

func touchGoneIsNotFound(t *testing.T, ns NewStore) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// end ends the session, saved until T0+1h, at T0+10m; nil: the
		// session is never saved.
		end func(t *testing.T, st session.Store, clock *Clock, s session.Session)
		// expired: the store may still hold the session, unchanged, and
		// show it again if its clock goes back.
		expired bool
	}{
		{"a deleted session", func(t *testing.T, st session.Store, _ *Clock, s session.Session) {
			if err := st.Delete(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a session of a user signed out everywhere", func(t *testing.T, st session.Store, _ *Clock, s session.Session) {
			if _, err := st.DeleteUser(ctx, s.User); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"an expired session", func(_ *testing.T, _ session.Store, clock *Clock, _ session.Session) {
			clock.Set(time.Hour)
		}, true},
		{"an id never saved", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, clock := fixture(t, ns)
			s := newSession(t, "alice", 0)
			clock.Set(10 * time.Minute)
			if tc.end != nil {
				save(t, st, s, at(time.Hour))
				tc.end(t, st, clock, s)
			}
			if err := touch(t, st, s.ID, clock.Now()); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Touch: %v, want ErrNotFound", err)
			}
			wantGone(t, st, s.ID, "after the Touch")
			if got := listOf(t, st, "alice"); len(got) != 0 {
				t.Errorf("List after the Touch = %v, want none", ids(got))
			}
			// With the clock back before the expiry, nothing the Touch
			// could have written may show.
			clock.Set(30 * time.Minute)
			got, ok := get(t, st, s.ID)
			switch {
			case ok && !tc.expired:
				t.Errorf("the Touch brought the session back (LastSeen %v)", got.LastSeen)
			case ok && !got.LastSeen.Equal(s.LastSeen):
				t.Errorf("the Touch wrote the expired session: LastSeen %v, saved %v", got.LastSeen, s.LastSeen)
			}
		})
	}
	st, _ := fixture(t, ns)
	if err := touch(t, st, "", at(0)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of the empty id: %v, want ErrNotFound", err)
	}
}

func touchRacingDelete(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	clock.Set(time.Minute)
	ctx := context.Background()
	const rounds, touchers = 100, 4
	for r := range rounds {
		s := newSession(t, "alice", 0)
		save(t, st, s, at(time.Hour))
		var wg sync.WaitGroup
		errs := make([]error, touchers+1)
		start := make(chan struct{})
		for i := range touchers {
			wg.Go(func() {
				<-start
				err := st.Touch(ctx, s.ID, at(time.Minute+time.Duration(i)))
				if !errors.Is(err, session.ErrNotFound) {
					errs[i] = err
				}
			})
		}
		wg.Go(func() {
			<-start
			errs[touchers] = st.Delete(ctx, s.ID)
		})
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		if got, ok := get(t, st, s.ID); ok {
			t.Fatalf("round %d: a touch racing a delete brought the session back (LastSeen %v)", r, got.LastSeen)
		}
	}
	if got := listOf(t, st, "alice"); len(got) != 0 {
		t.Errorf("List after the races = %v, want none", ids(got))
	}
}

func touchRacingSave(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	clock.Set(time.Minute)
	ctx := context.Background()
	const rounds, touchers = 50, 4
	var saved []string
	for r := range rounds {
		s := newSession(t, "alice", 0)
		save(t, st, s, at(time.Hour))
		saved = append(saved, s.ID)
		passed := s
		passed.SecondFactorAt = at(time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, touchers+1)
		start := make(chan struct{})
		for i := range touchers {
			wg.Go(func() {
				<-start
				errs[i] = st.Touch(ctx, s.ID, at(time.Minute+time.Duration(i)))
			})
		}
		wg.Go(func() {
			<-start
			errs[touchers] = st.Save(ctx, passed, at(2*time.Hour))
		})
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		got, ok := get(t, st, s.ID)
		if !ok {
			t.Fatalf("round %d: the session is gone", r)
		}
		if !got.SecondFactorAt.Equal(passed.SecondFactorAt) {
			t.Fatalf("round %d: SecondFactorAt = %v after a Save racing touches, want the saved %v", r, got.SecondFactorAt, passed.SecondFactorAt)
		}
	}
	// Past the first expiry, within the one the Save gave.
	clock.Set(90 * time.Minute)
	for _, id := range saved {
		if _, ok := get(t, st, id); !ok {
			t.Fatalf("session %s ended at the expiry it had before the Save: a touch wrote it back", id)
		}
	}
}
