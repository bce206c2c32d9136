package signinlog

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Store keeps sign-in events durably. Events are authgate.Decision values;
// stores keep the whole decision (its trace included) as written, in
// chunks (chunk.go) with postings for the fields Filter names. Implementations: sqlite.EventStore (embedded
// default) and postgres.EventStore (several gateways, one database). Both
// pass the same conformance tests (signinlog/storetest).
type Store interface {
	// Write stores a batch of events in one transaction: all or none. An
	// error wrapping ErrRejected means the store refused what the events
	// hold, not that it is unavailable: writing them again fails again.
	Write(ctx context.Context, events []*authgate.Decision) error
	// Query returns the events matching f, newest first, at most p.Limit
	// of them, and the cursor of the next page ("" when there is none).
	// A cursor from another filter is an error wrapping ErrBadCursor.
	Query(ctx context.Context, f Filter, p Page) (events []*authgate.Decision, next string, err error)
	// Get returns the events with request id id, newest first, at most
	// MaxPerRequestID of them (ids from trusted proxies may repeat); none
	// is not an error. An id in the gateway's own form, which begins with
	// its time (RequestIDTime), is looked for within ten minutes of that
	// time, and everywhere only when none is there.
	Get(ctx context.Context, requestID string) ([]*authgate.Decision, error)
	// Stats counts the events matching f grouped by by: one Count per
	// group, the largest group first, groups of equal size in byte order
	// of their keys (not a database collation's). No match is an empty
	// result, not an error; an unknown grouping is an error.
	Stats(ctx context.Context, f Filter, by GroupBy) ([]Count, error)
	// SkewStats summarises the clock skew of token events of one issuer
	// (TokenInfo.Issuer, the iss value) since a time: how many events
	// carried a skew and its mean, for explain's "this issuer's clock".
	// Tokens without an issuer are not summarised.
	SkewStats(ctx context.Context, iss string, since time.Time) (n int, mean time.Duration, err error)
	// RecordDropped adds counts of events dropped (spool full) per reason,
	// so they survive restarts and show in `authgate log --stats`.
	RecordDropped(ctx context.Context, counts map[reason.Code]int64) error
	// Dropped returns the counts RecordDropped accumulated.
	Dropped(ctx context.Context) (map[reason.Code]int64, error)
	// Purge deletes events older than before, in small batches so writers
	// are never blocked for long, and returns how many it deleted.
	Purge(ctx context.Context, before time.Time) (int64, error)
	Close() error
}

// Filter selects events. Zero fields match everything.
type Filter struct {
	User        string // the claimed name or the resolved subject
	KeyID       string // API key id
	Route       string
	Method      authgate.Method
	Reason      reason.Code
	Outcome     string       // "allow" or "deny"
	Network     netip.Prefix // source address within; invalid: any
	Since       time.Time    // inclusive
	Until       time.Time    // exclusive
	RequestID   string
	Fingerprint string
}

// Page bounds a query.
type Page struct {
	Limit  int    // 1..1000; 0 means 100
	Cursor string // from the previous page's next
}

// GroupBy names what Stats groups by.
type GroupBy string

// The groupings of Stats.
const (
	ByReason GroupBy = "reason" // allowed events count under ""
	ByRoute  GroupBy = "route"
	ByUser   GroupBy = "user" // the claimed name, else the subject
)

// Count is one group of Stats.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// MaxPerRequestID bounds Get: a request id a proxy lets clients choose
// could otherwise name thousands of events.
const MaxPerRequestID = 100

// ErrRejected marks a write the store refused for the events' content
// (a value it cannot hold, a constraint), as opposed to being down.
var ErrRejected = errors.New("the store refused the events' content")

// ErrBadCursor is returned by Query for a cursor it did not make.
var ErrBadCursor = errors.New("bad page cursor")

// Size returns the page size to use: Limit within 1..1000, 100 if unset.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return 100
	case p.Limit > 1000:
		return 1000
	}
	return p.Limit
}
