package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointInterval is the least time between two background checkpoints.
const checkpointInterval = 100 * time.Millisecond

// backstopCheckpoint is the WAL size, in pages, at which the writer
// checkpoints by itself, should the background checkpointer fall behind
// (4 KiB pages: 64 MiB).
const backstopCheckpoint = 16384

// checkpointer copies the WAL back into the database file on a connection
// of its own, off the write path: with SQLite's automatic checkpoints the
// commit that crosses the threshold pays for copying every page, which
// stalls that batch (and the gateway's spool behind it) several times
// longer than an ordinary commit. PASSIVE checkpoints never block writers
// or readers.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

// wrote tells the checkpointer that a transaction committed.
func (c *checkpointer) wrote() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		// A failed checkpoint is retried after the next write; the
		// writer's backstop bounds the WAL meanwhile.
		c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointInterval):
		}
	}
}

func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
