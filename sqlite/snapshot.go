package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate"
)

// snapshot is an immutable in-memory copy of the users and keys tables. The
// request path reads it through an atomic pointer, so a lookup costs a map
// access and a few small copies.
type snapshot struct {
	users map[string]authgate.User
	keys  map[string]authgate.APIKey
}

// User returns the user called name from the current snapshot, or
// authgate.ErrNotFound. It never blocks on the database; it fails with
// ErrStale when the snapshot could not be reloaded for longer than MaxStale.
func (s *Store) User(_ context.Context, name string) (authgate.User, error) {
	if err := s.stale(); err != nil {
		return authgate.User{}, err
	}
	u, ok := s.snap.Load().users[name]
	if !ok {
		return authgate.User{}, authgate.ErrNotFound
	}
	// Copies keep callers from changing the shared snapshot.
	u.Scopes = slices.Clone(u.Scopes)
	u.Previous = slices.Clone(u.Previous)
	return u, nil
}

// APIKey returns the key with id from the current snapshot, or
// authgate.ErrNotFound. It never blocks on the database; it fails with
// ErrStale when the snapshot could not be reloaded for longer than MaxStale.
func (s *Store) APIKey(_ context.Context, id string) (authgate.APIKey, error) {
	if err := s.stale(); err != nil {
		return authgate.APIKey{}, err
	}
	k, ok := s.snap.Load().keys[id]
	if !ok {
		return authgate.APIKey{}, authgate.ErrNotFound
	}
	k.Scopes = slices.Clone(k.Scopes)
	k.SecretHash = slices.Clone(k.SecretHash)
	return k, nil
}

// querier is what loading needs from a connection or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadSnapshot reads all users, previous passwords and keys through q,
// which the caller runs inside one read transaction for a consistent view.
func loadSnapshot(ctx context.Context, q querier) (*snapshot, error) {
	snap := &snapshot{users: map[string]authgate.User{}, keys: map[string]authgate.APIKey{}}
	rows, err := q.QueryContext(ctx, `SELECT name, password_hash, scopes, created_at, password_changed_at FROM users`)
	if err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	for rows.Next() {
		var u authgate.User
		var scopes string
		var created, changed int64
		if err := rows.Scan(&u.Name, &u.PasswordHash, &scopes, &created, &changed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading users: %w", err)
		}
		u.Scopes, u.CreatedAt, u.PasswordChangedAt = splitScopes(scopes), fromNanos(created), fromNanos(changed)
		snap.users[u.Name] = u
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
		if u, ok := snap.users[name]; ok {
			u.Previous = append(u.Previous, p)
			snap.users[name] = u
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading previous passwords: %w", err)
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
		snap.keys[k.ID] = k
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
	created_at, expires_at, rotated_at, overlap_until, revoked_at`

// scanKey reads one api_keys row selected with keyColumns.
func scanKey(row interface{ Scan(...any) error }) (authgate.APIKey, error) {
	var k authgate.APIKey
	var scopes, state string
	var created, expires, rotated, overlap, revoked int64
	err := row.Scan(&k.ID, &k.Owner, &k.SecretHash, &scopes, &state, &k.Successor,
		&created, &expires, &rotated, &overlap, &revoked)
	k.Scopes, k.State = splitScopes(scopes), authgate.KeyState(state)
	k.CreatedAt, k.ExpiresAt = fromNanos(created), fromNanos(expires)
	k.RotatedAt, k.OverlapUntil, k.RevokedAt = fromNanos(rotated), fromNanos(overlap), fromNanos(revoked)
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

var (
	_ authgate.UserStore = (*Store)(nil)
	_ authgate.KeyStore  = (*Store)(nil)
)
