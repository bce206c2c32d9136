package throttle

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultProbeInterval is how often a degraded Fallback tries the shared
// limiter again when FallbackOptions.ProbeInterval is zero.
const DefaultProbeInterval = 5 * time.Second

// FallbackOptions configures a Fallback.
type FallbackOptions struct {
	// ProbeInterval is the least time, by the callers' clock, between two
	// attempts to use the shared limiter while degraded. Zero means
	// DefaultProbeInterval.
	ProbeInterval time.Duration
	// Logger receives one line when the limiter degrades and one when it
	// recovers; nil means slog.Default().
	Logger *slog.Logger
}

// Fallback is a Limiter that uses a shared limiter (Redis) and, while that
// fails, a local one (Memory): the gateway keeps throttling per node instead
// of failing open or refusing everyone. It logs each switch once, counts
// degradations, and returns to the shared limiter when a probe succeeds.
//
// Failures counted locally during an outage are not copied to the shared
// limiter, and a Reset during an outage does not reach it: after recovery a
// user may find failures counted before the outage until they expire.
type Fallback struct {
	shared, local Limiter
	probe         time.Duration
	log           *slog.Logger

	degraded     atomic.Bool
	degradations atomic.Uint64
	mu           sync.Mutex // guards nextProbe and lastNow
	nextProbe    time.Time
	lastNow      time.Time // the latest clock reading seen, for Reset
}

// NewFallback returns a Fallback using shared and, while it fails, local.
func NewFallback(shared, local Limiter, opts FallbackOptions) *Fallback {
	f := &Fallback{shared: shared, local: local, probe: opts.ProbeInterval, log: opts.Logger}
	if f.probe <= 0 {
		f.probe = DefaultProbeInterval
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	return f
}

// Degraded reports whether the Fallback currently serves from the local
// limiter.
func (f *Fallback) Degraded() bool { return f.degraded.Load() }

// Degradations returns how many times the Fallback switched from the shared
// limiter to the local one.
func (f *Fallback) Degradations() uint64 { return f.degradations.Load() }

// Check reports key's status from the shared limiter, or the local one while
// the shared one fails.
func (f *Fallback) Check(ctx context.Context, key Key, now time.Time) (Status, error) {
	return f.do(ctx, key, now, func(l Limiter) (Status, error) { return l.Check(ctx, key, now) })
}

// Fail counts one failure in the shared limiter, or the local one while the
// shared one fails.
func (f *Fallback) Fail(ctx context.Context, key Key, now time.Time) (Status, error) {
	return f.do(ctx, key, now, func(l Limiter) (Status, error) { return l.Fail(ctx, key, now) })
}

// Reset forgets key in the shared limiter, or in the local one while the
// shared one fails. It always resets the local one too, so a key counted
// there during an outage does not stay blocked after recovery.
func (f *Fallback) Reset(ctx context.Context, key Key) error {
	if key.IsZero() {
		return ErrInvalidKey
	}
	localErr := f.local.Reset(ctx, key)
	f.mu.Lock()
	now := f.lastNow
	f.mu.Unlock()
	_, err := f.do(ctx, key, now, func(l Limiter) (Status, error) {
		if l == f.local {
			return Status{}, localErr
		}
		return Status{}, l.Reset(ctx, key)
	})
	return err
}

func (f *Fallback) do(ctx context.Context, key Key, now time.Time, call func(Limiter) (Status, error)) (Status, error) {
	if key.IsZero() {
		return Status{}, ErrInvalidKey
	}
	if f.degraded.Load() && !f.probeDue(now) {
		return call(f.local)
	}
	f.seen(now)
	s, err := call(f.shared)
	if err == nil {
		if f.degraded.CompareAndSwap(true, false) {
			f.log.Info("throttle: shared limiter answers again; back to shared limits")
		}
		return s, nil
	}
	if ctx.Err() != nil {
		// The caller gave up; that says nothing about the shared limiter.
		return Status{}, err
	}
	if f.degraded.CompareAndSwap(false, true) {
		f.degradations.Add(1)
		f.log.Warn("throttle: shared limiter unavailable; using per-node limits", "err", err)
	}
	f.mu.Lock()
	f.nextProbe = now.Add(f.probe)
	f.mu.Unlock()
	return call(f.local)
}

// probeDue reports whether a degraded Fallback should try the shared limiter
// at now, and if so pushes the next probe back so that concurrent calls do
// not all probe at once.
func (f *Fallback) probeDue(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.After(f.lastNow) {
		f.lastNow = now
	}
	if now.Before(f.nextProbe) {
		return false
	}
	f.nextProbe = now.Add(f.probe)
	return true
}

func (f *Fallback) seen(now time.Time) {
	f.mu.Lock()
	if now.After(f.lastNow) {
		f.lastNow = now
	}
	f.mu.Unlock()
}

var _ Limiter = (*Fallback)(nil)
