// Package postgres is the sign-in log for several gateways sharing one
// PostgreSQL database (jackc/pgx v5). It implements signinlog.Store with
// the same query semantics as the embedded SQLite store; both pass
// signinlog/storetest. Writes use COPY; schema migrations are embedded and
// applied on Open under an advisory lock, so gateways may start together.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key migrations hold ("authgate" in
// ASCII), so that gateways starting at once apply each migration once.
const migrationLock int64 = 0x6175746867617465

// DefaultMaxConns is the default size of the connection pool.
const DefaultMaxConns = 4

// DefaultPurgeBatch is how many events one Purge statement deletes.
const DefaultPurgeBatch = 1000

// Options configure an EventStore.
type Options struct {
	// MaxConns bounds the connection pool; DefaultMaxConns when zero.
	MaxConns int
	// PurgeBatch is how many events Purge deletes per statement, so a
	// purge of millions never holds locks for long; DefaultPurgeBatch when
	// zero.
	PurgeBatch int
}

// EventStore is a signinlog.Store in PostgreSQL. It is safe for concurrent
// use, and several EventStores (in several gateways) may share a database.
type EventStore struct {
	pool       *pool
	purgeBatch int
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, see pgx.ParseConfig), checks the connection and applies
// pending migrations. It fails if the DSN is invalid, the server cannot be
// reached or a migration fails.
func Open(ctx context.Context, dsn string, opts Options) (*EventStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.PurgeBatch <= 0 {
		opts.PurgeBatch = DefaultPurgeBatch
	}
	s := &EventStore{pool: newPool(cfg, opts.MaxConns), purgeBatch: opts.PurgeBatch}
	if err := s.migrate(ctx); err != nil {
		s.pool.close()
		return nil, fmt.Errorf("postgres: migrating: %w", err)
	}
	return s, nil
}

// Close closes every connection. Writes already returned are durable.
func (s *EventStore) Close() error {
	s.pool.close()
	return nil
}

// migrate applies every migration not yet recorded in schema_migrations,
// in name order, each in its own transaction with its record, holding a
// transaction-scoped advisory lock so concurrent Opens take turns.
func (s *EventStore) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		err := s.pool.with(ctx, func(c *pgx.Conn) error {
			return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
					name       text PRIMARY KEY,
					applied_at timestamptz NOT NULL DEFAULT now()
				)`); err != nil {
					return err
				}
				var done bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`,
					name).Scan(&done); err != nil || done {
					return err
				}
				body, err := fs.ReadFile(migrations, name)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, string(body)); err != nil {
					return err
				}
				_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// pool is a small pool of pgx connections. (pgxpool would do; its module
// dependency, jackc/puddle, is not in go.sum yet.) Connections are dialled
// on demand, at most max at once, and a connection that broke or was left
// inside a transaction is closed instead of reused.
type pool struct {
	cfg  *pgx.ConnConfig
	sem  chan struct{}
	mu   sync.Mutex
	idle []idleConn
	done bool
}

type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

// pingAfter is how long a connection may sit idle before it is checked
// with a ping on reuse (the server may have restarted meanwhile).
const pingAfter = 30 * time.Second

func newPool(cfg *pgx.ConnConfig, max int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, max)}
}

var errClosed = errors.New("store closed")

// with runs fn on a connection, waiting for a free one within ctx.
func (p *pool) with(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(c)
	return fn(c)
}

func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.done {
			p.mu.Unlock()
			<-p.sem
			return nil, errClosed
		}
		if len(p.idle) == 0 {
			p.mu.Unlock()
			break
		}
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		if time.Since(ic.since) < pingAfter || ic.c.Ping(ctx) == nil {
			return ic.c, nil
		}
		ic.c.Close(context.Background())
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return c, nil
}

func (p *pool) release(c *pgx.Conn) {
	defer func() { <-p.sem }()
	if c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I' {
		c.Close(context.Background())
		return
	}
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		c.Close(context.Background())
		return
	}
	p.idle = append(p.idle, idleConn{c, time.Now()})
	p.mu.Unlock()
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.done = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		ic.c.Close(context.Background())
	}
}
