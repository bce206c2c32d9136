package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// MaxPrevious is how many previous password hashes are kept per user.
const MaxPrevious = accounts.MaxPrevious

// AddUser creates a user with a password hash (see passhash.Check for the
// accepted formats) and scopes. Bad input is an error wrapping ErrInvalid,
// an existing name one wrapping ErrExists; in both cases nothing changes.
func (s *Store) AddUser(ctx context.Context, name, hash string, scopes []string) error {
	if err := accounts.ValidUser(name, hash, scopes); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		exists, err := userExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: user %q already exists; change its password with `authgate users set-password %s`, or delete it first", ErrExists, name, name)
		}
		now := nanos(s.now())
		_, err = tx.ExecContext(ctx, `INSERT INTO users (name, password_hash, scopes, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, ?)`, name, hash, joinScopes(scopes), now, now)
		return err
	})
}

// SetPassword replaces a user's password hash. The old hash moves to the
// user's previous passwords (replaced now), of which the newest MaxPrevious
// are kept, so the verifier can recognise an old password still in use.
// An unknown user is an error wrapping authgate.ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	if err := accounts.ValidHash(name, hash); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.setPasswordTx(ctx, tx, name, hash)
	})
}

// setPasswordTx is SetPassword inside tx.
func (s *Store) setPasswordTx(ctx context.Context, tx *sql.Tx, name, hash string) error {
	var current string
	err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = ?`, name).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return unknownUser(name)
	}
	if err != nil {
		return err
	}
	now := nanos(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO previous_passwords (user_name, hash, replaced_at) VALUES (?, ?, ?)`,
		name, current, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = 0 WHERE name = ?`,
		hash, now, name); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM previous_passwords WHERE user_name = ? AND id NOT IN (
		SELECT id FROM previous_passwords WHERE user_name = ? ORDER BY replaced_at DESC, id DESC LIMIT ?)`,
		name, name, MaxPrevious)
	return err
}

// UpgradePasswordHash replaces the user's hash old with updated, if old is
// still the user's hash; see accounts.Store.
func (s *Store) UpgradePasswordHash(ctx context.Context, name, old, updated string) (bool, error) {
	if err := accounts.ValidHash(name, updated); err != nil {
		return false, err
	}
	replaced := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?`, updated, name, old)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			replaced = n > 0
			return err
		}
		if exists, err := userExists(ctx, tx, name); err != nil || !exists {
			return errors.Join(err, unknownUser(name))
		}
		return nil
	})
	return replaced && err == nil, err
}

// DeleteUser removes a user, its previous passwords and its recovery codes
// (the foreign keys cascade). An unknown user is an error wrapping
// authgate.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, unknownUser(name))
		}
		return nil
	})
}

// Users returns every user, sorted by name, freshly read from the database.
func (s *Store) Users(ctx context.Context) ([]authgate.User, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.AllUsers(), nil
}

// SetUserDisabled disables or enables a user. Setting the state it already
// has wraps accounts.ErrState; an unknown user authgate.ErrNotFound.
func (s *Store) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := accounts.CheckDisable("user", name, u.DisabledAt, disabled); err != nil {
			return err
		}
		at := int64(0)
		if disabled {
			at = nanos(s.now())
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE name = ?`, at, name)
		return err
	})
}

// LockUser locks a user until until, for cause. A lock already running
// longer is kept. An unknown user is authgate.ErrNotFound.
func (s *Store) LockUser(ctx context.Context, name string, until time.Time, cause string) error {
	if err := accounts.ValidLockCause(cause); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		now := s.now()
		if !until.After(now) || !until.After(u.LockedUntil) {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET locked_until = ?, locked_at = ?, lock_cause = ? WHERE name = ?`,
			nanos(until), nanos(now), cause, name)
		return err
	})
}

// UnlockUser ends a user's lock and records the unlock time.
func (s *Store) UnlockUser(ctx context.Context, name string) (wasLocked bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		now := s.now()
		wasLocked = u.Locked(now)
		_, err = tx.ExecContext(ctx, `UPDATE users SET locked_until = 0, locked_at = 0, lock_cause = '', unlocked_at = ? WHERE name = ?`,
			nanos(now), name)
		return err
	})
	return wasLocked, err
}

// RequirePasswordChange marks the user's password for change.
func (s *Store) RequirePasswordChange(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if u.MustChangePassword {
			return fmt.Errorf("%w: user %q must already change its password; set a new one with `authgate users set-password %s`", accounts.ErrState, name, name)
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET must_change_password = 1 WHERE name = ?`, name)
		return err
	})
}

// userTx reads user name inside tx.
func userTx(ctx context.Context, tx *sql.Tx, name string) (authgate.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, unknownUser(name)
	}
	return u, err
}

func userExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE name = ?`, name).Scan(&n)
	return n > 0, err
}

func unknownUser(name string) error { return accounts.UnknownUser(name) }

// write runs fn in a write transaction and, once it committed, reloads the
// snapshot so the change is visible to lookups at once.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: starting a write: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: committing: %w", err)
	}
	s.afterWrite(ctx)
	return nil
}
