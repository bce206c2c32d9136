package sqlite

import (
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate/passhash"
)

// maxNameLen is the longest user or owner name, in characters.
const maxNameLen = 64

// validName returns nil if name is a usable user (or key owner) name: 1 to
// 64 characters of printable UTF-8 without colons, whitespace or control
// characters. what names the field in the error ("user name").
func validName(what, name string) error {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return fmt.Errorf("%w: %s is empty; give a name of 1 to %d characters", ErrInvalid, what, maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s %q is not valid UTF-8; re-type it or convert the file to UTF-8", ErrInvalid, what, name)
	case n > maxNameLen:
		return fmt.Errorf("%w: %s %q is %d characters long; use at most %d", ErrInvalid, what, name, n, maxNameLen)
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

// validScopes returns nil if every scope matches scopePattern and none
// repeats.
func validScopes(scopes []string) error {
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

// validHash returns nil if hash is a supported password hash. The error
// names the user and explains the fix, but never quotes the hash.
func validHash(user, hash string) error {
	if err := passhash.Check(hash); err != nil {
		return fmt.Errorf("%w: password hash of user %q: %w", ErrInvalid, user, err)
	}
	return nil
}

// validUser checks everything about a user that needs no database.
func validUser(name, hash string, scopes []string) error {
	if err := validName("user name", name); err != nil {
		return err
	}
	if err := validScopes(scopes); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	return validHash(name, hash)
}

// validExpiry returns nil if expiresAt is zero (never) or in the future.
func validExpiry(expiresAt, now time.Time) error {
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return fmt.Errorf("%w: expiry %s is not in the future; give a later time, or none for a key that never expires", ErrInvalid, stamp(expiresAt))
	}
	return nil
}
