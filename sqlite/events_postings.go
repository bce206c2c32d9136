package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/authgate/authgate/signinlog"
)

// This file keeps the postings (eventmigrations/0002_postings.sql): the
// rows a batch adds, and the candidates a filter reads back.

// postingRows is how many posting rows one INSERT writes.
const postingRows = 64

// insertPostings returns an INSERT of n posting rows.
func insertPostings(n int) string {
	return `INSERT INTO event_postings (seg, field, value, first_id, ids) VALUES (?, ?, ?, ?, ?)` +
		strings.Repeat(", (?, ?, ?, ?, ?)", n-1)
}

var insertPosting = insertPostings(postingRows)

// writePostings adds the postings of a batch whose events got the ids
// first, first+1, ..., and widens the times of its segments.
func (s *EventStore) writePostings(ctx context.Context, tx *sql.Tx, p *signinlog.Postings, first int64, n int) error {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	rows, spans := p.Rows(ids)
	args := make([]any, 0, 5*postingRows)
	stmt := tx.StmtContext(ctx, s.insertPosting)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), postingRows)]
		rows = rows[len(chunk):]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.Seg, r.Key.Field, []byte(r.Key.Value), r.FirstID, r.IDs)
		}
		var err error
		if len(chunk) == postingRows {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertPostings(len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	for _, sp := range spans {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_segments (seg, min_time, max_time) VALUES (?, ?, ?)
			ON CONFLICT (seg) DO UPDATE SET min_time = min(min_time, excluded.min_time),
				max_time = max(max_time, excluded.max_time)`, sp.Seg, sp.MinTime, sp.MaxTime); err != nil {
			return err
		}
	}
	return nil
}

// segments returns the segments that may hold events f lets through
// before the cursor position at (nil for none).
func (s *EventStore) segments(ctx context.Context, f signinlog.Filter, at *signinlog.Position) ([]signinlog.SegmentSpan, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seg, min_time, max_time FROM event_segments`)
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
		if signinlog.SpanWithin(sp, f, at) {
			spans = append(spans, sp)
		}
	}
	return spans, rows.Err()
}

// posted returns the ids that the postings of key list in segments segs
// (in rows of key's own and in the packed rows of its bucket), each once.
func (s *EventStore) posted(ctx context.Context, key signinlog.PostingKey, segs []int64) ([]int64, error) {
	q, args := postedQuery(key, segs)
	rows, err := s.r.QueryContext(ctx, q, args...)
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

// postedQuery returns the SQL and arguments of posted: a lookup of the
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

// idsIn returns "id IN (?, ?, ...)" for ids and appends them to args.
func idsIn(ids []int64, args []any) (string, []any) {
	for _, id := range ids {
		args = append(args, id)
	}
	return "id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// candidateChunk is how many posted ids one statement checks.
const candidateChunk = 500
