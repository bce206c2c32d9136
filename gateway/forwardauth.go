package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/decision"
	"github.com/authgate/authgate/reason"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth: 200 with identity headers, or the same refusal the proxy
// mode gives. It answers only trusted proxies, and decides the request
// they describe with X-Forwarded-Method, -Host and -Uri (Traefik, Caddy)
// or X-Original-Method, -URI and -URL (nginx).
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	req := decision.Request{
		ID: w.Header().Get("X-Request-Id"), Header: r.Header, Source: g.clientAddr(r), UserAgent: r.UserAgent(),
	}
	if peer := peerAddr(r); !g.trusted(peer) {
		req.Refuse = reason.ForwardAuthUntrusted
		req.RefuseCheck = authgate.Checkf("forward_auth.peer", authgate.Fail, "caller %s is not in trusted_proxies", peer)
	} else if o, problem := original(r); problem != "" {
		req.Refuse = reason.ForwardedConflict
		if o.missing {
			req.Refuse = reason.ForwardedMissing
		}
		req.RefuseCheck = authgate.Check{Name: "forward_auth.headers", Detail: problem}
	} else {
		req.Host, req.Path, req.RawPath, req.RawQuery, req.HTTPMethod = o.host, o.path, o.rawPath, o.query, o.method
	}
	d, route := g.cfg.Engine.Decide(r.Context(), req)
	if !d.Allowed {
		if req.Refuse == "" {
			orig := g.scheme(r, r.Header.Get("X-Forwarded-Proto")) + "://" + req.Host + req.RawPath
			if req.RawQuery != "" {
				orig += "?" + req.RawQuery
			}
			if to := g.signInURL(r, d, route, orig); to != "" {
				// nginx's auth_request passes on only 401 and 403, so the
				// proxy redirects (error_page 401) to the URL this header
				// names; Traefik and Caddy pass a redirect on as it is,
				// so ?redirect=1 on the verify URL answers one.
				w.Header().Set("X-Authgate-Sign-In", to)
				if r.URL.Query().Get("redirect") == "1" {
					w.Header().Set("Cache-Control", "no-store")
					http.Redirect(w, r, to, http.StatusFound)
					return
				}
			}
		}
		g.refuse(w, r, d, route)
		return
	}
	setIdentity(w.Header(), g.cfg.IdentityHeaders, d.Principal)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// originalRequest is the request a forward-auth caller asks about.
type originalRequest struct {
	host, path, rawPath, query, method string
	missing                            bool // no header names the URI
}

// original reads the original request from the forwarded headers. Proxies
// differ in which headers they set, and a client can add the ones its proxy
// does not; so when two headers describe the same thing differently, the
// answer is a conflict, never a choice between them.
func original(r *http.Request) (originalRequest, string) {
	var o originalRequest
	uri, bad := agree(r.Header, "X-Forwarded-Uri", "X-Original-Uri")
	if bad != "" {
		return o, bad
	}
	host, bad := agree(r.Header, "X-Forwarded-Host")
	if bad != "" {
		return o, bad
	}
	method, bad := agree(r.Header, "X-Forwarded-Method", "X-Original-Method")
	if bad != "" {
		return o, bad
	}
	if full, bad := agree(r.Header, "X-Original-Url"); bad != "" {
		return o, bad
	} else if u, err := url.Parse(full); full != "" && err == nil && u.IsAbs() {
		switch {
		case uri != "" && uri != u.RequestURI():
			return o, "X-Original-URL names path " + u.RequestURI() + " but the URI header says " + uri
		case host != "" && !strings.EqualFold(host, u.Host):
			return o, "X-Original-URL names host " + u.Host + " but X-Forwarded-Host says " + host
		}
		uri, host = u.RequestURI(), u.Host
	}
	if uri == "" {
		o.missing = true
		return o, "no X-Forwarded-Uri, X-Original-URI or X-Original-URL header says which request to decide"
	}
	o.host = first(host, r.Host)
	o.method = first(method, r.Method)
	o.rawPath, o.query, _ = strings.Cut(uri, "?")
	o.path = o.rawPath
	if p, err := url.PathUnescape(o.rawPath); err == nil {
		o.path = p
	}
	return o, ""
}

// agree returns the one value the named headers carry, or a description of
// how they disagree.
func agree(h http.Header, names ...string) (value, conflict string) {
	from := ""
	for _, n := range names {
		for _, v := range h.Values(n) {
			switch {
			case value == "":
				value, from = v, n
			case v != value:
				return "", n + " says " + quoteShort(v) + " but " + from + " says " + quoteShort(value)
			}
		}
	}
	return value, ""
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
