package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/signinlog"
)

// The queries (Query, Get, Stats, SkewStats) are those of the
// signinlog.ChunkQueries EventStore embeds; chunkSource gives them the
// rows of the chunks (migrations/0005_event_chunks.sql).

// chunkSource is the signinlog.ChunkSource of an EventStore.
type chunkSource struct{ s *EventStore }

func (c chunkSource) Segments(ctx context.Context) ([]signinlog.SegmentSpan, error) {
	rows, err := c.s.pool.Query(ctx, `SELECT seg, min_time, max_time FROM event_segments`)
	if err != nil {
		return nil, err
	}
	var sp signinlog.SegmentSpan
	var spans []signinlog.SegmentSpan
	_, err = pgx.ForEachRow(rows, []any{&sp.Seg, &sp.MinTime, &sp.MaxTime}, func() error {
		spans = append(spans, sp)
		return nil
	})
	return spans, err
}

func (c chunkSource) Posted(ctx context.Context, key signinlog.PostingKey, segs []int64) ([]int64, error) {
	own, packed := key.Lookup()
	// Two lookups of the key rather than one OR of both, which the planner
	// turns into a bitmap scan that takes longer to plan than to run.
	rows, err := c.s.pool.Query(ctx, `SELECT field, ids FROM event_postings WHERE seg = ANY($1) AND field = $2 AND value = $3
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

// chunkColumns are the columns of a signinlog.ChunkRow: the docs only of
// a chunk of one without heads, whose docs are its stored decision.
const chunkColumns = `first_id, min_time, max_time, heads, CASE WHEN heads IS NULL THEN docs END`

func (c chunkSource) Newest(ctx context.Context, win signinlog.ChunkWindow, limit int) ([]signinlog.ChunkRow, error) {
	var w where
	if win.HasSince {
		w.add("max_time >= %s", win.Since)
	}
	if win.HasUntil {
		w.add("min_time < %s", win.Until)
	}
	if win.HasAt {
		w.add("min_time <= %s", win.AtTime)
	}
	if win.After {
		w.add("(max_time, first_id) < (%s, %s)", win.AfterTime, win.AfterFirst)
	}
	return c.rows(ctx, `SELECT `+chunkColumns+` FROM event_chunks`+w.sql()+
		fmt.Sprintf(` ORDER BY max_time DESC, first_id DESC LIMIT %d`, limit), w.args...)
}

func (c chunkSource) Holding(ctx context.Context, ids []int64) ([]signinlog.ChunkRow, error) {
	return c.rows(ctx, `SELECT `+chunkColumns+` FROM event_chunks WHERE first_id IN
		(SELECT (SELECT first_id FROM event_chunks WHERE first_id <= x ORDER BY first_id DESC LIMIT 1) FROM unnest($1::bigint[]) AS x)
		ORDER BY first_id`, ids)
}

func (c chunkSource) Docs(ctx context.Context, firsts []int64, fn func(first int64, docs []byte) error) error {
	rows, err := c.s.pool.Query(ctx, `SELECT first_id, docs FROM event_chunks WHERE first_id = ANY($1)`, firsts)
	if err != nil {
		return err
	}
	var first int64
	var docs []byte
	_, err = pgx.ForEachRow(rows, []any{&first, &docs}, func() error { return fn(first, docs) })
	return err
}

// rows runs q, which selects chunkColumns.
func (c chunkSource) rows(ctx context.Context, q string, args ...any) ([]signinlog.ChunkRow, error) {
	rows, err := c.s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []signinlog.ChunkRow
	var r signinlog.ChunkRow
	// pgx scans bytea into *[]byte as a copy of its own.
	_, err = pgx.ForEachRow(rows, []any{&r.FirstID, &r.MinTime, &r.MaxTime, &r.Heads, &r.Stored}, func() error {
		out = append(out, r)
		return nil
	})
	return out, err
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
	s := " WHERE " + w.conds[0]
	for _, c := range w.conds[1:] {
		s += " AND " + c
	}
	return s
}
