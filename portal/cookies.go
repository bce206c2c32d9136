package portal

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/session"
)

// errNoSession is session's answer for a request without a session cookie.
var errNoSession = errors.New("no session cookie")

// session reads r's session cookie: the session, its user and the
// verifier's verdict (a Reason when it cannot be used). The error is
// errNoSession, or a store that does not answer.
func (p *Portal) session(r *http.Request) (session.Session, authgate.User, authgate.Verdict, error) {
	c, err := r.Cookie(p.cfg.CookieName)
	if err != nil {
		return session.Session{}, authgate.User{}, authgate.Verdict{}, errNoSession
	}
	return p.cfg.SessionVerifier.Session(r.Context(), c.Value)
}

// startSession makes a new session for user — at sign-in, and again when
// 2-step verification passes, so that a session token seen before a
// privilege change is worthless after it — and sets its cookie. The
// session the browser held before, if any, is deleted.
func (p *Portal) startSession(w http.ResponseWriter, r *http.Request, user string, secondFactor time.Time, previous string) error {
	token, id, err := session.NewToken()
	if err != nil {
		return err
	}
	now := p.cfg.Now()
	s := session.Session{ID: id, User: user, CreatedAt: now, LastSeen: now, SecondFactorAt: secondFactor,
		Source: p.cfg.ClientAddr(r), UserAgent: truncate(r.UserAgent(), 256)}
	if err := p.cfg.Sessions.Save(r.Context(), s, p.cfg.SessionVerifier.StoreUntil(now)); err != nil {
		return err
	}
	if previous != "" {
		if err := p.cfg.Sessions.Delete(r.Context(), previous); err != nil {
			p.cfg.Logger.Warn("portal: the session before 2-step verification was not deleted; it ends at its timeout", "err", err)
		}
	}
	p.trimSessions(r.Context(), user)
	http.SetCookie(w, &http.Cookie{Name: p.cfg.CookieName, Value: token, Path: "/", HttpOnly: true, Secure: p.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(p.cfg.AbsoluteTimeout / time.Second)})
	return nil
}

// MaxSessionsPerUser bounds one user's sessions: signing in again and
// again (a script, an attacker with the password) would otherwise evict
// everyone else's sessions from a full memory store, or fill Redis.
const MaxSessionsPerUser = 20

// trimSessions ends a user's oldest sessions beyond MaxSessionsPerUser.
func (p *Portal) trimSessions(ctx context.Context, user string) {
	list, err := p.cfg.Sessions.List(ctx, user)
	if err != nil || len(list) <= MaxSessionsPerUser {
		return
	}
	for _, old := range list[MaxSessionsPerUser:] { // newest first
		if err := p.cfg.Sessions.Delete(ctx, old.ID); err != nil {
			return
		}
	}
}

// clearSession removes the session cookie.
func (p *Portal) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: p.cfg.CookieName, Value: "", Path: "/", HttpOnly: true, Secure: p.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
