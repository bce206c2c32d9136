package signinlog

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/authgate/authgate"
)

// ChunkSource is what a store that keeps chunks gives ChunkQueries: its
// segments, postings and chunk rows, read with the SQL of its database.
// Both stores implement it.
type ChunkSource interface {
	// Segments returns the span of every segment.
	Segments(ctx context.Context) ([]SegmentSpan, error)
	// Posted returns the ids that the postings of key list in segments
	// segs (its own rows and the packed rows of its bucket), ascending,
	// each once.
	Posted(ctx context.Context, key PostingKey, segs []int64) ([]int64, error)
	// Newest returns up to limit chunks that may hold events of w, by
	// their newest event, newest first (ChunkWindow).
	Newest(ctx context.Context, w ChunkWindow, limit int) ([]ChunkRow, error)
	// Holding returns the chunks that hold the events with ids ids
	// (ascending): per id, the chunk with the largest first id at or
	// below it, each once, by first id.
	Holding(ctx context.Context, ids []int64) ([]ChunkRow, error)
	// Docs calls fn with the docs part of each chunk whose first id is in
	// firsts; a chunk gone since is left out.
	Docs(ctx context.Context, firsts []int64, fn func(first int64, docs []byte) error) error
}

// ChunkRow is a chunk as ChunkSource reads it: its first id and times, and
// its heads, or, for an event kept a row each before chunks (heads nil),
// its stored decision (AppendStoredDecision).
type ChunkRow struct {
	FirstID, MinTime, MaxTime int64
	Heads, Stored             []byte
}

// ChunkWindow bounds Newest: chunks with max_time >= Since (when
// HasSince), min_time < Until (when HasUntil), min_time <= AtTime (when
// HasAt), and, when After, (max_time, first_id) < (AfterTime, AfterFirst).
type ChunkWindow struct {
	HasSince, HasUntil, HasAt, After bool
	Since, Until, AtTime             int64
	AfterTime, AfterFirst            int64
}

// ChunkQueries answers the queries of Store (Query, Get, Stats,
// SkewStats) over a ChunkSource: heads checked with Filter.Match, then the
// decisions of the page's events only. Stores embed it.
type ChunkQueries struct {
	Src   ChunkSource
	Store string // "sqlite", "postgres": how its errors begin
}

// Query returns the events matching f, newest first (time, then id,
// descending), one page at a time, with the cursor of the next page. A
// filter on a field with postings (FilterPosting, with lookups) reads the
// candidates from the postings of the newest segments; any other walks
// the chunks newest first. A cursor it did not make is an error wrapping
// ErrBadCursor.
func (q ChunkQueries) Query(ctx context.Context, f Filter, p Page) ([]*authgate.Decision, string, error) {
	var at *Position
	if p.Cursor != "" {
		t, id, err := DecodeCursor(f, p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", q.Store, err)
		}
		at = &Position{Time: t, ID: id}
	}
	size := p.Size()
	r := newReading(f, at)
	var found []Position
	var err error
	if key, ok := FilterPosting(f, true); ok {
		found, err = q.newestPosted(ctx, r, key, nil, size+1)
	} else {
		found, err = q.newestInWindow(ctx, r, size+1)
	}
	var events []*authgate.Decision
	if err == nil {
		events, err = q.decisions(ctx, r, found)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: querying events: %w", q.Store, err)
	}
	if len(found) <= size {
		return present(events), "", nil
	}
	last := found[size-1]
	return present(events[:size]), EncodeCursor(f, last.Time, last.ID), nil
}

// present returns events without the nils of those purged while a query
// read them.
func present(events []*authgate.Decision) []*authgate.Decision {
	return slices.DeleteFunc(events, func(d *authgate.Decision) bool { return d == nil })
}

