package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/authgate/authgate/accounts"
)

// Import types are those of package accounts.
type (
	ImportedUser = accounts.ImportedUser
	LineError    = accounts.LineError
	ImportError  = accounts.ImportError
)

// ImportUsers adds users, all or nothing, in one transaction. An existing
// user is an error unless replace is set; then its scopes are replaced and,
// if the hash differs, its password is changed as by SetPassword. Every bad
// line is reported in one *ImportError, and then nothing changes.
func (s *Store) ImportUsers(ctx context.Context, users []ImportedUser, replace bool) (added, updated int, err error) {
	valid, bad := accounts.CheckImport(users)

	// The transaction runs even when lines were bad, so that lines naming
	// existing users are reported too; it is then rolled back.
	err = s.write(ctx, func(tx *sql.Tx) error {
		for _, u := range valid {
			var current string
			err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = ?`, u.Name).Scan(&current)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				now := nanos(s.now())
				if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, password_hash, scopes, created_at, password_changed_at)
					VALUES (?, ?, ?, ?, ?)`, u.Name, u.Hash, joinScopes(u.Scopes), now, now); err != nil {
					return err
				}
				added++
			case err != nil:
				return err
			case !replace:
				bad = append(bad, LineError{Line: u.Line, Err: fmt.Errorf("%w: user %q already exists; import with replace (--replace) to update it", ErrExists, u.Name)})
			default:
				if current != u.Hash {
					if err := s.setPasswordTx(ctx, tx, u.Name, u.Hash); err != nil {
						return err
					}
				}
				if _, err := tx.ExecContext(ctx, `UPDATE users SET scopes = ? WHERE name = ?`, joinScopes(u.Scopes), u.Name); err != nil {
					return err
				}
				updated++
			}
		}
		if len(bad) > 0 {
			slices.SortStableFunc(bad, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
			return &ImportError{Lines: bad}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return added, updated, nil
}
