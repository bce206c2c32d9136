package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	// IdleTimeout ends a session unused that long; AbsoluteTimeout one
	// that old, however active.
	IdleTimeout, AbsoluteTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TouchEvery is how stale LastSeen may get before a request writes
	// it again: a write per request would cost a Redis round trip each.
	// Default: a tenth of IdleTimeout, at most a minute.
	TouchEvery time.Duration
	// SecondFactorAlways makes every session pass 2-step verification
	// before any route takes it (two_factor.enroll: required), not only
	// sessions of users who already have a second factor.
	SecondFactorAlways bool
}

// Verifier checks the session cookie of a request: the token's form, the
// session in the store, its timeouts, and whether its user may still be
// signed in. It is the authgate.Verifier of the session method.
type Verifier struct {
	store Store
	users authgate.UserStore
	opts  VerifierOptions
}

// NewVerifier returns a Verifier reading sessions from store and their
// users from users.
func NewVerifier(store Store, users authgate.UserStore, opts VerifierOptions) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = min(opts.IdleTimeout/10, time.Minute)
	}
	return &Verifier{store: store, users: users, opts: opts}
}

// keepAfterEnd is how long an ended session stays in the store, so that a
// browser coming back — with every asset of a page — is told its session
// expired, not that it is unknown. Ended sessions are not deleted when
// refused, for the same reason.
const keepAfterEnd = time.Hour

// StoreUntil is when a session made at created may be forgotten by the
// store: an hour after its absolute timeout.
func (v *Verifier) StoreUntil(created time.Time) time.Time {
	return created.Add(v.opts.AbsoluteTimeout + keepAfterEnd)
}

// Method returns authgate.MethodSession.
func (v *Verifier) Method() authgate.Method { return authgate.MethodSession }

// Verify checks a session cookie for a route: a usable session whose user
// has a second factor must also have passed it (second_factor_required,
// which sends a browser to the 2-step page). The error is an
// *authgate.UnavailableError when a store does not answer.
func (v *Verifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	s, u, vd, err := v.Session(ctx, c.Secret)
	if err != nil || vd.Reason != "" {
		return vd, err
	}
	if s.SecondFactorAt.IsZero() && (u.Enrolled() || v.opts.SecondFactorAlways) {
		detail := "the user has 2-step verification, and this session has not passed it yet"
		if !u.Enrolled() {
			detail = "every session must pass 2-step verification (two_factor.enroll: required), and this user has not set it up yet"
		}
		vd.Reason = reason.SecondFactorRequired
		vd.Checks = append(vd.Checks, authgate.Check{Name: "session.2fa", Result: authgate.Fail, Reason: vd.Reason, Detail: detail})
		return vd, nil
	}
	vd.Principal = authgate.Principal{Subject: u.Name, Method: authgate.MethodSession, Scopes: u.Scopes,
		SecondFactor: !s.SecondFactorAt.IsZero(), SessionID: shortID(s.ID)}
	return vd, nil
}

