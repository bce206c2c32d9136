package postgres

// The user and API-key store for several gateways sharing one database.
// Lookups read the snapshot of the embedded accounts.Cache; writes run in
// transactions and reload it when they commit, and a poll of the one-row
// account_changes counter (see migrations/0002_accounts.sql) reloads it
// when another gateway or the CLI changed the database.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// DefaultRefreshInterval is how often an AccountStore checks whether
// another gateway or the CLI changed users or keys.
const DefaultRefreshInterval = time.Second

// AccountOptions configure an AccountStore.
type AccountOptions struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// RefreshInterval is how often the store polls for changes made by
	// others; DefaultRefreshInterval when zero, never when negative (the
	// CLI, which reads afresh with Users and Keys, or calls Refresh).
	RefreshInterval time.Duration
	// MaxStale is how long lookups keep using the last snapshot while
	// reloads fail; after it they fail with accounts.ErrStale.
	// accounts.DefaultMaxStale when zero, never when negative.
	MaxStale time.Duration
	// Logger receives reload failures; slog.Default() when nil.
	Logger *slog.Logger
}

// AccountStore is an accounts.Store in PostgreSQL. It is safe for
// concurrent use, and several AccountStores (in several gateways, and the
// CLI) may share a database.
type AccountStore struct {
	*accounts.Cache
	pool *pgxpool.Pool
	log  *slog.Logger

	// reloadMu serialises snapshot loads; version is the account_changes
	// counter the snapshot in use was read at.
	reloadMu sync.Mutex
	version  int64

	stop context.CancelFunc
	done chan struct{}
}

// OpenAccounts connects to the database named by dsn (as for Open; the
// DSN's pool_* settings apply), applies pending migrations, loads the first
// snapshot and starts polling for changes. It fails if any of these fails;
// no error repeats the DSN, which may hold a password.
func OpenAccounts(ctx context.Context, dsn string, opts AccountOptions) (*AccountStore, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid DSN: %s", parseProblem(err))
	}
	boundConnect(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	// The sign-in log and the accounts share one sequence of migrations,
	// so whichever store opens first brings the whole database up to date.
	if err := (&EventStore{pool: pool}).migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrating: %w", err)
	}
	s := &AccountStore{Cache: accounts.NewCache(opts.Now, opts.MaxStale), pool: pool, log: opts.Logger, done: make(chan struct{})}
	if err := s.Refresh(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var watchCtx context.Context
	watchCtx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	if opts.RefreshInterval > 0 {
		go func() {
			defer close(s.done)
			s.Watch(watchCtx, opts.RefreshInterval, max(opts.RefreshInterval, minCheckTimeout), s.refreshIfChanged, s.log, "postgres")
		}()
	} else {
		close(s.done)
	}
	return s, nil
}

// Close stops polling and closes every connection.
func (s *AccountStore) Close() error {
	s.stop()
	<-s.done
	s.pool.Close()
	return nil
}

// errUnchanged ends a write that turned out to change nothing (a lock
// shorter than the recorded one): it is rolled back, and the write
// reports success.
var errUnchanged = errors.New("nothing to change")

// write runs fn in a transaction and, once it committed, reloads the
// snapshot so that lookups see the change at once. Errors fn returns from
// package accounts pass unchanged; database errors say what was being
// done.
func (s *AccountStore) write(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Writers take turns on the counter row, so that what fn checks
		// (no such user yet, the key is not revoked) still holds when it
		// commits, whichever gateway wrote in between.
		if _, err := tx.Exec(ctx, `SELECT version FROM account_changes FOR UPDATE`); err != nil {
			return err
		}
		return fn(tx)
	})
	var importErr *accounts.ImportError
	switch {
	case errors.Is(err, errUnchanged):
		return nil
	case err == nil:
		s.afterWrite(ctx)
		return nil
	case errors.Is(err, accounts.ErrInvalid), errors.Is(err, accounts.ErrExists), errors.Is(err, accounts.ErrState),
		errors.Is(err, authgate.ErrNotFound), errors.As(err, &importErr):
		return err
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// storable reports whether s can be a name or id in the database: text
// there is UTF-8 without NUL, so anything else names no row.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// nanos converts t to the stored form: Unix nanoseconds, 0 for zero.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// scopeArray is scopes as a text[] value: pgx sends a nil slice as NULL.
func scopeArray(scopes []string) []string {
	if scopes == nil {
		return []string{}
	}
	return scopes
}

var _ accounts.Store = (*AccountStore)(nil)
