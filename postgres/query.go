package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// Query returns the events matching f, newest first (time, then insertion
// order, descending), one page at a time. The cursor is the (time, id) of
// the page's last row with a checksum over it and the filter, so a cursor
// from another filter, or a garbled one, fails with signinlog.ErrBadCursor.
func (s *EventStore) Query(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]*authgate.Decision, string, error) {
	var w where
	w.filter(f)
	if p.Cursor != "" {
		t, id, err := decodeCursor(p.Cursor, f)
		if err != nil {
			return nil, "", err
		}
		w.add("(time, id) < (%s, %s)", t, id)
	}
	size := p.Size()
	q := `SELECT id, time, decision FROM events` + w.sql() +
		fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT %d`, size+1)
	events, keys, err := s.events(ctx, q, w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: querying events: %w", err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	return events[:size], encodeCursor(keys[size-1].time, keys[size-1].id, f), nil
}

// Get returns the events with request id id, newest first.
func (s *EventStore) Get(ctx context.Context, requestID string) ([]*authgate.Decision, error) {
	events, _, err := s.events(ctx, `SELECT id, time, decision FROM events WHERE request_id = $1
		ORDER BY time DESC, id DESC`, requestID)
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
	out := []signinlog.Count{}
	err = s.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+key+` AS k, count(*) AS n FROM events`+w.sql()+
			` GROUP BY k ORDER BY n DESC, k`, w.args...)
		if err != nil {
			return err
		}
		var k string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
			out = append(out, signinlog.Count{Key: k, Count: n})
			return nil
		})
		return err
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
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(skew), avg(skew)::float8 FROM events
			WHERE iss = $1 AND time >= $2 AND skew IS NOT NULL`, iss, sinceNanos(since)).Scan(&n, &mean)
	})
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
	var events []*authgate.Decision
	var keys []eventKey
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
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
		return err
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
		w.args = append(w.args, a)
		ph[i] = fmt.Sprintf("$%d", len(w.args))
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ph...))
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
		lo, hi, v4 := networkRange(f.Network)
		w.add("source_ip BETWEEN %s AND %s", lo, hi)
		if !v4 && bytesLE(lo, v4Lo[:]) && bytesLE(v4Hi[:], hi) {
			// An IPv6 prefix covering ::ffff:0:0/96 does not match IPv4
			// sources, which are stored mapped into that range.
			w.add("source_ip NOT BETWEEN %s AND %s", v4Lo[:], v4Hi[:])
		}
	}
	if !f.Since.IsZero() {
		w.add("time >= %s", sinceNanos(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("time < %s", sinceNanos(f.Until))
	}
}

// sinceNanos is t in Unix nanoseconds, clamped to the int64 range.
func sinceNanos(t time.Time) int64 {
	switch {
	case t.Year() < 1678:
		return math.MinInt64
	case t.Year() > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	v4Lo = netip.MustParseAddr("::ffff:0.0.0.0").As16()
	v4Hi = netip.MustParseAddr("::ffff:255.255.255.255").As16()
)

// networkRange returns the first and last 16-byte addresses of p (IPv4
// mapped into IPv6) and whether p is an IPv4 prefix.
func networkRange(p netip.Prefix) (lo, hi []byte, v4 bool) {
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	v4 = addr.Is4()
	if v4 {
		bits += 96
	}
	b := addr.As16()
	l, h := b, b
	for i := range 16 {
		keep := min(max(bits-8*i, 0), 8)
		mask := byte(0xff << (8 - keep))
		l[i] &= mask
		h[i] = l[i] | ^mask
	}
	return l[:], h[:], v4
}

func bytesLE(a, b []byte) bool { return string(a) <= string(b) }

// eventKey is a scanned row's position, for the cursor.
type eventKey struct{ time, id int64 }

// filterKey is a canonical text of f, for binding cursors to their filter.
func filterKey(f signinlog.Filter) string {
	var net string
	if f.Network.IsValid() {
		net = f.Network.Masked().String()
	}
	return strings.Join([]string{f.User, f.KeyID, f.Route, string(f.Method), string(f.Reason), f.Outcome, net,
		strconv.FormatInt(sinceNanosOrZero(f.Since), 10), strconv.FormatInt(sinceNanosOrZero(f.Until), 10),
		f.RequestID, f.Fingerprint}, "\x00")
}

func sinceNanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return sinceNanos(t)
}

// cursorSum checksums a cursor's position together with its filter.
func cursorSum(t, id int64, f signinlog.Filter) []byte {
	h := sha256.New()
	h.Write([]byte("authgate events cursor v1\x00"))
	h.Write([]byte(filterKey(f)))
	h.Write(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(t)), uint64(id)))
	return h.Sum(nil)[:8]
}

// encodeCursor makes the opaque cursor of position (t, id) under f.
func encodeCursor(t, id int64, f signinlog.Filter) string {
	b := make([]byte, 0, 25)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(t))
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = append(b, cursorSum(t, id, f)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the position of cursor c, or an error wrapping
// signinlog.ErrBadCursor if c was not made by encodeCursor for f.
func decodeCursor(c string, f signinlog.Filter) (t, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 25 || b[0] != 1 {
		return 0, 0, fmt.Errorf("postgres: %w: not a cursor of this store", signinlog.ErrBadCursor)
	}
	t, id = int64(binary.BigEndian.Uint64(b[1:])), int64(binary.BigEndian.Uint64(b[9:]))
	if string(cursorSum(t, id, f)) != string(b[17:]) {
		return 0, 0, fmt.Errorf("postgres: %w: the cursor belongs to another filter", signinlog.ErrBadCursor)
	}
	return t, id, nil
}
