package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds one store call when RedisOptions.Timeout is
// zero: every request with a cookie waits for Get.
const DefaultRedisTimeout = 250 * time.Millisecond

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Prefix starts every key the store writes, e.g. "authgate:session:".
	// A hash tag in it ("authgate:{session}:") puts every key in one
	// Redis Cluster slot; without one, keys spread over the cluster.
	Prefix string
	// Timeout bounds each call (all its round trips); zero means
	// DefaultRedisTimeout.
	Timeout time.Duration
	// Now is the store's clock, deciding expiry and TTLs; nil means
	// time.Now.
	Now func() time.Time
}

// Redis is a Store shared by every gateway using the same Redis and prefix.
// Keys, with user names and ids escaped (see keyPart):
//
//	prefix+"s:"+id              the session as JSON, with its expiry
//	prefix+"u:"+user            sorted set of the user's ids, scored by expiry
//	prefix+"c:"+user+":"+step   a used code, holding its expiry
//
// Every key has a TTL of expires − Now(). A user's index lives as long as
// their latest session; Save prunes it of expired ids, List and DeleteUser
// also of ids whose session was deleted (Delete leaves the index alone: it
// does not know the user). Only single-key commands and
// single-key scripts are used, so the store also runs on Redis Cluster with
// the keys spread over slots; it does not need them in one.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// record is the stored form of a session.
type record struct {
	Session
	Expires time.Time `json:"expires"`
}

// NewRedis returns a Redis store using client. It returns an error when
// client ignores context deadlines (go-redis does unless
// ContextTimeoutEnabled is set, and a call would then wait for the client's
// read timeout instead of the store's). It does not contact Redis.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if !contextTimeouts(client) {
		return nil, errors.New("session: the Redis client must set ContextTimeoutEnabled so that calls end at the store's timeout")
	}
	r := &Redis{client: client, prefix: opts.Prefix, timeout: opts.Timeout, now: opts.Now}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// indexScript adds an id to a user's index, prunes the ids expired at now
// and sets the index's TTL to its latest expiry. Times in Unix ms.
//
// KEYS[1] index. ARGV: now, expires, id.
var indexScript = redis.NewScript(`
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', KEYS[1], string.format('%d', last - now))
return 1
`)

// Save creates or replaces s until expires.
func (r *Redis) Save(ctx context.Context, s Session, expires time.Time) error {
	if s.ID == "" || s.User == "" {
		return ErrInvalid
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	now := r.now()
	sk, uk := r.sessionKey(s.ID), r.userKey(s.User)
	ttl := remaining(now, expires)
	var err error
	if ttl <= 0 {
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, sk)
			p.ZRem(ctx, uk, s.ID)
			return nil
		})
	} else {
		exp := now.UnixMilli() + ttl
		var data []byte
		data, err = json.Marshal(record{Session: normalize(s), Expires: time.UnixMilli(exp).UTC()})
		if err != nil {
			return fmt.Errorf("session: redis save: %w", err)
		}
		// Two slots on a cluster: not one transaction. The session is
		// written first, so an id found in an index has its session.
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, sk, data, time.Duration(ttl)*time.Millisecond)
			indexScript.Eval(ctx, p, []string{uk}, now.UnixMilli(), exp, s.ID)
			return nil
		})
	}
	if err != nil {
		return unavailable("save", err)
	}
	return nil
}

// Get returns the live session with id, or ErrNotFound.
func (r *Redis) Get(ctx context.Context, id string) (Session, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	data, err := r.client.Get(ctx, r.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, unavailable("get", err)
	}
	rec, err := decode(id, data)
	if err != nil {
		return Session{}, unavailable("get", err)
	}
	if !r.now().Before(rec.Expires) {
		return Session{}, ErrNotFound
	}
	return rec.Session, nil
}

// Delete forgets the session with id, if any. Its id stays in the user's
// index until pruned.
func (r *Redis) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Del(ctx, r.sessionKey(id)).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

func (r *Redis) sessionKey(id string) string { return r.prefix + "s:" + keyPart(id) }
func (r *Redis) userKey(user string) string  { return r.prefix + "u:" + keyPart(user) }
func (r *Redis) codeKey(user string, step int64) string {
	return r.prefix + "c:" + keyPart(user) + ":" + strconv.FormatInt(step, 10)
}

// keyPart escapes s for use inside a key: '%' and the bytes that matter to
// the key layout or to Redis Cluster ('{', '}', ':', spaces and control
// characters) become %XX. Without it a user named "{x}" would choose the
// hash slot of every key of theirs, and a colon could make two (user, step)
// pairs one key. Ids and ordinary names are returned unchanged.
func keyPart(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r < 0x80 && keyEscaped(byte(r)) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for j := i; j < len(s); j++ {
		c := s[j]
		if keyEscaped(c) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func keyEscaped(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '%' || c == '{' || c == '}' || c == ':'
}

func decode(id string, data []byte) (record, error) {
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return record{}, fmt.Errorf("session %s: unreadable record: %w", id, err)
	}
	if rec.ID != id || rec.Expires.IsZero() {
		return record{}, fmt.Errorf("session %s: record names %q or has no expiry", id, rec.ID)
	}
	return rec, nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("session: redis %s: %w: %w", op, ErrUnavailable, err)
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

var _ Store = (*Redis)(nil)
