package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
	"strings"
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
// written. It is safe for concurrent use.
type EventStore struct {
	w, r       *sql.DB
	insert     *sql.Stmt
	ckpt       *checkpointer
	purgeBatch int
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
	base := path + "?_pragma=busy_timeout(10000)&_pragma=page_size(16384)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)&_pragma=journal_size_limit(67108864)"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", backstopCheckpoint))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &EventStore{w: w, purgeBatch: opts.PurgeBatch}
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	if s.insert, err = w.PrepareContext(ctx, insertEvent); err != nil {
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
	return errors.Join(s.ckpt.close(), s.insert.Close(), s.r.Close(), s.w.Close())
}

// migrate applies the sign-in log's migrations.
func (s *EventStore) migrate(ctx context.Context) error {
	return migrate(ctx, s.w, eventMigrations, "eventmigrations/*.sql", time.Now)
}

const eventColumns = `time, request_id, route, method, outcome, reason, status, claimed, subject, key_id,
	source, source_ip, user_agent, fingerprint, iss, skew, latency, decision`

// insertRows is how many events one INSERT statement writes: fewer
// statements make a batch cheaper, and 32 rows of 18 values stay far below
// SQLite's limit of 32 766 parameters.
const insertRows = 32

// insertEvents returns an INSERT of n events.
func insertEvents(n int) string {
	row := "(?" + strings.Repeat(", ?", 17) + ")"
	return `INSERT INTO events (` + eventColumns + `) VALUES ` + row + strings.Repeat(", "+row, n-1)
}

var insertEvent = insertEvents(insertRows)

// batchEncoder encodes the decisions of one batch as JSON into one growing
// buffer, so a batch costs a few allocations rather than several per event
// (encoding/json.Marshal copies its result). The slices it returns stay
// valid after the buffer grows: they keep the old array.
type batchEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newBatchEncoder(events int) *batchEncoder {
	e := &batchEncoder{}
	e.buf.Grow(events * 1200)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *batchEncoder) encode(d *authgate.Decision) ([]byte, error) {
	start := e.buf.Len()
	if err := e.enc.Encode(d); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	return b[start : len(b)-1 : len(b)-1], nil // without Encode's newline
}

// eventArgs appends the column values of d in eventColumns order to args.
func eventArgs(args []any, d *authgate.Decision, enc *batchEncoder) ([]any, error) {
	c, err := signinlog.EventColumns(d)
	if err != nil {
		return nil, err
	}
	doc, err := enc.encode(d)
	if err != nil {
		return nil, fmt.Errorf("event %q: %w", d.RequestID, err)
	}
	var skew any
	if c.Skew != nil {
		skew = *c.Skew
	}
	return append(args, c.Time, c.RequestID, c.Route, c.Method, c.Outcome, c.Reason, c.Status, c.Claimed,
		c.Subject, c.KeyID, c.Source, c.SourceIP, c.UserAgent, c.Fingerprint, c.Issuer, skew, c.Latency, doc), nil
}

// Write stores events in one transaction: all or none. A prepared
// statement inserts insertRows events at a time, in order, so ids follow
// the slice. Encoding happens before the write lock is taken.
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	enc := newBatchEncoder(len(events))
	args := make([]any, 0, len(events)*18)
	for _, d := range events {
		var err error
		if args, err = eventArgs(args, d, enc); err != nil {
			return fmt.Errorf("sqlite: writing events: %w: %w", signinlog.ErrRejected, err)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: writing events: %w", err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.insert)
	const width = 18 * insertRows
	for len(args) >= width {
		if _, err := stmt.ExecContext(ctx, args[:width]...); err != nil {
			return fmt.Errorf("sqlite: writing events: %w", rejected(err))
		}
		args = args[width:]
	}
	if len(args) > 0 {
		if _, err := tx.ExecContext(ctx, insertEvents(len(args)/18), args...); err != nil {
			return fmt.Errorf("sqlite: writing events: %w", rejected(err))
		}
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
// oldest first, so writers wait at most one batch. It returns how many it
// deleted, also when it stops early on an error or a cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ?)`, signinlog.UnixNanos(before), s.purgeBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		total += n
		if n < int64(s.purgeBatch) {
			return total, nil
		}
	}
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
