package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/authgate/authgate/signinlog"
)

// The queries (Query, Get, Stats, SkewStats) are those of the
// signinlog.ChunkQueries EventStore embeds; chunkSource gives them the
// rows of the chunks (eventmigrations/0003_event_chunks.sql).

// chunkSource is the signinlog.ChunkSource of an EventStore.
type chunkSource struct{ s *EventStore }

func (c chunkSource) Segments(ctx context.Context) ([]signinlog.SegmentSpan, error) {
	rows, err := c.s.r.QueryContext(ctx, `SELECT seg, min_time, max_time FROM event_segments`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spans []signinlog.SegmentSpan
	for rows.Next() {
		var sp signinlog.SegmentSpan
		if err := rows.Scan(&sp.Seg, &sp.MinTime, &sp.MaxTime); err != nil {
			return nil, err
		}
		spans = append(spans, sp)
	}
	return spans, rows.Err()
}

func (c chunkSource) Posted(ctx context.Context, key signinlog.PostingKey, segs []int64) ([]int64, error) {
	q, args := postedQuery(key, segs)
	rows, err := c.s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var field string
		var b []byte
		if err := rows.Scan(&field, &b); err != nil {
			return nil, err
		}
		ids = signinlog.PostedIDs(ids, key, field, b)
	}
	slices.Sort(ids)
	return slices.Compact(ids), rows.Err()
}

// postedQuery returns the SQL and arguments of Posted: a lookup of the
// primary key per segment and key (an OR of the two keys would scan).
func postedQuery(key signinlog.PostingKey, segs []int64) (string, []any) {
	own, packed := key.Lookup()
	in := "seg IN (?" + strings.Repeat(", ?", len(segs)-1) + ")"
	args := make([]any, 0, 2*len(segs)+4)
	for _, k := range []signinlog.PostingKey{own, packed} {
		for _, seg := range segs {
			args = append(args, seg)
		}
		args = append(args, k.Field, []byte(k.Value))
	}
	one := `SELECT field, ids FROM event_postings WHERE ` + in + ` AND field = ? AND value = ?`
	return one + ` UNION ALL ` + one, args
}

// chunkColumns are the columns of a signinlog.ChunkRow: the docs only of
// a chunk of one without heads, whose docs are its stored decision.
const chunkColumns = `first_id, min_time, max_time, heads, CASE WHEN heads IS NULL THEN docs END`

func (c chunkSource) Newest(ctx context.Context, win signinlog.ChunkWindow, limit int) ([]signinlog.ChunkRow, error) {
	q, args := newestQuery(win, limit)
	return c.rows(ctx, q, args...)
}

// newestQuery returns the SQL and arguments of Newest: a walk of
// event_chunks_newest backwards.
func newestQuery(win signinlog.ChunkWindow, limit int) (string, []any) {
	var where []string
	var args []any
	if win.HasSince {
		where, args = append(where, "max_time >= ?"), append(args, win.Since)
	}
	if win.HasUntil {
		where, args = append(where, "min_time < ?"), append(args, win.Until)
	}
	if win.HasAt {
		where, args = append(where, "min_time <= ?"), append(args, win.AtTime)
	}
	if win.After {
		where, args = append(where, "(max_time, first_id) < (?, ?)"), append(args, win.AfterTime, win.AfterFirst)
	}
	q := `SELECT ` + chunkColumns + ` FROM event_chunks`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return q + ` ORDER BY max_time DESC, first_id DESC LIMIT ?`, append(args, limit)
}

func (c chunkSource) Holding(ctx context.Context, ids []int64) ([]signinlog.ChunkRow, error) {
	return c.rows(ctx, holdingQuery, idArray(ids))
}

// holdingQuery selects, per id of a JSON array, the chunk with the largest
// first id at or below it.
const holdingQuery = `SELECT ` + chunkColumns + ` FROM event_chunks WHERE first_id IN
	(SELECT (SELECT first_id FROM event_chunks WHERE first_id <= value ORDER BY first_id DESC LIMIT 1) FROM json_each(?))
	ORDER BY first_id`

// idArray returns ids as a JSON array, one parameter however many.
func idArray(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*9)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

func (c chunkSource) Docs(ctx context.Context, firsts []int64, fn func(first int64, docs []byte) error) error {
	rows, err := c.s.r.QueryContext(ctx, `SELECT first_id, docs FROM event_chunks WHERE first_id IN (SELECT value FROM json_each(?))`, idArray(firsts))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var first int64
		var docs sql.RawBytes
		if err := rows.Scan(&first, &docs); err != nil {
			return err
		}
		if err := fn(first, docs); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rows runs q, which selects chunkColumns.
func (c chunkSource) rows(ctx context.Context, q string, args ...any) ([]signinlog.ChunkRow, error) {
	rows, err := c.s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []signinlog.ChunkRow
	for rows.Next() {
		var r signinlog.ChunkRow
		if err := rows.Scan(&r.FirstID, &r.MinTime, &r.MaxTime, &r.Heads, &r.Stored); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
