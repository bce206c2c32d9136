package jwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// issuerState is one configured issuer at run time: its settings, its
// current key set and the bookkeeping that keeps refreshes rare.
type issuerState struct {
	cfg    Issuer
	src    source
	now    func() time.Time
	log    *slog.Logger
	keys   atomic.Pointer[keySet] // nil until the first successful fetch
	flight singleflight.Group

	mu         sync.Mutex
	lastDemand time.Time // when a request last triggered a refresh
	lastErr    error     // the latest fetch's error; nil after a success
	fetches    int       // completed fetch attempts, for Health
}

// fetch loads and installs the issuer's key set. Concurrent calls share
// one fetch. On failure the previous set stays in use.
func (is *issuerState) fetch(ctx context.Context, why string) error {
	_, err, _ := is.flight.Do("fetch", func() (any, error) {
		ctx, cancel := context.WithTimeout(ctx, is.cfg.FetchTimeout)
		defer cancel()
		set, err := is.load(ctx)
		is.mu.Lock()
		is.lastErr, is.fetches = err, is.fetches+1
		is.mu.Unlock()
		if err != nil {
			is.log.Warn("jwt: cannot fetch issuer keys", "issuer", is.cfg.Name, "source", is.src.String(), "trigger", why, "error", err)
			return nil, err
		}
		is.keys.Store(set)
		is.log.Info("jwt: issuer keys loaded", "issuer", is.cfg.Name, "source", is.src.String(), "trigger", why, "keys", len(set.keys))
		return nil, nil
	})
	return err
}

func (is *issuerState) load(ctx context.Context) (*keySet, error) {
	data, err := is.src.load(ctx)
	if err != nil {
		return nil, err
	}
	set, skipped, err := parseKeySet(data, is.keys.Load(), is.now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", is.src, err)
	}
	for _, s := range skipped {
		is.log.Debug("jwt: JWKS key ignored", "issuer", is.cfg.Name, "detail", s)
	}
	return set, nil
}

// refreshOnDemand refetches the key set because a request needs a key the
// cached set lacks. At most one such refresh runs per MinRefreshInterval,
// and concurrent callers share it, so random kids cannot hammer the
// issuer. It reports whether a fetch ran. The error is set when the cached
// set cannot be trusted to be current: this fetch failed, or it was skipped
// and the latest fetch had failed; retryAfter says when to try again.
func (is *issuerState) refreshOnDemand(ctx context.Context) (fetched bool, retryAfter time.Duration, err error) {
	ch := is.flight.DoChan("demand", func() (any, error) {
		now := is.now()
		is.mu.Lock()
		if !is.lastDemand.IsZero() && now.Sub(is.lastDemand) < is.cfg.MinRefreshInterval {
			err := is.lastErr
			is.mu.Unlock()
			return false, err
		}
		is.lastDemand = now
		is.mu.Unlock()
		// The fetch is shared, so one caller's cancellation must not fail
		// the others; FetchTimeout still bounds it.
		return true, is.fetch(context.WithoutCancel(ctx), "unknown kid")
	})
	select {
	case r := <-ch:
		fetched, _ = r.Val.(bool)
		return fetched, is.retryAfter(), r.Err
	case <-ctx.Done():
		return false, is.retryAfter(), ctx.Err()
	}
}

// retryAfter is how long until a request may trigger the next refresh.
func (is *issuerState) retryAfter() time.Duration {
	is.mu.Lock()
	defer is.mu.Unlock()
	d := is.lastDemand.Add(is.cfg.MinRefreshInterval).Sub(is.now())
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second)
}

// refreshLoop refetches the key set every RefreshInterval until ctx ends,
// and every MinRefreshInterval while the latest fetch failed.
func (is *issuerState) refreshLoop(ctx context.Context) {
	t := time.NewTimer(is.nextRefresh())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = is.fetch(ctx, "scheduled")
			t.Reset(is.nextRefresh())
		}
	}
}

func (is *issuerState) nextRefresh() time.Duration {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.lastErr != nil {
		return is.cfg.MinRefreshInterval
	}
	return is.cfg.RefreshInterval
}

// health returns why the issuer's keys cannot be trusted, or nil.
func (is *issuerState) health() error {
	is.mu.Lock()
	defer is.mu.Unlock()
	switch {
	case is.lastErr != nil:
		return fmt.Errorf("jwt: issuer %q: %w", is.cfg.Name, is.lastErr)
	case is.fetches == 0:
		return fmt.Errorf("jwt: issuer %q: %w", is.cfg.Name, errNotStarted)
	}
	return nil
}

var errNotStarted = errors.New("keys not fetched yet (Start has not run)")
