package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

// copyChunks is the COPY that Write streams its chunks into, in the binary
// format (copyWriter).
const copyChunks = `COPY event_chunks (first_id, last_id, min_time, max_time, count, heads, docs) FROM STDIN (FORMAT binary)`

// reserveIDs draws a batch's ids, $1 of them from the one returned, in a
// transaction of its own that waits for no disk flush: the batch's own
// commit flushes it, and if the batch fails its ids are simply not used.
// Writers queue on the row only for this statement.
const reserveIDs = `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
	UPDATE event_ids SET next = next + $1 FROM async RETURNING next - $1`

// copyPostings is the COPY of a batch's postings.
const copyPostings = `COPY event_postings (seg, field, value, first_id, ids) FROM STDIN (FORMAT binary)`

// Write stores events in one transaction: all or none, as chunks
// (signinlog.ChunkBatch, migrations/0005_event_chunks.sql) with their
// postings and segment times, each sent with a COPY in its binary format.
// Their ids, ascending in slice order, are one range drawn before
// (reserveIDs).
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	ws := s.writes.Get().(*writeState)
	ws.reset(len(events))
	defer func() {
		if !ws.abandoned { // else pgconn's reader may still read its buffers
			ws.release()
			s.writes.Put(ws)
		}
	}()
	cols, post := ws.cols, &ws.post
	for i, d := range events {
		c, err := signinlog.EventColumns(d)
		if err != nil {
			return fmt.Errorf("postgres: writing events: %w: %w", signinlog.ErrRejected, err)
		}
		cols[i] = c
		post.Add(&cols[i])
	}
	var first int64
	if err := s.pool.QueryRow(ctx, reserveIDs, len(events)).Scan(&first); err != nil {
		return fmt.Errorf("postgres: writing events: drawing ids: %w", err)
	}
	ids := ws.ids(first, len(events))
	if err := ws.batch.Encode(ids, cols, events); err != nil {
		return fmt.Errorf("postgres: writing events: %w: %w", signinlog.ErrRejected, err)
	}
	postings, spans := post.Rows(ids)
	chunks, postingStream := ws.streams(postings)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conn := tx.Conn().PgConn()
		// pgconn reads a COPY's source on a goroutine of its own and, when
		// the COPY fails, returns without waiting for it: a state whose
		// COPY failed is never reused.
		if _, err := conn.CopyFrom(ctx, chunks, copyChunks); err != nil {
			ws.abandoned = true
			return err
		}
		if _, err := conn.CopyFrom(ctx, postingStream, copyPostings); err != nil {
			ws.abandoned = true
			return err
		}
		segs, mins, maxs := make([]int64, len(spans)), make([]int64, len(spans)), make([]int64, len(spans))
		for i, sp := range spans {
			segs[i], mins[i], maxs[i] = sp.Seg, sp.MinTime, sp.MaxTime
		}
		// Segments in ascending order: one lock order for every gateway.
		_, err := tx.Exec(ctx, `INSERT INTO event_segments (seg, min_time, max_time)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ORDER BY 1
			ON CONFLICT (seg) DO UPDATE SET min_time = least(event_segments.min_time, excluded.min_time),
				max_time = greatest(event_segments.max_time, excluded.max_time)`, segs, mins, maxs)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: writing events: %w", rejected(err))
	}
	return nil
}

// copyWriter builds a binary COPY stream (PostgreSQL's "binary copy file
// format"): a header, each row as its field count and each field as its
// length (-1 for NULL) and bytes, and a trailer.
type copyWriter struct {
	buf []byte
}

func (w *copyWriter) header() {
	w.buf = append(w.buf, "PGCOPY\n\xff\r\n\x00"...)
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0) // flags
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0) // header extension length
}

func (w *copyWriter) row(fields int) { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(fields)) }

func (w *copyWriter) trailer() { w.buf = binary.BigEndian.AppendUint16(w.buf, 0xffff) }

func (w *copyWriter) int64(v int64) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
}

func (w *copyWriter) int32(v int32) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 4)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v))
}

func (w *copyWriter) text(v string) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(v)))
	w.buf = append(w.buf, v...)
}

func (w *copyWriter) bytes(v []byte) {
	if v == nil {
		w.null()
		return
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(v)))
	w.buf = append(w.buf, v...)
}

func (w *copyWriter) null() { w.buf = binary.BigEndian.AppendUint32(w.buf, 0xffffffff) }

