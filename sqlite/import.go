package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ImportedUser is one user to import, with the line of the source file it
// came from so that errors can point at it.
type ImportedUser struct {
	Line   int // 1-based; when 0, the position in the list is used
	Name   string
	Hash   string
	Scopes []string
}

// LineError is one bad line of an import.
type LineError struct {
	Line int
	Err  error
}

// Error prefixes the problem with its line number.
func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ImportError lists every bad line of a rejected import.
type ImportError struct {
	Lines []LineError
}

// Error lists every bad line, one per line.
func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import rejected, nothing was changed; fix these %d line(s) and import again:", len(e.Lines))
	for _, l := range e.Lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the bad lines.
func (e *ImportError) Unwrap() []error {
	errs := make([]error, len(e.Lines))
	for i, l := range e.Lines {
		errs[i] = l.Err
	}
	return errs
}

// ImportUsers adds users, all or nothing, in one transaction. An existing
// user is an error unless replace is set; then its scopes are replaced and,
// if the hash differs, its password is changed as by SetPassword. Every bad
// line is reported in one *ImportError, and then nothing changes.
func (s *Store) ImportUsers(ctx context.Context, users []ImportedUser, replace bool) (added, updated int, err error) {
	var bad []LineError
	valid := make([]ImportedUser, 0, len(users))
	seen := make(map[string]int, len(users))
	for i, u := range users {
		if u.Line == 0 {
			u.Line = i + 1
		}
		if err := validUser(u.Name, u.Hash, u.Scopes); err != nil {
			bad = append(bad, LineError{u.Line, err})
			continue
		}
		if first, dup := seen[u.Name]; dup {
			bad = append(bad, LineError{u.Line, fmt.Errorf("%w: user %q is also on line %d; keep one of the two", ErrInvalid, u.Name, first)})
			continue
		}
		seen[u.Name] = u.Line
		valid = append(valid, u)
	}

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
				bad = append(bad, LineError{u.Line, fmt.Errorf("%w: user %q already exists; import with replace (--replace) to update it", ErrExists, u.Name)})
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
