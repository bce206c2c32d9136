package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/accounts"
)

// minCheckTimeout bounds how long one poll or reload may take. Without a
// bound, a connection hanging on a dead network would never report a
// failure, and lookups would serve an old snapshot past MaxStale.
const minCheckTimeout = 5 * time.Second

// Refresh reloads the snapshot from the database now. On failure the
// previous snapshot stays in use, Healthy reports the error, lookups fail
// with accounts.ErrStale once failures outlast MaxStale, and Refresh
// returns the error.
func (s *AccountStore) Refresh(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(ctx)
}

// reloadLocked loads a snapshot in one read-only REPEATABLE READ
// transaction and records the change counter it was taken at; a commit
// that lands after it moves the counter, which the next poll notices.
func (s *AccountStore) reloadLocked(ctx context.Context) (err error) {
	var snap *accounts.Snapshot
	var version int64
	defer func() { s.Loaded(snap, err) }()
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			snap, version, err = loadSnapshot(ctx, tx)
			return err
		})
	if err != nil {
		snap = nil
		return fmt.Errorf("postgres: reloading users and keys: %w", err)
	}
	s.version = version
	return nil
}

// refreshIfChanged reloads when the change counter moved or the last
// reload failed.
func (s *AccountStore) refreshIfChanged(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var version int64
	if err := s.pool.QueryRow(ctx, `SELECT version FROM account_changes`).Scan(&version); err != nil {
		err = fmt.Errorf("postgres: checking for changes to users and keys: %w", err)
		s.Loaded(nil, err)
		return err
	}
	if version == s.version && s.Healthy() == nil {
		return nil
	}
	return s.reloadLocked(ctx)
}

// afterWrite reloads the snapshot after a committed write. The write has
// succeeded either way; a failed reload is logged and shows in Healthy,
// and the poll retries it.
func (s *AccountStore) afterWrite(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), minCheckTimeout)
	defer cancel()
	if err := s.Refresh(ctx); err != nil {
		s.log.Error("postgres: reload after write failed; lookups use the previous snapshot", "err", err)
	}
}
