// Package sqlite is authgate's embedded store for users and API keys, in a
// single SQLite file (modernc.org/sqlite, pure Go, WAL mode).
//
// Lookups on the request path (User, APIKey) never touch the database: they
// read an in-memory snapshot that is reloaded after every write through the
// Store and, when another process such as the `authgate users` CLI commits,
// within Options.RefreshInterval (1 s by default). So a password set or a
// key revoked from the command line reaches a running gateway within that
// interval.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/authgate/authgate/accounts"
)

// The errors of the admin operations are those of package accounts.
var (
	ErrInvalid  = accounts.ErrInvalid
	ErrStale    = accounts.ErrStale
	ErrExists   = accounts.ErrExists
	ErrKeyState = accounts.ErrState
)

// DefaultRefreshInterval is how often a Store checks whether another
// connection or process changed the database.
const DefaultRefreshInterval = time.Second

// Options configure a Store.
type Options struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// RefreshInterval is how often the Store checks PRAGMA data_version for
	// commits by other processes; DefaultRefreshInterval when zero, never
	// when negative (call Refresh instead).
	RefreshInterval time.Duration
	// Logger receives reload failures; slog.Default() when nil.
	Logger *slog.Logger
	// MaxStale is how long lookups keep using the last snapshot while
	// reloads fail; after it they fail with ErrStale. DefaultMaxStale when
	// zero, never when negative.
	MaxStale time.Duration
}

// DefaultMaxStale is how long a snapshot outlives failing reloads.
const DefaultMaxStale = accounts.DefaultMaxStale

// Store is a SQLite-backed authgate.UserStore and authgate.KeyStore with the
// admin operations the CLI uses. It is safe for concurrent use.
type Store struct {
	*accounts.Cache
	db  *sql.DB
	now func() time.Time
	log *slog.Logger

	// reloadMu serialises snapshot loads on watch, the connection whose
	// data_version tells whether anyone committed since the last load.
	reloadMu sync.Mutex
	watch    *sql.Conn
	version  int64

	stop context.CancelFunc
	done chan struct{}
}

// Open opens (creating if needed) the database at path, applies pending
// migrations and loads the first snapshot. It fails if any of these fails.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	// SQLite has one writer; two connections are one for writes and one
	// held for snapshot loads.
	db.SetMaxOpenConns(2)
	s := &Store{Cache: accounts.NewCache(opts.Now, opts.MaxStale), db: db, now: opts.Now, log: opts.Logger, done: make(chan struct{})}
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	if s.watch, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if err := s.Refresh(ctx); err != nil {
		s.watch.Close()
		db.Close()
		return nil, err
	}
	var watchCtx context.Context
	watchCtx, s.stop = context.WithCancel(ctx)
	if opts.RefreshInterval > 0 {
		go func() {
			defer close(s.done)
			s.Watch(watchCtx, opts.RefreshInterval, 0, s.refreshIfChanged, s.log, "sqlite")
		}()
	} else {
		close(s.done)
	}
	return s, nil
}

// Close stops the background refresh and closes the database.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return errors.Join(s.watch.Close(), s.db.Close())
}

// nanos converts t to the stored form: UTC Unix nanoseconds, 0 for zero.
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

// stamp formats t for error messages.
func stamp(t time.Time) string { return accounts.Stamp(t) }
