package gateway

import (
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"

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
		ID: id, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, HTTPMethod: r.Method,
		Header: r.Header, Source: g.clientAddr(r), UserAgent: r.UserAgent(),
	})
	if !d.Allowed {
		if to := g.signInURL(r, d, route, g.originalURL(r)); to != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
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

// prepareUpstreamHeaders removes whatever identity headers the client sent
// — in any spelling a server might fold into the same name, such as
// X_Authgate_Subject — sets the verified ones, and drops the credentials
// unless the route forwards them. The reverse proxy copies the identity
// headers again after removing hop-by-hop headers (see newProxy), so a
// client's "Connection: X-Authgate-Subject" cannot strip them.
func (g *Gateway) prepareUpstreamHeaders(h http.Header, d *authgate.Decision, forwardCredentials bool) {
	ih := g.cfg.IdentityHeaders
	reserved := ih.names()
	for name := range h {
		folded := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if strings.HasPrefix(folded, "x-authgate-") || strings.Contains(name, "_") && matchesAny(folded, reserved[:]) {
			delete(h, name)
		}
	}
	for _, n := range reserved {
		h.Del(n)
	}
	if !forwardCredentials {
		h.Del("Authorization")
		h.Del(g.cfg.APIKeyHeader)
		if g.cfg.SessionCookie != "" {
			removeCookie(h, g.cfg.SessionCookie)
		}
	}
	setIdentity(h, ih, d.Principal)
}

func matchesAny(folded string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(folded, n) {
			return true
		}
	}
	return false
}

// setIdentity sets every identity header, even when empty: forward-auth
// proxies copy only the headers present in our answer, so a header we left
// out could be one the client sent itself.
func setIdentity(h http.Header, ih IdentityHeaders, p *authgate.Principal) {
	h.Set(ih.Subject, headerSafe(p.Subject))
	h.Set(ih.Method, string(p.Method))
	h.Set(ih.Scopes, headerSafe(strings.Join(p.Scopes, " ")))
	h.Set(ih.Issuer, headerSafe(p.Issuer))
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

// copyBuffers lends every route's proxy the 32 KiB buffers it copies
// response bodies through. Without a pool, ReverseProxy allocates and
// zeroes one per response: a few percent of the gateway's CPU in proxy
// mode, and garbage the collector then has to sweep.
var copyBuffers httputil.BufferPool = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// newProxy builds the reverse proxy of one route.
func (g *Gateway) newProxy(t RouteTarget) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(t.Upstream)
			// Hop-by-hop headers, and any header the client listed in
			// Connection, are gone from Out by now; restore ours.
			for _, n := range g.restored {
				pr.Out.Header[n] = pr.In.Header[n]
			}
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
		Transport:  g.cfg.Transport,
		BufferPool: copyBuffers,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.cfg.Logger.Warn("upstream request failed", "request_id", r.Header.Get("X-Request-Id"), "upstream", t.Upstream.Redacted(), "error", err)
			d := &authgate.Decision{RequestID: r.Header.Get("X-Request-Id"), Reason: reason.UpstreamUnavailable}
			g.writeRefusal(w, r, d, nil, reason.Lookup(reason.UpstreamUnavailable), "")
		},
	}
}

// removeCookie drops the cookie called name from h's Cookie headers, so
// that a session token never reaches the upstream.
func removeCookie(h http.Header, name string) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			p := strings.TrimSpace(part)
			if n, _, _ := strings.Cut(p, "="); n != name && p != "" {
				kept = append(kept, p)
			}
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}
