package portal

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/decision"
	"github.com/authgate/authgate/reason"
)

// maxForm bounds a posted form: a user name, a password, a code and two
// tokens fit many times over.
const maxForm = 16 << 10

// request is what the engine knows of a portal request.
func (p *Portal) request(r *http.Request) decision.Request {
	return decision.Request{ID: requestID(r), Host: r.Host, Path: r.URL.Path, HTTPMethod: r.Method,
		Source: p.cfg.ClientAddr(r), UserAgent: r.UserAgent()}
}

// signInPage shows the sign-in form. A browser sent here by a route says
// why in ?reason=; one already signed in goes straight on.
func (p *Portal) signInPage(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	target, ok, check := p.returnTarget(r, rd)
	data := pageData{Heading: "Sign in", Sub: "Use your account to continue.", CSRF: p.formToken(w, r), Return: rd}
	if !ok {
		d := p.cfg.Engine.Refuse(p.request(r), p.cfg.Route, check)
		e, status := p.refusal(d)
		data.Error, data.Return = e, ""
		p.render(w, status, "signin", data)
		return
	}
	if code := reason.Code(r.URL.Query().Get("reason")); reason.Known(code) && reason.Lookup(code).Category == "session" {
		data.Notice = reason.Lookup(code).Message + " Please sign in again."
	}
	if s, u, vd, err := p.session(r); err == nil && vd.Reason == "" && (!s.SecondFactorAt.IsZero() || !u.Enrolled() && !p.cfg.EnrollRequired) {
		redirect(w, r, target)
		return
	}
	p.render(w, http.StatusOK, "signin", data)
}

// signIn decides a posted password and, when it is right, starts a session
// and sends the browser on: to the 2-step page when the user has a second
// factor, to enrollment when one is required, else back where it came
// from.
func (p *Portal) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	rd := r.PostFormValue("rd")
	user := r.PostFormValue("user")
	data := pageData{Heading: "Sign in", Sub: "Use your account to continue.", CSRF: p.formToken(w, r), Return: rd, User: user}
	target, d := p.checkForm(r, rd)
	if d == nil {
		cred := authgate.Credential{Method: authgate.MethodBasic, Header: "sign-in form", Username: user, Secret: r.PostFormValue("password")}
		d = p.cfg.Engine.DecideCredential(r.Context(), p.request(r), p.cfg.Route, cred, nil)
		wait(r.Context(), d.Delay)
	}
	if !d.Allowed {
		var status int
		data.Error, status = p.refusal(d)
		if d.Reason == reason.RedirectNotAllowed {
			data.Return = ""
		}
		p.render(w, status, "signin", data)
		return
	}
	u, err := p.cfg.Users.User(r.Context(), d.Principal.Subject)
	if err != nil {
		p.unavailable(w, r, "signin", data, reason.StoreUnavailable, err)
		return
	}
	if err := p.startSession(w, r, u.Name, time.Time{}, ""); err != nil {
		p.unavailable(w, r, "signin", data, reason.SessionStoreUnavailable, err)
		return
	}
	switch {
	case u.Enrolled():
		redirect(w, r, p.withReturn("two-step", rd))
	case p.cfg.EnrollRequired || p.requires2FA(r, target):
		redirect(w, r, p.withReturn("enroll", rd))
	default:
		redirect(w, r, target)
	}
}

// checkForm checks a posted form's token and return address; a refusal
// is recorded and returned as a decision.
func (p *Portal) checkForm(r *http.Request, rd string) (string, *authgate.Decision) {
	if ok, c := p.formTokenOK(r); !ok {
		return "", p.cfg.Engine.Refuse(p.request(r), p.cfg.Route, c)
	}
	target, ok, c := p.returnTarget(r, rd)
	if !ok {
		return "", p.cfg.Engine.Refuse(p.request(r), p.cfg.Route, c)
	}
	return target, nil
}

// requires2FA reports whether the route a return address leads to
// requires 2-step verification.
func (p *Portal) requires2FA(r *http.Request, target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	host := u.Host
	if host == "" {
		host = r.Host
	}
	route := p.cfg.Engine.Routes.Match(host, u.Path)
	return route != nil && route.Require2FA
}

// unavailable renders a 503 page for a store that did not answer, and logs
// it with the request id.
func (p *Portal) unavailable(w http.ResponseWriter, r *http.Request, page string, data pageData, code reason.Code, err error) {
	p.cfg.Logger.Error("portal: a store did not answer", "page", page, "request_id", requestID(r), "reason", code, "err", err)
	data.Error, _ = formError(code, requestID(r))
	p.render(w, reason.Lookup(code).Status, page, data)
}

// wait holds the answer for d (a throttle delay), or until the client
// leaves.
func wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
