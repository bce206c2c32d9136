package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/verify/apikey"
)

// Issued is a newly created API key (see accounts.Issued).
type Issued = accounts.Issued

// CreateKey issues a new active key for owner with scopes, expiring at
// expiresAt (zero: never). Bad input is an error wrapping ErrInvalid.
func (s *Store) CreateKey(ctx context.Context, owner string, scopes []string, expiresAt time.Time) (Issued, error) {
	if err := accounts.ValidName("key owner", owner); err != nil {
		return Issued{}, err
	}
	if err := accounts.ValidScopes(scopes); err != nil {
		return Issued{}, err
	}
	if err := accounts.ValidExpiry(expiresAt, s.now()); err != nil {
		return Issued{}, err
	}
	var iss Issued
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		iss, err = s.insertKey(ctx, tx, owner, scopes, expiresAt)
		return err
	})
	return iss, err
}

// RotateKey issues a successor of key id with the same owner, scopes and
// expiry, and marks id rotated: it keeps working until now+overlap, after
// which the verifier answers key_rotated naming the successor. Only an
// active, unexpired key can be rotated; otherwise the error wraps
// ErrKeyState and says why. An unknown id wraps authgate.ErrNotFound.
func (s *Store) RotateKey(ctx context.Context, id string, overlap time.Duration) (Issued, error) {
	if overlap < 0 {
		return Issued{}, fmt.Errorf("%w: overlap %s is negative; give 0 to end the old key at once, or a duration such as 72h", ErrInvalid, overlap)
	}
	var iss Issued
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case old.State == authgate.KeyRevoked:
			return fmt.Errorf("%w: key %s was revoked %s and cannot be rotated; issue a new key with `authgate keys create`", ErrKeyState, id, stamp(old.RevokedAt))
		case old.State == authgate.KeyRotated:
			return fmt.Errorf("%w: key %s was already rotated %s and replaced by %s; rotate %s instead", ErrKeyState, id, stamp(old.RotatedAt), old.Successor, old.Successor)
		case !old.ExpiresAt.IsZero() && !now.Before(old.ExpiresAt):
			return fmt.Errorf("%w: key %s expired %s, so its successor would be expired too; issue a new key with `authgate keys create`", ErrKeyState, id, stamp(old.ExpiresAt))
		}
		if iss, err = s.insertKey(ctx, tx, old.Owner, old.Scopes, old.ExpiresAt); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET state = ?, successor = ?, rotated_at = ?, overlap_until = ? WHERE id = ?`,
			string(authgate.KeyRotated), iss.ID, nanos(now), nanos(now.Add(overlap)), id)
		return err
	})
	return iss, err
}

// RevokeKey revokes key id at once, ending any overlap it had after a
// rotation. Revoking a revoked key is an error wrapping ErrKeyState; an
// unknown id one wrapping authgate.ErrNotFound.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		k, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if k.State == authgate.KeyRevoked {
			return fmt.Errorf("%w: key %s was already revoked %s; nothing to do", ErrKeyState, id, stamp(k.RevokedAt))
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET state = ?, revoked_at = ? WHERE id = ?`,
			string(authgate.KeyRevoked), nanos(s.now()), id)
		return err
	})
}

// Keys returns every key (never a secret), oldest first, freshly read from
// the database.
func (s *Store) Keys(ctx context.Context) ([]authgate.APIKey, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.AllKeys(), nil
}

// SetKeyDisabled disables or enables key id without changing its state.
// Enabling a revoked key, or setting the state it already has, wraps
// accounts.ErrState; an unknown id authgate.ErrNotFound.
func (s *Store) SetKeyDisabled(ctx context.Context, id string, disabled bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		k, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := accounts.CheckDisable("key", id, k.DisabledAt, disabled); err != nil {
			return err
		}
		if !disabled && k.State == authgate.KeyRevoked {
			return fmt.Errorf("%w: key %s was revoked %s and cannot be enabled; issue a new key with `authgate keys create`", ErrKeyState, id, stamp(k.RevokedAt))
		}
		at := int64(0)
		if disabled {
			at = nanos(s.now())
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET disabled_at = ? WHERE id = ?`, at, id)
		return err
	})
}

// insertKey generates and stores a new active key.
func (s *Store) insertKey(ctx context.Context, tx *sql.Tx, owner string, scopes []string, expiresAt time.Time) (Issued, error) {
	key, id, hash, err := apikey.Generate()
	if err != nil {
		return Issued{}, err
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, owner, secret_hash, scopes, state, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, owner, hash, joinScopes(scopes), string(authgate.KeyActive), nanos(now), nanos(expiresAt)); err != nil {
		return Issued{}, fmt.Errorf("sqlite: storing new key %s: %w", id, err)
	}
	return Issued{Key: key, APIKey: authgate.APIKey{
		ID: id, Owner: owner, SecretHash: hash, Scopes: splitScopes(joinScopes(scopes)), State: authgate.KeyActive,
		CreatedAt: fromNanos(nanos(now)), ExpiresAt: fromNanos(nanos(expiresAt)),
	}}, nil
}

// keyTx reads key id inside tx.
func keyTx(ctx context.Context, tx *sql.Tx, id string) (authgate.APIKey, error) {
	k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, accounts.UnknownKey(id)
	}
	return k, err
}
