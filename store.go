package authgate

import (
	"context"
	"time"
)

// User is an account that signs in with a password.
type User struct {
	Name string
	// PasswordHash is a PHC string ($argon2id$...), a bcrypt hash, or an
	// htpasswd hash ({SHA}, $apr1$).
	PasswordHash string
	// Previous holds the hashes this user's password had before its last
	// changes, newest first, kept for a configurable period so an old
	// password still in use is recognised.
	Previous          []PreviousPassword
	Scopes            []string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	// DisabledAt is when an admin disabled the user; zero while enabled.
	// A disabled user's password is still checked (so the log says
	// whether it was right) but never accepted.
	DisabledAt time.Time
	// LockedUntil ends a lock the gateway set after repeated failures
	// from several sources (or an admin set); zero or past: not locked.
	LockedUntil time.Time
	LockedAt    time.Time
	LockCause   string // why, in words, for `users show` and explain
	// UnlockedAt is the last admin unlock. Failure-counter locks that
	// began before it no longer apply.
	UnlockedAt time.Time
	// MustChangePassword makes the current password refused with
	// password_change_required until it is changed.
	MustChangePassword bool
	// TOTPSecret is the user's authenticator-app secret, sealed
	// (encrypted and authenticated) with the gateway's key; nil when the
	// user has not enrolled. It is never stored or logged in the clear.
	TOTPSecret     []byte
	TOTPEnrolledAt time.Time
	// RecoveryCodes are digests of the user's unused recovery codes.
	RecoveryCodes [][]byte
	// SessionsRevokedAt ends every session made before it: sign-out
	// everywhere, or an admin's revocation.
	SessionsRevokedAt time.Time
}

// Enrolled reports whether the user has a second factor.
func (u User) Enrolled() bool { return len(u.TOTPSecret) > 0 }

// Disabled reports whether an admin disabled the user.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Locked reports whether the user is locked at now.
func (u User) Locked(now time.Time) bool { return u.LockedUntil.After(now) }

// State names the user's state at now for listings: "disabled",
// "locked", "must change password" or "active".
func (u User) State(now time.Time) string {
	switch {
	case u.Disabled():
		return "disabled"
	case u.Locked(now):
		return "locked"
	case u.MustChangePassword:
		return "must change password"
	}
	return "active"
}

// PreviousPassword is a password hash that was replaced at ReplacedAt.
type PreviousPassword struct {
	Hash       string
	ReplacedAt time.Time
}

// KeyState is the lifecycle state of an API key.
type KeyState string

// API key states.
const (
	KeyActive  KeyState = "active"
	KeyRevoked KeyState = "revoked"
	KeyRotated KeyState = "rotated" // replaced by Successor; valid until OverlapUntil
)

// APIKey is a stored API key. Only a hash of its secret is kept.
type APIKey struct {
	ID           string
	Owner        string
	SecretHash   []byte // SHA-256 of the secret part
	Scopes       []string
	State        KeyState
	Successor    string
	CreatedAt    time.Time
	ExpiresAt    time.Time // zero: never
	RotatedAt    time.Time
	OverlapUntil time.Time
	RevokedAt    time.Time
	// DisabledAt is when an admin disabled the key, whatever its state;
	// zero while enabled.
	DisabledAt time.Time
}

// UserStore looks users up. User returns ErrNotFound for an unknown name and
// another error when the store cannot answer.
type UserStore interface {
	User(ctx context.Context, name string) (User, error)
}

// AccountLocker records a lock on a user account, so that every gateway
// and the admin see it. LockUser returns ErrNotFound for an unknown name
// (which is then locked by the failure counters alone) and another error
// when the store cannot write. A lock ending earlier than one already
// recorded does not shorten it.
type AccountLocker interface {
	LockUser(ctx context.Context, name string, until time.Time, cause string) error
}

// KeyStore looks API keys up. APIKey returns ErrNotFound for an unknown id
// and another error when the store cannot answer.
type KeyStore interface {
	APIKey(ctx context.Context, id string) (APIKey, error)
}
