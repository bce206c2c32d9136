package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
func (s *EventStore) Query(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]*authgate.Decision, string, error) {
	q, args, err := pageQuery(f, p)
	if err != nil {
		return nil, "", err
	}
	size := p.Size()
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: querying events: %w", err)
	}
	events, last, err := scanEvents(rows)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	events = events[:size]
	return events, signinlog.EncodeCursor(f, last[size-1].time, last[size-1].id), nil
}

// pageQuery returns the SQL and arguments of one page of Query: one row
// more than the page size, to know whether another page follows.
func pageQuery(f signinlog.Filter, p signinlog.Page) (string, []any, error) {
	where, args := eventWhere(f)
	if p.Cursor != "" {
		t, id, err := signinlog.DecodeCursor(f, p.Cursor)
		if err != nil {
			return "", nil, fmt.Errorf("sqlite: %w", err)
		}
		where = append(where, "(time, id) < (?, ?)")
		args = append(args, t, id)
	}
	q := `SELECT id, time, decision FROM events` + joinWhere(where) + ` ORDER BY time DESC, id DESC LIMIT ?`
	return q, append(args, p.Size()+1), nil
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
// (ties by key).
func (s *EventStore) Stats(ctx context.Context, f signinlog.Filter, by signinlog.GroupBy) ([]signinlog.Count, error) {
	key, err := groupColumn(by)
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting events: %w", err)
	}
	where, args := eventWhere(f)
	rows, err := s.r.QueryContext(ctx, `SELECT `+key+` AS k, COUNT(*) AS n FROM events`+joinWhere(where)+
		` GROUP BY k ORDER BY n DESC, k`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting events: %w", err)
	}
	defer rows.Close()
	out := []signinlog.Count{}
	for rows.Next() {
		var c signinlog.Count
		if err := rows.Scan(&c.Key, &c.Count); err != nil {
			return nil, fmt.Errorf("sqlite: counting events: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: counting events: %w", err)
	}
	return out, nil
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

// eventWhere turns f into SQL conditions and their arguments.
func eventWhere(f signinlog.Filter) (where []string, args []any) {
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	// Conditions after "AND" repeat the WHERE of partial indexes
	// (eventmigrations/0001_events.sql) so that they are used.
	if f.User != "" {
		where = append(where, "(claimed = ? OR (subject = ? AND subject <> claimed))")
		args = append(args, f.User, f.User)
	}
	if f.KeyID != "" {
		where = append(where, "key_id = ? AND key_id <> ''")
		args = append(args, f.KeyID)
	}
	eq("route", f.Route)
	eq("method", string(f.Method))
	if f.Reason != "" {
		where = append(where, "reason = ? AND reason <> ''")
		args = append(args, string(f.Reason))
	}
	eq("outcome", f.Outcome)
	eq("request_id", f.RequestID)
	if f.Fingerprint != "" {
		where = append(where, "fingerprint = ? AND fingerprint <> ''")
		args = append(args, f.Fingerprint)
	}
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
	for rows.Next() {
		var k eventKey
		var doc []byte
		if err := rows.Scan(&k.id, &k.time, &doc); err != nil {
			return nil, nil, err
		}
		d := new(authgate.Decision)
		if err := json.Unmarshal(doc, d); err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", k.id, err)
		}
		d.Time = time.Unix(0, k.time).UTC()
		events = append(events, d)
		keys = append(keys, k)
	}
	return events, keys, rows.Err()
}
