package jwt

import (
	"sync"
	"time"

	"github.com/authgate/authgate"
)

// DefaultCacheSize is the number of verified tokens kept when
// Options.CacheSize is zero.
const DefaultCacheSize = 10000

const cacheShards = 16

// cacheEntry is a token whose signature verified. An accepted token's
// verdict is reused only while the token is inside its time window; an
// expired one (expired is set) is refused again without another signature
// check, since expiry only moves one way. Either is reused only while the
// key that verified it is still published by its issuer, so a withdrawn
// key sends the token through every check again.
type cacheEntry struct {
	principal authgate.Principal
	token     authgate.TokenInfo
	claimed   string
	issuer    *issuerState
	key       *key
	exp, nbf  time.Time
	expired   bool
	hit       string // detail of the jwt.cache check
}

// published reports whether the key that verified e is still in its
// issuer's key set.
func (e *cacheEntry) published() bool {
	set := e.issuer.keys.Load()
	return set != nil && set.contains(e.key)
}

// usable reports whether e may answer for its token at now, and returns
// the exp check's detail.
func (e *cacheEntry) usable(now time.Time) (string, bool) {
	leeway := e.issuer.cfg.Leeway
	if !e.nbf.IsZero() && e.nbf.Sub(now) > leeway {
		return "", false
	}
	detail, ago := expDetail(e.exp, now, leeway)
	if ago > leeway {
		return "", false
	}
	return detail, e.published()
}

// tokenCache maps the SHA-256 of a token to its cache entry. It is sharded
// so hits take only a read lock on one shard; when a shard is full an
// expired entry, or else an arbitrary one, makes room.
type tokenCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[[32]byte]*cacheEntry
}

// newTokenCache returns a cache of about size entries, or nil (caching
// off) when size is negative.
func newTokenCache(size int) *tokenCache {
	switch {
	case size < 0:
		return nil
	case size == 0:
		size = DefaultCacheSize
	}
	c := &tokenCache{perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]*cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(h *[32]byte) *cacheShard { return &c.shards[h[0]%cacheShards] }

func (c *tokenCache) get(h *[32]byte) *cacheEntry {
	if c == nil {
		return nil
	}
	s := c.shard(h)
	s.mu.RLock()
	e := s.m[*h]
	s.mu.RUnlock()
	return e
}

func (c *tokenCache) put(h *[32]byte, e *cacheEntry, now time.Time) {
	if c == nil {
		return
	}
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*h]; !ok && len(s.m) >= c.perShard {
		s.evictOne(now)
	}
	s.m[*h] = e
}

// evictOne removes an expired entry among the first few the map yields,
// or else the first one. Map iteration starts at a random place, so this
// is random eviction, which keeps hits lock-free of bookkeeping.
func (s *cacheShard) evictOne(now time.Time) {
	const probe = 8
	var victim [32]byte
	n := 0
	for h, e := range s.m {
		if n == 0 {
			victim = h
		}
		if now.Sub(e.exp) > e.issuer.cfg.Leeway {
			victim = h
			break
		}
		if n++; n == probe {
			break
		}
	}
	delete(s.m, victim)
}

func (c *tokenCache) remove(h *[32]byte) {
	if c == nil {
		return
	}
	s := c.shard(h)
	s.mu.Lock()
	delete(s.m, *h)
	s.mu.Unlock()
}

// len returns the number of cached tokens.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
