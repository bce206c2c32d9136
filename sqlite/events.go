package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

//go:embed eventmigrations/*.sql
var eventMigrations embed.FS

// DefaultPurgeBatch is how many events one Purge transaction deletes.
const DefaultPurgeBatch = 1000

// EventOptions configure an EventStore.
type EventOptions struct {
	// PurgeBatch is how many events Purge deletes per transaction, so a
	// purge of millions never holds the write lock for long;
	// DefaultPurgeBatch when zero.
	PurgeBatch int
	// Readers is how many connections serve queries; 4 when zero.
	Readers int
}

// EventStore is the embedded sign-in log: a signinlog.Store in a SQLite
// file of its own (data_dir/signinlog.db), apart from the users and keys
// database so that event writes never contend with user and key writes.
//
// Writes go through one connection (SQLite has one writer); queries use a
// small pool of read-only connections, which WAL lets run beside a write.
// Times are stored as Unix nanoseconds, so events come back exactly as
// written. Filters find their events through postings rather than an index
// per field (eventmigrations/0002_postings.sql, docs/signinlog.md), which
// keeps the cost of a write the same however many events the log holds.
// It is safe for concurrent use.
type EventStore struct {
	w, r          *sql.DB
	insert        *sql.Stmt
	insertPosting *sql.Stmt
	buffers       sync.Pool // of *writeBuffers
	ckpt          *checkpointer
	purgeBatch    int
}

// OpenEvents opens (creating if needed) the event database at path and
// applies pending migrations. It fails if the file is not a SQLite database
// or a migration fails.
func OpenEvents(path string, opts EventOptions) (*EventStore, error) {
	if opts.PurgeBatch <= 0 {
		opts.PurgeBatch = DefaultPurgeBatch
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	// The file keeps SQLite's default 4 KiB pages: a page_size pragma in
	// the DSN would come too late, as the driver sets the journal mode
	// first, and larger pages measured no faster for these writes.
	base := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)&_pragma=journal_size_limit(67108864)"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", backstopCheckpoint))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &EventStore{w: w, purgeBatch: opts.PurgeBatch}
	s.buffers.New = func() any { return &writeBuffers{batchEncoder: new(batchEncoder)} }
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	if s.insert, err = w.PrepareContext(ctx, insertEvent); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if s.insertPosting, err = w.PrepareContext(ctx, insertPosting); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(opts.Readers)
	s.r.SetMaxIdleConns(opts.Readers)
	c, err := sql.Open("sqlite", base)
	if err != nil {
		s.r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	s.ckpt = startCheckpointer(c)
	return s, nil
}

// Close closes the database; writes already returned are durable.
func (s *EventStore) Close() error {
	return errors.Join(s.ckpt.close(), s.insert.Close(), s.insertPosting.Close(), s.r.Close(), s.w.Close())
}

// migrate applies the sign-in log's migrations.
func (s *EventStore) migrate(ctx context.Context) error {
	return migrate(ctx, s.w, eventMigrations, "eventmigrations/*.sql", time.Now)
}

const eventColumns = `id, time, request_id, route, method, outcome, reason, status, claimed, subject, key_id,
	source, source_ip, user_agent, fingerprint, iss, skew, latency, decision`

// eventWidth is how many values a row of eventColumns takes.
const eventWidth = 19

// insertRows is how many events one INSERT statement writes: fewer
// statements make a batch cheaper, and 32 rows of 19 values stay far below
// SQLite's limit of 32 766 parameters.
const insertRows = 32

// insertEvents returns an INSERT of n events.
func insertEvents(n int) string {
	row := "(?" + strings.Repeat(", ?", eventWidth-1) + ")"
	return `INSERT INTO events (` + eventColumns + `) VALUES ` + row + strings.Repeat(", "+row, n-1)
}

var insertEvent = insertEvents(insertRows)

