package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/accounts"
)

// SetUserDisabled disables or enables a user. Setting the state it already
// has wraps accounts.ErrState; an unknown user authgate.ErrNotFound.
func (s *AccountStore) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	what := fmt.Sprintf("enabling user %q", name)
	if disabled {
		what = fmt.Sprintf("disabling user %q", name)
	}
	return s.write(ctx, what, func(tx pgx.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := accounts.CheckDisable("user", name, u.DisabledAt, disabled); err != nil {
			return err
		}
		at := int64(0)
		if disabled {
			at = nanos(s.Now())
		}
		_, err = tx.Exec(ctx, `UPDATE users SET disabled_at = $1 WHERE name = $2`, at, name)
		return err
	})
}

// LockUser locks a user until until, for cause. A lock that has already
// ended, or ends no later than the one recorded, changes nothing. A bad
// cause wraps accounts.ErrInvalid; an unknown user authgate.ErrNotFound.
func (s *AccountStore) LockUser(ctx context.Context, name string, until time.Time, cause string) error {
	if err := accounts.ValidLockCause(cause); err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("locking user %q", name), func(tx pgx.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		now := s.Now()
		if !until.After(now) || !until.After(u.LockedUntil) {
			return errUnchanged
		}
		_, err = tx.Exec(ctx, `UPDATE users SET locked_until = $1, locked_at = $2, lock_cause = $3 WHERE name = $4`,
			nanos(until), nanos(now), cause, name)
		return err
	})
}

// UnlockUser ends a user's lock and records the unlock time, which also
// ends failure-counter locks that began before it. It reports whether the
// store held a lock; an unknown user wraps authgate.ErrNotFound.
func (s *AccountStore) UnlockUser(ctx context.Context, name string) (wasLocked bool, err error) {
	err = s.write(ctx, fmt.Sprintf("unlocking user %q", name), func(tx pgx.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		now := s.Now()
		wasLocked = u.Locked(now)
		_, err = tx.Exec(ctx, `UPDATE users SET locked_until = 0, locked_at = 0, lock_cause = '', unlocked_at = $1
			WHERE name = $2`, nanos(now), name)
		return err
	})
	return wasLocked && err == nil, err
}

// RequirePasswordChange makes the user's current password refused until
// SetPassword is called. Requiring it twice wraps accounts.ErrState; an
// unknown user authgate.ErrNotFound.
func (s *AccountStore) RequirePasswordChange(ctx context.Context, name string) error {
	return s.write(ctx, fmt.Sprintf("requiring a password change of user %q", name), func(tx pgx.Tx) error {
		u, err := userTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if u.MustChangePassword {
			return fmt.Errorf("%w: user %q must already change its password; set a new one with `authgate users set-password %s`", accounts.ErrState, name, name)
		}
		_, err = tx.Exec(ctx, `UPDATE users SET must_change_password = true WHERE name = $1`, name)
		return err
	})
}
