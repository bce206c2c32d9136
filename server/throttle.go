package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/metrics"
	"github.com/authgate/authgate/throttle"
)

// throttling is the gateway's failure counting: the counters (in memory,
// or in Redis with per-node counting while Redis does not answer) and the
// guard the decision engine consults.
type throttling struct {
	guard    *throttle.Guard
	memory   *throttle.Memory   // this node's counters, or the fallback's
	fallback *throttle.Fallback // nil unless throttle.store is redis
	client   *redis.Client
	locks    atomic.Uint64
}

// counterKinds maps the counters' names in the file to their kinds.
var counterKinds = map[string]throttle.Kind{
	config.CounterUser: throttle.KindUser, config.CounterPair: throttle.KindPair,
	config.CounterAddress: throttle.KindAddress, config.CounterNetwork: throttle.KindNetwork,
	config.CounterCredential: throttle.KindCredential,
}

// Rules converts the configured counters to throttle rules.
func Rules(c config.Throttle) throttle.Rules {
	rules := throttle.Rules{}
	for name, r := range c.Rules {
		rules[counterKinds[name]] = throttle.Rule{Limit: r.Limit, Window: r.Window, Lock: r.Lock,
			FreeFailures: r.FreeFailures, Delay: r.Delay, MaxDelay: r.MaxDelay}
	}
	return rules
}

// quietRedis keeps go-redis's own log lines (a refused dial for every call
// while Redis is down) out of the gateway's log; the fallback logs each
// outage once, and errors reach the callers.
var quietRedis sync.Once

// newThrottling builds the counters the configuration asks for; nil when
// throttling is off.
func newThrottling(cfg *config.Config, users accounts.Store, logger *slog.Logger) (*throttling, error) {
	if !cfg.Throttle.Enabled {
		logger.Warn("throttling is off (throttle.enabled: false): repeated failures are neither slowed down nor refused")
		return nil, nil
	}
	rules := Rules(cfg.Throttle)
	mem, err := throttle.NewMemory(rules, throttle.MemoryOptions{MaxKeys: cfg.Throttle.MaxKeys})
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	t := &throttling{memory: mem}
	var l throttle.Limiter = mem
	if cfg.Throttle.Store == config.ThrottleRedis {
		quietRedis.Do(func() { redis.SetLogger(discardRedisLog{}) })
		t.client = NewRedisClient(cfg.Redis)
		shared, err := throttle.NewRedis(t.client, rules, throttle.RedisOptions{Prefix: cfg.Throttle.Prefix, Timeout: cfg.Redis.Timeout})
		if err != nil {
			t.client.Close()
			return nil, fmt.Errorf("throttle: %w", err)
		}
		t.fallback = throttle.NewFallback(shared, mem, throttle.FallbackOptions{Logger: logger})
		l = t.fallback
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := t.client.Ping(ctx).Err(); err != nil {
			// Not fatal: the gateway counts per node until Redis answers.
			logger.Warn("throttle: Redis does not answer at start-up; counting failures per node until it does", "address", cfg.Redis.Address, "err", err)
		}
	}
	t.guard = throttle.NewGuard(l, throttle.GuardOptions{
		Rules: rules, Exempt: cfg.Throttle.ExemptNetworks, Users: users, Locker: users, Logger: logger,
		OnLock: func() { t.locks.Add(1) },
	})
	return t, nil
}

// NewRedisClient connects to the configured Redis. Calls end at their
// context's deadline (the limiter's timeout), so a slow Redis cannot hold
// requests.
func NewRedisClient(c config.Redis) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: c.Address, Username: c.Username, Password: c.Password, DB: c.DB,
		DialTimeout: max(c.Timeout, time.Second), ReadTimeout: c.Timeout, WriteTimeout: c.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // a retry would outlast the timeout; the fallback takes over instead
		// go-redis retries a refused dial 5 times, 100 ms apart: a request
		// would wait out the whole timeout for a Redis that is plainly down.
		DialerRetries: 1,
	})
}

// sweep drops expired in-memory counters every minute until ctx ends.
func (t *throttling) sweep(ctx context.Context, now func() time.Time) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.memory.Sweep(now())
		}
	}
}

// stats reports the counters' state for metrics.
func (t *throttling) stats() metrics.ThrottleStats {
	s := metrics.ThrottleStats{AccountLocks: t.locks.Load(), Keys: t.memory.Len(), Evicted: t.memory.Evicted()}
	if t.fallback != nil {
		s.Degraded, s.Degradations = t.fallback.Degraded(), t.fallback.Degradations()
	}
	return s
}

func (t *throttling) close() {
	if t != nil && t.client != nil {
		t.client.Close()
	}
}

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}