// batchEncoder encodes the decisions of one batch in their stored form
// (signinlog.AppendStoredDecision) into one growing buffer, so a batch
// costs a few allocations rather than several per event. The slices it
// returns stay valid after the buffer grows: they keep the old array.
type batchEncoder struct {
	buf, json []byte
}

func (e *batchEncoder) encode(d *authgate.Decision) ([]byte, error) {
	start := len(e.buf)
	var err error
	if e.buf, err = signinlog.AppendStoredDecision(e.buf, d, &e.json); err != nil {
		return nil, err
	}
	return e.buf[start:len(e.buf):len(e.buf)], nil
}

// eventArgs appends the column values of d in eventColumns order to args,
// with a placeholder id (Write sets it), and returns them with d's
// columns; on an error, args as they were.
func eventArgs(args []any, d *authgate.Decision, enc *batchEncoder) ([]any, *signinlog.Columns, error) {
	c, err := signinlog.EventColumns(d)
	if err != nil {
		return args, nil, err
	}
	doc, err := enc.encode(d)
	if err != nil {
		return args, nil, fmt.Errorf("event %q: %w", d.RequestID, err)
	}
	var skew any
	if c.Skew != nil {
		skew = *c.Skew
	}
	var source string // the address as text, for people
	if d.Source.IsValid() {
		source = d.Source.String()
	}
	return append(args, int64(0), c.Time, c.RequestID, c.Route, c.Method, c.Outcome, c.Reason, c.Status, c.Claimed,
		c.Subject, c.KeyID, source, c.SourceIP, c.UserAgent, c.Fingerprint, c.Issuer, skew, c.Latency, doc), &c, nil
}

// writeBuffers hold what one Write encodes; a pool keeps them between
// writes, so that a batch does not allocate (and clear) its megabyte of
// JSON anew.
type writeBuffers struct {
	*batchEncoder
	args []any
	post signinlog.Postings
}

// encodedRows are the values of up to insertRows events, or why an event
// cannot be stored.
type encodedRows struct {
	args []any
	err  error
}

