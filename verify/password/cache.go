package password

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"io"
	"sync"
)

// defaultCacheSize bounds the verified-credential cache.
const defaultCacheSize = 10000

// cache remembers credentials that verified, so a repeated correct login
// costs an HMAC instead of a password hash. Entries are named by
// HMAC-SHA256(key, user \x00 password), so the cache holds no password, and
// hold the hash that matched: a hit counts only while that is still the
// user's current hash, so a password change invalidates it at once.
type cache struct {
	max  int
	macs sync.Pool // of hash.Hash: hmac.New costs more than the lookup

	mu sync.Mutex
	m  map[[sha256.Size]byte]string
}

func newCache(key []byte, size int) *cache {
	c := &cache{max: size, m: make(map[[sha256.Size]byte]string)}
	c.macs.New = func() any { return hmac.New(sha256.New, key) }
	return c
}

// id names the credential user/password.
func (c *cache) id(user, password string) [sha256.Size]byte {
	h := c.macs.Get().(hash.Hash)
	defer c.macs.Put(h)
	h.Reset()
	io.WriteString(h, user)
	h.Write([]byte{0})
	io.WriteString(h, password)
	var id [sha256.Size]byte
	h.Sum(id[:0])
	return id
}

// get returns the hash the credential id last matched.
func (c *cache) get(id [sha256.Size]byte) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[id]
	return h, ok
}

// put records that credential id matched hash. When the cache is full an
// arbitrary entry makes room; a dropped entry only costs one more hash.
func (c *cache) put(id [sha256.Size]byte, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = hash
}

// len returns the number of cached credentials.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
