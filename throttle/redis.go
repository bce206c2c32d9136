package throttle

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds one Redis round trip when RedisOptions.Timeout
// is zero: a sign-in must not wait long for a throttle answer.
const DefaultRedisTimeout = 250 * time.Millisecond

// RedisOptions configures a Redis limiter.
type RedisOptions struct {
	// Prefix starts every key the limiter writes, e.g. "authgate:throttle:".
	Prefix string
	// Timeout bounds each call; zero means DefaultRedisTimeout.
	Timeout time.Duration
}

// Redis is a Limiter shared by every gateway using the same Redis and
// prefix. Each key is a sorted set of failure times plus a lock key, both
// with TTLs, updated atomically by one Lua script that receives the caller's
// clock. When Redis does not answer within the timeout, calls return an
// error wrapping ErrUnavailable, never a guessed answer.
type Redis struct {
	client  redis.UniversalClient
	rules   Rules
	prefix  string
	timeout time.Duration
	node    string        // makes failure members unique across gateways
	seq     atomic.Uint64 // makes failure members unique within this one
}

// NewRedis returns a Redis limiter applying rules through client. It returns
// an error when a rule is unusable or when client ignores context deadlines
// (go-redis does unless ContextTimeoutEnabled is set, and a call would then
// wait for the client's read timeout instead of the limiter's). It does not
// contact Redis.
func NewRedis(client redis.UniversalClient, rules Rules, opts RedisOptions) (*Redis, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	if !contextTimeouts(client) {
		return nil, errors.New("throttle: the Redis client must set ContextTimeoutEnabled so that calls end at the limiter's timeout")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Redis{
		client:  client,
		rules:   maps.Clone(rules),
		prefix:  opts.Prefix,
		timeout: timeout,
		node:    strconv.FormatUint(binary.LittleEndian.Uint64(b[:]), 36),
	}, nil
}

// windowScript prunes a key's failures, optionally counts one, and returns
// {count, oldest, newest, lockedUntil, counted}; times in Unix milliseconds.
// It mirrors Memory.Fail: keep both in step.
//
// KEYS[1] failures (sorted set), KEYS[2] lock (string holding lockedUntil).
// ARGV: now, window, limit, lock, record ("1" to count), member.
var windowScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local lock = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local locked = tonumber(redis.call('GET', KEYS[2]) or '0')
local counted = 0
if ARGV[5] == '1' and locked <= now and not (lock == 0 and n >= limit) then
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  n = n + 1
  if n > limit then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - limit - 1)
    n = limit
  end
  local newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  redis.call('PEXPIRE', KEYS[1], math.max(1, newest + window - now))
  if lock > 0 and n >= limit then
    locked = now + lock
    redis.call('SET', KEYS[2], locked, 'PX', lock)
  end
  counted = 1
end
local oldest, newest = 0, 0
if n > 0 then
  oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
end
return {n, oldest, newest, locked, counted}
`)

// Check reports key's status at now without counting.
func (l *Redis) Check(ctx context.Context, key Key, now time.Time) (Status, error) {
	return l.run(ctx, "check", key, now, false)
}

// Fail counts one failure for key at now.
func (l *Redis) Fail(ctx context.Context, key Key, now time.Time) (Status, error) {
	return l.run(ctx, "fail", key, now, true)
}

func (l *Redis) run(ctx context.Context, op string, key Key, now time.Time, record bool) (Status, error) {
	r, ok, err := l.rules.lookup(key)
	if err != nil || !ok {
		return Status{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	ms := now.UnixMilli()
	flag, member := "0", ""
	if record {
		flag = "1"
		member = l.node + "." + strconv.FormatUint(l.seq.Add(1), 36)
	}
	fk, lk := l.keys(key)
	res, err := windowScript.Run(ctx, l.client, []string{fk, lk},
		ms, r.Window.Milliseconds(), r.Limit, r.Lock.Milliseconds(), flag, member).Int64Slice()
	if err != nil {
		return Status{}, fmt.Errorf("throttle: redis %s %s: %w: %w", op, key.kind, ErrUnavailable, err)
	}
	if len(res) != 5 {
		return Status{}, fmt.Errorf("throttle: redis %s %s: %w: script returned %d values", op, key.kind, ErrUnavailable, len(res))
	}
	w := window{count: int(res[0]), oldest: res[1], newest: res[2], lockedUntil: res[3]}
	return r.status(w, ms, res[4] == 1), nil
}

// Reset forgets key's failures and lock.
func (l *Redis) Reset(ctx context.Context, key Key) error {
	if key.IsZero() {
		return ErrInvalidKey
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	fk, lk := l.keys(key)
	if err := l.client.Del(ctx, fk, lk).Err(); err != nil {
		return fmt.Errorf("throttle: redis reset %s: %w: %w", key.kind, ErrUnavailable, err)
	}
	return nil
}

// contextTimeouts reports whether client ends calls at their context's
// deadline. Clients of other types are trusted to.
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// keys returns the failures and lock keys of key. The braces make both one
// hash slot, so the script also runs on Redis Cluster.
func (l *Redis) keys(key Key) (failures, lock string) {
	base := l.prefix + "{" + key.String() + "}"
	return base + ":f", base + ":l"
}

var _ Limiter = (*Redis)(nil)