// Get returns the events with request id id, newest first, at most
// MaxPerRequestID. A request id the gateway made begins with its time
// (RequestIDTime): the postings of the segments around that time are
// read first, and all of them only when those hold none (an id from a
// trusted proxy).
func (q ChunkQueries) Get(ctx context.Context, requestID string) ([]*authgate.Decision, error) {
	f := Filter{RequestID: requestID}
	key, _ := FilterPosting(f, true)
	r := newReading(f, nil)
	var found []Position
	var err error
	if t, ok := RequestIDTime(requestID); ok {
		lo, hi := UnixNanos(t.Add(-requestIDSlack)), UnixNanos(t.Add(requestIDSlack))
		near := func(sp SegmentSpan) bool { return sp.MaxTime >= lo && sp.MinTime <= hi }
		found, err = q.newestPosted(ctx, r, key, near, MaxPerRequestID)
	}
	if err == nil && len(found) == 0 {
		found, err = q.newestPosted(ctx, r, key, nil, MaxPerRequestID)
	}
	var events []*authgate.Decision
	if err == nil {
		events, err = q.decisions(ctx, r, found)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading event %q: %w", q.Store, requestID, err)
	}
	return present(events), nil
}

// requestIDSlack is how far from its request id's time Get first looks
// for an event: decisions are made within the request's first seconds,
// and gateways' clocks differ by less.
const requestIDSlack = 10 * time.Minute

// Stats counts the events matching f grouped by by, largest group first
// (ties by key). A filter with postings counts its candidates, some
// thousands at a time; any other reads the heads of every chunk its
// window covers.
func (q ChunkQueries) Stats(ctx context.Context, f Filter, by GroupBy) ([]Count, error) {
	group, err := groupOf(by)
	if err != nil {
		return nil, fmt.Errorf("%s: counting events: %w", q.Store, err)
	}
	counts := map[string]int64{}
	count := func(h *Head) {
		if f.Match(&h.Columns) {
			counts[group(h)]++
		}
	}
	r := newReading(f, nil)
	if key, ok := FilterPosting(f, true); ok {
		err = q.eachPosted(ctx, key, f, func(ids []int64) error {
			return q.eachChunkOf(ctx, r, ids, func(c *readChunk, i int) { count(&c.heads[i]) })
		})
	} else {
		err = q.scanChunks(ctx, r, func(c *readChunk) bool {
			for i := range c.heads {
				count(&c.heads[i])
			}
			return true
		})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: counting events: %w", q.Store, err)
	}
	return SortCounts(counts), nil
}

