package accounts

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
)

// Snapshot is an immutable copy of every user and key. Stores load one in
// a single read transaction and hand it to a Cache.
type Snapshot struct {
	Users map[string]authgate.User
	Keys  map[string]authgate.APIKey
}

// NewSnapshot returns an empty snapshot, ready to fill.
func NewSnapshot() *Snapshot {
	return &Snapshot{Users: map[string]authgate.User{}, Keys: map[string]authgate.APIKey{}}
}

// DefaultMaxStale is how long a snapshot outlives failing reloads.
const DefaultMaxStale = 30 * time.Second

// Cache serves lookups from the latest snapshot and tracks whether it is
// current. The request path reads it through an atomic pointer, so a
// lookup costs a map access and a few small copies and never waits for a
// database. Stores embed it.
type Cache struct {
	now      func() time.Time
	maxStale time.Duration
	snap     atomic.Pointer[Snapshot]
	health   atomic.Pointer[healthState]
}

// NewCache returns a Cache on clock now. Lookups fail with ErrStale once
// reloads have failed for longer than maxStale (DefaultMaxStale when zero,
// never when negative).
func NewCache(now func() time.Time, maxStale time.Duration) *Cache {
	if now == nil {
		now = time.Now
	}
	if maxStale == 0 {
		maxStale = DefaultMaxStale
	}
	c := &Cache{now: now, maxStale: maxStale}
	c.snap.Store(NewSnapshot())
	return c
}

// Now is the cache's clock, which its store uses for the times it writes.
func (c *Cache) Now() time.Time { return c.now() }

// User returns the user called name from the current snapshot, or
// authgate.ErrNotFound. It fails with ErrStale when the snapshot could not
// be reloaded for longer than MaxStale.
func (c *Cache) User(_ context.Context, name string) (authgate.User, error) {
	if err := c.stale(); err != nil {
		return authgate.User{}, err
	}
	u, ok := c.snap.Load().Users[name]
	if !ok {
		return authgate.User{}, authgate.ErrNotFound
	}
	// Copies keep callers from changing the shared snapshot.
	u.Scopes = slices.Clone(u.Scopes)
	u.Previous = slices.Clone(u.Previous)
	u.TOTPSecret = slices.Clone(u.TOTPSecret)
	u.RecoveryCodes = slices.Clone(u.RecoveryCodes)
	for i := range u.RecoveryCodes {
		u.RecoveryCodes[i] = slices.Clone(u.RecoveryCodes[i])
	}
	return u, nil
}

// APIKey returns the key with id from the current snapshot, or
// authgate.ErrNotFound; ErrStale as for User.
func (c *Cache) APIKey(_ context.Context, id string) (authgate.APIKey, error) {
	if err := c.stale(); err != nil {
		return authgate.APIKey{}, err
	}
	k, ok := c.snap.Load().Keys[id]
	if !ok {
		return authgate.APIKey{}, authgate.ErrNotFound
	}
	k.Scopes = slices.Clone(k.Scopes)
	k.SecretHash = slices.Clone(k.SecretHash)
	return k, nil
}

// AllUsers returns every user of the current snapshot, sorted by name.
func (c *Cache) AllUsers() []authgate.User {
	snap := c.snap.Load()
	out := make([]authgate.User, 0, len(snap.Users))
	for _, u := range snap.Users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AllKeys returns every key of the current snapshot, oldest first.
func (c *Cache) AllKeys() []authgate.APIKey {
	snap := c.snap.Load()
	out := make([]authgate.APIKey, 0, len(snap.Keys))
	for _, k := range snap.Keys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// healthState records the outcome of the last reload attempt.
type healthState struct {
	err          error     // nil when the last reload succeeded
	loadedAt     time.Time // when the snapshot in use was loaded
	failingSince time.Time // when the current streak of failures began
}

// Loaded records the outcome of a reload: on success snap replaces the
// snapshot in use; on failure the previous one stays.
func (c *Cache) Loaded(snap *Snapshot, err error) {
	if err == nil {
		c.snap.Store(snap)
	}
	prev := c.health.Load()
	h := &healthState{err: err}
	switch {
	case err == nil:
		h.loadedAt = c.now()
	case prev != nil:
		h.loadedAt = prev.loadedAt
		h.failingSince = prev.failingSince
	}
	if err != nil && h.failingSince.IsZero() {
		h.failingSince = c.now()
	}
	c.health.Store(h)
}

// stale returns an error once reloads have failed for longer than
// MaxStale: past that, deciding on the old snapshot could let a revoked key
// or a changed password through, so lookups fail and requests get 503.
func (c *Cache) stale() error {
	h := c.health.Load()
	if h == nil || h.err == nil || c.maxStale < 0 || c.now().Sub(h.failingSince) <= c.maxStale {
		return nil
	}
	return fmt.Errorf("%w: reloading has failed since %s (longer than %s): %v", ErrStale, Stamp(h.failingSince), c.maxStale, h.err)
}

// Healthy returns nil while the snapshot reflects the database as of the
// last check, and otherwise an error saying since when lookups use an older
// snapshot and why it could not be reloaded.
func (c *Cache) Healthy() error {
	h := c.health.Load()
	if h == nil || h.err == nil {
		return nil
	}
	return fmt.Errorf("serving users and keys from the snapshot loaded %s; reloading failed: %w", Stamp(h.loadedAt), h.err)
}

// Watch calls check every interval until ctx ends, each call bounded by
// timeout (none when zero). Stores call it from a goroutine with their
// "reload if the database changed" check. A failing check keeps the last
// snapshot; it is logged once per failure streak, as is the recovery.
// store names the store in the log lines ("sqlite", "postgres").
func (c *Cache) Watch(ctx context.Context, every, timeout time.Duration, check func(context.Context) error, log *slog.Logger, store string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wasHealthy := c.Healthy() == nil
		checkCtx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			checkCtx, cancel = context.WithTimeout(ctx, timeout)
		}
		err := check(checkCtx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && wasHealthy:
			log.Error(store+": keeping the last user and key snapshot; reload failed", "err", err)
		case err == nil && !wasHealthy:
			log.Info(store + ": user and key snapshot reloaded after earlier failures")
		}
	}
}
