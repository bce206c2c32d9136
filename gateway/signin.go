package gateway

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/reason"
)

// Portal is the sign-in portal the gateway serves under its prefix.
type Portal interface {
	http.Handler
	// Handles reports whether r is one of the portal's pages.
	Handles(r *http.Request) bool
}

// signInURL returns where to send a browser that route refused for lack
// of a usable session — the portal's sign-in page, or its 2-step page for
// a session without the second factor the route requires — with the
// original URL to return to; "" when the refusal is not one a sign-in
// fixes, the route takes no sessions, or the client is not a browser
// navigating (API clients get the 401 as before).
func (g *Gateway) signInURL(r *http.Request, d *authgate.Decision, route *policy.Route, original string) string {
	if g.cfg.Portal == nil || route == nil || !route.Accepts(authgate.MethodSession) || !wantsHTML(r) {
		return ""
	}
	page := "sign-in"
	switch d.Reason {
	case reason.CredentialsMissing:
	case reason.SessionUnknown, reason.SessionIdleTimeout, reason.SessionExpired, reason.SessionRevoked:
		return g.cfg.Prefix + page + "?rd=" + url.QueryEscape(original) + "&reason=" + string(d.Reason)
	case reason.SecondFactorRequired:
		if d.Method != authgate.MethodSession {
			return ""
		}
		page = "two-step"
	default:
		return ""
	}
	return g.cfg.Prefix + page + "?rd=" + url.QueryEscape(original)
}

// originalURL is the URL a client asked the proxy for.
func (g *Gateway) originalURL(r *http.Request) string {
	return g.scheme(r, "") + "://" + r.Host + r.URL.RequestURI()
}

// scheme is the client's scheme: https over TLS, else what a trusted
// proxy says in X-Forwarded-Proto (or forwarded, for forward-auth), else
// http.
func (g *Gateway) scheme(r *http.Request, forwarded string) string {
	if r.TLS != nil {
		return "https"
	}
	if g.trusted(peerAddr(r)) {
		p := forwarded
		if p == "" {
			p = r.Header.Get("X-Forwarded-Proto")
		}
		if p = strings.ToLower(strings.TrimSpace(p)); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// IsHTTPS reports whether the client's request came over HTTPS, as the
// portal needs for its cookies' Secure attribute.
func (g *Gateway) IsHTTPS(r *http.Request) bool { return g.scheme(r, "") == "https" }

// ClientAddr is the client's address after trusted proxies.
func (g *Gateway) ClientAddr(r *http.Request) netip.Addr { return g.clientAddr(r) }
