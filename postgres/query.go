package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
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
func (s *EventStore) Query(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]*authgate.Decision, string, error) {
	q, args, err := pageQuery(f, p)
	if err != nil {
		return nil, "", err
	}
	size := p.Size()
	events, keys, err := s.events(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	return events[:size], signinlog.EncodeCursor(f, keys[size-1].time, keys[size-1].id), nil
}

// pageQuery returns the SQL and arguments of one page of Query: one row
// more than the page size, to know whether another page follows.
//
// A user filter matches the claimed name or, on other rows, the subject,
// which have an index each. Written as one condition with OR, the planner
// ORs the two indexes into a bitmap: it reads every row of the user in the
// window, in table order, and sorts them, however small the page. So each
// index gets its own branch of a UNION ALL that walks it newest first and
// stops after a page, and the outer ORDER BY merges at most two pages. The
// branches are disjoint: the subject branch requires claimed <> subject.
func pageQuery(f signinlog.Filter, p signinlog.Page) (string, []any, error) {
	var w where
	others := f
	others.User = ""
	w.filter(others)
	if p.Cursor != "" {
		t, id, err := signinlog.DecodeCursor(f, p.Cursor)
		if err != nil {
			return "", nil, fmt.Errorf("postgres: %w", err)
		}
		w.add("(time, id) < (%s, %s)", t, id)
	}
	page := fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT %d`, p.Size()+1)
	if f.User == "" {
		return `SELECT id, time, decision FROM events` + w.sql() + page, w.args, nil
	}
	user := w.param(f.User)
	branch := func(conds ...string) string {
		conds = append(conds, w.conds...)
		return `(SELECT id, time, decision FROM events WHERE ` + strings.Join(conds, " AND ") + page + `)`
	}
	// "subject <> claimed" repeats the WHERE of the partial index
	// events_subject (migrations/0001_events.sql) so that it is used.
	q := `SELECT id, time, decision FROM (` + branch("claimed = "+user) + ` UNION ALL ` +
		branch("subject = "+user, "subject <> claimed") + `) AS by_user` + page
	return q, w.args, nil
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
// (ties by key).
func (s *EventStore) Stats(ctx context.Context, f signinlog.Filter, by signinlog.GroupBy) ([]signinlog.Count, error) {
	key, err := groupColumn(by)
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	var w where
	w.filter(f)
	// Keys collate as bytes ("C"), as SQLite's do, so that ties come in
	// the same order whatever the database's collation.
	rows, err := s.pool.Query(ctx, `SELECT (`+key+`) COLLATE "C" AS k, count(*) AS n FROM events`+w.sql()+
		` GROUP BY k ORDER BY n DESC, k`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	out := []signinlog.Count{}
	var k string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
		out = append(out, signinlog.Count{Key: k, Count: n})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: counting events: %w", err)
	}
	return out, nil
}

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
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&k.id, &k.time, &doc}, func() error {
		d := new(authgate.Decision)
		if err := json.Unmarshal(doc, d); err != nil {
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

// filter adds the conditions of f.
func (w *where) filter(f signinlog.Filter) {
	eq := func(col, v string) {
		if v != "" {
			w.add(col+" = %s", v)
		}
	}
	// Conditions after "AND" repeat the WHERE of partial indexes
	// (migrations/0001_events.sql) so that the planner uses them.
	if f.User != "" {
		w.add("(claimed = %s OR (subject = %[1]s AND subject <> claimed))", f.User)
	}
	if f.KeyID != "" {
		w.add("key_id = %s AND key_id <> ''", f.KeyID)
	}
	eq("route", f.Route)
	eq("method", string(f.Method))
	if f.Reason != "" {
		w.add("reason = %s AND reason <> ''", string(f.Reason))
	}
	eq("outcome", f.Outcome)
	eq("request_id", f.RequestID)
	if f.Fingerprint != "" {
		w.add("fingerprint = %s AND fingerprint <> ''", f.Fingerprint)
	}
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
}

// eventKey is a scanned row's position, for the cursor.
type eventKey struct{ time, id int64 }
