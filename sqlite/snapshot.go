package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// querier is what loading needs from a connection or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// userColumns are the users columns scanUser reads, in its order.
const userColumns = `name, password_hash, scopes, created_at, password_changed_at,
	disabled_at, locked_until, locked_at, lock_cause, unlocked_at, must_change_password,
	totp_secret, totp_enrolled_at, sessions_revoked_at`

// scanUser reads one users row selected with userColumns. Recovery codes
// are in their own table; loadSnapshot adds them.
func scanUser(row interface{ Scan(...any) error }) (authgate.User, error) {
	var u authgate.User
	var scopes string
	var created, changed, disabled, lockedUntil, lockedAt, unlocked, enrolled, revoked int64
	err := row.Scan(&u.Name, &u.PasswordHash, &scopes, &created, &changed,
		&disabled, &lockedUntil, &lockedAt, &u.LockCause, &unlocked, &u.MustChangePassword,
		&u.TOTPSecret, &enrolled, &revoked)
	u.Scopes, u.CreatedAt, u.PasswordChangedAt = splitScopes(scopes), fromNanos(created), fromNanos(changed)
	u.DisabledAt, u.LockedUntil, u.LockedAt, u.UnlockedAt = fromNanos(disabled), fromNanos(lockedUntil), fromNanos(lockedAt), fromNanos(unlocked)
	u.TOTPEnrolledAt, u.SessionsRevokedAt = fromNanos(enrolled), fromNanos(revoked)
	return u, err
}

// loadSnapshot reads all users, previous passwords, recovery codes and
// keys through q, which the caller runs inside one read transaction for a
// consistent view.
func loadSnapshot(ctx context.Context, q querier) (*accounts.Snapshot, error) {
	snap := accounts.NewSnapshot()
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users`)
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading users: %w", err)
		}
		snap.Users[u.Name] = u
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}

	rows, err = q.QueryContext(ctx, `SELECT user_name, hash, replaced_at FROM previous_passwords
		ORDER BY user_name, replaced_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("reading previous passwords: %w", err)
	}
	for rows.Next() {
		var name string
		var p authgate.PreviousPassword
		var replaced int64
		if err := rows.Scan(&name, &p.Hash, &replaced); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading previous passwords: %w", err)
		}
		p.ReplacedAt = fromNanos(replaced)
		if u, ok := snap.Users[name]; ok {
			u.Previous = append(u.Previous, p)
			snap.Users[name] = u
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading previous passwords: %w", err)
	}

	rows, err = q.QueryContext(ctx, `SELECT user_name, digest FROM recovery_codes ORDER BY user_name, position`)
	if err != nil {
		return nil, fmt.Errorf("reading recovery codes: %w", err)
	}
	for rows.Next() {
		var name string
		var digest []byte
		if err := rows.Scan(&name, &digest); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading recovery codes: %w", err)
		}
		if u, ok := snap.Users[name]; ok {
			u.RecoveryCodes = append(u.RecoveryCodes, digest)
			snap.Users[name] = u
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading recovery codes: %w", err)
	}

	rows, err = q.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys`)
	if err != nil {
		return nil, fmt.Errorf("reading API keys: %w", err)
	}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading API keys: %w", err)
		}
		snap.Keys[k.ID] = k
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading API keys: %w", err)
	}
	return snap, nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// keyColumns are the api_keys columns scanKey reads, in its order.
const keyColumns = `id, owner, secret_hash, scopes, state, successor,
	created_at, expires_at, rotated_at, overlap_until, revoked_at, disabled_at`

// scanKey reads one api_keys row selected with keyColumns.
func scanKey(row interface{ Scan(...any) error }) (authgate.APIKey, error) {
	var k authgate.APIKey
	var scopes, state string
	var created, expires, rotated, overlap, revoked, disabled int64
	err := row.Scan(&k.ID, &k.Owner, &k.SecretHash, &scopes, &state, &k.Successor,
		&created, &expires, &rotated, &overlap, &revoked, &disabled)
	k.Scopes, k.State = splitScopes(scopes), authgate.KeyState(state)
	k.CreatedAt, k.ExpiresAt = fromNanos(created), fromNanos(expires)
	k.RotatedAt, k.OverlapUntil, k.RevokedAt, k.DisabledAt = fromNanos(rotated), fromNanos(overlap), fromNanos(revoked), fromNanos(disabled)
	return k, err
}

// joinScopes and splitScopes convert between a scope list and its stored
// space-separated form.
func joinScopes(scopes []string) string { return strings.Join(scopes, " ") }

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

var _ accounts.Store = (*Store)(nil)
