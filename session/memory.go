package session

import (
	"cmp"
	"container/list"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// memoryShards spreads ids (and used codes) over independently locked maps,
// so concurrent requests for different sessions rarely wait for each other.
const memoryShards = 64

// DefaultMaxSessions bounds a Memory store when MemoryOptions.MaxSessions is
// zero.
const DefaultMaxSessions = 1 << 20

// MemoryOptions configures a Memory store.
type MemoryOptions struct {
	// Now is the store's clock, deciding expiry; nil means time.Now.
	Now func() time.Time
	// MaxSessions bounds the sessions kept, and separately the used codes
	// kept; zero means DefaultMaxSessions. See Memory for what happens when
	// full.
	MaxSessions int
}

// Memory is a Store for one node: sharded maps whose entries disappear once
// expired, with a bounded size. When a shard is full, saving a new session
// drops the session of that shard saved least recently (the bound is split
// evenly over 64 shards, so the total may stay a little under MaxSessions);
// used codes are bounded the same way. Evicted and EvictedCodes count the
// drops.
type Memory struct {
	now      func() time.Time
	seed     maphash.Seed
	perShard int

	evicted      atomic.Uint64
	evictedCodes atomic.Uint64

	sessions [memoryShards]sessionShard
	codes    [memoryShards]codeShard
}

type sessionShard struct {
	mu     sync.Mutex
	byID   map[string]*list.Element            // of *memorySession
	byUser map[string]map[string]*list.Element // user → id → element
	lru    list.List                           // least recently saved at the front
}

type memorySession struct {
	s       Session
	expires time.Time // a whole millisecond
}

// NewMemory returns an empty Memory store.
func NewMemory(opts MemoryOptions) *Memory {
	size := opts.MaxSessions
	if size <= 0 {
		size = DefaultMaxSessions
	}
	m := &Memory{now: opts.Now, seed: maphash.MakeSeed(), perShard: max(1, (size+memoryShards-1)/memoryShards)}
	if m.now == nil {
		m.now = time.Now
	}
	for i := range m.sessions {
		m.sessions[i].byID = make(map[string]*list.Element)
		m.sessions[i].byUser = make(map[string]map[string]*list.Element)
		m.codes[i].used = make(map[codeKey]*list.Element)
	}
	return m
}

func (m *Memory) sessionShard(id string) *sessionShard {
	return &m.sessions[maphash.String(m.seed, id)%memoryShards]
}

// Save creates or replaces s until expires.
func (m *Memory) Save(_ context.Context, s Session, expires time.Time) error {
	if s.ID == "" || s.User == "" {
		return ErrInvalid
	}
	now := m.now()
	sh := m.sessionShard(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	el := sh.byID[s.ID]
	if remaining(now, expires) <= 0 {
		if el != nil {
			sh.remove(el)
		}
		return nil
	}
	entry := &memorySession{s: normalize(s), expires: time.UnixMilli(ceilMilli(expires))}
	if el != nil {
		if el.Value.(*memorySession).s.User == s.User {
			// A replace (LastSeen, the second step): in place.
			el.Value = entry
			sh.lru.MoveToBack(el)
			return nil
		}
		sh.remove(el)
	}
	sh.expireFront(now)
	if len(sh.byID) >= m.perShard {
		sh.remove(sh.lru.Front())
		m.evicted.Add(1)
	}
	el = sh.lru.PushBack(entry)
	sh.byID[s.ID] = el
	ids := sh.byUser[s.User]
	if ids == nil {
		ids = make(map[string]*list.Element)
		sh.byUser[s.User] = ids
	}
	ids[s.ID] = el
	return nil
}

// Get returns the live session with id, or ErrNotFound.
func (m *Memory) Get(_ context.Context, id string) (Session, error) {
	now := m.now()
	sh := m.sessionShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	el := sh.byID[id]
	if el == nil {
		return Session{}, ErrNotFound
	}
	e := el.Value.(*memorySession)
	if !now.Before(e.expires) {
		sh.remove(el)
		return Session{}, ErrNotFound
	}
	return e.s, nil
}

// Touch sets the LastSeen of the live session with id, or returns
// ErrNotFound and changes nothing. A touched session counts as saved
// recently, so a full store evicts it last.
func (m *Memory) Touch(_ context.Context, id string, lastSeen time.Time) error {
	now := m.now()
	sh := m.sessionShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	el := sh.byID[id]
	if el == nil {
		return ErrNotFound
	}
	e := el.Value.(*memorySession)
	if !now.Before(e.expires) {
		sh.remove(el)
		return ErrNotFound
	}
	e.s.LastSeen = lastSeen
	e.s = normalize(e.s)
	sh.lru.MoveToBack(el)
	return nil
}

// Delete forgets the session with id, if any.
func (m *Memory) Delete(_ context.Context, id string) error {
	sh := m.sessionShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if el := sh.byID[id]; el != nil {
		sh.remove(el)
	}
	return nil
}

// DeleteUser forgets every session of user and returns how many live ones
// it forgot.
func (m *Memory) DeleteUser(_ context.Context, user string) (int, error) {
	now := m.now()
	n := 0
	for i := range m.sessions {
		sh := &m.sessions[i]
		sh.mu.Lock()
		for _, el := range sh.byUser[user] {
			if now.Before(el.Value.(*memorySession).expires) {
				n++
			}
			sh.remove(el)
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// List returns the live sessions of user, newest first.
func (m *Memory) List(_ context.Context, user string) ([]Session, error) {
	now := m.now()
	var out []Session
	for i := range m.sessions {
		sh := &m.sessions[i]
		sh.mu.Lock()
		for _, el := range sh.byUser[user] {
			e := el.Value.(*memorySession)
			if !now.Before(e.expires) {
				sh.remove(el)
				continue
			}
			out = append(out, e.s)
		}
		sh.mu.Unlock()
	}
	sortNewestFirst(out)
	return out, nil
}

// Sweep removes every session and used code expired at now and returns how
// many it removed. Entries are also dropped when touched after expiry; call
// Sweep periodically so that sessions never seen again do not stay until
// evicted.
func (m *Memory) Sweep(now time.Time) int {
	n := 0
	for i := range m.sessions {
		sh := &m.sessions[i]
		sh.mu.Lock()
		for _, el := range sh.byID {
			if !now.Before(el.Value.(*memorySession).expires) {
				sh.remove(el)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n + m.sweepCodes(now)
}

// Len returns the number of sessions held, expired ones not yet dropped
// included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.sessions {
		sh := &m.sessions[i]
		sh.mu.Lock()
		n += len(sh.byID)
		sh.mu.Unlock()
	}
	return n
}

// Evicted returns how many live sessions were dropped because the store was
// full: each one signed a user out early. A growing figure means
// MaxSessions is too small for the traffic.
func (m *Memory) Evicted() uint64 { return m.evicted.Load() }

// expireFront drops a few expired sessions from the least recently saved
// end, so a shard under steady traffic sheds old sessions without a sweep.
func (sh *sessionShard) expireFront(now time.Time) {
	for range 2 {
		el := sh.lru.Front()
		if el == nil || now.Before(el.Value.(*memorySession).expires) {
			return
		}
		sh.remove(el)
	}
}

func (sh *sessionShard) remove(el *list.Element) {
	s := el.Value.(*memorySession).s
	delete(sh.byID, s.ID)
	if ids := sh.byUser[s.User]; ids != nil {
		delete(ids, s.ID)
		if len(ids) == 0 {
			delete(sh.byUser, s.User)
		}
	}
	sh.lru.Remove(el)
}

// sortNewestFirst orders sessions by CreatedAt, newest first, then by ID so
// that equal times list the same way in every store.
func sortNewestFirst(ss []Session) {
	slices.SortFunc(ss, func(a, b Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

var _ Store = (*Memory)(nil)
