// Package gateway is authgate's HTTP transport. It serves two modes from one
// handler: a reverse proxy that forwards allowed requests to the route's
// upstream with identity headers, and a forward-auth endpoint that nginx
// (auth_request), Traefik (ForwardAuth) and Caddy (forward_auth) call for
// the same decisions. Refusals become problem documents (RFC 9457), HTML
// pages for browsers, and challenges (RFC 9110, 6750, 7617).
package gateway

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate/decision"
)

// IdentityHeaders names the headers that carry the caller's identity to the
// upstream.
type IdentityHeaders struct {
	Subject, Method, Scopes, Issuer string
}

// names lists the identity headers.
func (ih IdentityHeaders) names() [4]string {
	return [4]string{ih.Subject, ih.Method, ih.Scopes, ih.Issuer}
}

// RouteTarget is where an allowed request of a route goes.
type RouteTarget struct {
	Upstream           *url.URL // nil: forward-auth only
	ForwardCredentials bool
}

// Config configures a Gateway.
type Config struct {
	Engine *decision.Engine
	// Targets holds each route's upstream by route name.
	Targets         map[string]RouteTarget
	TrustedProxies  []netip.Prefix
	IdentityHeaders IdentityHeaders
	APIKeyHeader    string
	// SessionCookie names the portal's session cookie, which is never
	// passed to upstreams.
	SessionCookie string
	Realm         string
	// Prefix is the reserved path prefix of the gateway's own endpoints,
	// "/.authgate/" by default.
	Prefix string
	// TypeBase prefixes a reason code to form a problem document's type;
	// default Prefix + "reasons/", served by the gateway itself.
	TypeBase  string
	Transport http.RoundTripper
	Logger    *slog.Logger
	Now       func() time.Time
	// Portal, when set, serves the sign-in pages under Prefix; browsers
	// refused on routes that accept session are sent to it.
	Portal Portal
}

// Gateway is the HTTP handler of both modes.
type Gateway struct {
	cfg Config
	// restored are the headers the proxy sets again after removing
	// hop-by-hop ones: the identity headers and the request id.
	restored []string
	proxies  map[string]*httputil.ReverseProxy
	mux      *http.ServeMux
	// challengeCache holds WWW-Authenticate values by challengeKey.
	challengeCache sync.Map
}

// New builds a Gateway; the proxies for every route are built here, once.
func New(cfg Config) *Gateway {
	if cfg.Prefix == "" {
		cfg.Prefix = "/.authgate/"
	}
	if cfg.TypeBase == "" {
		cfg.TypeBase = cfg.Prefix + "reasons/"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport()
	}
	g := &Gateway{cfg: cfg, proxies: map[string]*httputil.ReverseProxy{}}
	names := cfg.IdentityHeaders.names()
	g.restored = append(names[:], "X-Request-Id")
	for name, t := range cfg.Targets {
		if t.Upstream != nil {
			g.proxies[name] = g.newProxy(t)
		}
	}
	g.mux = http.NewServeMux()
	g.mux.HandleFunc("GET "+cfg.Prefix+"health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	g.mux.HandleFunc(cfg.Prefix+"verify", g.forwardAuth)
	g.mux.HandleFunc("GET "+cfg.Prefix+"reasons/", g.reasonDoc)
	return g
}

// Mount makes p the portal served under the prefix, to which browsers
// refused on routes that accept session are sent. Call it before serving:
// the portal is built after the gateway, whose client addresses it uses.
func (g *Gateway) Mount(p Portal) { g.cfg.Portal = p }

// NewTransport returns the upstream transport: the default one with enough
// idle connections per host that a busy route does not reconnect for every
// request (the default keeps 2, which halves throughput).
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// ServeHTTP serves the gateway's own endpoints under the reserved prefix and
// proxies everything else.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, g.cfg.Prefix) {
		id := requestID(r, g.trusted(peerAddr(r)))
		w.Header().Set("X-Request-Id", id)
		r.Header.Set("X-Request-Id", id)
		if g.cfg.Portal != nil && g.cfg.Portal.Handles(r) {
			g.cfg.Portal.ServeHTTP(w, r)
			return
		}
		g.mux.ServeHTTP(w, r)
		return
	}
	g.proxy(w, r)
}
