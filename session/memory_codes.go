package session

import (
	"container/list"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Used TOTP codes in a Memory store: the same sharding, bound and expiry as
// its sessions, in maps of their own.

type codeShard struct {
	mu   sync.Mutex
	used map[codeKey]*list.Element // of *memoryCode
	lru  list.List                 // least recently used at the front
}

type codeKey struct {
	user string
	step int64
}

type memoryCode struct {
	key     codeKey
	expires time.Time
}

func (m *Memory) codeShard(k codeKey) *codeShard {
	return &m.codes[maphash.Comparable(m.seed, k)%memoryShards]
}

// UseCode records the use of user's code of step until expires and reports
// whether it is the first.
func (m *Memory) UseCode(_ context.Context, user string, step int64, expires time.Time) (bool, error) {
	if user == "" {
		return false, ErrInvalid
	}
	now := m.now()
	k := codeKey{user, step}
	sh := m.codeShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if el := sh.used[k]; el != nil {
		if now.Before(el.Value.(*memoryCode).expires) {
			return false, nil
		}
		sh.remove(el)
	}
	if remaining(now, expires) <= 0 {
		return false, nil
	}
	sh.expireFront(now)
	if len(sh.used) >= m.perShard {
		sh.remove(sh.lru.Front())
		m.evictedCodes.Add(1)
	}
	sh.used[k] = sh.lru.PushBack(&memoryCode{key: k, expires: time.UnixMilli(ceilMilli(expires))})
	return true, nil
}

// sweepCodes removes the used codes expired at now and returns how many.
func (m *Memory) sweepCodes(now time.Time) int {
	n := 0
	for i := range m.codes {
		sh := &m.codes[i]
		sh.mu.Lock()
		for _, el := range sh.used {
			if !now.Before(el.Value.(*memoryCode).expires) {
				sh.remove(el)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// EvictedCodes returns how many remembered codes were dropped because the
// store was full; each could have been replayed within its window.
func (m *Memory) EvictedCodes() uint64 { return m.evictedCodes.Load() }

func (sh *codeShard) expireFront(now time.Time) {
	for range 2 {
		el := sh.lru.Front()
		if el == nil || now.Before(el.Value.(*memoryCode).expires) {
			return
		}
		sh.remove(el)
	}
}

func (sh *codeShard) remove(el *list.Element) {
	delete(sh.used, el.Value.(*memoryCode).key)
	sh.lru.Remove(el)
}
