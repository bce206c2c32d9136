package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// Query returns the events matching f, newest first (time, then insertion
// order, descending), one page at a time. The cursor is the (time, id) of
// the page's last row bound to the filter (signinlog.EncodeCursor), so a
// cursor from another filter, or a garbled one, fails with
// signinlog.ErrBadCursor.
//
// A filter on a field with postings (signinlog.FilterPosting) reads the
// candidates from the postings of the newest segments and checks them
// against the whole filter; any other walks events_time newest first.
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
	var events []*authgate.Decision
	var keys []eventKey
	var err error
	if key, ok := signinlog.FilterPosting(f); ok {
		events, keys, err = s.queryPosted(ctx, key, f, at, size+1)
	} else {
		q, args := pageQuery(f, at, size+1)
		events, keys, err = s.events(ctx, q, args...)
	}
	if err != nil {
		return nil, "", fmt.Errorf("postgres: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	return events[:size], signinlog.EncodeCursor(f, keys[size-1].time, keys[size-1].id), nil
}

// pageQuery returns the SQL and arguments of the first n events matching
// f before position at, walking events_time.
func pageQuery(f signinlog.Filter, at *signinlog.Position, n int) (string, []any) {
	var w where
	w.filter(f, at)
	return `SELECT id, time, decision FROM events` + w.sql() + fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT %d`, n), w.args
}

// queryPosted returns the first n events matching f before position at,
// from the postings of key.
func (s *EventStore) queryPosted(ctx context.Context, key signinlog.PostingKey, f signinlog.Filter, at *signinlog.Position, n int) ([]*authgate.Decision, []eventKey, error) {
	spans, err := s.segments(ctx, f, at)
	if err != nil {
		return nil, nil, err
	}
	var w where
	ids := w.param(nil) // the candidates, set per call
	w.add("id = ANY(" + ids + ")")
	w.filter(f, at)
	check := `SELECT id, time FROM events` + w.sql() + fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT %d`, n)
	found, err := signinlog.NewestInSegments(spans, n, func(segs []int64) ([]signinlog.Position, error) {
		candidates, err := s.posted(ctx, key, segs)
		if err != nil || len(candidates) == 0 {
			return nil, err
		}
		w.args[0] = candidates
		rows, err := s.pool.Query(ctx, check, w.args...)
		if err != nil {
			return nil, err
		}
		var p signinlog.Position
		var out []signinlog.Position
		_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.Time}, func() error {
			out = append(out, p)
			return nil
		})
		return out, err
	})
	if err != nil || len(found) == 0 {
		return nil, nil, err
	}
	page := make([]int64, len(found))
	for i, p := range found {
		page[i] = p.ID
	}
	return s.events(ctx, `SELECT id, time, decision FROM events WHERE id = ANY($1) ORDER BY time DESC, id DESC`, page)
}

// segments returns the segments that may hold events f lets through
// before the cursor position at (nil for none).
func (s *EventStore) segments(ctx context.Context, f signinlog.Filter, at *signinlog.Position) ([]signinlog.SegmentSpan, error) {
	rows, err := s.pool.Query(ctx, `SELECT seg, min_time, max_time FROM event_segments`)
	if err != nil {
		return nil, err
	}
	var sp signinlog.SegmentSpan
	var spans []signinlog.SegmentSpan
	_, err = pgx.ForEachRow(rows, []any{&sp.Seg, &sp.MinTime, &sp.MaxTime}, func() error {
		if signinlog.SpanWithin(sp, f, at) {
			spans = append(spans, sp)
		}
		return nil
	})
	return spans, err
}

// posted returns the ids that the postings of key list in segments segs
// (in rows of key's own and in the packed rows of its bucket), each once.
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

// Get returns the events with request id id, newest first.
func (s *EventStore) Get(ctx context.Context, requestID string) ([]*authgate.Decision, error) {
	events, _, err := s.events(ctx, `SELECT id, time, decision FROM events WHERE request_id = $1
		ORDER BY time DESC, id DESC LIMIT $2`, requestID, signinlog.MaxPerRequestID)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading event %q: %w", requestID, err)
	}
	return events, nil
}

// Stats counts the events matching f grouped by by, largest group first
// (ties by key). A filter with postings counts its candidates, some
// thousands at a time; any other is one aggregate over the window.
func (s *EventStore) Stats(ctx context.Context, f signinlog.Filter, by signinlog.GroupBy) ([]signinlog.Count, error) {
	key, err := groupColumn(by)
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	counts := map[string]int64{}
	count := func(w *where) error {
		rows, err := s.pool.Query(ctx, `SELECT (`+key+`) AS k, count(*) AS n FROM events`+w.sql()+` GROUP BY k`, w.args...)
		if err != nil {
			return err
		}
		var k string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
			counts[k] += n
			return nil
		})
		return err
	}
	var w where
	if post, ok := signinlog.FilterPosting(f); ok {
		w.add("id = ANY(" + w.param(nil) + ")")
		w.filter(f, nil)
		err = s.eachPosted(ctx, post, f, func(ids []int64) error {
			w.args[0] = ids
			return count(&w)
		})
	} else {
		w.filter(f, nil)
		err = count(&w)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	// Keys sorted as bytes, as SQLite's are, whatever the database's
	// collation.
	return signinlog.SortCounts(counts), nil
}

