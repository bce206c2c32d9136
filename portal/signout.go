package portal

import (
	"net/http"

	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/session"
)

// account shows who is signed in, with the sign-out buttons.
func (p *Portal) account(w http.ResponseWriter, r *http.Request) {
	data := pageData{Heading: "Your account", CSRF: p.formToken(w, r)}
	s, u, vd, err := p.session(r)
	switch {
	case err != nil && err != errNoSession:
		p.unavailable(w, r, "account", data, reason.SessionStoreUnavailable, err)
		return
	case err == nil && vd.Reason == "":
		data.User, data.SecondFactor = u.Name, !s.SecondFactorAt.IsZero()
	}
	p.render(w, http.StatusOK, "account", data)
}

// signOut ends this browser's session. The session is deleted by its id,
// whatever state it is in; a store that cannot delete it is a 503 that
// keeps the cookie, so nobody believes a session ended that did not.
func (p *Portal) signOut(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if _, d := p.checkForm(r, ""); d != nil {
		e, status := p.refusal(d)
		p.render(w, status, "account", pageData{Heading: "Sign out", Error: e, CSRF: p.formToken(w, r)})
		return
	}
	if c, err := r.Cookie(p.cfg.CookieName); err == nil {
		if id, ok := session.ID(c.Value); ok {
			if err := p.cfg.Sessions.Delete(r.Context(), id); err != nil {
				p.unavailable(w, r, "account", pageData{Heading: "Sign out", CSRF: p.formToken(w, r)}, reason.SessionStoreUnavailable, err)
				return
			}
		}
	}
	p.clearSession(w, r)
	p.render(w, http.StatusOK, "account", pageData{Heading: "Signed out", Notice: "You are signed out.", CSRF: p.formToken(w, r)})
}

// signOutEverywhere ends every session of the signed-in user, on every
// gateway and device.
func (p *Portal) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	data := pageData{Heading: "Signed out everywhere", CSRF: p.formToken(w, r)}
	if _, d := p.checkForm(r, ""); d != nil {
		data.Heading = "Sign out"
		data.Error, _ = p.refusal(d)
		p.render(w, http.StatusForbidden, "account", data)
		return
	}
	_, u, vd, err := p.session(r)
	switch {
	case err != nil && err != errNoSession:
		p.unavailable(w, r, "account", data, reason.SessionStoreUnavailable, err)
		return
	case err != nil || vd.Reason != "":
		p.clearSession(w, r)
		data.Heading, data.Notice = "Sign out", "You were not signed in."
		p.render(w, http.StatusOK, "account", data)
		return
	}
	// The revocation in the user store ends every session of the user on
	// every gateway, whichever store holds it; each is refused as
	// session_revoked (not as an unknown session) and forgotten on its
	// next use, or at its timeout.
	if err := p.cfg.Accounts.RevokeSessions(r.Context(), u.Name); err != nil {
		p.unavailable(w, r, "account", data, reason.StoreUnavailable, err)
		return
	}
	p.clearSession(w, r)
	data.Notice = "Every session of " + u.Name + " has ended, on every device."
	p.render(w, http.StatusOK, "account", data)
}
