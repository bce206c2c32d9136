package password

import (
	"context"
	"sync"
	"time"
)

// floor pads failed checks to the time the slowest recent failure took.
// Users hashed with cheaper parameters than the dummy an unknown name is
// checked against — an imported bcrypt or {SHA} file, argon2 settings
// changed since — would otherwise answer faster than an unknown name, and
// the difference tells which names exist.
type floor struct {
	mu   sync.Mutex
	max  time.Duration // decaying maximum of failure durations
	last time.Time
}

// maxPad bounds the padding, so one slow outlier cannot stall every
// failure for long.
const maxPad = 2 * time.Second

// wait records a failure that took took (measured at end) and returns how
// long to wait so that it lasts as long as the slowest recent failure. The
// maximum halves every minute, so it follows a change of parameters.
func (f *floor) wait(took time.Duration, end time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.last.IsZero() {
		for elapsed := end.Sub(f.last); elapsed >= time.Minute && f.max > 0; elapsed -= time.Minute {
			f.max /= 2
		}
	}
	f.last = end
	if took >= f.max {
		f.max = took
		return 0
	}
	return min(f.max-took, maxPad)
}

// pad sleeps for d, or until ctx ends.
func pad(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
