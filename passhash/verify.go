package passhash

import (
	"errors"
	"strings"

	apache "github.com/tg123/go-htpasswd"
	"golang.org/x/crypto/bcrypt"
)

// matcher checks a password against one parsed hash in constant time.
type matcher interface {
	MatchesPassword(password string) bool
}

// Verify reports whether password matches encoded, an argon2id PHC string, a
// bcrypt hash ($2a$, $2b$, $2y$) or an Apache {SHA} or $apr1$ hash. It
// returns an error wrapping ErrUnsupported or ErrCorrupt when encoded cannot
// be used; the error never contains the password or the hash.
func Verify(encoded, password string) (bool, error) {
	m, err := parse(encoded)
	if err != nil {
		return false, err
	}
	return m.MatchesPassword(password), nil
}

// Check returns nil if encoded is a well-formed hash in a supported format.
// Otherwise its *FormatError says which format encoded looks like and how to
// fix it, without quoting encoded.
func Check(encoded string) error {
	_, err := parse(encoded)
	return err
}

// parse identifies encoded's format and parses it with that format's parser
// only; go-htpasswd's default parser list is never used because it accepts
// plain text, and its errors are replaced because they quote the hash.
func parse(encoded string) (matcher, error) {
	f, err := identify(encoded)
	if err != nil {
		return nil, err
	}
	switch f {
	case formatArgon2id:
		h, err := parseArgon2(encoded)
		if err != nil {
			return nil, err
		}
		return matchFunc(h.verify), nil
	case formatBcrypt:
		if _, err := bcrypt.Cost([]byte(encoded)); err != nil {
			return nil, corrupt("bcrypt", "it is not a 60-character bcrypt hash with a valid cost")
		}
		return matchFunc(func(password string) bool {
			return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil
		}), nil
	case formatSHA:
		return apacheParse(apache.AcceptSha, encoded, "Apache {SHA}", "it is not the base64 of a 20-byte SHA-1 digest")
	case formatAPR1:
		salt, sum, ok := strings.Cut(strings.TrimPrefix(encoded, "$apr1$"), "$")
		if !ok || len(salt) == 0 || len(salt) > 8 || len(sum) != 22 ||
			strings.Trim(salt, cryptAlphabet) != "" || strings.Trim(sum, cryptAlphabet) != "" {
			return nil, corrupt("Apache $apr1$ (MD5)", "it is not $apr1$, a salt of up to 8 characters, $, and a 22-character digest")
		}
		return apacheParse(apache.AcceptMd5, encoded, "Apache $apr1$ (MD5)", "go-htpasswd rejected it")
	}
	return nil, unsupported("an unknown format", "it is not recognised")
}

// apacheParse runs one go-htpasswd per-format parser, replacing its error
// (which quotes the hash) with ours.
func apacheParse(accept apache.PasswdParser, encoded, format, problem string) (matcher, error) {
	m, err := accept(encoded)
	if err != nil || m == nil {
		return nil, corrupt(format, problem)
	}
	return m, nil
}

// matchFunc adapts a function to matcher.
type matchFunc func(password string) bool

// MatchesPassword calls f.
func (f matchFunc) MatchesPassword(password string) bool { return f(password) }

// IsFormatError reports whether err says a stored hash is unusable (as
// opposed to another failure).
func IsFormatError(err error) bool {
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt)
}
