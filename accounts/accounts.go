// Package accounts is the user and API-key store as the admin sees it: the
// operations the CLI and the gateway run on users and keys (create, change
// a password, disable, lock, rotate, revoke), the validation every store
// applies before it writes, and the in-memory snapshot the request path
// reads. The stores themselves live in sqlite/ (embedded default) and
// postgres/ (several gateways, one database); both pass
// accounts/accountstest.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// Errors the admin operations wrap, besides authgate.ErrNotFound. Test with
// errors.Is; every one of them means nothing was changed.
var (
	// ErrInvalid means the input was rejected before anything changed.
	ErrInvalid = errors.New("invalid input")
	// ErrExists means a user of that name already exists.
	ErrExists = errors.New("already exists")
	// ErrState means the user's or key's state does not allow the
	// operation (rotating a revoked key, disabling a disabled user).
	ErrState = errors.New("state does not allow this")
	// ErrStale means the store could not be read for longer than MaxStale.
	ErrStale = errors.New("store unavailable")
)

// Store is a user and key store with its admin operations. Lookups
// (User, APIKey) read an in-memory snapshot and never block on the
// database; writes go to the database and are visible to lookups in the
// same process at once, and in other processes within their refresh
// interval. Implementations are safe for concurrent use.
type Store interface {
	authgate.UserStore
	authgate.KeyStore
	authgate.AccountLocker

	// AddUser creates an active user with a password hash (see
	// passhash.Check for the accepted formats) and scopes. Bad input wraps
	// ErrInvalid, an existing name ErrExists.
	AddUser(ctx context.Context, name, hash string, scopes []string) error
	// SetPassword replaces a user's password hash. The old hash moves to
	// the user's previous passwords (the newest MaxPrevious are kept), and
	// a pending password change is cleared. An unknown user wraps
	// authgate.ErrNotFound.
	SetPassword(ctx context.Context, name, hash string) error
	// UpgradePasswordHash replaces the user's password hash old with
	// updated, a hash of the same password with other parameters (made
	// after that password matched old), and reports whether it did. It
	// changes nothing when the user's hash is no longer old (the password
	// was changed meanwhile, or another gateway upgraded it first), and
	// nothing else ever: not the time of the last password change, not
	// the previous passwords. An unknown user wraps authgate.ErrNotFound,
	// a bad hash ErrInvalid.
	UpgradePasswordHash(ctx context.Context, name, old, updated string) (bool, error)
	// DeleteUser removes a user and its previous passwords.
	DeleteUser(ctx context.Context, name string) error
	// ImportUsers adds users, all or nothing; see ImportedUser.
	ImportUsers(ctx context.Context, users []ImportedUser, replace bool) (added, updated int, err error)
	// Users returns every user sorted by name, freshly read.
	Users(ctx context.Context) ([]authgate.User, error)
	// SetUserDisabled disables (true) or enables (false) a user. Disabling
	// a disabled user, or enabling an enabled one, wraps ErrState.
	SetUserDisabled(ctx context.Context, name string, disabled bool) error
	// UnlockUser ends a user's lock and records the unlock time, which
	// also ends any failure-counter lock that began before it (on every
	// gateway, within its refresh interval). It reports whether the store
	// held a lock.
	UnlockUser(ctx context.Context, name string) (wasLocked bool, err error)
	// RequirePasswordChange makes the user's current password refused
	// with password_change_required until SetPassword is called.
	RequirePasswordChange(ctx context.Context, name string) error
	// EnrollTOTP stores the user's sealed TOTP secret (see
	// authgate.User.TOTPSecret) and the digests of its recovery codes
	// (at most MaxRecoveryCodes). It never replaces an enrollment: a user
	// already enrolled wraps ErrState, with a message naming
	// `authgate users reset-2fa NAME`, which removes the old one. The
	// store decides inside its write transaction, so of two enrollments
	// racing (two password-only sessions of the user, two gateways)
	// exactly one succeeds. An empty secret wraps ErrInvalid.
	EnrollTOTP(ctx context.Context, name string, sealed []byte, recovery [][]byte) error
	// ResetTOTP removes the user's second factor and recovery codes, so
	// that the next sign-in enrolls again. A user not enrolled wraps
	// ErrState.
	ResetTOTP(ctx context.Context, name string) error
	// UseRecoveryCode removes the recovery code with this digest from the
	// user's codes and reports whether it was there: each code works
	// once, even when two gateways race.
	UseRecoveryCode(ctx context.Context, name string, digest []byte) (bool, error)
	// RevokeSessions ends every session of the user made before now, on
	// every gateway (authgate.User.SessionsRevokedAt).
	RevokeSessions(ctx context.Context, name string) error

	// CreateKey issues a new active key for owner with scopes, expiring
	// at expiresAt (zero: never). Bad input wraps ErrInvalid.
	CreateKey(ctx context.Context, owner string, scopes []string, expiresAt time.Time) (Issued, error)
	// RotateKey issues a successor of key id with the same owner, scopes
	// and expiry, and marks id rotated: it keeps working until now+overlap.
	// Only an active, unexpired key can be rotated (else ErrState).
	RotateKey(ctx context.Context, id string, overlap time.Duration) (Issued, error)
	// RevokeKey revokes key id at once. Revoking twice wraps ErrState.
	RevokeKey(ctx context.Context, id string) error
	// SetKeyDisabled disables (true) or enables (false) a key without
	// changing its lifecycle state. A revoked key cannot be enabled
	// (ErrState), and neither state can be set twice.
	SetKeyDisabled(ctx context.Context, id string, disabled bool) error
	// Keys returns every key (never a secret), oldest first, freshly read.
	Keys(ctx context.Context) ([]authgate.APIKey, error)

	// Refresh reloads the snapshot from the database now.
	Refresh(ctx context.Context) error
	// Healthy returns nil while the snapshot is current, else why not.
	Healthy() error
	// Close stops background work and closes the database.
	Close() error
}

// MaxPrevious is how many previous password hashes are kept per user.
const MaxPrevious = 10

// MaxLockCause bounds the stored cause of a lock, in bytes.
const MaxLockCause = 200

// MaxRecoveryCodes bounds the recovery codes a user holds, and
// MaxRecoveryDigest the length of each code's digest.
const (
	MaxRecoveryCodes  = 20
	MaxRecoveryDigest = 64
)

// Issued is a newly created API key. Key is the full secret key, shown to
// the admin once and never stored; APIKey is what the store keeps.
type Issued struct {
	Key string
	authgate.APIKey
}

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

// CheckImport validates users for ImportUsers without a database: every
// bad or repeated line is returned, and the lines worth looking up.
func CheckImport(users []ImportedUser) (valid []ImportedUser, bad []LineError) {
	valid = make([]ImportedUser, 0, len(users))
	seen := make(map[string]int, len(users))
	for i, u := range users {
		if u.Line == 0 {
			u.Line = i + 1
		}
		if err := ValidUser(u.Name, u.Hash, u.Scopes); err != nil {
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
	return valid, bad
}

// UnknownUser is the error for a name no user has.
func UnknownUser(name string) error {
	return fmt.Errorf("user %q: %w; list users with `authgate users list`, or create it with `authgate users add %s`", name, authgate.ErrNotFound, name)
}

// UnknownKey is the error for an id no key has.
func UnknownKey(id string) error {
	return fmt.Errorf("API key %q: %w; list the existing keys with `authgate keys list`", id, authgate.ErrNotFound)
}

// Stamp formats t for error messages.
func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
