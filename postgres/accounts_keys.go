package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/verify/apikey"
)

// CreateKey issues a new active key for owner with scopes, expiring at
// expiresAt (zero: never). Bad input wraps accounts.ErrInvalid.
func (s *AccountStore) CreateKey(ctx context.Context, owner string, scopes []string, expiresAt time.Time) (accounts.Issued, error) {
	if err := accounts.ValidName("key owner", owner); err != nil {
		return accounts.Issued{}, err
	}
	if err := accounts.ValidScopes(scopes); err != nil {
		return accounts.Issued{}, err
	}
	if err := accounts.ValidExpiry(expiresAt, s.Now()); err != nil {
		return accounts.Issued{}, err
	}
	var iss accounts.Issued
	err := s.write(ctx, fmt.Sprintf("creating a key for %q", owner), func(tx pgx.Tx) error {
		var err error
		iss, err = s.insertKey(ctx, tx, owner, scopes, expiresAt)
		return err
	})
	return iss, err
}

// RotateKey issues a successor of key id with the same owner, scopes and
// expiry, and marks id rotated: it keeps working until now+overlap. Only
// an active, unexpired key can be rotated; otherwise the error wraps
// accounts.ErrState and says why. A negative overlap wraps
// accounts.ErrInvalid, an unknown id authgate.ErrNotFound.
func (s *AccountStore) RotateKey(ctx context.Context, id string, overlap time.Duration) (accounts.Issued, error) {
	if overlap < 0 {
		return accounts.Issued{}, fmt.Errorf("%w: overlap %s is negative; give 0 to end the old key at once, or a duration such as 72h", accounts.ErrInvalid, overlap)
	}
	var iss accounts.Issued
	err := s.write(ctx, "rotating key "+id, func(tx pgx.Tx) error {
		old, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.Now()
		switch {
		case old.State == authgate.KeyRevoked:
			return fmt.Errorf("%w: key %s was revoked %s and cannot be rotated; issue a new key with `authgate keys create`", accounts.ErrState, id, accounts.Stamp(old.RevokedAt))
		case old.State == authgate.KeyRotated:
			return fmt.Errorf("%w: key %s was already rotated %s and replaced by %s; rotate %s instead", accounts.ErrState, id, accounts.Stamp(old.RotatedAt), old.Successor, old.Successor)
		case !old.ExpiresAt.IsZero() && !now.Before(old.ExpiresAt):
			return fmt.Errorf("%w: key %s expired %s, so its successor would be expired too; issue a new key with `authgate keys create`", accounts.ErrState, id, accounts.Stamp(old.ExpiresAt))
		}
		if iss, err = s.insertKey(ctx, tx, old.Owner, old.Scopes, old.ExpiresAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET state = $1, successor = $2, rotated_at = $3, overlap_until = $4 WHERE id = $5`,
			string(authgate.KeyRotated), iss.ID, nanos(now), nanos(now.Add(overlap)), id)
		return err
	})
	return iss, err
}

// RevokeKey revokes key id at once, ending any overlap it had after a
// rotation. Revoking twice wraps accounts.ErrState; an unknown id
// authgate.ErrNotFound.
func (s *AccountStore) RevokeKey(ctx context.Context, id string) error {
	return s.write(ctx, "revoking key "+id, func(tx pgx.Tx) error {
		k, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if k.State == authgate.KeyRevoked {
			return fmt.Errorf("%w: key %s was already revoked %s; nothing to do", accounts.ErrState, id, accounts.Stamp(k.RevokedAt))
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET state = $1, revoked_at = $2 WHERE id = $3`,
			string(authgate.KeyRevoked), nanos(s.Now()), id)
		return err
	})
}

// SetKeyDisabled disables or enables key id without changing its state.
// Enabling a revoked key, or setting the state it already has, wraps
// accounts.ErrState; an unknown id authgate.ErrNotFound.
func (s *AccountStore) SetKeyDisabled(ctx context.Context, id string, disabled bool) error {
	what := "enabling key " + id
	if disabled {
		what = "disabling key " + id
	}
	return s.write(ctx, what, func(tx pgx.Tx) error {
		k, err := keyTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := accounts.CheckDisable("key", id, k.DisabledAt, disabled); err != nil {
			return err
		}
		if !disabled && k.State == authgate.KeyRevoked {
			return fmt.Errorf("%w: key %s was revoked %s and cannot be enabled; issue a new key with `authgate keys create`", accounts.ErrState, id, accounts.Stamp(k.RevokedAt))
		}
		at := int64(0)
		if disabled {
			at = nanos(s.Now())
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET disabled_at = $1 WHERE id = $2`, at, id)
		return err
	})
}

// Keys returns every key (never a secret), oldest first, freshly read.
func (s *AccountStore) Keys(ctx context.Context) ([]authgate.APIKey, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.AllKeys(), nil
}

// insertKey generates and stores a new active key, created now.
func (s *AccountStore) insertKey(ctx context.Context, tx pgx.Tx, owner string, scopes []string, expiresAt time.Time) (accounts.Issued, error) {
	key, id, hash, err := apikey.Generate()
	if err != nil {
		return accounts.Issued{}, err
	}
	now := s.Now()
	if _, err := tx.Exec(ctx, `INSERT INTO api_keys (id, owner, secret_hash, scopes, state, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, owner, hash, scopeArray(scopes), string(authgate.KeyActive), nanos(now), nanos(expiresAt)); err != nil {
		return accounts.Issued{}, fmt.Errorf("storing new key %s: %w", id, err)
	}
	return accounts.Issued{Key: key, APIKey: authgate.APIKey{
		ID: id, Owner: owner, SecretHash: hash, Scopes: nilIfEmpty(append([]string(nil), scopes...)), State: authgate.KeyActive,
		CreatedAt: fromNanos(nanos(now)), ExpiresAt: fromNanos(nanos(expiresAt)),
	}}, nil
}

// keyTx reads key id inside tx; an unknown id wraps authgate.ErrNotFound.
func keyTx(ctx context.Context, tx pgx.Tx, id string) (authgate.APIKey, error) {
	if !storable(id) {
		return authgate.APIKey{}, accounts.UnknownKey(id)
	}
	k, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, accounts.UnknownKey(id)
	}
	return k, err
}
