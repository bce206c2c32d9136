package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// AddUser creates an active user with a password hash and scopes. Bad
// input wraps accounts.ErrInvalid, an existing name accounts.ErrExists;
// then nothing changes.
func (s *AccountStore) AddUser(ctx context.Context, name, hash string, scopes []string) error {
	if err := accounts.ValidUser(name, hash, scopes); err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("adding user %q", name), func(tx pgx.Tx) error {
		exists, err := userExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: user %q already exists; change its password with `authgate users set-password %s`, or delete it first", accounts.ErrExists, name, name)
		}
		return s.insertUser(ctx, tx, name, hash, scopes)
	})
}

// SetPassword replaces a user's password hash, keeping the old one among
// the newest accounts.MaxPrevious previous passwords, and clears a pending
// password change. An unknown user wraps authgate.ErrNotFound.
func (s *AccountStore) SetPassword(ctx context.Context, name, hash string) error {
	if err := accounts.ValidHash(name, hash); err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("setting the password of user %q", name), func(tx pgx.Tx) error {
		return s.setPasswordTx(ctx, tx, name, hash)
	})
}

// setPasswordTx is SetPassword inside tx.
func (s *AccountStore) setPasswordTx(ctx context.Context, tx pgx.Tx, name, hash string) error {
	current, err := userTx(ctx, tx, name)
	if err != nil {
		return err
	}
	now := nanos(s.Now())
	if _, err := tx.Exec(ctx, `INSERT INTO previous_passwords (user_name, hash, replaced_at) VALUES ($1, $2, $3)`,
		name, current.PasswordHash, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = false
		WHERE name = $3`, hash, now, name); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM previous_passwords WHERE user_name = $1 AND id NOT IN (
		SELECT id FROM previous_passwords WHERE user_name = $1 ORDER BY replaced_at DESC, id DESC LIMIT $2)`,
		name, accounts.MaxPrevious)
	return err
}

// UpgradePasswordHash replaces the user's hash old with updated, if old is
// still the user's hash; see accounts.Store.
func (s *AccountStore) UpgradePasswordHash(ctx context.Context, name, old, updated string) (bool, error) {
	if err := accounts.ValidHash(name, updated); err != nil {
		return false, err
	}
	if !storable(name) {
		return false, accounts.UnknownUser(name)
	}
	replaced := false
	err := s.write(ctx, fmt.Sprintf("upgrading the password hash of user %q", name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE name = $2 AND password_hash = $3`, updated, name, old)
		if err != nil || tag.RowsAffected() > 0 {
			replaced = err == nil
			return err
		}
		exists, err := userExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if !exists {
			return accounts.UnknownUser(name)
		}
		return errUnchanged // the rollback also undoes the counter's bump
	})
	return replaced && err == nil, err
}

// DeleteUser removes a user, its previous passwords and its recovery codes
// (the foreign keys cascade). An unknown user wraps authgate.ErrNotFound.
func (s *AccountStore) DeleteUser(ctx context.Context, name string) error {
	if !storable(name) {
		return accounts.UnknownUser(name)
	}
	return s.write(ctx, fmt.Sprintf("deleting user %q", name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return accounts.UnknownUser(name)
		}
		return nil
	})
}

// Users returns every user, sorted by name, freshly read.
func (s *AccountStore) Users(ctx context.Context) ([]authgate.User, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.AllUsers(), nil
}

// ImportUsers adds users, all or nothing, in one transaction. An existing
// user is an error unless replace is set; then its scopes are replaced
// and, if the hash differs, its password is changed as by SetPassword.
// Every bad line is reported in one *accounts.ImportError, and then
// nothing changes.
func (s *AccountStore) ImportUsers(ctx context.Context, users []accounts.ImportedUser, replace bool) (added, updated int, err error) {
	valid, bad := accounts.CheckImport(users)
	// The transaction runs even when lines were bad, so that lines naming
	// existing users are reported too; it is then rolled back.
	err = s.write(ctx, "importing users", func(tx pgx.Tx) error {
		for _, u := range valid {
			current, err := userTx(ctx, tx, u.Name)
			switch {
			case errors.Is(err, authgate.ErrNotFound):
				if err := s.insertUser(ctx, tx, u.Name, u.Hash, u.Scopes); err != nil {
					return err
				}
				added++
			case err != nil:
				return err
			case !replace:
				bad = append(bad, accounts.LineError{Line: u.Line, Err: fmt.Errorf("%w: user %q already exists; import with replace (--replace) to update it", accounts.ErrExists, u.Name)})
			default:
				if current.PasswordHash != u.Hash {
					if err := s.setPasswordTx(ctx, tx, u.Name, u.Hash); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `UPDATE users SET scopes = $1 WHERE name = $2`, scopeArray(u.Scopes), u.Name); err != nil {
					return err
				}
				updated++
			}
		}
		if len(bad) > 0 {
			slices.SortStableFunc(bad, func(a, b accounts.LineError) int { return cmp.Compare(a.Line, b.Line) })
			return &accounts.ImportError{Lines: bad}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return added, updated, nil
}

// insertUser stores a new active user, created now.
func (s *AccountStore) insertUser(ctx context.Context, tx pgx.Tx, name, hash string, scopes []string) error {
	now := nanos(s.Now())
	_, err := tx.Exec(ctx, `INSERT INTO users (name, password_hash, scopes, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5)`, name, hash, scopeArray(scopes), now, now)
	return err
}

// userTx reads user name inside tx; an unknown name wraps
// authgate.ErrNotFound.
func userTx(ctx context.Context, tx pgx.Tx, name string) (authgate.User, error) {
	if !storable(name) {
		return authgate.User{}, accounts.UnknownUser(name)
	}
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, accounts.UnknownUser(name)
	}
	return u, err
}

func userExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name = $1)`, name).Scan(&exists)
	return exists, err
}
