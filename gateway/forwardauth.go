package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/decision"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth: 200 with identity headers, or the same refusal the proxy
// mode gives. The original request is described by X-Forwarded-Method,
// -Host and -Uri (Traefik, Caddy) or X-Original-Method and -URI (nginx).
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	id := w.Header().Get("X-Request-Id")
	host := first(r.Header.Get("X-Forwarded-Host"), r.Host)
	uri := first(r.Header.Get("X-Forwarded-Uri"), r.Header.Get("X-Original-Uri"), r.Header.Get("X-Original-Url"), "/")
	path, query := splitURI(uri)
	if u, err := url.Parse(uri); err == nil && u.IsAbs() {
		host, path, query = u.Host, u.Path, u.RawQuery
	}
	req := decision.Request{
		ID: id, Host: host, Path: path, RawQuery: query,
		HTTPMethod: first(r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Original-Method"), r.Method),
		Header:     r.Header, Source: g.clientAddr(r), UserAgent: r.UserAgent(),
	}
	if peer := peerAddr(r); !g.trusted(peer) {
		req.Notes = append(req.Notes, authgate.Checkf("forward_auth.peer", authgate.Info,
			"caller %s is not in trusted_proxies: X-Forwarded-For ignored, source is the caller", peer))
	}
	d, route := g.cfg.Engine.Decide(r.Context(), req)
	if !d.Allowed {
		g.refuse(w, r, d, route)
		return
	}
	setIdentity(w.Header(), g.cfg.IdentityHeaders, d.Principal)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func splitURI(uri string) (path, query string) {
	path, query, _ = strings.Cut(uri, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	return path, query
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
