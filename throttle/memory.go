package throttle

import (
	"container/list"
	"context"
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// memoryShards spreads keys over independently locked maps so concurrent
// requests for different keys rarely wait for each other.
const memoryShards = 64

// DefaultMaxKeys bounds a Memory limiter when MemoryOptions.MaxKeys is zero.
const DefaultMaxKeys = 1 << 20

// MemoryOptions configures a Memory limiter.
type MemoryOptions struct {
	// MaxKeys bounds the number of keys kept; when full, the key updated
	// least recently is evicted. Zero means DefaultMaxKeys.
	MaxKeys int
}

// Memory is a Limiter for one node: sharded maps whose entries disappear
// once their window and lock have passed, with a bounded size.
type Memory struct {
	rules    Rules
	seed     maphash.Seed
	perShard int
	evicted  atomic.Uint64
	shards   [memoryShards]memoryShard
}

type memoryShard struct {
	mu      sync.Mutex
	entries map[string]*list.Element // of *memoryEntry
	lru     list.List                // least recently updated at the front
}

type memoryEntry struct {
	key         string
	times       []int64 // failure times in the window, ascending, at most Limit
	lockedUntil int64
	expires     int64 // when the entry holds nothing that still counts
}

// NewMemory returns a Memory limiter applying rules. It returns an error when
// a rule is unusable.
func NewMemory(rules Rules, opts MemoryOptions) (*Memory, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	size := opts.MaxKeys
	if size <= 0 {
		size = DefaultMaxKeys
	}
	m := &Memory{rules: maps.Clone(rules), seed: maphash.MakeSeed(), perShard: max(1, (size+memoryShards-1)/memoryShards)}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]*list.Element)
	}
	return m, nil
}

func (m *Memory) shard(key string) *memoryShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// Check reports key's status at now without counting.
func (m *Memory) Check(_ context.Context, key Key, now time.Time) (Status, error) {
	r, ok, err := m.rules.lookup(key)
	if err != nil || !ok {
		return Status{}, err
	}
	ms := now.UnixMilli()
	k := key.String()
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.entries[k]
	if el == nil {
		return r.status(window{}, ms, false), nil
	}
	e := el.Value.(*memoryEntry)
	w := e.prune(r, ms)
	if e.expires <= ms {
		s.remove(el)
	}
	return r.status(w, ms, false), nil
}

// Fail counts one failure for key at now.
func (m *Memory) Fail(_ context.Context, key Key, now time.Time) (Status, error) {
	r, ok, err := m.rules.lookup(key)
	if err != nil || !ok {
		return Status{}, err
	}
	ms := now.UnixMilli()
	k := key.String()
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireFront(ms)
	el := s.entries[k]
	if el == nil {
		if len(s.entries) >= m.perShard {
			s.remove(s.lru.Front())
			m.evicted.Add(1)
		}
		el = s.lru.PushBack(&memoryEntry{key: k})
		s.entries[k] = el
	}
	e := el.Value.(*memoryEntry)
	w := e.prune(r, ms)
	if r.blocked(w, ms) {
		return r.status(w, ms, false), nil
	}
	e.add(r, ms)
	if len(e.times) >= r.Limit && r.Lock > 0 {
		e.lockedUntil = ms + r.Lock.Milliseconds()
	}
	e.expires = max(e.times[len(e.times)-1]+r.Window.Milliseconds(), e.lockedUntil)
	s.lru.MoveToBack(el)
	return r.status(e.window(), ms, true), nil
}

// Reset forgets key's failures and lock.
func (m *Memory) Reset(_ context.Context, key Key) error {
	if key.IsZero() {
		return ErrInvalidKey
	}
	k := key.String()
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.entries[k]; el != nil {
		s.remove(el)
	}
	return nil
}

// Sweep removes every entry that no longer counts at now and returns how
// many it removed. Entries are also dropped when touched after expiry; call
// Sweep periodically to bound memory when keys are never seen again.
func (m *Memory) Sweep(now time.Time) int {
	ms := now.UnixMilli()
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for _, el := range s.entries {
			if el.Value.(*memoryEntry).expires <= ms {
				s.remove(el)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// Len returns the number of keys held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// Evicted returns how many keys were evicted, still counting, because the
// limiter was full. A growing figure means MaxKeys is too small for the
// traffic (or an attack sprays keys).
func (m *Memory) Evicted() uint64 { return m.evicted.Load() }

// expireFront drops a few expired entries from the least recently updated
// end, so a shard under steady traffic sheds old keys without a sweep.
func (s *memoryShard) expireFront(ms int64) {
	for range 2 {
		el := s.lru.Front()
		if el == nil || el.Value.(*memoryEntry).expires > ms {
			return
		}
		s.remove(el)
	}
}

func (s *memoryShard) remove(el *list.Element) {
	delete(s.entries, el.Value.(*memoryEntry).key)
	s.lru.Remove(el)
}

// prune drops failures that left the window and returns what remains.
func (e *memoryEntry) prune(r Rule, ms int64) window {
	cut := ms - r.Window.Milliseconds()
	i := 0
	for i < len(e.times) && e.times[i] <= cut {
		i++
	}
	if i > 0 {
		e.times = append(e.times[:0], e.times[i:]...)
	}
	return e.window()
}

// add inserts a failure time in order (callers' clocks may interleave) and
// keeps at most Limit of them.
func (e *memoryEntry) add(r Rule, ms int64) {
	i := len(e.times)
	e.times = append(e.times, ms)
	for i > 0 && e.times[i-1] > ms {
		e.times[i] = e.times[i-1]
		i--
	}
	e.times[i] = ms
	if over := len(e.times) - r.Limit; over > 0 {
		e.times = append(e.times[:0], e.times[over:]...)
	}
}

func (e *memoryEntry) window() window {
	w := window{count: len(e.times), lockedUntil: e.lockedUntil}
	if w.count > 0 {
		w.oldest, w.newest = e.times[0], e.times[w.count-1]
	}
	return w
}

var _ Limiter = (*Memory)(nil)
