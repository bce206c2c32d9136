package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// formCookie holds the random value every form token is bound to: a
// double-submit token, so that another site cannot post the portal's
// forms (login CSRF included) without reading this cookie.
const formCookie = "authgate_form"

// formToken returns the token the forms of r carry, setting the form
// cookie when r has none.
func (p *Portal) formToken(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 43 {
		v = c.Value
	} else {
		var b [32]byte
		rand.Read(b[:])
		v = base64.RawURLEncoding.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{Name: formCookie, Value: v, Path: p.cfg.Prefix, HttpOnly: true,
			Secure: p.secure(r), SameSite: http.SameSiteStrictMode})
	}
	return p.sign(v)
}

// sign binds a form cookie value to the gateway's key.
func (p *Portal) sign(v string) string {
	m := hmac.New(sha256.New, p.cfg.Key)
	m.Write([]byte("authgate form token v1\x00"))
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formTokenOK reports whether a posted form carries the token of its
// cookie, with a trace check either way.
func (p *Portal) formTokenOK(r *http.Request) (bool, authgate.Check) {
	c, err := r.Cookie(formCookie)
	switch {
	case err != nil:
		return false, authgate.Check{Name: "portal.form", Result: authgate.Fail, Reason: reason.FormTokenInvalid,
			Detail: "no form cookie: cookies are blocked, or the form was posted from another site"}
	case !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(p.sign(c.Value))):
		return false, authgate.Check{Name: "portal.form", Result: authgate.Fail, Reason: reason.FormTokenInvalid,
			Detail: "the form's token does not match its cookie: the form came from another page or site"}
	}
	return true, authgate.Check{Name: "portal.form", Result: authgate.Pass, Detail: "form token matches its cookie"}
}

// returnTarget checks where a sign-in may send the browser afterwards:
// a path on this host, or an absolute http(s) URL on the portal's own host
// or an allowed host. Anything else — another site, a scheme-relative
// //evil.example, a javascript: URL, credentials in the URL — is an open
// redirect attempt. An empty target is the portal's account page.
func (p *Portal) returnTarget(r *http.Request, rd string) (string, bool, authgate.Check) {
	if rd == "" {
		return p.cfg.Prefix + "account", true, authgate.Check{Name: "portal.return", Result: authgate.Skip, Detail: "no return address; the account page"}
	}
	fail := func(why string) (string, bool, authgate.Check) {
		return "", false, authgate.Check{Name: "portal.return", Result: authgate.Fail, Reason: reason.RedirectNotAllowed,
			Detail: why + ": " + truncate(rd, 200)}
	}
	if len(rd) > 2048 || strings.ContainsAny(rd, "\\\x00\r\n\t") {
		return fail("the return address is too long or holds a backslash or control character")
	}
	u, err := url.Parse(rd)
	switch {
	case err != nil:
		return fail("the return address is not a URL")
	case u.User != nil:
		return fail("the return address holds a user name or password")
	case strings.HasPrefix(u.Path, "//") || strings.ContainsAny(u.Path, "\\\x00\r\n\t"):
		// /%2F/evil.example decodes to //evil.example: an app behind
		// forward-auth that redirects to its decoded path would leave the
		// site.
		return fail("the return address's path decodes to a scheme-relative URL, a backslash or a control character")
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(rd, "//"):
		return rd, true, authgate.Check{Name: "portal.return", Result: authgate.Pass, Detail: "a path on this host: " + truncate(rd, 200)}
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fail("the return address is neither a path nor an http(s) URL")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if strings.EqualFold(u.Host, r.Host) || hostAllowed(host, p.cfg.AllowedHosts) {
		return u.String(), true, authgate.Check{Name: "portal.return", Result: authgate.Pass, Detail: "host " + host + " is allowed"}
	}
	return fail("host " + host + " is not in portal.allowed_hosts")
}

// hostAllowed reports whether host matches one of the allowed names or
// "*.suffix" wildcards.
func hostAllowed(host string, allowed []string) bool {
	for _, a := range allowed {
		if a == host || strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]) && len(host) > len(a)-1 {
			return true
		}
	}
	return false
}

// secure reports whether cookies for r get the Secure attribute.
func (p *Portal) secure(r *http.Request) bool {
	switch p.cfg.SecureCookies {
	case "always":
		return true
	case "never":
		return false
	}
	return p.cfg.IsHTTPS(r)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
