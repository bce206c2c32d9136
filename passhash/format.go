package passhash

import (
	"errors"
	"strings"
)

// ErrUnsupported is wrapped by errors for values that are not a hash format
// this package verifies: plain text, crypt(3) DES, MD5-crypt and others.
var ErrUnsupported = errors.New("unsupported password hash format")

// ErrCorrupt is wrapped by errors for values that have a supported format's
// prefix but are damaged: truncated, bad base64, parameters out of range.
var ErrCorrupt = errors.New("corrupt password hash")

// FormatError explains why a stored value cannot be used as a password
// hash. It names the format the value looks like and how to fix it, and
// never contains the value itself.
type FormatError struct {
	Format  string // what the value looks like, e.g. "bcrypt" or "plain text"
	Problem string // what is wrong
	Fix     string // how to fix it
	kind    error  // ErrUnsupported or ErrCorrupt
}

// Error says what the value looks like, what is wrong and how to fix it.
func (e *FormatError) Error() string {
	return "password hash looks like " + e.Format + ": " + e.Problem + "; " + e.Fix
}

// Unwrap returns ErrUnsupported or ErrCorrupt.
func (e *FormatError) Unwrap() error { return e.kind }

// rehash is the fix for every format we refuse.
const rehash = "re-hash it with `htpasswd -B` (bcrypt) or `authgate users set-password` (argon2id)"

func corrupt(format, problem string) error {
	return &FormatError{Format: format, Problem: problem,
		Fix: "the value was probably truncated or altered when copied; copy it again or " + rehash, kind: ErrCorrupt}
}

func unsupported(format, problem string) error {
	return &FormatError{Format: format, Problem: problem, Fix: rehash, kind: ErrUnsupported}
}

// format is what a stored value looks like.
type format int

const (
	formatUnknown format = iota
	formatArgon2id
	formatBcrypt
	formatSHA
	formatAPR1
)

// identify returns the supported format of encoded, or an error saying which
// unsupported format it looks like.
func identify(encoded string) (format, error) {
	switch {
	case encoded == "":
		return formatUnknown, unsupported("nothing", "the hash is empty")
	case strings.HasPrefix(encoded, "$argon2id$"):
		return formatArgon2id, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return formatBcrypt, nil
	case strings.HasPrefix(encoded, "{SHA}"):
		return formatSHA, nil
	case strings.HasPrefix(encoded, "$apr1$"):
		return formatAPR1, nil
	case strings.HasPrefix(encoded, "$argon2i$"), strings.HasPrefix(encoded, "$argon2d$"):
		return formatUnknown, unsupported("argon2i or argon2d", "only the argon2id variant is supported")
	case strings.HasPrefix(encoded, "$2x$"), strings.HasPrefix(encoded, "$2$"):
		return formatUnknown, unsupported("an old bcrypt variant ($2$ or $2x$)", "only $2a$, $2b$ and $2y$ are supported")
	case strings.HasPrefix(encoded, "{SSHA}"):
		return formatUnknown, unsupported("salted SHA-1 ({SSHA})", "it is not supported")
	case strings.HasPrefix(encoded, "$1$"):
		return formatUnknown, unsupported("MD5-crypt ($1$)", "it is not supported")
	case strings.HasPrefix(encoded, "$5$"), strings.HasPrefix(encoded, "$6$"):
		return formatUnknown, unsupported("SHA-crypt ($5$ or $6$)", "it is not supported")
	case strings.HasPrefix(encoded, "$"):
		return formatUnknown, unsupported("an unknown crypt format", "its $-prefix is not one of $argon2id$, $2a$, $2b$, $2y$ or $apr1$")
	case len(encoded) == 13 && strings.Trim(encoded, cryptAlphabet) == "":
		return formatUnknown, unsupported("crypt(3) DES (or a 13-character plain-text password)",
			"DES crypt uses only the first 8 characters of a password and is trivially cracked")
	default:
		return formatUnknown, unsupported("plain text", "it is not a hash, so the password itself is stored")
	}
}

// cryptAlphabet is the character set of crypt(3) and $apr1$ hashes.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Name returns a short name of encoded's format for traces ("argon2id",
// "bcrypt", "{SHA}", "$apr1$"), or "unsupported". It never returns any part
// of the value.
func Name(encoded string) string {
	f, _ := identify(encoded)
	switch f {
	case formatArgon2id:
		return "argon2id"
	case formatBcrypt:
		return "bcrypt"
	case formatSHA:
		return "{SHA}"
	case formatAPR1:
		return "$apr1$"
	}
	return "unsupported"
}
