package sqlite

import (
	"context"
	"fmt"

	"github.com/authgate/authgate/accounts"
)

// Refresh reloads the snapshot from the database now. On failure the
// previous snapshot stays in use, Healthy reports the error, and Refresh
// returns it.
func (s *Store) Refresh(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(ctx)
}

// reloadLocked loads a snapshot in one read transaction on the watch
// connection and records the data_version it was taken at. The version is
// read inside the transaction, so a commit that lands after it is noticed by
// the next check.
func (s *Store) reloadLocked(ctx context.Context) (err error) {
	var snap *accounts.Snapshot
	defer func() { s.Loaded(snap, err) }()
	if _, err := s.watch.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("sqlite: reloading users and keys: %w", err)
	}
	defer s.watch.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	var version int64
	if err := s.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
		return fmt.Errorf("sqlite: reloading users and keys: %w", err)
	}
	if snap, err = loadSnapshot(ctx, s.watch); err != nil {
		return fmt.Errorf("sqlite: reloading users and keys: %w", err)
	}
	s.version = version
	return nil
}

// changed reports whether another connection committed since the last load.
func (s *Store) changedLocked(ctx context.Context) (bool, error) {
	var version int64
	if err := s.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
		return false, fmt.Errorf("sqlite: reading data_version: %w", err)
	}
	return version != s.version, nil
}

// refreshIfChanged reloads when data_version moved or the last reload
// failed.
func (s *Store) refreshIfChanged(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	changed, err := s.changedLocked(ctx)
	if err == nil && !changed && s.Healthy() == nil {
		return nil
	}
	if err != nil {
		s.Loaded(nil, err)
		return err
	}
	return s.reloadLocked(ctx)
}

// afterWrite reloads the snapshot after a committed write. The write has
// succeeded either way; a failed reload is logged and shows in Healthy, and
// the watcher retries it.
func (s *Store) afterWrite(ctx context.Context) {
	if err := s.Refresh(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("sqlite: reload after write failed; lookups use the previous snapshot", "err", err)
	}
}
