package gateway

import (
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/decision"
	"github.com/authgate/authgate/reason"
)

// proxy decides a request and, when allowed, forwards it to the route's
// upstream.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request) {
	id := requestID(r, g.trusted(peerAddr(r)))
	w.Header().Set("X-Request-Id", id)
	d, route := g.cfg.Engine.Decide(r.Context(), decision.Request{
		ID: id, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, HTTPMethod: r.Method,
		Header: r.Header, Source: g.clientAddr(r), UserAgent: r.UserAgent(),
	})
	if !d.Allowed {
		g.refuse(w, r, d, route)
		return
	}
	p := g.proxies[route.Name]
	if p == nil {
		g.writeRefusal(w, r, d, route, reason.Lookup(reason.UpstreamUnavailable), "route "+route.Name+" has no upstream; it serves forward-auth only")
		return
	}
	g.prepareUpstreamHeaders(r.Header, d, g.cfg.Targets[route.Name].ForwardCredentials)
	r.Header.Set("X-Request-Id", id)
	p.ServeHTTP(w, r)
}

// prepareUpstreamHeaders removes whatever identity headers the client sent,
// sets the verified ones, and drops the credentials unless the route
// forwards them.
func (g *Gateway) prepareUpstreamHeaders(h http.Header, d *authgate.Decision, forwardCredentials bool) {
	for name := range h {
		if strings.HasPrefix(name, "X-Authgate-") {
			delete(h, name)
		}
	}
	ih := g.cfg.IdentityHeaders
	h.Del(ih.Subject)
	h.Del(ih.Method)
	h.Del(ih.Scopes)
	if !forwardCredentials {
		h.Del("Authorization")
		h.Del(g.cfg.APIKeyHeader)
	}
	setIdentity(h, ih, d.Principal)
}

// setIdentity sets every identity header, the scopes one even when empty:
// forward-auth proxies copy only the headers present in our answer, so a
// header we left out could be one the client sent itself.
func setIdentity(h http.Header, ih IdentityHeaders, p *authgate.Principal) {
	h.Set(ih.Subject, headerSafe(p.Subject))
	h.Set(ih.Method, string(p.Method))
	h.Set(ih.Scopes, headerSafe(strings.Join(p.Scopes, " ")))
}

// headerSafe drops control characters, which a token's claims may hold but
// a header value may not.
func headerSafe(s string) string {
	if strings.IndexFunc(s, isCtl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) {
			return -1
		}
		return r
	}, s)
}

func isCtl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// newProxy builds the reverse proxy of one route.
func (g *Gateway) newProxy(t RouteTarget) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(t.Upstream)
			if !g.trusted(peerAddr(pr.In)) {
				pr.SetXForwarded()
				return
			}
			// A trusted proxy in front of us: extend its chain, keep what it
			// said about the original host and scheme.
			if v := pr.In.Header["X-Forwarded-For"]; len(v) > 0 {
				pr.Out.Header["X-Forwarded-For"] = v
			}
			pr.SetXForwarded()
			for _, k := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
				if v := pr.In.Header.Get(k); v != "" {
					pr.Out.Header.Set(k, v)
				}
			}
		},
		Transport: g.cfg.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.cfg.Logger.Warn("upstream request failed", "request_id", r.Header.Get("X-Request-Id"), "upstream", t.Upstream.Redacted(), "error", err)
			d := &authgate.Decision{RequestID: r.Header.Get("X-Request-Id"), Reason: reason.UpstreamUnavailable}
			g.writeRefusal(w, r, d, nil, reason.Lookup(reason.UpstreamUnavailable), "")
		},
	}
}
