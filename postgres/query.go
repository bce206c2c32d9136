package postgres

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// Queries read chunks (migrations/0005_event_chunks.sql): the heads of
// the chunks a filter's postings or its time window name, checked with
// signinlog.Filter.Match, then the decisions of the page's events only.

// Query returns the events matching f, newest first (time, then insertion
// order, descending), one page at a time. The cursor is the (time, id) of
// the page's last row bound to the filter (signinlog.EncodeCursor), so a
// cursor from another filter, or a garbled one, fails with
// signinlog.ErrBadCursor.
//
// A filter on a field with postings (signinlog.FilterPosting) reads the
// candidates from the postings of the newest segments and checks their
// heads against the whole filter; any other walks the chunks newest
// first.
func (s *EventStore) Query(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]*authgate.Decision, string, error) {
	var at *signinlog.Position
	if p.Cursor != "" {
		t, id, err := signinlog.DecodeCursor(f, p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: %w", err)
		}
		at = &signinlog.Position{Time: t, ID: id}
	}
	size := p.Size()
	r := newReading(f, at)
	var found []signinlog.Position
	var err error
	if key, ok := signinlog.FilterPosting(f, true); ok {
		found, err = s.newestPosted(ctx, r, key, nil, size+1)
	} else {
		found, err = s.newestInWindow(ctx, r, size+1)
	}
	var events []*authgate.Decision
	if err == nil {
		events, err = s.decisions(ctx, r, found)
	}
	if err != nil {
		return nil, "", fmt.Errorf("postgres: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	last := found[size-1]
	return events[:size], signinlog.EncodeCursor(f, last.Time, last.ID), nil
}

// Get returns the events with request id id, newest first. A request id
// the gateway made begins with its time (gateway.requestID): the
// postings of the segments around that time are read first, and all of
// them only when those hold none (an id from a trusted proxy).
func (s *EventStore) Get(ctx context.Context, requestID string) ([]*authgate.Decision, error) {
	f := signinlog.Filter{RequestID: requestID}
	key, _ := signinlog.FilterPosting(f, true)
	r := newReading(f, nil)
	var found []signinlog.Position
	var err error
	if t, ok := signinlog.RequestIDTime(requestID); ok {
		near := func(sp signinlog.SegmentSpan) bool {
			return sp.MaxTime >= signinlog.UnixNanos(t.Add(-requestIDSlack)) && sp.MinTime <= signinlog.UnixNanos(t.Add(requestIDSlack))
		}
		found, err = s.newestPosted(ctx, r, key, near, signinlog.MaxPerRequestID)
	}
	if err == nil && len(found) == 0 {
		found, err = s.newestPosted(ctx, r, key, nil, signinlog.MaxPerRequestID)
	}
	var events []*authgate.Decision
	if err == nil {
		events, err = s.decisions(ctx, r, found)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: reading event %q: %w", requestID, err)
	}
	return events, nil
}

// requestIDSlack is how far from its request id's time Get first looks
// for an event: decisions are made within the request's first seconds,
// and gateways' clocks differ by less.
const requestIDSlack = 10 * time.Minute

// Stats counts the events matching f grouped by by, largest group first
// (ties by key). A filter with postings counts its candidates, some
// thousands at a time; any other reads the heads of every chunk its
// window covers.
func (s *EventStore) Stats(ctx context.Context, f signinlog.Filter, by signinlog.GroupBy) ([]signinlog.Count, error) {
	group, err := groupOf(by)
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	counts := map[string]int64{}
	count := func(h *signinlog.Head) {
		if f.Match(&h.Columns) {
			counts[group(h)]++
		}
	}
	r := newReading(f, nil)
	if key, ok := signinlog.FilterPosting(f, true); ok {
		err = s.eachPosted(ctx, key, f, nil, func(ids []int64) error {
			return s.eachHead(ctx, r, ids, count)
		})
	} else {
		err = s.scanChunks(ctx, r, func(c *chunk) bool {
			for i := range c.heads {
				count(&c.heads[i])
			}
			return true
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	return signinlog.SortCounts(counts), nil
}

// SkewStats returns how many events of issuer iss since since carried a
// clock skew, and their mean skew (rounded to the nanosecond), from the
// postings of skewed events (signinlog.PostSkew).
func (s *EventStore) SkewStats(ctx context.Context, iss string, since time.Time) (int, time.Duration, error) {
	key := signinlog.PostingKey{Field: signinlog.PostSkew, Value: signinlog.TextColumn(iss)}
	f := signinlog.Filter{Since: since}
	var n int64
	sum := new(big.Int)
	r := newReading(f, nil)
	err := s.eachPosted(ctx, key, f, nil, func(ids []int64) error {
		return s.eachHead(ctx, r, ids, func(h *signinlog.Head) {
			if h.Skew != nil && h.Issuer == iss && f.Match(&h.Columns) {
				n++
				sum.Add(sum, big.NewInt(*h.Skew))
			}
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: summarising clock skew of %q: %w", iss, err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	mean, _ := new(big.Rat).SetFrac(sum, big.NewInt(n)).Float64()
	return int(n), time.Duration(math.Round(mean)), nil
}

// groupOf maps a grouping to the key of a head.
func groupOf(by signinlog.GroupBy) (func(*signinlog.Head) string, error) {
	switch by {
	case signinlog.ByReason:
		return func(h *signinlog.Head) string { return h.Reason }, nil
	case signinlog.ByRoute:
		return func(h *signinlog.Head) string { return h.Route }, nil
	case signinlog.ByUser:
		return func(h *signinlog.Head) string {
			if h.Claimed != "" {
				return h.Claimed
			}
			return h.Subject
		}, nil
	}
	return nil, fmt.Errorf("unknown grouping %q", by)
}

// chunk is a chunk as a query read it: its heads, and for an event kept
// as before (a chunk of one without heads) its decision.
type chunk struct {
	first, maxTime int64
	heads          []signinlog.Head
	legacy         *authgate.Decision
}

// reading is one query's filter, cursor position and the chunks it read,
// so that the page's decisions come from the chunks its heads came from.
type reading struct {
	f       signinlog.Filter
	at      *signinlog.Position
	where   map[int64]eventAt // by event id, the events that matched
	scratch []byte
}

// eventAt is where a matched event is: its chunk and its place there.
type eventAt struct {
	c *chunk
	i int
}

func newReading(f signinlog.Filter, at *signinlog.Position) *reading {
	return &reading{f: f, at: at, where: map[int64]eventAt{}}
}

// match reports whether the i-th head of c passes the filter and the
// cursor, and remembers where it is.
func (r *reading) match(c *chunk, i int) (signinlog.Position, bool) {
	h := &c.heads[i]
	p := signinlog.Position{Time: h.Time, ID: h.ID}
	if !r.f.Match(&h.Columns) || r.at != nil && !r.at.Before(p) {
		return p, false
	}
	r.where[h.ID] = eventAt{c, i}
	return p, true
}

// newestInWindow returns the first n positions, newest first, of the
// events matching r's filter, walking the chunks newest first.
func (s *EventStore) newestInWindow(ctx context.Context, r *reading, n int) ([]signinlog.Position, error) {
	var best []signinlog.Position
	err := s.scanChunks(ctx, r, func(c *chunk) bool {
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
func (s *EventStore) newestPosted(ctx context.Context, r *reading, key signinlog.PostingKey, within func(signinlog.SegmentSpan) bool, n int) ([]signinlog.Position, error) {
	spans, err := s.segments(ctx, r.f, r.at, within)
	if err != nil {
		return nil, err
	}
	return signinlog.NewestInSegments(spans, n, func(segs []int64) ([]signinlog.Position, error) {
		candidates, err := s.posted(ctx, key, segs)
		if err != nil || len(candidates) == 0 {
			return nil, err
		}
		var found []signinlog.Position
		err = s.eachChunkOf(ctx, r, candidates, func(c *chunk, i int) {
			if p, ok := r.match(c, i); ok {
				found = append(found, p)
			}
		})
		return newestN(found, n), err
	})
}

// newestN sorts positions newest first and keeps the first n.
func newestN(ps []signinlog.Position, n int) []signinlog.Position {
	slices.SortFunc(ps, func(p, q signinlog.Position) int {
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

// chunkColumns are the columns a query reads of a chunk: the docs only of
// a chunk of one without heads, whose docs are its stored decision.
const chunkColumns = `first_id, min_time, max_time, heads, CASE WHEN heads IS NULL THEN docs END`

// scanChunks calls fn with the chunks that may hold events of r's window
// (and before its cursor), by their newest event, newest first, until fn
// returns false. It reads a few chunks and then twice as many each time.
func (s *EventStore) scanChunks(ctx context.Context, r *reading, fn func(*chunk) bool) error {
	var w where
	if !r.f.Since.IsZero() {
		w.add("max_time >= %s", signinlog.UnixNanos(r.f.Since))
	}
	if !r.f.Until.IsZero() {
		w.add("min_time < %s", signinlog.UnixNanos(r.f.Until))
	}
	if r.at != nil {
		w.add("min_time <= %s", r.at.Time)
	}
	conds, args := len(w.conds), len(w.args)
	var lastTime, lastFirst int64
	for step, more, started := 4, true, false; more; step, started = min(2*step, 1024), true {
		w.conds, w.args = w.conds[:conds], w.args[:args]
		if started {
			w.add("(max_time, first_id) < (%s, %s)", lastTime, lastFirst)
		}
		q := `SELECT ` + chunkColumns + ` FROM event_chunks` + w.sql() +
			fmt.Sprintf(` ORDER BY max_time DESC, first_id DESC LIMIT %d`, step)
		chunks, err := s.readChunks(ctx, r, q, w.args...)
		if err != nil {
			return err
		}
		more = len(chunks) == step
		for _, c := range chunks {
			if !fn(c) {
				return nil
			}
			lastTime, lastFirst = c.maxTime, c.first
		}
	}
	return nil
}

// eachChunkOf reads the chunks that hold the events with ids ids
// (ascending) and calls fn with each such event's chunk and place.
func (s *EventStore) eachChunkOf(ctx context.Context, r *reading, ids []int64, fn func(c *chunk, i int)) error {
	chunks, err := s.readChunks(ctx, r, `SELECT `+chunkColumns+` FROM event_chunks WHERE first_id IN
		(SELECT (SELECT first_id FROM event_chunks WHERE first_id <= x ORDER BY first_id DESC LIMIT 1) FROM unnest($1::bigint[]) AS x)
		ORDER BY first_id`, ids)
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

// eachHead calls fn with the head of each event with an id in ids.
func (s *EventStore) eachHead(ctx context.Context, r *reading, ids []int64, fn func(*signinlog.Head)) error {
	return s.eachChunkOf(ctx, r, ids, func(c *chunk, i int) { fn(&c.heads[i]) })
}

// readChunks runs q, which selects chunkColumns, and decodes the heads.
func (s *EventStore) readChunks(ctx context.Context, r *reading, q string, args ...any) ([]*chunk, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*chunk
	var first, minTime, maxTime int64
	var heads, stored []byte
	_, err = pgx.ForEachRow(rows, []any{&first, &minTime, &maxTime, &heads, &stored}, func() error {
		c := &chunk{first: first, maxTime: maxTime}
		if heads == nil {
			h, d, err := signinlog.LegacyHead(first, minTime, stored, &r.scratch)
			if err != nil {
				return err
			}
			c.heads, c.legacy = []signinlog.Head{h}, d
		} else if c.heads, err = signinlog.DecodeHeads(nil, heads, &r.scratch); err != nil {
			return fmt.Errorf("chunk %d: %w", first, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// decisions returns the decisions of the events at positions found, which
// r matched, in that order: it decompresses the docs of their chunks, one
// at a time into the same memory, and decodes the events it needs.
func (s *EventStore) decisions(ctx context.Context, r *reading, found []signinlog.Position) ([]*authgate.Decision, error) {
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
	rows, err := s.pool.Query(ctx, `SELECT first_id, docs FROM event_chunks WHERE first_id = ANY($1)`, need)
	if err != nil {
		return nil, err
	}
	var first int64
	var part []byte
	var docs [][]byte
	_, err = pgx.ForEachRow(rows, []any{&first, &part}, func() error {
		if docs, err = signinlog.DecodeDocs(docs[:0], part, &r.scratch); err != nil {
			return fmt.Errorf("chunk %d: %w", first, err)
		}
		for _, k := range wanted[first] {
			at := r.where[found[k].ID]
			if len(docs) != len(at.c.heads) {
				// Purge wrote the chunk again between the two reads.
				return fmt.Errorf("chunk %d changed while it was read; try again", first)
			}
			if out[k], err = signinlog.DecodeChunkDecision(docs[at.i], &at.c.heads[at.i]); err != nil {
				return err
			}
		}
		delete(wanted, first)
		return nil
	})
	if err == nil && len(wanted) > 0 {
		err = fmt.Errorf("%d chunks were purged while they were read; try again", len(wanted))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// segments returns the segments that may hold events f lets through
// before the cursor position at (nil for none), and for which within
// holds (nil for all).
func (s *EventStore) segments(ctx context.Context, f signinlog.Filter, at *signinlog.Position, within func(signinlog.SegmentSpan) bool) ([]signinlog.SegmentSpan, error) {
	rows, err := s.pool.Query(ctx, `SELECT seg, min_time, max_time FROM event_segments`)
	if err != nil {
		return nil, err
	}
	var sp signinlog.SegmentSpan
	var spans []signinlog.SegmentSpan
	_, err = pgx.ForEachRow(rows, []any{&sp.Seg, &sp.MinTime, &sp.MaxTime}, func() error {
		if signinlog.SpanWithin(sp, f, at) && (within == nil || within(sp)) {
			spans = append(spans, sp)
		}
		return nil
	})
	return spans, err
}

// posted returns the ids that the postings of key list in segments segs
// (in rows of key's own and in the packed rows of its bucket), each once,
// ascending.
func (s *EventStore) posted(ctx context.Context, key signinlog.PostingKey, segs []int64) ([]int64, error) {
	own, packed := key.Lookup()
	// Two lookups of the key rather than one OR of both, which the planner
	// turns into a bitmap scan that takes longer to plan than to run.
	rows, err := s.pool.Query(ctx, `SELECT field, ids FROM event_postings WHERE seg = ANY($1) AND field = $2 AND value = $3
		UNION ALL SELECT field, ids FROM event_postings WHERE seg = ANY($1) AND field = $4 AND value = $5`,
		segs, own.Field, []byte(own.Value), packed.Field, []byte(packed.Value))
	if err != nil {
		return nil, err
	}
	var ids []int64
	var field string
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&field, &b}, func() error {
		ids = signinlog.PostedIDs(ids, key, field, b)
		return nil
	})
	slices.Sort(ids)
	return slices.Compact(ids), err
}

// eachPosted calls fn with every id, up to candidateChunk at a time and
// ascending within a call, that the postings of key list in the segments
// f's window covers (and for which within, when not nil, holds).
func (s *EventStore) eachPosted(ctx context.Context, key signinlog.PostingKey, f signinlog.Filter, within func(signinlog.SegmentSpan) bool, fn func(ids []int64) error) error {
	spans, err := s.segments(ctx, f, nil, within)
	if err != nil {
		return err
	}
	return signinlog.EachPosted(spans, candidateChunk, func(segs []int64) ([]int64, error) { return s.posted(ctx, key, segs) }, fn)
}

// candidateChunk is how many posted ids one statement checks.
const candidateChunk = 10000

// where collects SQL conditions and their arguments ($1, $2, ...).
type where struct {
	conds []string
	args  []any
}

// add appends a condition whose %s verbs become placeholders for args.
func (w *where) add(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		w.args = append(w.args, a)
		ph[i] = fmt.Sprintf("$%d", len(w.args))
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ph...))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	s := " WHERE " + w.conds[0]
	for _, c := range w.conds[1:] {
		s += " AND " + c
	}
	return s
}
