package portal

import (
	"net/http"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// passwordSession returns the session of a browser that passed the
// password step, or sends it to the sign-in page (saying why) and returns
// false.
func (p *Portal) passwordSession(w http.ResponseWriter, r *http.Request, rd string) (sessionState, bool) {
	s, u, vd, err := p.session(r)
	switch {
	case err == errNoSession:
		redirect(w, r, p.withReturn("sign-in", rd))
		return sessionState{}, false
	case err != nil:
		data := pageData{Heading: "Sign in", Return: rd, CSRF: p.formToken(w, r)}
		p.unavailable(w, r, "signin", data, reason.SessionStoreUnavailable, err)
		return sessionState{}, false
	case vd.Reason != "":
		redirect(w, r, p.withReturn("sign-in", rd)+sep(rd)+"reason="+string(vd.Reason))
		return sessionState{}, false
	}
	return sessionState{id: s.ID, user: u, secondFactor: !s.SecondFactorAt.IsZero()}, true
}

// sessionState is what the 2-step and enrollment pages need of a session.
type sessionState struct {
	id           string
	user         authgate.User
	secondFactor bool
}

// twoStepPage asks for the code of an enrolled user's app.
func (p *Portal) twoStepPage(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	st, ok := p.passwordSession(w, r, rd)
	if !ok {
		return
	}
	target, ok, _ := p.returnTarget(r, rd)
	switch {
	case !st.user.Enrolled():
		redirect(w, r, p.withReturn("enroll", rd))
	case st.secondFactor && ok:
		redirect(w, r, target)
	default:
		p.render(w, http.StatusOK, "twostep", pageData{Heading: "2-step verification", Sub: "One more step to protect your account.",
			CSRF: p.formToken(w, r), Return: rd, User: st.user.Name})
	}
}

// twoStep decides a posted code; a right one makes a new session that
// carries the second factor.
func (p *Portal) twoStep(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	rd := r.PostFormValue("rd")
	st, ok := p.passwordSession(w, r, rd)
	if !ok {
		return
	}
	data := pageData{Heading: "2-step verification", Sub: "One more step to protect your account.", CSRF: p.formToken(w, r), Return: rd, User: st.user.Name}
	target, d := p.checkForm(r, rd)
	if d == nil {
		cred := authgate.Credential{Method: authgate.MethodTOTP, Header: "2-step form", Username: st.user.Name, Secret: r.PostFormValue("code")}
		d = p.cfg.Engine.DecideCredential(r.Context(), p.request(r), p.cfg.Route, cred, p.cfg.TwoStep)
		wait(r.Context(), d.Delay)
	}
	if !d.Allowed {
		var status int
		data.Error, status = p.refusal(d)
		p.render(w, status, "twostep", data)
		return
	}
	if err := p.startSession(w, r, st.user.Name, p.cfg.Now(), st.id); err != nil {
		p.unavailable(w, r, "twostep", data, reason.SessionStoreUnavailable, err)
		return
	}
	redirect(w, r, target)
}

// continueTo sends the browser to its return address once it has read its
// recovery codes.
func (p *Portal) continueTo(w http.ResponseWriter, r *http.Request) {
	target, ok, check := p.returnTarget(r, r.URL.Query().Get("rd"))
	if !ok {
		d := p.cfg.Engine.Refuse(p.request(r), p.cfg.Route, check)
		e, status := p.refusal(d)
		p.render(w, status, "account", pageData{Heading: "Signed in", Error: e})
		return
	}
	redirect(w, r, target)
}

// sep is the separator before another query parameter of withReturn's URL.
func sep(rd string) string {
	if rd == "" {
		return "?"
	}
	return "&"
}