// SkewStats returns how many events of issuer iss since since carried a
// clock skew, and their mean skew (rounded to the nanosecond), from the
// postings of skewed events (PostSkew).
func (q ChunkQueries) SkewStats(ctx context.Context, iss string, since time.Time) (int, time.Duration, error) {
	key := PostingKey{Field: PostSkew, Value: TextColumn(iss)}
	f := Filter{Since: since}
	var n int64
	sum := new(big.Int)
	r := newReading(f, nil)
	err := q.eachPosted(ctx, key, f, func(ids []int64) error {
		return q.eachChunkOf(ctx, r, ids, func(c *readChunk, i int) {
			if h := &c.heads[i]; h.Skew != nil && h.Issuer == iss && f.Match(&h.Columns) {
				n++
				sum.Add(sum, big.NewInt(*h.Skew))
			}
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("%s: summarising clock skew of %q: %w", q.Store, iss, err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	mean, _ := new(big.Rat).SetFrac(sum, big.NewInt(n)).Float64()
	return int(n), time.Duration(math.Round(mean)), nil
}

// groupOf maps a grouping to the key of a head.
func groupOf(by GroupBy) (func(*Head) string, error) {
	switch by {
	case ByReason:
		return func(h *Head) string { return h.Reason }, nil
	case ByRoute:
		return func(h *Head) string { return h.Route }, nil
	case ByUser:
		return func(h *Head) string {
			if h.Claimed != "" {
				return h.Claimed
			}
			return h.Subject
		}, nil
	}
	return nil, fmt.Errorf("unknown grouping %q", by)
}

// readChunk is a chunk as a query read it: its heads, and for an event
// kept a row each (a chunk of one without heads) its decision.
type readChunk struct {
	first, maxTime int64
	heads          []Head
	legacy         *authgate.Decision
}

// reading is one query's filter, cursor position and the chunks it read,
// so that the page's decisions come from the chunks its heads came from.
type reading struct {
	f       Filter
	at      *Position
	where   map[int64]eventAt // by event id, the events that matched
	scratch []byte
}

// eventAt is where a matched event is: its chunk and its place there.
type eventAt struct {
	c *readChunk
	i int
}

func newReading(f Filter, at *Position) *reading {
	return &reading{f: f, at: at, where: map[int64]eventAt{}}
}

// match reports whether the i-th head of c passes the filter and the
// cursor, and remembers where it is.
func (r *reading) match(c *readChunk, i int) (Position, bool) {
	h := &c.heads[i]
	p := Position{Time: h.Time, ID: h.ID}
	if !r.f.Match(&h.Columns) || r.at != nil && !r.at.Before(p) {
		return p, false
	}
	r.where[h.ID] = eventAt{c, i}
	return p, true
}

// read decodes the heads of rows.
func (r *reading) read(rows []ChunkRow) ([]*readChunk, error) {
	out := make([]*readChunk, 0, len(rows))
	for _, row := range rows {
		c := &readChunk{first: row.FirstID, maxTime: row.MaxTime}
		if row.Heads == nil {
			h, d, err := LegacyHead(row.FirstID, row.MinTime, row.Stored, &r.scratch)
			if err != nil {
				return nil, err
			}
			c.heads, c.legacy = []Head{h}, d
		} else {
			var err error
			if c.heads, err = DecodeHeads(nil, row.Heads, &r.scratch); err != nil {
				return nil, fmt.Errorf("chunk %d: %w", row.FirstID, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// newestInWindow returns the first n positions, newest first, of the
// events matching r's filter, walking the chunks newest first.
func (q ChunkQueries) newestInWindow(ctx context.Context, r *reading, n int) ([]Position, error) {
	var best []Position
	err := q.scanChunks(ctx, r, func(c *readChunk) bool {
		if len(best) >= n && c.maxTime < best[n-1].Time {
			return false
		}
		for i := range c.heads {
			if p, ok := r.match(c, i); ok {
				best = append(best, p)
			}
		}
		best = newestN(best, n)
		return true
	})
	return best, err
}

// newestPosted returns the first n positions, newest first, of the
// events matching r's filter among those the postings of key list, in
// the segments within the filter's window (and for which within, when
// not nil, holds).
func (q ChunkQueries) newestPosted(ctx context.Context, r *reading, key PostingKey, within func(SegmentSpan) bool, n int) ([]Position, error) {
	spans, err := q.segments(ctx, r.f, r.at, within)
	if err != nil {
		return nil, err
	}
	return NewestInSegments(spans, n, func(segs []int64) ([]Position, error) {
		candidates, err := q.Src.Posted(ctx, key, segs)
		if err != nil || len(candidates) == 0 {
			return nil, err
		}
		var found []Position
		err = q.eachChunkOf(ctx, r, candidates, func(c *readChunk, i int) {
			if p, ok := r.match(c, i); ok {
				found = append(found, p)
			}
		})
		return newestN(found, n), err
	})
}

// newestN sorts positions newest first and keeps the first n.
func newestN(ps []Position, n int) []Position {
	slices.SortFunc(ps, func(p, q Position) int {
		switch {
		case p.Before(q):
			return -1
		case q.Before(p):
			return 1
		}
		return 0
	})
	return ps[:min(len(ps), n)]
}

// scanChunks calls fn with the chunks that may hold events of r's window
// (and before its cursor), by their newest event, newest first, until fn
// returns false. It reads a few chunks and then twice as many each time.
func (q ChunkQueries) scanChunks(ctx context.Context, r *reading, fn func(*readChunk) bool) error {
	var w ChunkWindow
	if !r.f.Since.IsZero() {
		w.HasSince, w.Since = true, UnixNanos(r.f.Since)
	}
	if !r.f.Until.IsZero() {
		w.HasUntil, w.Until = true, UnixNanos(r.f.Until)
	}
	if r.at != nil {
		w.HasAt, w.AtTime = true, r.at.Time
	}
	for step := 4; ; step = min(2*step, 1024) {
		rows, err := q.Src.Newest(ctx, w, step)
		if err != nil {
			return err
		}
		chunks, err := r.read(rows)
		if err != nil {
			return err
		}
		for _, c := range chunks {
			if !fn(c) {
				return nil
			}
			w.After, w.AfterTime, w.AfterFirst = true, c.maxTime, c.first
		}
		if len(rows) < step {
			return nil
		}
	}
}

// eachChunkOf reads the chunks that hold the events with ids ids
// (ascending) and calls fn with each such event's chunk and place.
func (q ChunkQueries) eachChunkOf(ctx context.Context, r *reading, ids []int64, fn func(c *readChunk, i int)) error {
	rows, err := q.Src.Holding(ctx, ids)
	if err != nil {
		return err
	}
	chunks, err := r.read(rows)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		// The candidates within this chunk: those from its first id on,
		// matched against its heads in order.
		lo, _ := slices.BinarySearch(ids, c.first)
		i := 0
		for _, id := range ids[lo:] {
			for i < len(c.heads) && c.heads[i].ID < id {
				i++
			}
			if i == len(c.heads) {
				break
			}
			if c.heads[i].ID == id {
				fn(c, i)
			}
		}
	}
	return nil
}

// decisions returns the decisions of the events at positions found, which
// r matched, in that order: it decompresses the docs of their chunks, one
// at a time into the same memory, and decodes the events it needs. An
// event purged since its head was read (its chunk gone or written again
// without it) is nil, as a row deleted between two statements would be
// missing.
func (q ChunkQueries) decisions(ctx context.Context, r *reading, found []Position) ([]*authgate.Decision, error) {
	out := make([]*authgate.Decision, len(found))
	wanted := map[int64][]int{} // by chunk, the places in found of its events
	var need []int64
	for k, p := range found {
		at := r.where[p.ID]
		if at.c.legacy != nil {
			out[k] = at.c.legacy
			continue
		}
		if _, ok := wanted[at.c.first]; !ok {
			need = append(need, at.c.first)
		}
		wanted[at.c.first] = append(wanted[at.c.first], k)
	}
	if len(need) == 0 {
		return out, nil
	}
	var docs [][]byte
	err := q.Src.Docs(ctx, need, func(first int64, part []byte) error {
		var err error
		if docs, err = DecodeDocs(docs[:0], part, &r.scratch); err != nil {
			return fmt.Errorf("chunk %d: %w", first, err)
		}
		for _, k := range wanted[first] {
			at := r.where[found[k].ID]
			if len(docs) != len(at.c.heads) {
				continue // purged: the chunk was written again without some events
			}
			if out[k], err = DecodeChunkDecision(docs[at.i], &at.c.heads[at.i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// segments returns the segments that may hold events f lets through
// before the cursor position at (nil for none), and for which within
// holds (nil for all).
func (q ChunkQueries) segments(ctx context.Context, f Filter, at *Position, within func(SegmentSpan) bool) ([]SegmentSpan, error) {
	all, err := q.Src.Segments(ctx)
	if err != nil {
		return nil, err
	}
	spans := all[:0]
	for _, sp := range all {
		if SpanWithin(sp, f, at) && (within == nil || within(sp)) {
			spans = append(spans, sp)
		}
	}
	return spans, nil
}

// postedChunk is how many posted ids eachPosted hands over at a time.
const postedChunk = 10000

// eachPosted calls fn with every id, up to postedChunk at a time and
// ascending within a call, that the postings of key list in the segments
// f's window covers.
func (q ChunkQueries) eachPosted(ctx context.Context, key PostingKey, f Filter, fn func(ids []int64) error) error {
	spans, err := q.segments(ctx, f, nil, nil)
	if err != nil {
		return err
	}
	return EachPosted(spans, postedChunk, func(segs []int64) ([]int64, error) { return q.Src.Posted(ctx, key, segs) }, fn)
}