// Session finds the session of a cookie token and checks it, for routes
// (through Verify) and for the portal's own pages, which also take a
// session that has passed only the password. The verdict has a Reason
// when the session cannot be used; the error is an
// *authgate.UnavailableError when a store does not answer.
func (v *Verifier) Session(ctx context.Context, token string) (Session, authgate.User, authgate.Verdict, error) {
	var vd authgate.Verdict
	id, ok := ID(token)
	if !ok {
		return Session{}, authgate.User{}, deny(vd, reason.SessionUnknown, fmt.Sprintf("the cookie holds %d bytes that are not a session token of this gateway", len(token))), nil
	}
	s, err := v.store.Get(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return s, authgate.User{}, deny(vd, reason.SessionUnknown, "no session "+shortID(id)+" in the store: signed out, ended and forgotten, or made by a gateway that keeps sessions in its own memory"), nil
	case err != nil:
		vd.Checks = append(vd.Checks, authgate.Checkf("session.lookup", authgate.Fail, "the session store did not answer"))
		vd.Reason = reason.SessionStoreUnavailable
		vd.Checks[len(vd.Checks)-1].Reason = vd.Reason
		return s, authgate.User{}, vd, authgate.Unavailable(reason.SessionStoreUnavailable, 2*time.Second, err)
	}
	vd.Claimed = s.User
	now := v.opts.Now()
	if end := s.CreatedAt.Add(v.opts.AbsoluteTimeout); !now.Before(end) {
		return s, authgate.User{}, deny(vd, reason.SessionExpired, fmt.Sprintf("signed in %s; sessions last %s: ended %s", authgate.Ago(now, s.CreatedAt), v.opts.AbsoluteTimeout, authgate.Ago(now, end))), nil
	}
	if end := s.LastSeen.Add(v.opts.IdleTimeout); !now.Before(end) {
		return s, authgate.User{}, deny(vd, reason.SessionIdleTimeout, fmt.Sprintf("last used %s; sessions end after %s without activity: ended %s", authgate.Ago(now, s.LastSeen), v.opts.IdleTimeout, authgate.Ago(now, end))), nil
	}
	u, err := v.users.User(ctx, s.User)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		return s, u, deny(vd, reason.SessionRevoked, "user "+s.User+" no longer exists"), nil
	case err != nil:
		vd.Checks = append(vd.Checks, authgate.Checkf("session.user", authgate.Skip, "user store did not answer"))
		return s, u, vd, authgate.Unavailable(reason.StoreUnavailable, time.Second, fmt.Errorf("looking up the user of a session: %w", err))
	}
	if why := revoked(s, u); why != "" {
		return s, u, deny(vd, reason.SessionRevoked, why), nil
	}
	vd.Checks = append(vd.Checks, authgate.Checkf("session.lookup", authgate.Pass, "session %s of %s, signed in %s, last used %s%s",
		shortID(s.ID), s.User, authgate.Ago(now, s.CreatedAt), authgate.Ago(now, s.LastSeen), factors(s)))
	if now.Sub(s.LastSeen) >= v.opts.TouchEvery {
		// Touch, not Save: a sign-out that deleted the session since the
		// Get above must not be undone by this write.
		s.LastSeen = now
		switch err := v.store.Touch(ctx, s.ID, now); {
		case errors.Is(err, ErrNotFound):
			vd.Checks = append(vd.Checks, authgate.Checkf("session.touch", authgate.Info, "last use not recorded: the session was ended (signed out) while this request ran, and is not brought back"))
		case err != nil:
			vd.Checks = append(vd.Checks, authgate.Checkf("session.touch", authgate.Info, "last use not recorded: %v", err))
		}
	}
	return s, u, vd, nil
}

// revoked says why u may no longer use s, or "".
func revoked(s Session, u authgate.User) string {
	switch {
	case u.Disabled():
		return fmt.Sprintf("the account was disabled at %s", stamp(u.DisabledAt))
	case u.PasswordChangedAt.After(s.CreatedAt):
		return fmt.Sprintf("the password was changed at %s, after this session began at %s", stamp(u.PasswordChangedAt), stamp(s.CreatedAt))
	case u.SessionsRevokedAt.After(s.CreatedAt):
		return fmt.Sprintf("every session of %s was ended at %s (sign-out everywhere, or an admin), after this one began", u.Name, stamp(u.SessionsRevokedAt))
	case u.MustChangePassword:
		return "an admin asked for the password to be changed, so sessions made with it no longer count"
	}
	return ""
}

func deny(vd authgate.Verdict, code reason.Code, detail string) authgate.Verdict {
	vd.Reason = code
	vd.Checks = append(vd.Checks, authgate.Check{Name: "session.lookup", Result: authgate.Fail, Reason: code, Detail: detail})
	return vd
}

func factors(s Session) string {
	if s.SecondFactorAt.IsZero() {
		return "; password only"
	}
	return "; with 2-step verification"
}

// shortID names a session in traces: enough of its id to tell sessions
// apart, which is a digest of the token, never the token.
func shortID(id string) string {
	if len(id) > 10 {
		return id[:10]
	}
	return id
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var _ authgate.Verifier = (*Verifier)(nil)