// encode encodes events insertRows at a time and sends them on rows,
// until done, stop is closed or an event fails, and closes rows.
func (b *writeBuffers) encode(events []*authgate.Decision, rows chan<- encodedRows, stop <-chan struct{}) {
	defer close(rows)
	b.buf = slices.Grow(b.buf[:0], len(events)*400)
	b.args = slices.Grow(b.args[:0], len(events)*eventWidth)
	b.post.Reset()
	for start := 0; start < len(events); start += insertRows {
		from := len(b.args)
		var err error
		for _, d := range events[start:min(start+insertRows, len(events))] {
			var c *signinlog.Columns
			if b.args, c, err = eventArgs(b.args, d, b.batchEncoder); err != nil {
				break
			}
			b.post.Add(c)
		}
		select {
		case rows <- encodedRows{b.args[from:len(b.args):len(b.args)], err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Write stores events in one transaction: all or none, with their
// postings and segment times. Events get consecutive ids in slice order,
// after every id ever given (AUTOINCREMENT's sqlite_sequence). Another
// goroutine encodes the events while this one inserts those encoded
// before: JSON encoding costs about as much as SQLite's insert.
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	b := s.buffers.Get().(*writeBuffers)
	rows := make(chan encodedRows, 2)
	stop, encoded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(encoded)
		b.encode(events, rows, stop)
	}()
	err := s.write(ctx, b, rows, len(events))
	close(stop)
	<-encoded
	s.buffers.Put(b)
	return err
}

// write inserts the rows encode sends, then the postings.
func (s *EventStore) write(ctx context.Context, b *writeBuffers, rows <-chan encodedRows, n int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: writing events: %w", err)
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`).Scan(&last); err != nil {
		return fmt.Errorf("sqlite: writing events: %w", err)
	}
	first, next := last+1, last+1
	stmt := tx.StmtContext(ctx, s.insert)
	for r := range rows {
		if r.err != nil {
			return fmt.Errorf("sqlite: writing events: %w: %w", signinlog.ErrRejected, r.err)
		}
		count := len(r.args) / eventWidth
		for i := range count {
			r.args[i*eventWidth] = next
			next++
		}
		if count == insertRows {
			_, err = stmt.ExecContext(ctx, r.args...)
		} else {
			_, err = tx.ExecContext(ctx, insertEvents(count), r.args...)
		}
		if err != nil {
			return fmt.Errorf("sqlite: writing events: %w", rejected(err))
		}
	}
	if next-first != int64(n) {
		return fmt.Errorf("sqlite: writing events: %d of %d encoded", next-first, n)
	}
	if err := s.writePostings(ctx, tx, &b.post, first, n); err != nil {
		return fmt.Errorf("sqlite: writing events: %w", rejected(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: writing events: %w", err)
	}
	s.ckpt.wrote()
	return nil
}

// RecordDropped adds counts to the dropped-event counters in one
// transaction. Zero counts are ignored; a negative count is an error.
func (s *EventStore) RecordDropped(ctx context.Context, counts map[reason.Code]int64) error {
	for c, n := range counts {
		if n < 0 {
			return fmt.Errorf("sqlite: recording dropped events: negative count %d for %q", n, c)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: recording dropped events: %w", err)
	}
	defer tx.Rollback()
	for c, n := range counts {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dropped (reason, count) VALUES (?, ?)
			ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count`, string(c), n); err != nil {
			return fmt.Errorf("sqlite: recording dropped events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: recording dropped events: %w", err)
	}
	return nil
}

// Dropped returns the accumulated dropped-event counts per reason.
func (s *EventStore) Dropped(ctx context.Context) (map[reason.Code]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT reason, count FROM dropped`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading dropped events: %w", err)
	}
	defer rows.Close()
	out := map[reason.Code]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("sqlite: reading dropped events: %w", err)
		}
		out[reason.Code(c)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading dropped events: %w", err)
	}
	return out, nil
}

// Purge deletes events older than before, PurgeBatch per transaction,
// oldest first, so writers wait at most one batch; then, one transaction
// per segment, the postings and times of the segments it emptied. It
// returns how many events it deleted, also when it stops early on an
// error or a cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := signinlog.UnixNanos(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ?)`, cut, s.purgeBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		total += n
		if n < int64(s.purgeBatch) {
			break
		}
	}
	if err := s.purgeSegments(ctx, cut); err != nil {
		return total, fmt.Errorf("sqlite: purging events: %w", err)
	}
	return total, nil
}

// purgeSegments deletes the postings and times of the segments whose
// events are all older than cut and deleted. A segment with an event left
// (one written late, with an old time) stays until a later purge.
func (s *EventStore) purgeSegments(ctx context.Context, cut int64) error {
	rows, err := s.w.QueryContext(ctx, `SELECT seg FROM event_segments WHERE max_time < ? ORDER BY seg`, cut)
	if err != nil {
		return err
	}
	var segs []int64
	for rows.Next() {
		var seg int64
		if err := rows.Scan(&seg); err != nil {
			rows.Close()
			return err
		}
		segs = append(segs, seg)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, seg := range segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := func() error {
			tx, err := s.w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			lo, hi := seg<<signinlog.SegmentBits, (seg+1)<<signinlog.SegmentBits
			var left bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE id >= ? AND id < ?)`, lo, hi).Scan(&left); err != nil || left {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_postings WHERE seg = ?`, seg); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_segments WHERE seg = ? AND max_time < ?`, seg, cut); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

var _ signinlog.Store = (*EventStore)(nil)

// rejected marks SQLite's data errors (a constraint, a value too big, a
// type mismatch) as signinlog.ErrRejected: retrying the same events cannot
// succeed. Busy, I/O and full-disk errors are not marked.
func rejected(err error) error {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return fmt.Errorf("%w: %w", signinlog.ErrRejected, err)
		}
	}
	return err
}
