package sqlite

import (
	"context"
	"database/sql"
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
// ids, and widens the times of its segments.
func (s *EventStore) writePostings(ctx context.Context, tx *sql.Tx, p *signinlog.Postings, ids []int64) error {
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
