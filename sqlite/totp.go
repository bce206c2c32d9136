package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authgate/authgate/accounts"
)

// EnrollTOTP stores the user's sealed TOTP secret, enrolled now, and the
// digests of its recovery codes. A user already enrolled wraps
// accounts.ErrState: the UPDATE itself checks that there is no secret
// yet, inside the write transaction, so of two enrollments racing (two
// sessions of the user, two gateways) exactly one succeeds and neither
// replaces the other's secret. An empty secret, more than
// accounts.MaxRecoveryCodes codes, or a digest that is empty, longer than
// 64 bytes or repeated wraps ErrInvalid; an unknown user
// authgate.ErrNotFound. Then nothing changes.
func (s *Store) EnrollTOTP(ctx context.Context, name string, sealed []byte, recovery [][]byte) error {
	if err := accounts.ValidEnrollment(name, sealed, recovery); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_enrolled_at = ? WHERE name = ? AND totp_secret IS NULL`,
			sealed, nanos(s.now()), name)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			exists, err := userExists(ctx, tx, name)
			if err != nil {
				return err
			}
			if !exists {
				return unknownUser(name)
			}
			return alreadyEnrolled(name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_name = ?`, name); err != nil {
			return err
		}
		for i, digest := range recovery {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_name, position, digest) VALUES (?, ?, ?)`,
				name, i, digest); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResetTOTP removes the user's TOTP secret, its enrollment time and its
// recovery codes, so that it enrolls again at its next sign-in. A user
// not enrolled wraps accounts.ErrState; an unknown user
// authgate.ErrNotFound.
func (s *Store) ResetTOTP(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if !u.Enrolled() {
			return notEnrolled(name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_enrolled_at = 0 WHERE name = ?`, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_name = ?`, name)
		return err
	})
}

// errNoSuchCode rolls back a UseRecoveryCode that found no code, so that
// nothing is written and no reload runs.
var errNoSuchCode = errors.New("no such recovery code")

// UseRecoveryCode removes the user's recovery code with digest and
// reports whether it was there. Writes take turns (BEGIN IMMEDIATE), and
// the one DELETE both checks and removes, so of several callers using the
// same code exactly one gets true. An unknown user wraps
// authgate.ErrNotFound.
func (s *Store) UseRecoveryCode(ctx context.Context, name string, digest []byte) (bool, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		exists, err := userExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if !exists {
			return unknownUser(name)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_name = ? AND digest = ?`, name, digest)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return errNoSuchCode
		}
		return err
	})
	if errors.Is(err, errNoSuchCode) {
		return false, nil
	}
	return err == nil, err
}

// RevokeSessions records now as the time before which every session of
// the user ends. An unknown user wraps authgate.ErrNotFound.
func (s *Store) RevokeSessions(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET sessions_revoked_at = ? WHERE name = ?`, nanos(s.now()), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, unknownUser(name))
		}
		return nil
	})
}

// notEnrolled is ResetTOTP's error for a user without a second factor.
func notEnrolled(name string) error {
	return fmt.Errorf("%w: user %q has no second factor enrolled, so there is nothing to reset; it enrolls at its next sign-in on a route that requires 2-step verification", accounts.ErrState, name)
}

// alreadyEnrolled is EnrollTOTP's error for a user who has a second
// factor: replacing it would let whoever knows the password swap the
// authenticator app of its owner.
func alreadyEnrolled(name string) error {
	return fmt.Errorf("%w: user %q already has 2-step verification enrolled, and enrolling again would replace its authenticator app and recovery codes, so nothing was changed; `authgate users reset-2fa %s` removes the old enrollment, and the next sign-in enrolls again", accounts.ErrState, name, name)
}
