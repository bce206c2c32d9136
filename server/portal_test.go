package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/session"
)

// TestPortalSignInEnrollAndTwoStep walks a browser through the portal the
// way a person does, one hop at a time, through real HTTP: sent to sign in,
// a wrong password, the right one, enrollment of an authenticator app, the
// protected page; then a second sign-in with codes that are wrong in each
// of the ways people get them wrong, and sign-out.
func TestPortalSignInEnrollAndTwoStep(t *testing.T) {
	h := newHarness(t)
	h.addUser("carol", "Carol-Pass-1", "read")
	b := newBrowser(t, h, "203.0.113.50")
	target := "http://app.test/secure/report?q=1"
	var secret []byte

	t.Run("a browser without a session is sent to the sign-in page, with where it was going", func(t *testing.T) {
		p := b.get("/secure/report?q=1")
		wantPage(t, p, 303, "", "/.authgate/sign-in?rd="+url.QueryEscape(target))
		wantLogged(t, h, p.id, reason.CredentialsMissing)
	})
	t.Run("an API client on the same route gets the 401 with a challenge naming the sign-in page", func(t *testing.T) {
		p := b.api("/secure/report")
		if p.status != 401 || p.reason != reason.CredentialsMissing || !strings.Contains(p.header.Get("Www-Authenticate"), `sign_in="/.authgate/sign-in"`) {
			t.Fatalf("%d %s %q", p.status, p.reason, p.header.Get("Www-Authenticate"))
		}
	})
	t.Run("a wrong password shows the public message and the request id; the log has the precise reason", func(t *testing.T) {
		p := b.signIn(target, "carol", "wrong")
		wantPage(t, p, 401, reason.InvalidCredentials, "")
		if !strings.Contains(p.body, p.id) || !strings.Contains(p.body, "The user name or password is not correct.") {
			t.Errorf("the page does not show the message and request id %s:\n%.600s", p.id, p.body)
		}
		wantLogged(t, h, p.id, reason.PasswordWrong)
		if d := lookup(t, h, p.id); d.Route != "portal" {
			t.Errorf("the decision's route is %q, want portal", d.Route)
		}
	})
	t.Run("a form posted without its token is refused", func(t *testing.T) {
		p := b.post("/.authgate/sign-in", url.Values{"user": {"carol"}, "password": {"Carol-Pass-1"}, "rd": {target}})
		wantPage(t, p, 403, reason.FormTokenInvalid, "")
		wantLogged(t, h, p.id, reason.FormTokenInvalid)
	})
	t.Run("a return address on another site is an open redirect and is refused", func(t *testing.T) {
		for _, rd := range []string{"http://evil.test/", "//evil.test/x", "javascript:alert(1)", "http://app.test@evil.test/", "/\\evil.test"} {
			f := b.form("/.authgate/sign-in", "user", "carol", "password", "Carol-Pass-1")
			f.Set("rd", rd)
			p := b.post("/.authgate/sign-in", f)
			wantPage(t, p, 400, reason.RedirectNotAllowed, "")
			wantLogged(t, h, p.id, reason.RedirectNotAllowed)
		}
	})
	t.Run("the right password starts a session and, as the route requires 2-step, goes to enrollment", func(t *testing.T) {
		p := b.signIn(target, "carol", "Carol-Pass-1")
		wantPage(t, p, 303, "", "/.authgate/enroll?rd=")
		c := p.header.Get("Set-Cookie")
		if !strings.Contains(c, "authgate_session=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
			t.Errorf("session cookie %q lacks HttpOnly or SameSite", c)
		}
	})
	t.Run("with the password only, the protected page sends the browser to the 2-step page", func(t *testing.T) {
		p := b.get("/secure/report?q=1")
		wantPage(t, p, 303, "", "/.authgate/two-step?rd=")
		wantLogged(t, h, p.id, reason.SecondFactorRequired)
		if q := b.get(p.location); q.status != 303 || !strings.HasPrefix(q.location, "/.authgate/enroll") {
			t.Errorf("the 2-step page of a user without an app: %d → %q, want enrollment", q.status, q.location)
		}
	})
	t.Run("a page without 2-step needs only the password", func(t *testing.T) {
		if p := b.get("/home"); p.status != 200 {
			t.Fatalf("%d %s", p.status, p.reason)
		}
	})
	t.Run("enrollment shows a QR code and the key; a wrong code is refused", func(t *testing.T) {
		path := "/.authgate/enroll?rd=" + url.QueryEscape(target)
		p := b.get(path)
		if p.status != 200 || !strings.Contains(p.body, `src="data:image/png;base64,`) {
			t.Fatalf("%d; no QR image:\n%.400s", p.status, p.body)
		}
		secret = secretOf(t, p.body)
		f := b.form(path, "code", "000000")
		f.Set("pending", pendingFld.FindStringSubmatch(p.body)[1])
		if codeAt(t, secret, h.now()) == "000000" {
			t.Skip("the current code happens to be 000000")
		}
		q := b.post("/.authgate/enroll", f)
		wantPage(t, q, 401, reason.CodeWrong, "")
		wantLogged(t, h, q.id, reason.CodeWrong)
	})
	t.Run("the right code turns 2-step on, shows recovery codes once, and continues to the page", func(t *testing.T) {
		path := "/.authgate/enroll?rd=" + url.QueryEscape(target)
		p := b.get(path)
		secret = secretOf(t, p.body)
		f := b.form(path, "code", codeAt(t, secret, h.now()))
		f.Set("pending", pendingFld.FindStringSubmatch(p.body)[1])
		q := b.post("/.authgate/enroll", f)
		if q.status != 200 || len(recoveryLis.FindAllString(q.body, -1)) != 10 {
			t.Fatalf("%d %s; want 10 recovery codes:\n%.600s", q.status, q.reason, q.body)
		}
		u, err := h.srv.Store().User(context.Background(), "carol")
		if err != nil || !u.Enrolled() || len(u.RecoveryCodes) != 10 {
			t.Fatalf("the store holds %+v, %v; want carol enrolled with 10 recovery codes", u.TOTPEnrolledAt, err)
		}
		r := b.get("/.authgate/continue?rd=" + url.QueryEscape(target))
		wantPage(t, r, 303, "", target)
		s := b.get("/secure/report?q=1")
		if s.status != 200 {
			t.Fatalf("the protected page after enrollment: %d %s", s.status, s.reason)
		}
		got := upstreamHeaders(t, []byte(s.body))
		if got.Get("X-Authgate-Subject") != "carol" || strings.Contains(got.Get("Cookie"), "authgate_session") {
			t.Errorf("upstream saw subject %q and cookie %q; want carol and no session cookie", got.Get("X-Authgate-Subject"), got.Get("Cookie"))
		}
	})
	t.Run("sign-out ends the session", func(t *testing.T) {
		f := b.form("/.authgate/account")
		p := b.post("/.authgate/sign-out", f)
		if p.status != 200 || !strings.Contains(p.body, "You are signed out.") {
			t.Fatalf("%d:\n%.300s", p.status, p.body)
		}
		wantPage(t, b.get("/secure/report?q=1"), 303, "", "/.authgate/sign-in")
	})

	// A second sign-in, from another address (the first one has sent the
	// harness's small address limit of wrong passwords and codes): the
	// user now has an app.
	b.from = "203.0.113.53"
	h.advance(30 * time.Second) // the enrollment's code is used up, like any other
	codePage := func(t *testing.T) string {
		t.Helper()
		wantPage(t, b.signIn(target, "carol", "Carol-Pass-1"), 303, "", "/.authgate/two-step?rd=")
		return "/.authgate/two-step?rd=" + url.QueryEscape(target)
	}
	t.Run("a code of three minutes later is refused, and the page says the device clock is 3 minutes fast", func(t *testing.T) {
		path := codePage(t)
		p := b.post("/.authgate/two-step", b.form(path, "code", codeAt(t, secret, h.now().Add(3*time.Minute))))
		wantPage(t, p, 401, reason.CodeClockSkew, "")
		if !strings.Contains(p.body, "3 minutes fast") {
			t.Errorf("the page does not estimate the skew:\n%.600s", p.body)
		}
		if d := lookup(t, h, p.id); d.ClockSkew != 3*time.Minute {
			t.Errorf("logged skew %v, want 3m", d.ClockSkew)
		}
	})
	t.Run("a code of 90 seconds ago has expired", func(t *testing.T) {
		p := b.post("/.authgate/two-step", b.form(codePage(t), "code", codeAt(t, secret, h.now().Add(-90*time.Second))))
		wantPage(t, p, 401, reason.CodeExpired, "")
	})
	t.Run("letters are not a code", func(t *testing.T) {
		p := b.post("/.authgate/two-step", b.form(codePage(t), "code", "abc"))
		wantPage(t, p, 400, reason.CodeMalformed, "")
	})
	t.Run("the right code opens the page; the same code again is refused as used", func(t *testing.T) {
		code := codeAt(t, secret, h.now())
		b.from = "203.0.113.54" // three wrong codes locked carol from .53 (pair limit 3)
		p := b.post("/.authgate/two-step", b.form(codePage(t), "code", code))
		wantPage(t, p, 303, "", target)
		if s := b.get("/secure/report?q=1"); s.status != 200 {
			t.Fatalf("after the code: %d %s", s.status, s.reason)
		}
		other := newBrowser(t, h, "203.0.113.51")
		wantPage(t, other.signIn(target, "carol", "Carol-Pass-1"), 303, "", "/.authgate/two-step")
		q := other.post("/.authgate/two-step", other.form("/.authgate/two-step?rd="+url.QueryEscape(target), "code", code))
		wantPage(t, q, 401, reason.CodeReused, "")
		wantLogged(t, h, q.id, reason.CodeReused)
	})
	t.Run("metrics count the portal's decisions under route portal", func(t *testing.T) {
		_, body := h.admin(t, "/metrics", adminToken)
		for _, want := range []string{`method="totp",outcome="deny",reason="code_clock_skew",route="portal"`, `method="basic",outcome="allow",reason="",route="portal"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("with 2-step on, the password alone (Basic) is refused on every route", func(t *testing.T) {
		resp, _ := h.do("GET", "/v/x", basic("carol", "Carol-Pass-1"))
		if resp.StatusCode != 401 || resp.Header.Get("X-Authgate-Reason") != string(reason.SecondFactorRequired) {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("X-Authgate-Reason"))
		}
		wantLogged(t, h, resp.Header.Get("X-Request-Id"), reason.SecondFactorRequired)
	})
	t.Run("a locked source's sign-in page says when to try again, with Retry-After", func(t *testing.T) {
		locked := newBrowser(t, h, "203.0.113.60")
		for i := range 3 {
			locked.signIn(target, "carol", "wrong-"+string(rune('a'+i)))
		}
		p := locked.signIn(target, "carol", "Carol-Pass-1")
		if p.status != 429 || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Try again in") {
			t.Fatalf("%d retry-after %q:\n%.500s", p.status, p.header.Get("Retry-After"), p.body)
		}
	})
	t.Run("an enrolled user's session without the code is refused second_factor_required to an API client", func(t *testing.T) {
		other := newBrowser(t, h, "203.0.113.52")
		other.signIn(target, "carol", "Carol-Pass-1")
		p := other.api("/home")
		if p.status != 401 || p.reason != reason.SecondFactorRequired {
			t.Fatalf("%d %s", p.status, p.reason)
		}
	})
}

// TestPortalSessionsEnd checks every way a session ends, as a browser (sent
// to sign in again, told why) and as an API client (the 401).
func TestPortalSessionsEnd(t *testing.T) {
	h := newHarness(t)
	h.addUser("dave", "Dave-Pass-1")
	signedIn := func(t *testing.T, from string) *browser {
		t.Helper()
		b := newBrowser(t, h, from)
		wantPage(t, b.signIn("http://app.test/home", "dave", "Dave-Pass-1"), 303, "", "http://app.test/home")
		if p := b.get("/home"); p.status != 200 {
			t.Fatalf("signed in, /home is %d %s", p.status, p.reason)
		}
		return b
	}
	t.Run("a cookie that names no session is session_unknown; the browser is sent to sign in", func(t *testing.T) {
		b := newBrowser(t, h, "198.51.100.60")
		b.cookie = "authgate_session=" + strings.Repeat("A", 43)
		p := b.get("/home")
		wantPage(t, p, 303, "", "/.authgate/sign-in?rd=")
		if !strings.Contains(p.location, "reason=session_unknown") {
			t.Errorf("the sign-in URL %q does not say why", p.location)
		}
		wantLogged(t, h, p.id, reason.SessionUnknown)
		if q := b.get(p.location); !strings.Contains(q.body, "Please sign in again") {
			t.Errorf("the sign-in page does not say the session ended:\n%.400s", q.body)
		}
		if q := b.api("/home"); q.status != 401 || q.reason != reason.SessionUnknown {
			t.Errorf("API client: %d %s", q.status, q.reason)
		}
	})
	t.Run("a session unused for longer than the idle timeout ends", func(t *testing.T) {
		b := signedIn(t, "198.51.100.61")
		h.advance(31 * time.Minute)
		p := b.api("/home")
		if p.status != 401 || p.reason != reason.SessionIdleTimeout {
			t.Fatalf("%d %s", p.status, p.reason)
		}
		wantLogged(t, h, p.id, reason.SessionIdleTimeout)
	})
	t.Run("an active session still ends at the absolute timeout", func(t *testing.T) {
		b := signedIn(t, "198.51.100.62")
		for range 12 * 3 {
			h.advance(20 * time.Minute)
			if p := b.api("/home"); p.status != 200 {
				if p.reason != reason.SessionExpired {
					t.Fatalf("%d %s", p.status, p.reason)
				}
				wantLogged(t, h, p.id, reason.SessionExpired)
				return
			}
		}
		t.Fatal("the session never expired")
	})
	t.Run("a password change ends the user's sessions", func(t *testing.T) {
		b := signedIn(t, "198.51.100.63")
		h.advance(time.Second)
		h.addUser("dave", "Dave-Pass-2")
		p := b.api("/home")
		if p.status != 401 || p.reason != reason.SessionRevoked {
			t.Fatalf("%d %s", p.status, p.reason)
		}
		wantLogged(t, h, p.id, reason.SessionRevoked)
	})
	t.Run("sign-out everywhere ends the sessions of every device", func(t *testing.T) {
		phone, laptop := signedInAs(t, h, "198.51.100.64", "dave", "Dave-Pass-2"), signedInAs(t, h, "198.51.100.65", "dave", "Dave-Pass-2")
		h.advance(time.Second)
		p := laptop.post("/.authgate/sign-out-everywhere", laptop.form("/.authgate/account"))
		if p.status != 200 || !strings.Contains(p.body, "on every device") {
			t.Fatalf("%d:\n%.300s", p.status, p.body)
		}
		q := phone.get("/home")
		wantPage(t, q, 303, "", "/.authgate/sign-in")
		wantLogged(t, h, q.id, reason.SessionRevoked)
	})
}

func signedInAs(t *testing.T, h *harness, from, user, password string) *browser {
	t.Helper()
	b := newBrowser(t, h, from)
	wantPage(t, b.signIn("http://app.test/home", user, password), 303, "", "http://app.test/home")
	return b
}

// TestPortalSessionStoreDown checks that a session store that does not
// answer is a 503 that blames the gateway — for a browser signing in and
// for a request carrying a session — never a sign-out.
func TestPortalSessionStoreDown(t *testing.T) {
	h := newHarnessWith(t, "sessions: {store: redis}\nredis: {address: \"127.0.0.1:1\", timeout: 100ms}\n")
	h.addUser("erin", "Erin-Pass-1")
	b := newBrowser(t, h, "198.51.100.70")
	p := b.signIn("http://app.test/home", "erin", "Erin-Pass-1")
	wantPage(t, p, 503, reason.SessionStoreUnavailable, "")
	if !strings.Contains(p.body, p.id) {
		t.Errorf("the page does not give the request id %s", p.id)
	}
	token, _, _ := session.NewToken()
	b.cookie = "authgate_session=" + token
	q := b.api("/home")
	if q.status != 503 || q.reason != reason.SessionStoreUnavailable || q.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s retry-after %q", q.status, q.reason, q.header.Get("Retry-After"))
	}
	wantLogged(t, h, q.id, reason.SessionStoreUnavailable)

	out := b.post("/.authgate/sign-out", b.form("/.authgate/sign-in"))
	if out.status != 503 || out.reason != reason.SessionStoreUnavailable || strings.Contains(out.header.Get("Set-Cookie"), "authgate_session=;") {
		t.Errorf("sign-out with the store down: %d %s, cookie %q; want 503 that keeps the cookie", out.status, out.reason, out.header.Get("Set-Cookie"))
	}
}

// TestPortalEnrollRequired: with two_factor.enroll: required, a session that
// skipped the enrollment page is not taken by any route.
func TestPortalEnrollRequired(t *testing.T) {
	h := newHarnessWith(t, "two_factor: {enroll: required}\n")
	h.addUser("fay", "Fay-Pass-1")
	b := newBrowser(t, h, "198.51.100.80")
	wantPage(t, b.signIn("http://app.test/home", "fay", "Fay-Pass-1"), 303, "", "/.authgate/enroll?rd=")
	p := b.api("/home")
	if p.status != 401 || p.reason != reason.SecondFactorRequired {
		t.Fatalf("a route without require_2fa took a session that skipped enrollment: %d %s", p.status, p.reason)
	}
	wantLogged(t, h, p.id, reason.SecondFactorRequired)
	wantPage(t, b.get("/home"), 303, "", "/.authgate/two-step?rd=")
	if q := b.get("/.authgate/sign-in?rd=" + url.QueryEscape("http://app.test/home")); q.status != 200 {
		t.Errorf("the sign-in page sent a session without 2-step on: %d → %s", q.status, q.location)
	}
}
