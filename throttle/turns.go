package throttle

import (
	"context"
	"sync"
	"time"
)

// DefaultTurnWait is how long an attempt waits for its user's turn when
// GuardOptions.TurnWait is zero.
const DefaultTurnWait = 2 * time.Second

// turns lets one password or code attempt per user be in flight on this
// gateway at a time. Counters are checked before a hash and counted after
// it, so attempts sent together would all pass the check before any of
// them is counted: sixty concurrent guesses against a limit of five.
// Taking turns makes each attempt see the failures of those before it.
// Correct passwords are cached, so a user's own concurrent requests wait
// microseconds; only guesses wait for hashes.
type turns struct {
	mu sync.Mutex
	m  map[string]*turn
}

type turn struct {
	slot chan struct{}
	refs int // holders and waiters; the entry goes when none is left
}

// take waits at most wait for key's turn and returns the function that
// gives it back; false when the wait ran out or ctx ended.
func (t *turns) take(ctx context.Context, key string, wait time.Duration) (func(), bool) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*turn{}
	}
	tu := t.m[key]
	if tu == nil {
		tu = &turn{slot: make(chan struct{}, 1)}
		t.m[key] = tu
	}
	tu.refs++
	t.mu.Unlock()
	leave := func() {
		t.mu.Lock()
		if tu.refs--; tu.refs == 0 {
			delete(t.m, key)
		}
		t.mu.Unlock()
	}
	release := func() { <-tu.slot; leave() }
	select {
	case tu.slot <- struct{}{}:
		return release, true
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case tu.slot <- struct{}{}:
		return release, true
	case <-timer.C:
	case <-ctx.Done():
	}
	leave()
	return nil, false
}
