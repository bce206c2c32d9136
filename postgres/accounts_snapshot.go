package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// userColumns are the users columns scanUser reads, in its order.
const userColumns = `name, password_hash, scopes, created_at, password_changed_at,
	disabled_at, locked_until, locked_at, lock_cause, unlocked_at, must_change_password,
	totp_secret, totp_enrolled_at, sessions_revoked_at`

// scanUser reads one users row selected with userColumns. Recovery codes
// are in their own table; loadSnapshot adds them.
func scanUser(row pgx.Row) (authgate.User, error) {
	var u authgate.User
	var created, changed, disabled, lockedUntil, lockedAt, unlocked, enrolled, revoked int64
	err := row.Scan(&u.Name, &u.PasswordHash, &u.Scopes, &created, &changed,
		&disabled, &lockedUntil, &lockedAt, &u.LockCause, &unlocked, &u.MustChangePassword,
		&u.TOTPSecret, &enrolled, &revoked)
	u.Scopes = nilIfEmpty(u.Scopes)
	u.CreatedAt, u.PasswordChangedAt = fromNanos(created), fromNanos(changed)
	u.DisabledAt, u.LockedUntil, u.LockedAt, u.UnlockedAt = fromNanos(disabled), fromNanos(lockedUntil), fromNanos(lockedAt), fromNanos(unlocked)
	u.TOTPEnrolledAt, u.SessionsRevokedAt = fromNanos(enrolled), fromNanos(revoked)
	return u, err
}

// keyColumns are the api_keys columns scanKey reads, in its order.
const keyColumns = `id, owner, secret_hash, scopes, state, successor,
	created_at, expires_at, rotated_at, overlap_until, revoked_at, disabled_at`

// scanKey reads one api_keys row selected with keyColumns.
func scanKey(row pgx.Row) (authgate.APIKey, error) {
	var k authgate.APIKey
	var state string
	var created, expires, rotated, overlap, revoked, disabled int64
	err := row.Scan(&k.ID, &k.Owner, &k.SecretHash, &k.Scopes, &state, &k.Successor,
		&created, &expires, &rotated, &overlap, &revoked, &disabled)
	k.Scopes, k.State = nilIfEmpty(k.Scopes), authgate.KeyState(state)
	k.CreatedAt, k.ExpiresAt = fromNanos(created), fromNanos(expires)
	k.RotatedAt, k.OverlapUntil, k.RevokedAt, k.DisabledAt = fromNanos(rotated), fromNanos(overlap), fromNanos(revoked), fromNanos(disabled)
	return k, err
}

// nilIfEmpty returns nil for an empty list, as the SQLite store does.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// loadSnapshot reads every user, previous password, recovery code and key,
// and the account_changes version they are at, in tx, which the caller
// opens REPEATABLE READ so that all five reads see the same commit.
func loadSnapshot(ctx context.Context, tx pgx.Tx) (*accounts.Snapshot, int64, error) {
	var version int64
	if err := tx.QueryRow(ctx, `SELECT version FROM account_changes`).Scan(&version); err != nil {
		return nil, 0, fmt.Errorf("reading the change counter: %w", err)
	}
	snap := accounts.NewSnapshot()

	rows, _ := tx.Query(ctx, `SELECT `+userColumns+` FROM users`)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (authgate.User, error) { return scanUser(row) })
	if err != nil {
		return nil, 0, fmt.Errorf("reading users: %w", err)
	}
	for _, u := range users {
		snap.Users[u.Name] = u
	}

	rows, _ = tx.Query(ctx, `SELECT user_name, hash, replaced_at FROM previous_passwords
		ORDER BY user_name, replaced_at DESC, id DESC`)
	var name string
	var p authgate.PreviousPassword
	var replaced int64
	_, err = pgx.ForEachRow(rows, []any{&name, &p.Hash, &replaced}, func() error {
		if u, ok := snap.Users[name]; ok {
			u.Previous = append(u.Previous, authgate.PreviousPassword{Hash: p.Hash, ReplacedAt: fromNanos(replaced)})
			snap.Users[name] = u
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading previous passwords: %w", err)
	}

	rows, _ = tx.Query(ctx, `SELECT user_name, digest FROM recovery_codes ORDER BY user_name, position`)
	var digest []byte
	_, err = pgx.ForEachRow(rows, []any{&name, &digest}, func() error {
		if u, ok := snap.Users[name]; ok {
			u.RecoveryCodes = append(u.RecoveryCodes, digest) // pgx scans each row into a new array
			snap.Users[name] = u
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading recovery codes: %w", err)
	}

	rows, _ = tx.Query(ctx, `SELECT `+keyColumns+` FROM api_keys`)
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (authgate.APIKey, error) { return scanKey(row) })
	if err != nil {
		return nil, 0, fmt.Errorf("reading API keys: %w", err)
	}
	for _, k := range keys {
		snap.Keys[k.ID] = k
	}
	return snap, version, nil
}
