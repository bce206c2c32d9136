package throttle_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/throttle/limitertest"
)

func TestMemoryConformance(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, rules throttle.Rules) throttle.Limiter {
		return newTestMemory(t, rules)
	})
}

func TestMemoryKeepsAtMostMaxKeysEvictingTheOldest(t *testing.T) {
	m, err := throttle.NewMemory(throttle.Rules{throttle.KindUser: {Limit: 5, Window: time.Hour}}, throttle.MemoryOptions{MaxKeys: 128})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := limitertest.T0
	first := throttle.UserKey("first")
	m.Fail(ctx, first, t0)
	for i := range 10_000 {
		if _, err := m.Fail(ctx, throttle.UserKey(fmt.Sprintf("u%d", i)), t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n > 128 {
		t.Errorf("Len = %d, want at most 128", n)
	}
	if n := m.Evicted(); n < 10_000-128 {
		t.Errorf("Evicted = %d, want at least %d", n, 10_000-128)
	}
	if s, _ := m.Check(ctx, first, t0.Add(time.Minute)); s.Failures != 0 {
		t.Errorf("the oldest key still has %d failures, want it evicted", s.Failures)
	}
}

func TestMemoryDropsEntriesOnceTheirWindowAndLockHavePassed(t *testing.T) {
	m := newTestMemory(t, throttle.Rules{
		throttle.KindUser:    {Limit: 1, Window: time.Minute, Lock: time.Hour},
		throttle.KindAddress: {Limit: 5, Window: time.Minute},
	})
	ctx := context.Background()
	t0 := limitertest.T0
	m.Fail(ctx, throttle.UserKey("locked"), t0)
	for i := range 100 {
		m.Fail(ctx, throttle.AddressKey(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})), t0)
	}
	if n := m.Len(); n != 101 {
		t.Fatalf("Len = %d, want 101", n)
	}
	if n := m.Sweep(t0.Add(time.Minute)); n != 100 {
		t.Errorf("Sweep after the window removed %d, want the 100 unlocked keys", n)
	}
	if n := m.Sweep(t0.Add(time.Hour)); n != 1 {
		t.Errorf("Sweep after the lock removed %d, want 1", n)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
}

func TestMemoryCheckNeverStoresAKey(t *testing.T) {
	m := newTestMemory(t, throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Minute}})
	for i := range 100 {
		m.Check(context.Background(), throttle.UserKey(fmt.Sprintf("u%d", i)), limitertest.T0)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d after checks only, want 0", n)
	}
}

func TestMemoryEntriesExpireWhenTouchedWithoutSweep(t *testing.T) {
	m := newTestMemory(t, throttle.Rules{throttle.KindUser: {Limit: 5, Window: time.Minute}})
	ctx := context.Background()
	k := throttle.UserKey("ivan")
	m.Fail(ctx, k, limitertest.T0)
	m.Check(ctx, k, limitertest.T0.Add(time.Minute))
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d after the window passed, want 0", n)
	}
}
