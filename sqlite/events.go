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

// DefaultPurgeBatch is how many chunks (of up to signinlog.ChunkEvents
// events each) one Purge transaction deletes.
const DefaultPurgeBatch = 64

// EventOptions configure an EventStore.
type EventOptions struct {
	// PurgeBatch is how many chunks Purge deletes per transaction, so a
	// purge of millions of events never holds the write lock for long;
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
// written. Events are kept in chunks (eventmigrations/0003_event_chunks.sql,
// signinlog/chunk.go), and filters find them through postings rather than
// an index per field (eventmigrations/0002_postings.sql, docs/signinlog.md),
// which keeps the cost of a write the same however many events the log
// holds.
// It is safe for concurrent use.
type EventStore struct {
	signinlog.ChunkQueries
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
	s.ChunkQueries = signinlog.ChunkQueries{Src: chunkSource{s}, Store: "sqlite"}
	s.buffers.New = func() any { return &writeBuffers{post: signinlog.Postings{Lookups: true}} }
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	if s.insert, err = w.PrepareContext(ctx, insertChunk); err != nil {
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

// chunkWidth is how many values a row of event_chunks takes.
const chunkWidth = 7

// insertRows is how many chunks one INSERT statement writes.
const insertRows = 8

// insertChunks returns an INSERT of n chunks.
func insertChunks(n int) string {
	row := "(?" + strings.Repeat(", ?", chunkWidth-1) + ")"
	return `INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs) VALUES ` +
		row + strings.Repeat(", "+row, n-1)
}

var insertChunk = insertChunks(insertRows)

// writeBuffers hold what one Write encodes; a pool keeps them between
// writes, so that a batch does not allocate its megabyte anew.
type writeBuffers struct {
	cols   []signinlog.Columns
	ids    []int64
	post   signinlog.Postings
	chunks signinlog.ChunkBatch
	args   []any
}

// Write stores events in one transaction: all or none, as chunks
// (signinlog.ChunkBatch, eventmigrations/0003_event_chunks.sql) with their
// postings and segment times. Events get consecutive ids in slice order,
// one range drawn from event_ids.
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	b := s.buffers.Get().(*writeBuffers)
	defer s.buffers.Put(b)
	clear(b.cols)
	b.cols = slices.Grow(b.cols[:0], len(events))[:len(events)]
	defer clear(b.cols) // a kept buffer does not keep the events' texts alive
	b.post.Reset()
	for i, d := range events {
		c, err := signinlog.EventColumns(d)
		if err != nil {
			return fmt.Errorf("sqlite: writing events: %w: %w", signinlog.ErrRejected, err)
		}
		b.cols[i] = c
		b.post.Add(&b.cols[i])
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: writing events: %w", err)
	}
	defer tx.Rollback()
	var first int64
	if err := tx.QueryRowContext(ctx, `UPDATE event_ids SET next = next + ? RETURNING next - ?`,
		len(events), len(events)).Scan(&first); err != nil {
		return fmt.Errorf("sqlite: writing events: drawing ids: %w", err)
	}
	b.ids = slices.Grow(b.ids[:0], len(events))[:len(events)]
	for i := range b.ids {
		b.ids[i] = first + int64(i)
	}
	if err := b.chunks.Encode(b.ids, b.cols, events); err != nil {
		return fmt.Errorf("sqlite: writing events: %w: %w", signinlog.ErrRejected, err)
	}
	stmt := tx.StmtContext(ctx, s.insert)
	for chunks := b.chunks.Chunks; len(chunks) > 0; {
		part := chunks[:min(len(chunks), insertRows)]
		chunks = chunks[len(part):]
		b.args = b.args[:0]
		for _, ch := range part {
			b.args = append(b.args, ch.FirstID, ch.LastID, ch.MinTime, ch.MaxTime, ch.Count, ch.Heads, ch.Docs)
		}
		if len(part) == insertRows {
			_, err = stmt.ExecContext(ctx, b.args...)
		} else {
			_, err = tx.ExecContext(ctx, insertChunks(len(part)), b.args...)
		}
		if err != nil {
			return fmt.Errorf("sqlite: writing events: %w", rejected(err))
		}
	}
	clear(b.args)
	if err := s.writePostings(ctx, tx, &b.post, b.ids); err != nil {
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

// Purge deletes events older than before, oldest first, PurgeBatch
// chunks per transaction, so writers wait at most one batch: a chunk whose
// events are all older goes whole, one with newer events too is written
// again without the older ones. Then, one transaction per segment, it
// deletes the postings and times of the segments it emptied, and it packs
// events kept a row each into chunks (repack). It returns how many events
// it deleted, also when it stops early on an error or a cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := signinlog.UnixNanos(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		n, more, err := s.purgeChunks(ctx, cut)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlite: purging events: %w", err)
		}
		if !more {
			break
		}
	}
	if err := s.purgeSegments(ctx, cut); err != nil {
		return total, fmt.Errorf("sqlite: purging events: %w", err)
	}
	if err := s.repack(ctx); err != nil {
		return total, fmt.Errorf("sqlite: packing events kept a row each into chunks: %w", err)
	}
	return total, nil
}

// purgeChunks purges up to PurgeBatch of the oldest chunks with events
// older than cut in one transaction, and reports how many events it
// deleted and whether there may be more.
func (s *EventStore) purgeChunks(ctx context.Context, cut int64) (int64, bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT first_id, max_time < ?, count, CASE WHEN max_time >= ? THEN heads END,
		CASE WHEN max_time >= ? THEN docs END FROM event_chunks WHERE min_time < ? ORDER BY min_time LIMIT ?`,
		cut, cut, cut, cut, s.purgeBatch)
	if err != nil {
		return 0, false, err
	}
	type straddling struct {
		first       int64
		heads, docs []byte
	}
	var whole []any
	var rewrite []straddling
	var n, seen int64
	for rows.Next() {
		var first, count int64
		var all bool
		var heads, docs []byte
		if err := rows.Scan(&first, &all, &count, &heads, &docs); err != nil {
			rows.Close()
			return 0, false, err
		}
		seen++
		if all {
			whole, n = append(whole, first), n+count
		} else {
			rewrite = append(rewrite, straddling{first, heads, docs})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	if len(whole) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_chunks WHERE first_id IN (?`+strings.Repeat(", ?", len(whole)-1)+`)`, whole...); err != nil {
			return 0, false, err
		}
	}
	for _, c := range rewrite {
		ch, dropped, err := signinlog.DropBefore(c.heads, c.docs, cut)
		if err != nil {
			return 0, false, fmt.Errorf("chunk %d: %w", c.first, err)
		}
		n += int64(dropped)
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_chunks WHERE first_id = ?`, c.first); err != nil {
			return 0, false, err
		}
		if ch.Count > 0 {
			if _, err := tx.ExecContext(ctx, insertChunks(1), ch.FirstID, ch.LastID, ch.MinTime, ch.MaxTime, ch.Count, ch.Heads, ch.Docs); err != nil {
				return 0, false, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, err
	}
	return n, seen == int64(s.purgeBatch), nil
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
			// A chunk spans at most ChunkEvents ids.
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM event_chunks
				WHERE first_id > ? AND first_id < ? AND last_id >= ?)`, lo-signinlog.ChunkEvents, hi, lo).Scan(&left); err != nil || left {
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

// repackBatch is how many events kept a row each repack packs per
// transaction.
const repackBatch = 1024

// repack packs the events kept a row each (a chunk of one without heads:
// the log written before eventmigrations/0003_event_chunks.sql) into
// chunks, repackBatch per transaction, until none is left. Their ids, and
// so their postings, stay as they were. Such events are read correctly
// either way, but each costs a query a JSON decoding.
func (s *EventStore) repack(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := func() (int, error) {
			tx, err := s.w.BeginTx(ctx, nil)
			if err != nil {
				return 0, err
			}
			defer tx.Rollback()
			rows, err := tx.QueryContext(ctx, `SELECT first_id, min_time, docs FROM event_chunks WHERE heads IS NULL
				ORDER BY first_id LIMIT ?`, repackBatch)
			if err != nil {
				return 0, err
			}
			var singles []signinlog.ChunkRow
			for rows.Next() {
				var r signinlog.ChunkRow
				if err := rows.Scan(&r.FirstID, &r.MinTime, &r.Stored); err != nil {
					rows.Close()
					return 0, err
				}
				singles = append(singles, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(singles) == 0 {
				return 0, err
			}
			err = signinlog.PackSingles(singles, func(ch signinlog.Chunk, ids []int64) error {
				args := make([]any, len(ids))
				for i, id := range ids {
					args[i] = id
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM event_chunks WHERE first_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, insertChunks(1), ch.FirstID, ch.LastID, ch.MinTime, ch.MaxTime, ch.Count, ch.Heads, ch.Docs)
				return err
			})
			if err != nil {
				return 0, err
			}
			return len(singles), tx.Commit()
		}()
		if err != nil || n < repackBatch {
			return err
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
