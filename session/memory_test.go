package session_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/session/sessiontest"
)

func TestMemoryConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		return session.NewMemory(session.MemoryOptions{Now: now})
	})
}

func testSession(i int, user string) session.Session {
	return session.Session{ID: fmt.Sprintf("id%06d", i), User: user, CreatedAt: sessiontest.T0}
}

func TestMemoryKeepsAtMostMaxSessionsEvictingTheLeastRecentlySaved(t *testing.T) {
	clock := sessiontest.NewClock()
	m := session.NewMemory(session.MemoryOptions{Now: clock.Now, MaxSessions: 128})
	ctx := context.Background()
	first := testSession(-1, "first")
	m.Save(ctx, first, sessiontest.T0.Add(time.Hour))
	for i := range 10_000 {
		if err := m.Save(ctx, testSession(i, "u"), sessiontest.T0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n > 128 {
		t.Errorf("Len = %d, want at most 128", n)
	}
	if n := m.Evicted(); n < 10_000-128 {
		t.Errorf("Evicted = %d, want at least %d", n, 10_000-128)
	}
	if _, err := m.Get(ctx, first.ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the first session saved: %v, want evicted", err)
	}
	if _, err := m.Get(ctx, testSession(9_999, "u").ID); err != nil {
		t.Errorf("the last session saved: %v, want kept", err)
	}
	if ss, _ := m.List(ctx, "u"); len(ss) != m.Len() {
		t.Errorf("List has %d sessions, the store %d: the user index kept evicted ones", len(ss), m.Len())
	}
}

func TestMemoryBoundsUsedCodesToo(t *testing.T) {
	m := session.NewMemory(session.MemoryOptions{Now: sessiontest.NewClock().Now, MaxSessions: 64})
	ctx := context.Background()
	for i := range 1000 {
		if first, err := m.UseCode(ctx, "u", int64(i), sessiontest.T0.Add(time.Hour)); err != nil || !first {
			t.Fatalf("UseCode(%d) = %v, %v", i, first, err)
		}
	}
	if n := m.EvictedCodes(); n < 1000-64 {
		t.Errorf("EvictedCodes = %d, want at least %d", n, 1000-64)
	}
	if m.Evicted() != 0 {
		t.Errorf("Evicted = %d, want 0: codes are counted apart", m.Evicted())
	}
	if first, _ := m.UseCode(ctx, "u", 999, sessiontest.T0.Add(time.Hour)); first {
		t.Error("the latest code was evicted")
	}
}

func TestMemorySweepDropsWhatExpired(t *testing.T) {
	clock := sessiontest.NewClock()
	m := session.NewMemory(session.MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	t0 := sessiontest.T0
	for i := range 100 {
		m.Save(ctx, testSession(i, "u"), t0.Add(time.Minute))
		m.UseCode(ctx, "u", int64(i), t0.Add(time.Minute))
	}
	m.Save(ctx, testSession(100, "u"), t0.Add(time.Hour))
	if n := m.Sweep(t0.Add(time.Minute - time.Millisecond)); n != 0 {
		t.Errorf("Sweep before expiry removed %d", n)
	}
	if n := m.Sweep(t0.Add(time.Minute)); n != 200 {
		t.Errorf("Sweep at expiry removed %d, want 100 sessions and 100 codes", n)
	}
	if n := m.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestMemoryDropsExpiredSessionsWhenTouched(t *testing.T) {
	clock := sessiontest.NewClock()
	m := session.NewMemory(session.MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	m.Save(ctx, testSession(1, "u"), sessiontest.T0.Add(time.Minute))
	m.Save(ctx, testSession(2, "u"), sessiontest.T0.Add(time.Minute))
	clock.Set(time.Minute)
	m.Get(ctx, testSession(1, "u").ID)
	if n := m.Len(); n != 1 {
		t.Errorf("Len after Get of an expired session = %d, want 1", n)
	}
	m.List(ctx, "u")
	if n := m.Len(); n != 0 {
		t.Errorf("Len after List = %d, want 0", n)
	}
}

func TestMemoryDefaultsToTheRealClock(t *testing.T) {
	m := session.NewMemory(session.MemoryOptions{})
	ctx := context.Background()
	s := testSession(1, "u")
	m.Save(ctx, s, time.Now().Add(time.Hour))
	if _, err := m.Get(ctx, s.ID); err != nil {
		t.Errorf("Get: %v", err)
	}
	m.Save(ctx, s, time.Now().Add(-time.Millisecond))
	if _, err := m.Get(ctx, s.ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get after saving it expired by the real clock: %v, want ErrNotFound", err)
	}
}