// writeState is the memory of one Write, kept for the next (in
// EventStore.writes): a thousand events' columns, postings and COPY
// buffers are about a megabyte, and allocating them anew each time made
// the collector a fifth of the writer's CPU.
type writeState struct {
	cols      []signinlog.Columns
	idList    []int64
	post      signinlog.Postings
	batch     signinlog.ChunkBatch
	chunks    copyWriter
	postings  copyWriter
	abandoned bool // a COPY failed: its reader may still run; not reused
}

func newWriteState() any { return &writeState{post: signinlog.Postings{Lookups: true}} }

// reset readies ws for a batch of n events.
func (ws *writeState) reset(n int) {
	clear(ws.cols)
	ws.cols = slices.Grow(ws.cols[:0], n)[:n]
	ws.post.Reset()
}

// ids returns the n ids from first.
func (ws *writeState) ids(first int64, n int) []int64 {
	ws.idList = slices.Grow(ws.idList[:0], n)[:n]
	for i := range ws.idList {
		ws.idList[i] = first + int64(i)
	}
	return ws.idList
}

// release drops ws's references to a batch's texts, so that a kept
// writeState does not keep them alive.
func (ws *writeState) release() { clear(ws.cols) }

// streams returns the COPY streams of the batch ws.batch encoded and of
// its postings, built in ws's buffers.
func (ws *writeState) streams(postings []signinlog.PostingRow) (chunks, posted io.Reader) {
	w := &ws.chunks
	w.buf = w.buf[:0]
	w.header()
	for _, ch := range ws.batch.Chunks {
		w.row(7)
		w.int64(ch.FirstID)
		w.int64(ch.LastID)
		w.int64(ch.MinTime)
		w.int64(ch.MaxTime)
		w.int32(int32(ch.Count))
		w.bytes(ch.Heads)
		w.bytes(ch.Docs)
	}
	w.trailer()
	p := &ws.postings
	p.buf = p.buf[:0]
	p.header()
	for _, row := range postings {
		p.row(5)
		p.int64(row.Seg)
		p.text(row.Key.Field)
		p.text(row.Key.Value) // as bytea: the same bytes
		p.int64(row.FirstID)
		p.bytes(row.IDs)
	}
	p.trailer()
	return bytes.NewReader(w.buf), bytes.NewReader(p.buf)
}

// RecordDropped adds counts to the dropped-event counters in one upsert
// that adds to what other gateways recorded. Zero counts are ignored; a
// negative count is an error.
func (s *EventStore) RecordDropped(ctx context.Context, counts map[reason.Code]int64) error {
	var codes []string
	var ns []int64
	for c, n := range counts {
		if n < 0 {
			return fmt.Errorf("postgres: recording dropped events: negative count %d for %q", n, c)
		}
		if n > 0 {
			codes = append(codes, string(c))
		}
	}
	if len(codes) == 0 {
		return nil
	}
	sort.Strings(codes) // one lock order for every gateway: no deadlocks
	for _, c := range codes {
		ns = append(ns, counts[reason.Code(c)])
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO dropped (reason, count)
		SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (reason) DO UPDATE SET count = dropped.count + excluded.count`, codes, ns); err != nil {
		return fmt.Errorf("postgres: recording dropped events: %w", err)
	}
	return nil
}

// Dropped returns the accumulated dropped-event counts per reason.
func (s *EventStore) Dropped(ctx context.Context) (map[reason.Code]int64, error) {
	out := map[reason.Code]int64{}
	rows, err := s.pool.Query(ctx, `SELECT reason, count FROM dropped`)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading dropped events: %w", err)
	}
	var code string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&code, &n}, func() error {
		out[reason.Code(code)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading dropped events: %w", err)
	}
	return out, nil
}

// Purge deletes events older than before, oldest first, PurgeBatch chunks
// per statement, so writers and other gateways are never held up for
// long: a chunk whose events are all older goes whole, one with newer
// events too is written again without the older ones. Then, one
// transaction per segment, it deletes the postings and times of the
// segments it emptied, and it packs events kept a row each into chunks
// (repack). It returns how many events it deleted, also when it stops
// early on an error or a cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := signinlog.UnixNanos(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		var n int64
		var straddling []int64
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT first_id, max_time < $1 FROM event_chunks WHERE min_time < $1
				ORDER BY min_time LIMIT $2 FOR UPDATE SKIP LOCKED`, cut, s.purgeBatch)
			if err != nil {
				return err
			}
			var whole []int64
			var first int64
			var all bool
			if _, err := pgx.ForEachRow(rows, []any{&first, &all}, func() error {
				if all {
					whole = append(whole, first)
				} else {
					straddling = append(straddling, first)
				}
				return nil
			}); err != nil {
				return err
			}
			if len(whole) == 0 {
				return nil
			}
			return tx.QueryRow(ctx, `WITH gone AS (DELETE FROM event_chunks WHERE first_id = ANY($1) RETURNING count)
				SELECT coalesce(sum(count), 0) FROM gone`, whole).Scan(&n)
		})
		if err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		total += n
		for _, first := range straddling {
			n, err := s.purgeWithin(ctx, first, cut)
			total += n
			if err != nil {
				return total, fmt.Errorf("postgres: purging events: %w", err)
			}
		}
		if n == 0 && len(straddling) == 0 {
			break
		}
	}
	if err := s.purgeSegments(ctx, cut); err != nil {
		return total, fmt.Errorf("postgres: purging events: %w", err)
	}
	if err := s.repack(ctx); err != nil {
		return total, fmt.Errorf("postgres: packing events kept a row each into chunks: %w", err)
	}
	return total, nil
}

