package jwt

import (
	"crypto/sha256"
	"strconv"
	"testing"
	"time"
)

func TestTokenCacheStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	is := &issuerState{cfg: Issuer{Leeway: time.Minute}}
	c := newTokenCache(64)
	for i := range 10000 {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		c.put(&h, &cacheEntry{issuer: is, exp: now.Add(time.Hour)}, now)
	}
	if n := c.len(); n > 64 {
		t.Errorf("cache holds %d entries, want at most 64", n)
	}
	if newTokenCache(-1) != nil {
		t.Errorf("negative size should turn the cache off")
	}
}

func TestTokenCacheEvictsExpiredFirst(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	is := &issuerState{cfg: Issuer{Leeway: time.Minute}}
	c := newTokenCache(cacheShards) // one entry per shard
	var fresh [32]byte
	fresh[0] = 1
	stale := fresh
	stale[1] = 1
	c.put(&stale, &cacheEntry{issuer: is, exp: now.Add(-time.Hour)}, now)
	c.put(&fresh, &cacheEntry{issuer: is, exp: now.Add(time.Hour)}, now)
	if c.get(&fresh) == nil || c.get(&stale) != nil {
		t.Errorf("the expired entry should have made room")
	}
}
