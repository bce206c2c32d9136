// Package postgres keeps authgate's shared state in one PostgreSQL
// database (jackc/pgx v5) for several gateways: the sign-in log
// (EventStore, a signinlog.Store with the same query semantics as the
// embedded SQLite store; both pass signinlog/storetest; writes use COPY)
// and the users and API keys (AccountStore, an accounts.Store; both stores
// pass accounts/accountstest). Schema migrations are embedded and applied
// on Open under an advisory lock, so gateways may start together.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authgate/authgate/signinlog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key migrations hold ("authgate" in
// ASCII), so that gateways starting at once apply each migration once.
const migrationLock int64 = 0x6175746867617465

// DefaultMaxConns is the default size of the connection pool.
const DefaultMaxConns = 4

// DefaultPurgeBatch is how many chunks (of up to signinlog.ChunkEvents
// events each) one Purge statement deletes.
const DefaultPurgeBatch = 256

// Options configure an EventStore.
type Options struct {
	// MaxConns bounds the connection pool; DefaultMaxConns when zero.
	MaxConns int
	// PurgeBatch is how many chunks Purge deletes per statement, so a
	// purge of millions of events never holds locks for long;
	// DefaultPurgeBatch when zero.
	PurgeBatch int
}

// EventStore is a signinlog.Store in PostgreSQL. It is safe for concurrent
// use, and several EventStores (in several gateways) may share a database.
type EventStore struct {
	signinlog.ChunkQueries
	pool       *pgxpool.Pool
	purgeBatch int
	writes     sync.Pool // of *writeState
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, see pgxpool.ParseConfig; its pool_* settings apply,
// except pool_max_conns, which opts.MaxConns sets), checks the connection
// and applies pending migrations. It fails if the DSN is invalid, the
// server cannot be reached or a migration fails. No error repeats the DSN,
// which may hold a password.
func Open(ctx context.Context, dsn string, opts Options) (*EventStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid DSN: %s", parseProblem(err))
	}
	boundConnect(cfg)
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.PurgeBatch <= 0 {
		opts.PurgeBatch = DefaultPurgeBatch
	}
	cfg.MaxConns = int32(min(opts.MaxConns, 1<<31-1))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// pgxpool dials lazily: connect now, so that an unreachable server
	// is reported as such rather than as a failed migration.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	s := &EventStore{pool: pool, purgeBatch: opts.PurgeBatch, writes: sync.Pool{New: newWriteState}}
	s.ChunkQueries = signinlog.ChunkQueries{Src: chunkSource{s}, Store: "postgres"}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrating: %w", err)
	}
	return s, nil
}

// DefaultConnectTimeout bounds one connection attempt when the DSN sets
// no connect_timeout: the caller's context may be long, to let a first
// start after an upgrade migrate a large log, but a server that does not
// answer must still be an error within seconds.
const DefaultConnectTimeout = 10 * time.Second

func boundConnect(cfg *pgxpool.Config) {
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
}

// parseProblem returns what pgx found wrong with a DSN, without the DSN:
// pgx's ParseConfigError quotes the DSN with the password masked, but the
// masking is best effort on a malformed DSN (a password with an unescaped
// "@" shows in part), so the quote is cut off.
func parseProblem(err error) string {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return "cannot parse it"
	}
	text := pce.Error() // cannot parse `<masked DSN>`: <problem> (<cause>)
	if i := strings.LastIndex(text, "`: "); i >= 0 {
		return text[i+len("`: "):]
	}
	return "cannot parse it"
}

// Close closes every connection. Writes already returned are durable.
func (s *EventStore) Close() error {
	s.pool.Close()
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
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
