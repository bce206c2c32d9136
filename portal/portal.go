// Package portal is the sign-in portal: the pages under the gateway's
// reserved prefix where people sign in with a password, pass 2-step
// verification with an authenticator app (or enroll one), and sign out. It
// is server-rendered HTML without scripts. Every password and code it
// receives is decided by the same decision engine as API requests — the
// failure counters, the verifiers, the sign-in log — so a refused sign-in
// on a page has a reason code and a request id like any other refusal.
package portal

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/decision"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/verify/totp"
)

//go:embed assets/*.html assets/portal.css
var assets embed.FS

// RouteName names the portal's decisions in the sign-in log and metrics.
const RouteName = "portal"

// Config is what the portal needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	// Prefix is the reserved path prefix, e.g. "/.authgate/".
	Prefix string
	// Title heads every page.
	Title string
	// Engine decides passwords and codes; its Routes tell which return
	// targets need 2-step verification.
	Engine *decision.Engine
	// Route is the pseudo-route portal decisions are taken on; its
	// Verbose flag sets how much a refused sign-in shows.
	Route *policy.Route
	// Accounts stores second factors and session revocations; Users
	// finds users (the store, then a users file read as it is).
	Accounts accounts.Store
	Users    authgate.UserStore
	Sessions session.Store
	// SessionVerifier reads the session cookie, as routes do.
	SessionVerifier *session.Verifier
	// TwoStep checks codes for the 2-step page.
	TwoStep authgate.Verifier
	// Sealer seals authenticator secrets for the store and for the
	// enrollment form.
	Sealer *totp.Sealer
	// Key is the gateway's secret key: it signs form tokens and keys
	// recovery code digests.
	Key []byte
	// Issuer is the name authenticator apps show.
	Issuer string
	// EnrollRequired makes every sign-in enroll a second factor.
	EnrollRequired bool
	// RecoveryCodes is how many recovery codes an enrollment makes.
	RecoveryCodes int
	// AllowedHosts are the hosts a sign-in may return to, besides the
	// portal's own host.
	AllowedHosts []string
	// CookieName names the session cookie; SecureCookies is "auto",
	// "always" or "never".
	CookieName    string
	SecureCookies string
	// IdleTimeout and AbsoluteTimeout bound sessions.
	IdleTimeout, AbsoluteTimeout time.Duration
	// ClientAddr is the client's address after trusted proxies; IsHTTPS
	// reports whether the client's request came over HTTPS.
	ClientAddr func(*http.Request) netip.Addr
	IsHTTPS    func(*http.Request) bool
	Now        func() time.Time
	Logger     *slog.Logger
}

// Portal serves the pages. It is safe for concurrent use.
type Portal struct {
	cfg   Config
	pages map[string]*template.Template
	css   []byte
	mux   *http.ServeMux
	// routes lists the methods of each page path, for Handles.
	routes map[string][]string
}

// New builds the portal's handlers.
func New(cfg Config) *Portal {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Portal{cfg: cfg, pages: map[string]*template.Template{}}
	for _, name := range []string{"signin", "twostep", "enroll", "recovery", "account"} {
		p.pages[name] = template.Must(template.ParseFS(assets, "assets/page.html", "assets/"+name+".html"))
	}
	p.css, _ = assets.ReadFile("assets/portal.css")
	p.mux = http.NewServeMux()
	p.routes = map[string][]string{}
	pre := cfg.Prefix
	p.handle("GET", pre+"static/portal.css", p.stylesheet)
	p.handle("GET", pre+"sign-in", p.signInPage)
	p.handle("POST", pre+"sign-in", p.signIn)
	p.handle("GET", pre+"two-step", p.twoStepPage)
	p.handle("POST", pre+"two-step", p.twoStep)
	p.handle("GET", pre+"enroll", p.enrollPage)
	p.handle("POST", pre+"enroll", p.enroll)
	p.handle("GET", pre+"continue", p.continueTo)
	p.handle("POST", pre+"sign-out", p.signOut)
	p.handle("POST", pre+"sign-out-everywhere", p.signOutEverywhere)
	p.handle("GET", pre+"account", p.account)
	return p
}

// handle serves page path to method.
func (p *Portal) handle(method, path string, fn http.HandlerFunc) {
	p.mux.HandleFunc(method+" "+path, fn)
	p.routes[path] = append(p.routes[path], method)
}

// Handles reports whether r asks for one of the portal's pages: its path
// and method (HEAD for GET) are a page's. The gateway asks this of every
// request under its prefix, forward-auth checks included, so a path that
// is clean and no page's is answered from a map: a ServeMux lookup that
// fails costs a search for other methods (about 8 % of a forward-auth
// check). An unclean path (a page's, to which ServeMux redirects, or not)
// is left to the ServeMux.
func (p *Portal) Handles(r *http.Request) bool {
	methods, ok := p.routes[r.URL.Path]
	if !ok {
		if path.Clean(r.URL.Path) == r.URL.Path {
			return false
		}
		_, pattern := p.mux.Handler(r)
		return pattern != ""
	}
	for _, m := range methods {
		if m == r.Method || m == "GET" && r.Method == "HEAD" {
			return true
		}
	}
	return false
}

// ServeHTTP serves one page. The gateway has set X-Request-Id.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
	p.mux.ServeHTTP(w, r)
}

func (p *Portal) stylesheet(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(p.css)
}
