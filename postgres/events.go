package postgres

import (
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

// copyEvents is the COPY that Write streams its events into, in the binary
// format (copyRows).
const copyEvents = `COPY events (id, time, request_id, route, method, outcome, reason, status, claimed,
	subject, key_id, source, source_ip, user_agent, fingerprint, iss, skew, latency, decision) FROM STDIN (FORMAT binary)`

// copyPostings is the COPY of a batch's postings.
const copyPostings = `COPY event_postings (seg, field, value, first_id, ids) FROM STDIN (FORMAT binary)`

// Write stores events in one transaction: all or none, with their
// postings and segment times. Their ids come from the events' identity
// sequence, ascending in slice order, in one round trip. The rows go to the
// server in COPY's binary format, encoded while it is sent (the JSON of a
// decision costs the client about as much as the server's insert), so the
// client encodes while the server stores.
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	cols := make([]signinlog.Columns, len(events))
	var post signinlog.Postings
	for i, d := range events {
		c, err := signinlog.EventColumns(d)
		if err != nil {
			return fmt.Errorf("postgres: writing events: %w: %w", signinlog.ErrRejected, err)
		}
		cols[i] = c
		post.Add(&cols[i])
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One round trip: the trigger for older gateways' events is
		// told to leave these alone (migrations/0004_event_postings.sql),
		// and their ids are drawn.
		var batch pgx.Batch
		batch.Queue(`SET LOCAL authgate.postings = 'written'`)
		batch.Queue(`SELECT nextval('events_id_seq') FROM generate_series(1, $1)`, len(events))
		results := tx.SendBatch(ctx, &batch)
		if _, err := results.Exec(); err != nil {
			results.Close()
			return err
		}
		rows, err := results.Query()
		if err != nil {
			results.Close()
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err := errors.Join(err, results.Close()); err != nil {
			return err
		}
		slices.Sort(ids)
		conn := tx.Conn().PgConn()
		src := &eventRows{events: events, cols: cols, ids: ids}
		if _, err := conn.CopyFrom(ctx, src, copyEvents); err != nil {
			if src.err != nil {
				return fmt.Errorf("%w: %w", signinlog.ErrRejected, src.err)
			}
			return err
		}
		postings, spans := post.Rows(ids)
		if _, err := conn.CopyFrom(ctx, &postingRows{rows: postings}, copyPostings); err != nil {
			return err
		}
		segs, mins, maxs := make([]int64, len(spans)), make([]int64, len(spans)), make([]int64, len(spans))
		for i, sp := range spans {
			segs[i], mins[i], maxs[i] = sp.Seg, sp.MinTime, sp.MaxTime
		}
		// Segments in ascending order: one lock order for every gateway.
		_, err = tx.Exec(ctx, `INSERT INTO event_segments (seg, min_time, max_time)
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

// compact drops what was read (up to from) from the buffer.
func (w *copyWriter) compact(from *int) {
	if *from > 0 {
		w.buf = w.buf[:copy(w.buf, w.buf[*from:])]
		*from = 0
	}
}

// read moves what was built to p, and reports how much.
func (w *copyWriter) read(p []byte, from *int) int {
	n := copy(p, w.buf[*from:])
	*from += n
	if *from == len(w.buf) {
		w.buf, *from = w.buf[:0], 0
	}
	return n
}

// copyChunk is how much of a COPY stream is built ahead of the reader.
const copyChunk = 64 << 10

// eventRows is the io.Reader of a batch's COPY into events: it encodes
// rows (a decision's JSON included) only as pgconn reads them. err is
// set when an event cannot be encoded.
type eventRows struct {
	events []*authgate.Decision
	cols   []signinlog.Columns
	ids    []int64
	next   int
	w      copyWriter
	from   int
	doc    []byte
	json   []byte // scratch for the JSON that doc compresses
	err    error
	header bool
}

func (r *eventRows) Read(p []byte) (int, error) {
	if !r.header {
		r.w.header()
		r.header = true
	}
	r.w.compact(&r.from)
	for len(r.w.buf) < max(len(p), copyChunk) && r.next <= len(r.events) {
		if r.next == len(r.events) {
			r.w.trailer()
			r.next++
			break
		}
		if err := r.encode(r.next); err != nil {
			r.err = err
			return 0, err
		}
		r.next++
	}
	if len(r.w.buf) == r.from {
		return 0, io.EOF
	}
	return r.w.read(p, &r.from), nil
}

// encode appends event i as a row in copyEvents's column order.
func (r *eventRows) encode(i int) error {
	c := &r.cols[i]
	var err error
	if r.doc, err = signinlog.AppendStoredDecision(r.doc[:0], r.events[i], &r.json); err != nil {
		return fmt.Errorf("event %q: %w", r.events[i].RequestID, err)
	}
	w := &r.w
	w.row(19)
	w.int64(r.ids[i])
	w.int64(c.Time)
	w.text(c.RequestID)
	w.text(c.Route)
	w.text(c.Method)
	w.text(c.Outcome)
	w.text(c.Reason)
	w.int32(int32(c.Status))
	w.text(c.Claimed)
	w.text(c.Subject)
	w.text(c.KeyID)
	w.text(c.Source)
	w.bytes(c.SourceIP)
	w.text(c.UserAgent)
	w.text(c.Fingerprint)
	w.text(c.Issuer)
	if c.Skew != nil {
		w.int64(*c.Skew)
	} else {
		w.null()
	}
	w.int64(c.Latency)
	w.bytes(r.doc)
	return nil
}

// postingRows is the io.Reader of a batch's COPY into event_postings.
type postingRows struct {
	rows []signinlog.PostingRow
	w    copyWriter
	from int
	done bool
}

func (r *postingRows) Read(p []byte) (int, error) {
	if !r.done && len(r.w.buf) == 0 {
		r.w.header()
		for _, row := range r.rows {
			r.w.row(5)
			r.w.int64(row.Seg)
			r.w.text(row.Key.Field)
			r.w.text(row.Key.Value) // as bytea: the same bytes
			r.w.int64(row.FirstID)
			r.w.bytes(row.IDs)
		}
		r.w.trailer()
		r.done = true
	}
	if len(r.w.buf) == r.from {
		return 0, io.EOF
	}
	return r.w.read(p, &r.from), nil
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

// Purge deletes events older than before, PurgeBatch per statement, oldest
// first, so writers and other gateways are never held up for long; then,
// one transaction per segment, the postings and times of the segments it
// emptied. It returns how many events it deleted, also when it stops
// early on an error or a cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := signinlog.UnixNanos(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE time < $1 ORDER BY time LIMIT $2)`, cut, s.purgeBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.purgeBatch) {
			break
		}
	}
	if err := s.purgeSegments(ctx, cut); err != nil {
		return total, fmt.Errorf("postgres: purging events: %w", err)
	}
	return total, nil
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
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE id >= $1 AND id < $2)`, lo, hi).Scan(&left)
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