// eachPosted calls fn with every id, up to candidateChunk at a time, that
// the postings of key list in the segments f's window covers.
func (s *EventStore) eachPosted(ctx context.Context, key signinlog.PostingKey, f signinlog.Filter, fn func(ids []int64) error) error {
	spans, err := s.segments(ctx, f, nil)
	if err != nil {
		return err
	}
	return signinlog.EachPosted(spans, candidateChunk, func(segs []int64) ([]int64, error) { return s.posted(ctx, key, segs) }, fn)
}

// candidateChunk is how many posted ids one statement checks.
const candidateChunk = 10000

// SkewStats returns how many events of issuer iss since since carried a
// clock skew, and their mean skew (rounded to the nanosecond).
func (s *EventStore) SkewStats(ctx context.Context, iss string, since time.Time) (int, time.Duration, error) {
	var n int
	var mean *float64
	err := s.pool.QueryRow(ctx, `SELECT count(skew), avg(skew)::float8 FROM events
		WHERE iss = $1 AND time >= $2 AND skew IS NOT NULL`, iss, signinlog.UnixNanos(since)).Scan(&n, &mean)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: summarising clock skew of %q: %w", iss, err)
	}
	if mean == nil {
		return n, 0, nil
	}
	return n, time.Duration(math.Round(*mean)), nil
}

// events runs q, which selects (id, time, decision), and decodes the rows.
func (s *EventStore) events(ctx context.Context, q string, args ...any) ([]*authgate.Decision, []eventKey, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	var events []*authgate.Decision
	var keys []eventKey
	var k eventKey
	var doc, scratch []byte
	_, err = pgx.ForEachRow(rows, []any{&k.id, &k.time, &doc}, func() error {
		d := new(authgate.Decision)
		if err := signinlog.DecodeStoredDecision(doc, d, &scratch); err != nil {
			return fmt.Errorf("event %d: %w", k.id, err)
		}
		d.Time = time.Unix(0, k.time).UTC()
		events = append(events, d)
		keys = append(keys, k)
		return nil
	})
	return events, keys, err
}

// groupColumn maps a grouping to its SQL expression.
func groupColumn(by signinlog.GroupBy) (string, error) {
	switch by {
	case signinlog.ByReason:
		return "reason", nil
	case signinlog.ByRoute:
		return "route", nil
	case signinlog.ByUser:
		return "CASE WHEN claimed <> '' THEN claimed ELSE subject END", nil
	}
	return "", fmt.Errorf("unknown grouping %q", by)
}

// where collects SQL conditions and their arguments ($1, $2, ...).
type where struct {
	conds []string
	args  []any
}

// add appends a condition whose %s verbs become placeholders for args.
func (w *where) add(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		ph[i] = w.param(a)
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ph...))
}

// param adds an argument and returns its placeholder.
func (w *where) param(arg any) string {
	w.args = append(w.args, arg)
	return fmt.Sprintf("$%d", len(w.args))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// filter adds the conditions of f, and of the cursor position at when not
// nil.
func (w *where) filter(f signinlog.Filter, at *signinlog.Position) {
	eq := func(col, v string) {
		if v != "" {
			w.add(col+" = %s", v)
		}
	}
	if f.User != "" {
		w.add("(claimed = %s OR subject = %[1]s)", f.User)
	}
	eq("key_id", f.KeyID)
	eq("route", f.Route)
	eq("method", string(f.Method))
	eq("reason", string(f.Reason))
	eq("outcome", f.Outcome)
	eq("request_id", f.RequestID)
	eq("fingerprint", f.Fingerprint)
	if f.Network.IsValid() {
		lo, hi, exceptIPv4 := signinlog.AddressRange(f.Network)
		w.add("source_ip BETWEEN %s AND %s", lo[:], hi[:])
		if exceptIPv4 {
			v4Lo, v4Hi := signinlog.IPv4Keys()
			w.add("source_ip NOT BETWEEN %s AND %s", v4Lo[:], v4Hi[:])
		}
	}
	if !f.Since.IsZero() {
		w.add("time >= %s", signinlog.UnixNanos(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("time < %s", signinlog.UnixNanos(f.Until))
	}
	if at != nil {
		w.add("(time, id) < (%s, %s)", at.Time, at.ID)
	}
}

// eventKey is a scanned row's position, for the cursor.
type eventKey struct{ time, id int64 }
