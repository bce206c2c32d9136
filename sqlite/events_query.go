package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// Query returns the events matching f, newest first (time, then insertion
// order, descending), one page at a time. The cursor is the (time, id) of
// the page's last row with a checksum over it and the filter, so a cursor
// from another filter, or a garbled one, fails with signinlog.ErrBadCursor.
//
// A filter on a field with postings (signinlog.FilterPosting) reads the
// candidates from the postings of the newest segments and checks them
// against the whole filter; any other walks events_time newest first.
func (s *EventStore) Query(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]*authgate.Decision, string, error) {
	var at *signinlog.Position
	if p.Cursor != "" {
		t, id, err := signinlog.DecodeCursor(f, p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %w", err)
		}
		at = &signinlog.Position{Time: t, ID: id}
	}
	size := p.Size()
	var events []*authgate.Decision
	var last []eventKey
	var err error
	if key, ok := signinlog.FilterPosting(f, false); ok {
		events, last, err = s.queryPosted(ctx, key, f, at, size+1)
	} else {
		q, args := pageQuery(f, at, size+1)
		var rows *sql.Rows
		if rows, err = s.r.QueryContext(ctx, q, args...); err == nil {
			events, last, err = scanEvents(rows)
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	events = events[:size]
	return events, signinlog.EncodeCursor(f, last[size-1].time, last[size-1].id), nil
}

// pageQuery returns the SQL and arguments of the first n events matching
// f before position at, walking events_time.
func pageQuery(f signinlog.Filter, at *signinlog.Position, n int) (string, []any) {
	where, args := eventWhere(f, at)
	q := `SELECT id, time, decision FROM events` + joinWhere(where) + ` ORDER BY time DESC, id DESC LIMIT ?`
	return q, append(args, n)
}

// queryPosted returns the first n events matching f before position at,
// from the postings of key.
func (s *EventStore) queryPosted(ctx context.Context, key signinlog.PostingKey, f signinlog.Filter, at *signinlog.Position, n int) ([]*authgate.Decision, []eventKey, error) {
	spans, err := s.segments(ctx, f, at)
	if err != nil {
		return nil, nil, err
	}
	where, whereArgs := eventWhere(f, at)
	found, err := signinlog.NewestInSegments(spans, n, func(segs []int64) ([]signinlog.Position, error) {
		ids, err := s.posted(ctx, key, segs)
		if err != nil {
			return nil, err
		}
		var out []signinlog.Position
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), candidateChunk)]
			ids = ids[len(chunk):]
			in, args := idsIn(chunk, nil)
			args = append(append(args, whereArgs...), n)
			rows, err := s.r.QueryContext(ctx, `SELECT id, time FROM events`+joinWhere(append([]string{in}, where...))+
				` ORDER BY time DESC, id DESC LIMIT ?`, args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var p signinlog.Position
				if err := rows.Scan(&p.ID, &p.Time); err != nil {
					rows.Close()
					return nil, err
				}
				out = append(out, p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	if err != nil || len(found) == 0 {
		return nil, nil, err
	}
	ids := make([]int64, len(found))
	for i, p := range found {
		ids[i] = p.ID
	}
	in, args := idsIn(ids, nil)
	rows, err := s.r.QueryContext(ctx, `SELECT id, time, decision FROM events WHERE `+in+` ORDER BY time DESC, id DESC`, args...)
	if err != nil {
		return nil, nil, err
	}
	return scanEvents(rows)
}

// Get returns the events with request id id, newest first.
func (s *EventStore) Get(ctx context.Context, requestID string) ([]*authgate.Decision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, time, decision FROM events WHERE request_id = ?
		ORDER BY time DESC, id DESC LIMIT ?`, requestID, signinlog.MaxPerRequestID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading event %q: %w", requestID, err)
	}
	events, _, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading event %q: %w", requestID, err)
	}
	return events, nil
}

// Stats counts the events matching f grouped by by, largest group first
// (ties by key). A filter with postings counts its candidates, a few
// hundred at a time; any other is one aggregate over the window.
func (s *EventStore) Stats(ctx context.Context, f signinlog.Filter, by signinlog.GroupBy) ([]signinlog.Count, error) {
	key, err := groupColumn(by)
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting events: %w", err)
	}
	where, args := eventWhere(f, nil)
	counts := map[string]int64{}
	count := func(where []string, args []any) error {
		rows, err := s.r.QueryContext(ctx, `SELECT `+key+` AS k, COUNT(*) AS n FROM events`+joinWhere(where)+
			` GROUP BY k`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			counts[k] += n
		}
		return rows.Err()
	}
	if post, ok := signinlog.FilterPosting(f, false); ok {
		err = s.eachPosted(ctx, post, f, func(ids []int64) error {
			in, inArgs := idsIn(ids, nil)
			return count(append([]string{in}, where...), append(inArgs, args...))
		})
	} else {
		err = count(where, args)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting events: %w", err)
	}
	return signinlog.SortCounts(counts), nil
}

// eachPosted calls fn with every id, candidateChunk at a time, that the
// postings of key list in the segments f's window covers.
func (s *EventStore) eachPosted(ctx context.Context, key signinlog.PostingKey, f signinlog.Filter, fn func(ids []int64) error) error {
	spans, err := s.segments(ctx, f, nil)
	if err != nil {
		return err
	}
	return signinlog.EachPosted(spans, candidateChunk, func(segs []int64) ([]int64, error) { return s.posted(ctx, key, segs) }, fn)
}

// SkewStats returns how many events of issuer iss since since carried a
// clock skew, and their mean skew (rounded to the nanosecond).
func (s *EventStore) SkewStats(ctx context.Context, iss string, since time.Time) (int, time.Duration, error) {
	var n int
	var mean sql.NullFloat64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(skew), AVG(skew) FROM events
		WHERE iss = ? AND time >= ? AND skew IS NOT NULL`, iss, signinlog.UnixNanos(since)).Scan(&n, &mean)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: summarising clock skew of %q: %w", iss, err)
	}
	return n, time.Duration(math.Round(mean.Float64)), nil
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

// eventWhere turns f, and the cursor position at when not nil, into SQL
// conditions and their arguments.
func eventWhere(f signinlog.Filter, at *signinlog.Position) (where []string, args []any) {
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	if f.User != "" {
		where = append(where, "(claimed = ? OR subject = ?)")
		args = append(args, f.User, f.User)
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
		where = append(where, "source_ip BETWEEN ? AND ?")
		args = append(args, lo[:], hi[:])
		if exceptIPv4 {
			v4Lo, v4Hi := signinlog.IPv4Keys()
			where = append(where, "source_ip NOT BETWEEN ? AND ?")
			args = append(args, v4Lo[:], v4Hi[:])
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, signinlog.UnixNanos(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, signinlog.UnixNanos(f.Until))
	}
	if at != nil {
		where = append(where, "(time, id) < (?, ?)")
		args = append(args, at.Time, at.ID)
	}
	return where, args
}

func joinWhere(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// eventKey is a scanned row's position, for the cursor.
type eventKey struct{ time, id int64 }

// scanEvents reads rows of (id, time, decision) and closes rows.
func scanEvents(rows *sql.Rows) ([]*authgate.Decision, []eventKey, error) {
	defer rows.Close()
	var events []*authgate.Decision
	var keys []eventKey
	var scratch []byte
	for rows.Next() {
		var k eventKey
		var doc []byte
		if err := rows.Scan(&k.id, &k.time, &doc); err != nil {
			return nil, nil, err
		}
		d := new(authgate.Decision)
		if err := signinlog.DecodeStoredDecision(doc, d, &scratch); err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", k.id, err)
		}
		d.Time = time.Unix(0, k.time).UTC()
		events = append(events, d)
		keys = append(keys, k)
	}
	return events, keys, rows.Err()
}
