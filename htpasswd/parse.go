// Package htpasswd reads an existing Apache-style users file, such as the
// one nginx's auth_basic_user_file or Traefik's basicAuth already use, as an
// authgate.UserStore. Only lines whose hash package passhash accepts are
// loaded; any other line (a plain-text password, crypt(3) DES) makes the
// whole file an error naming the file and line, never quoting the hash.
package htpasswd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authgate/authgate/passhash"
)

// Entry is one user line of a users file.
type Entry struct {
	Line int // 1-based line number
	User string
	Hash string
}

// LineError is one bad line of a users file.
type LineError struct {
	Name string // the file's name or path
	Line int
	Err  error
}

// Error formats the problem as path:LINE: problem, like a compiler.
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err) }

// Unwrap returns the problem.
func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds a line, so a binary file given by mistake fails fast.
const maxLine = 64 << 10

// Parse reads `user:hash` lines from r; blank lines and lines starting with
// # are skipped. name is used in errors, which are *LineError values for
// every bad line, joined. Parse returns no entries when any line is bad.
func Parse(r io.Reader, name string) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var (
		entries []Entry
		errs    []error
		seen    = map[string]int{}
	)
	bad := func(line int, format string, args ...any) {
		errs = append(errs, &LineError{Name: name, Line: line, Err: fmt.Errorf(format, args...)})
	}
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		user, hash, ok := strings.Cut(text, ":")
		switch {
		case !ok:
			bad(n, "no colon; each line must be user:hash")
			continue
		case user == "":
			bad(n, "the user name before the colon is empty")
			continue
		case strings.TrimSpace(user) != user:
			bad(n, "user %q has leading or trailing whitespace; remove it", user)
			continue
		}
		// Some tools append ":comment" fields after the hash (htdigest
		// style); no supported hash contains a colon, so cut them off.
		hash, _, _ = strings.Cut(hash, ":")
		if err := passhash.Check(hash); err != nil {
			bad(n, "user %q: %w", user, err)
			continue
		}
		if first, dup := seen[user]; dup {
			bad(n, "user %q is already defined on line %d; remove one of the two", user, first)
			continue
		}
		seen[user] = n
		entries = append(entries, Entry{Line: n, User: user, Hash: hash})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: reading: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return entries, nil
}
