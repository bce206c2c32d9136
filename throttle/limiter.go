package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by limiters. Test with errors.Is.
var (
	// ErrInvalidKey is returned for the zero Key.
	ErrInvalidKey = errors.New("throttle: invalid key")
	// ErrUnavailable is returned when the shared store does not answer in
	// time; the limiter could not decide and gave no answer rather than a
	// wrong one.
	ErrUnavailable = errors.New("throttle: store unavailable")
)

// Limiter counts failures per key. Implementations are safe for concurrent
// use. A key whose kind has no Rule is never throttled: Check and Fail return
// the zero Status and no error. An error means the limiter could not decide
// (ErrUnavailable, ErrInvalidKey, a cancelled context); it never stands for
// "over the limit".
type Limiter interface {
	// Check reports whether key is over its limit at now, without counting
	// anything. Call it before any password hash is computed.
	Check(ctx context.Context, key Key, now time.Time) (Status, error)
	// Fail counts one failure for key at now and returns the new status,
	// with the delay to apply before answering the failed attempt. A key
	// already blocked is not counted again (Status.Counted is false).
	Fail(ctx context.Context, key Key, now time.Time) (Status, error)
	// Reset forgets key's failures and lock: after a successful sign-in
	// (for the user and the pair keys) or an admin's unlock.
	Reset(ctx context.Context, key Key) error
}

// Rule is the limit for one kind of key.
type Rule struct {
	// Limit is the number of failures within Window after which attempts
	// are refused.
	Limit int
	// Window is how long a failure counts.
	Window time.Duration
	// Lock, when positive, makes reaching Limit lock the key for Lock.
	// When zero, attempts are accepted again as soon as fewer than Limit
	// failures remain in the window.
	Lock time.Duration
	// FreeFailures is how many failures in the window are answered without
	// delay.
	FreeFailures int
	// Delay is the delay for the first failure past FreeFailures; it
	// doubles for each further failure. Zero disables the delay.
	Delay time.Duration
	// MaxDelay caps the delay; zero means 30 seconds.
	MaxDelay time.Duration
}

// DefaultMaxDelay caps a progressive delay when Rule.MaxDelay is zero.
const DefaultMaxDelay = 30 * time.Second

// Rules holds the rule for each kind. A kind without a rule is not throttled.
type Rules map[Kind]Rule

// Validate returns an error naming the first kind whose rule is unusable.
func (rs Rules) Validate() error {
	for _, k := range Kinds {
		r, ok := rs[k]
		if !ok {
			continue
		}
		switch {
		case r.Limit < 1:
			return fmt.Errorf("throttle: rule %s: limit %d must be at least 1", k, r.Limit)
		case r.Window < time.Millisecond:
			return fmt.Errorf("throttle: rule %s: window %v must be at least 1ms", k, r.Window)
		case r.Lock < 0 || r.Delay < 0 || r.MaxDelay < 0 || r.FreeFailures < 0:
			return fmt.Errorf("throttle: rule %s: durations and free failures must not be negative", k)
		}
	}
	for k := range rs {
		if !knownKind(k) {
			return fmt.Errorf("throttle: rule for unknown kind %q", k)
		}
	}
	return nil
}

func knownKind(k Kind) bool {
	for _, kk := range Kinds {
		if k == kk {
			return true
		}
	}
	return false
}

// PerSource is the most failures one source can add to a user counter
// within the user rule's window: the pair counter lets at most its limit
// through per lock (or, without a lock, per window). Zero when either rule
// is missing. A user limit above it means only failures from several
// sources lock an account; configuration refuses rules where it is not.
func (rs Rules) PerSource() int {
	pair, okP := rs[KindPair]
	user, okU := rs[KindUser]
	if !okP || !okU {
		return 0
	}
	period := pair.Lock
	if period <= 0 {
		period = pair.Window
	}
	periods := int((user.Window + period - 1) / period)
	return pair.Limit * periods
}

// Status is a key's state after Check or Fail.
type Status struct {
	// Failures is the number of failures in the window (after this one, for
	// Fail), at most Limit.
	Failures int
	// Limit is the rule's limit; zero when the kind is not throttled.
	Limit int
	// Blocked reports whether further attempts are refused until Until.
	Blocked bool
	// Locked reports whether the block is a lockout (Rule.Lock) rather
	// than a full sliding window.
	Locked bool
	// Since is when the block began; zero when not blocked.
	Since time.Time
	// Until is when attempts are accepted again; zero when not blocked.
	Until time.Time
	// Delay is how long to wait before answering the failure just counted;
	// zero for Check and for failures not counted.
	Delay time.Duration
	// Counted reports whether Fail counted the failure (false when the key
	// was already blocked or not throttled).
	Counted bool
}

// RetryAfter returns how long until attempts are accepted again, rounded up
// to whole seconds as the Retry-After header needs; zero when not blocked.
func (s Status) RetryAfter(now time.Time) time.Duration {
	if !s.Blocked || !s.Until.After(now) {
		return 0
	}
	d := s.Until.Sub(now)
	return (d + time.Second - 1).Truncate(time.Second)
}

// window is a key's state as every backend keeps it, in Unix milliseconds.
type window struct {
	count       int
	oldest      int64 // time of the oldest failure in the window
	newest      int64 // time of the newest failure in the window
	lockedUntil int64 // zero when never locked
}

// blocked reports whether w refuses attempts at now under r.
func (r Rule) blocked(w window, now int64) bool {
	return w.lockedUntil > now || (r.Lock == 0 && w.count >= r.Limit)
}

// status turns a backend's window into the Status callers see.
func (r Rule) status(w window, now int64, counted bool) Status {
	s := Status{Failures: w.count, Limit: r.Limit, Counted: counted}
	switch {
	case w.lockedUntil > now:
		s.Blocked, s.Locked = true, true
		s.Since = time.UnixMilli(w.lockedUntil - r.Lock.Milliseconds())
		s.Until = time.UnixMilli(w.lockedUntil)
	case r.Lock == 0 && w.count >= r.Limit:
		s.Blocked = true
		s.Since = time.UnixMilli(w.newest)
		s.Until = time.UnixMilli(w.oldest + r.Window.Milliseconds())
	}
	if counted {
		s.Delay = r.delay(w.count)
	}
	return s
}

// delay returns the progressive delay for the n-th failure in the window.
func (r Rule) delay(n int) time.Duration {
	if r.Delay <= 0 || n <= r.FreeFailures {
		return 0
	}
	ceiling := r.MaxDelay
	if ceiling <= 0 {
		ceiling = DefaultMaxDelay
	}
	d := r.Delay
	for i := r.FreeFailures + 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// lookup returns the rule for key, reporting false when its kind is not
// throttled, and ErrInvalidKey for the zero Key.
func (rs Rules) lookup(key Key) (Rule, bool, error) {
	if key.IsZero() {
		return Rule{}, false, ErrInvalidKey
	}
	r, ok := rs[key.kind]
	return r, ok, nil
}
