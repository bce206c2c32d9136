package session

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Errors returned by stores. Test with errors.Is.
var (
	// ErrNotFound is returned when the store answered and holds no live
	// session with that id: never saved, deleted or expired.
	ErrNotFound = errors.New("session: not found")
	// ErrUnavailable is returned when the store cannot answer: Redis is
	// down, slower than the timeout, or returned data the store cannot
	// read. The caller could not decide and must not guess (503, not 401).
	ErrUnavailable = errors.New("session: store unavailable")
	// ErrInvalid is returned when a session or code has no user, or a
	// session no id: a caller's bug, refused before anything is stored.
	ErrInvalid = errors.New("session: invalid session")
)

// Session is a signed-in browser. It holds no secret: ID is the digest of
// the cookie token, never the token.
type Session struct {
	// ID is ID(token) of the cookie's token.
	ID   string `json:"id"`
	User string `json:"user"`
	// CreatedAt is when the password (first step) was accepted.
	CreatedAt time.Time `json:"created_at"`
	// LastSeen is the last request made with the session, for idle
	// timeouts.
	LastSeen time.Time `json:"last_seen"`
	// SecondFactorAt is when the 2-step page was passed; zero until then.
	SecondFactorAt time.Time `json:"second_factor_at,omitzero"`
	// Source is the address the session was created from.
	Source    netip.Addr `json:"source,omitzero"`
	UserAgent string     `json:"user_agent,omitempty"`
}

// Store keeps sessions and used TOTP codes. Implementations are safe for
// concurrent use. Every method returns an error wrapping ErrUnavailable when
// the store cannot answer, never a guessed answer.
type Store interface {
	// Save creates s, or replaces the session with the same ID. The store
	// forgets it once its clock reaches expires; an expires already
	// reached stores nothing and forgets any session with that ID. It
	// returns ErrInvalid when s.ID or s.User is empty.
	Save(ctx context.Context, s Session, expires time.Time) error
	// Get returns the session with id, or ErrNotFound when the store has
	// no live session with that id.
	Get(ctx context.Context, id string) (Session, error)
	// Touch records lastSeen as the LastSeen of the live session with id,
	// changing nothing else: its other fields and its expiry stay. Unlike
	// Save it never creates a session: when the store has no live session
	// with id (never saved, deleted — perhaps by a sign-out racing the
	// request — or expired) it returns ErrNotFound and writes nothing, so
	// that a request in flight cannot bring back a session just ended.
	Touch(ctx context.Context, id string, lastSeen time.Time) error
	// Delete forgets the session with id. Deleting an unknown id is not an
	// error.
	Delete(ctx context.Context, id string) error
	// DeleteUser forgets every session of user and returns how many live
	// ones it forgot (sign-out everywhere, password change).
	DeleteUser(ctx context.Context, user string) (int, error)
	// List returns the live sessions of user, newest (by CreatedAt) first,
	// ties by ID. A user without sessions gets an empty list, not an error.
	List(ctx context.Context, user string) ([]Session, error)
	// UseCode records that user used the TOTP code of time step step and
	// reports whether this is its first use, atomically across every
	// gateway sharing the store. The use is remembered until expires, which
	// should be when the step leaves the accepted window. An expires
	// already reached records nothing and reports false: a code outside
	// its window is never accepted. It returns ErrInvalid for an empty
	// user.
	UseCode(ctx context.Context, user string, step int64, expires time.Time) (first bool, err error)
}

// normalize drops what JSON cannot keep (the monotonic reading, the
// location), so that both stores return the same values.
func normalize(s Session) Session {
	s.CreatedAt = s.CreatedAt.Round(0).UTC()
	s.LastSeen = s.LastSeen.Round(0).UTC()
	s.SecondFactorAt = s.SecondFactorAt.Round(0).UTC()
	return s
}

// ceilMilli returns t rounded up to a whole millisecond, in Unix
// milliseconds: the precision of Redis TTLs, used by both stores.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// remaining returns the whole milliseconds from now until expires rounded
// up; zero or less means expired.
func remaining(now, expires time.Time) int64 {
	exp := ceilMilli(expires)
	if !now.Before(time.UnixMilli(exp)) {
		return 0
	}
	return exp - now.UnixMilli()
}