// repackBatch is how many events kept a row each repack packs per
// transaction.
const repackBatch = 1024

// repack packs the events kept a row each (a chunk of one without heads:
// the log written before migrations/0005_event_chunks.sql, and the events
// of older gateways still running) into chunks, repackBatch per
// transaction, until none is left. Their ids, and so their postings, stay
// as they were. Such events are read correctly either way, but each costs
// a query a JSON decoding.
func (s *EventStore) repack(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT first_id, min_time, docs FROM event_chunks WHERE heads IS NULL
				ORDER BY first_id LIMIT $1 FOR UPDATE SKIP LOCKED`, repackBatch)
			if err != nil {
				return err
			}
			var singles []signinlog.ChunkRow
			var r signinlog.ChunkRow
			if _, err := pgx.ForEachRow(rows, []any{&r.FirstID, &r.MinTime, &r.Stored}, func() error {
				singles = append(singles, r)
				return nil
			}); err != nil {
				return err
			}
			n = len(singles)
			return signinlog.PackSingles(singles, func(ch signinlog.Chunk, ids []int64) error {
				if _, err := tx.Exec(ctx, `DELETE FROM event_chunks WHERE first_id = ANY($1)`, ids); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs)
					VALUES ($1, $2, $3, $4, $5, $6, $7)`, ch.FirstID, ch.LastID, ch.MinTime, ch.MaxTime, ch.Count, ch.Heads, ch.Docs)
				return err
			})
		})
		if err != nil || n < repackBatch {
			return err
		}
	}
}

// purgeWithin writes the chunk starting at first again without its events
// older than cut, and returns how many it left out.
func (s *EventStore) purgeWithin(ctx context.Context, first, cut int64) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var heads, docs []byte
		err := tx.QueryRow(ctx, `SELECT heads, docs FROM event_chunks WHERE first_id = $1 AND min_time < $2 FOR UPDATE`,
			first, cut).Scan(&heads, &docs)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // another gateway's purge did it
		}
		if err != nil {
			return err
		}
		ch, dropped, err := signinlog.DropBefore(heads, docs, cut)
		if err != nil {
			return fmt.Errorf("chunk %d: %w", first, err)
		}
		n = int64(dropped)
		if _, err := tx.Exec(ctx, `DELETE FROM event_chunks WHERE first_id = $1`, first); err != nil || ch.Count == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ch.FirstID, ch.LastID, ch.MinTime, ch.MaxTime, ch.Count, ch.Heads, ch.Docs)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// purgeSegments deletes the postings and times of the segments whose
// events are all older than cut and deleted. A segment with an event left
// (one written late, with an old time) stays until a later purge.
func (s *EventStore) purgeSegments(ctx context.Context, cut int64) error {
	rows, err := s.pool.Query(ctx, `SELECT seg FROM event_segments WHERE max_time < $1 ORDER BY seg`, cut)
	if err != nil {
		return err
	}
	segs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, seg := range segs {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			lo, hi := seg<<signinlog.SegmentBits, (seg+1)<<signinlog.SegmentBits
			var left bool
			// A chunk spans at most ChunkEvents ids.
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_chunks
				WHERE first_id > $1 AND first_id < $2 AND last_id >= $3)`, lo-signinlog.ChunkEvents, hi, lo).Scan(&left)
			if err != nil || left {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM event_postings WHERE seg = $1`, seg); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM event_segments WHERE seg = $1 AND max_time < $2`, seg, cut)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

var _ signinlog.Store = (*EventStore)(nil)

// rejected marks data errors (SQLSTATE classes 22, data exception, and 23,
// integrity constraint violation) as signinlog.ErrRejected: retrying the
// same events cannot succeed.
func rejected(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")) {
		return fmt.Errorf("%w: %w", signinlog.ErrRejected, err)
	}
	return err
}
