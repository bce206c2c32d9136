package accounts

import (
	"bytes"
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate/passhash"
)

// MaxNameLen is the longest user or owner name, in characters.
const MaxNameLen = 64

// ValidName returns nil if name is a usable user (or key owner) name: 1 to
// 64 characters of printable UTF-8 without colons, whitespace or control
// characters. what names the field in the error ("user name").
func ValidName(what, name string) error {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return fmt.Errorf("%w: %s is empty; give a name of 1 to %d characters", ErrInvalid, what, MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s %q is not valid UTF-8; re-type it or convert the file to UTF-8", ErrInvalid, what, name)
	case n > MaxNameLen:
		return fmt.Errorf("%w: %s %q is %d characters long; use at most %d", ErrInvalid, what, name, n, MaxNameLen)
	}
	for _, r := range name {
		switch {
		case r == ':':
			return fmt.Errorf("%w: %s %q contains a colon, which Basic authentication uses to separate user and password (RFC 7617); choose a name without one", ErrInvalid, what, name)
		case unicode.IsSpace(r):
			return fmt.Errorf("%w: %s %q contains whitespace; choose a name without spaces, tabs or line breaks", ErrInvalid, what, name)
		case unicode.IsControl(r) || !unicode.IsPrint(r):
			return fmt.Errorf("%w: %s %q contains the control or unprintable character %U; remove it", ErrInvalid, what, name, r)
		}
	}
	return nil
}

var scopePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}$`)

// ValidScopes returns nil if every scope matches scopePattern and none
// repeats.
func ValidScopes(scopes []string) error {
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		if !scopePattern.MatchString(s) {
			return fmt.Errorf("%w: scope %q is not 1 to 64 characters of letters, digits and : . _ / - starting with a letter or digit; fix or remove it", ErrInvalid, s)
		}
		if seen[s] {
			return fmt.Errorf("%w: scope %q is listed twice; list it once", ErrInvalid, s)
		}
		seen[s] = true
	}
	return nil
}

// ValidHash returns nil if hash is a supported password hash. The error
// names the user and explains the fix, but never quotes the hash.
func ValidHash(user, hash string) error {
	if err := passhash.Check(hash); err != nil {
		return fmt.Errorf("%w: password hash of user %q: %w", ErrInvalid, user, err)
	}
	return nil
}

// ValidUser checks everything about a user that needs no database.
func ValidUser(name, hash string, scopes []string) error {
	if err := ValidName("user name", name); err != nil {
		return err
	}
	if err := ValidScopes(scopes); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	return ValidHash(name, hash)
}

// ValidLockCause returns nil if cause is printable text of at most
// MaxLockCause bytes.
func ValidLockCause(cause string) error {
	if len(cause) > MaxLockCause || !utf8.ValidString(cause) {
		return fmt.Errorf("%w: lock cause is not UTF-8 text of at most %d bytes; shorten it", ErrInvalid, MaxLockCause)
	}
	for _, r := range cause {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: lock cause contains the control character %U; remove it", ErrInvalid, r)
		}
	}
	return nil
}

// ValidExpiry returns nil if expiresAt is zero (never) or in the future.
func ValidExpiry(expiresAt, now time.Time) error {
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return fmt.Errorf("%w: expiry %s is not in the future; give a later time, or none for a key that never expires", ErrInvalid, Stamp(expiresAt))
	}
	return nil
}

// CheckDisable returns an error wrapping ErrState when what (a "user" or
// "key" called name, disabled at disabledAt, zero when enabled) already
// has the state disable asks for.
func CheckDisable(what, name string, disabledAt time.Time, disable bool) error {
	switch {
	case disable && !disabledAt.IsZero():
		return fmt.Errorf("%w: %s %q is already disabled (since %s); nothing to do", ErrState, what, name, Stamp(disabledAt))
	case !disable && disabledAt.IsZero():
		return fmt.Errorf("%w: %s %q is not disabled; nothing to do", ErrState, what, name)
	}
	return nil
}

// ValidEnrollment checks EnrollTOTP's input for every store. Its errors
// never quote the secret or a digest.
func ValidEnrollment(name string, sealed []byte, recovery [][]byte) error {
	if len(sealed) == 0 {
		return fmt.Errorf("%w: the sealed TOTP secret for user %q is empty; seal the secret the user enrolled with and store that", ErrInvalid, name)
	}
	if len(recovery) > MaxRecoveryCodes {
		return fmt.Errorf("%w: %d recovery codes for user %q; give at most %d", ErrInvalid, len(recovery), name, MaxRecoveryCodes)
	}
	for i, d := range recovery {
		if len(d) == 0 || len(d) > MaxRecoveryDigest {
			return fmt.Errorf("%w: the digest of recovery code %d for user %q is %d bytes long; give digests of 1 to %d bytes", ErrInvalid, i+1, name, len(d), MaxRecoveryDigest)
		}
		for j := range i {
			if bytes.Equal(recovery[j], d) {
				return fmt.Errorf("%w: recovery codes %d and %d for user %q have the same digest; generate the codes again", ErrInvalid, j+1, i+1, name)
			}
		}
	}
	return nil
}
