package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/accounts"
)

// EnrollTOTP stores the user's sealed TOTP secret, enrolled now, and the
// digests of its recovery codes. A user already enrolled wraps
// accounts.ErrState: the UPDATE itself checks that there is no secret
// yet, inside the write transaction, so of two gateways enrolling the
// user at once exactly one succeeds and neither replaces the other's
// secret. An empty secret, more than accounts.MaxRecoveryCodes codes, or
// a digest that is empty, longer than 64 bytes or repeated wraps
// accounts.ErrInvalid; an unknown user authgate.ErrNotFound. Then nothing
// changes.
func (s *AccountStore) EnrollTOTP(ctx context.Context, name string, sealed []byte, recovery [][]byte) error {
	if err := accounts.ValidEnrollment(name, sealed, recovery); err != nil {
		return err
	}
	if !storable(name) {
		return accounts.UnknownUser(name)
	}
	return s.write(ctx, fmt.Sprintf("enrolling user %q in 2-step verification", name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_secret = $1, totp_enrolled_at = $2 WHERE name = $3 AND totp_secret IS NULL`,
			sealed, nanos(s.Now()), name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			exists, err := userExists(ctx, tx, name)
			if err != nil {
				return err
			}
			if !exists {
				return accounts.UnknownUser(name)
			}
			return fmt.Errorf("%w: user %q already has 2-step verification enrolled, and enrolling again would replace its authenticator app and recovery codes, so nothing was changed; `authgate users reset-2fa %s` removes the old enrollment, and the next sign-in enrolls again", accounts.ErrState, name, name)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_name = $1`, name); err != nil {
			return err
		}
		if len(recovery) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO recovery_codes (user_name, position, digest)
			SELECT $1, c.position - 1, c.digest FROM unnest($2::bytea[]) WITH ORDINALITY AS c (digest, position)`,
			name, recovery)
		return err
	})
}

// ResetTOTP removes the user's TOTP secret, its enrollment time and its
// recovery codes, so that it enrolls again at its next sign-in. A user
// not enrolled wraps accounts.ErrState; an unknown user
// authgate.ErrNotFound.
func (s *AccountStore) ResetTOTP(ctx context.Context, name string) error {
	return s.write(ctx, fmt.Sprintf("resetting the second factor of user %q", name), func(tx pgx.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if !u.Enrolled() {
			return fmt.Errorf("%w: user %q has no second factor enrolled, so there is nothing to reset; it enrolls at its next sign-in on a route that requires 2-step verification", accounts.ErrState, name)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = NULL, totp_enrolled_at = 0 WHERE name = $1`, name); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_name = $1`, name)
		return err
	})
}

// UseRecoveryCode removes the user's recovery code with digest and
// reports whether it was there. Writers take turns on the change counter
// (see write), and the one DELETE both checks and removes, so of several
// gateways using the same code exactly one gets true. A code that is not
// there writes nothing, so no gateway reloads for it. An unknown user
// wraps authgate.ErrNotFound.
func (s *AccountStore) UseRecoveryCode(ctx context.Context, name string, digest []byte) (bool, error) {
	var used bool
	err := s.write(ctx, fmt.Sprintf("using a recovery code of user %q", name), func(tx pgx.Tx) error {
		if _, err := userTx(ctx, tx, name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_name = $1 AND digest = $2`, name, digest)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errUnchanged
		}
		used = true
		return nil
	})
	return used && err == nil, err
}

// RevokeSessions records now as the time before which every session of
// the user ends, on every gateway. An unknown user wraps
// authgate.ErrNotFound.
func (s *AccountStore) RevokeSessions(ctx context.Context, name string) error {
	if !storable(name) {
		return accounts.UnknownUser(name)
	}
	return s.write(ctx, fmt.Sprintf("revoking the sessions of user %q", name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET sessions_revoked_at = $1 WHERE name = $2`, nanos(s.Now()), name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return accounts.UnknownUser(name)
		}
		return nil
	})
}
