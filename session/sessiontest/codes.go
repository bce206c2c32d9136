package sessiontest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func useCode(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	use := func(user string, step int64, expires time.Duration) bool {
		t.Helper()
		first, err := st.UseCode(context.Background(), user, step, at(expires))
		if err != nil {
			t.Fatalf("UseCode(%s, %d): %v", user, step, err)
		}
		return first
	}
	const step = 63_000_000
	for _, c := range []struct {
		what  string
		now   time.Duration
		user  string
		step  int64
		first bool
	}{
		{"the first use", 0, "alice", step, true},
		{"the same code again", 10 * time.Second, "alice", step, false},
		{"the next step's code", 10 * time.Second, "alice", step + 1, true},
		{"the previous step's code", 10 * time.Second, "alice", step - 1, true},
		{"another user's code of the same step", 10 * time.Second, "bob", step, true},
		{"the same code 1 ms before it is forgotten", 90*time.Second - time.Millisecond, "alice", step, false},
		{"the same code once forgotten", 90 * time.Second, "alice", step, true},
		{"and then again", 90 * time.Second, "alice", step, false},
	} {
		clock.Set(c.now)
		expires := 90 * time.Second
		if c.now >= expires {
			expires = c.now + 90*time.Second
		}
		if got := use(c.user, c.step, expires); got != c.first {
			t.Errorf("%s: first = %v, want %v", c.what, got, c.first)
		}
	}
}

func useCodeExpired(t *testing.T, ns NewStore) {
	st, clock := fixture(t, ns)
	clock.Set(time.Minute)
	ctx := context.Background()
	for _, expires := range []time.Duration{time.Minute, 0} {
		first, err := st.UseCode(ctx, "alice", 7, at(expires))
		if err != nil {
			t.Fatal(err)
		}
		if first {
			t.Errorf("UseCode expiring at +%v, now +1m: first, want refused", expires)
		}
	}
	if first, _ := st.UseCode(ctx, "alice", 7, at(2*time.Minute)); !first {
		t.Error("UseCode within its window after refused ones: not first, want first (nothing was recorded)")
	}
}

func concurrentUseCode(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	const workers, rounds = 16, 5
	for r := range rounds {
		var (
			wg     sync.WaitGroup
			firsts atomic.Int32
			errs   = make([]error, workers)
		)
		start := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				<-start
				first, err := st.UseCode(context.Background(), "carol", int64(r), at(time.Minute))
				errs[w] = err
				if first {
					firsts.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := firsts.Load(); n != 1 {
			t.Errorf("step %d: %d of %d concurrent uses were first, want exactly 1", r, n, workers)
		}
	}
}
