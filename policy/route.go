// Package policy matches a request to its route and applies the route's
// rules: which source networks may call it, which issuers and audiences its
// tokens must come from, and which scopes a principal needs. Its refusals
// are reason codes with trace checks; it knows nothing of HTTP responses.
package policy

import (
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Route is one route's matching criteria and rules.
type Route struct {
	Name string
	// Host is an exact host, a "*.example.com" wildcard, or empty for any.
	Host string
	// Path is a path prefix matched on segment boundaries: "/api" matches
	// "/api" and "/api/x", not "/apix".
	Path      string
	Accept    []authgate.Method
	Scopes    []string
	Issuers   []string // issuer names; empty: any configured issuer
	Audiences []string // empty: any audience the issuer accepts
	Networks  []netip.Prefix
	// Require2FA refuses principals without a second factor.
	Require2FA bool
	// FirstFactor marks the portal's sign-in, where a password is the
	// first of two steps: a user with a second factor is not refused
	// there for presenting a password alone.
	FirstFactor bool
	Verbose     bool
	Realm       string

	matched string // the trace detail of a match, made once by NewTable
}

// Matched is the trace detail of a request matching r.
func (r *Route) Matched() string {
	if r.matched == "" {
		return r.describe()
	}
	return r.matched
}

func (r *Route) describe() string {
	accept := make([]string, len(r.Accept))
	for i, m := range r.Accept {
		accept[i] = string(m)
	}
	return fmt.Sprintf("route %s (host %q, path %s) accepts %s", r.Name, r.Host, r.Path, strings.Join(accept, ", "))
}

// Accepts reports whether the route accepts method m.
func (r *Route) Accepts(m authgate.Method) bool {
	for _, a := range r.Accept {
		if a == m {
			return true
		}
	}
	return false
}

// Table matches requests to routes: an exact host beats a wildcard host,
// which beats any host; then the longest path prefix wins.
type Table struct {
	routes []*Route
}

// NewTable orders routes by specificity.
func NewTable(routes []*Route) *Table {
	rs := append([]*Route(nil), routes...)
	for _, r := range rs {
		r.matched = r.describe()
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if hi, hj := hostRank(rs[i].Host), hostRank(rs[j].Host); hi != hj {
			return hi < hj
		}
		return len(rs[i].Path) > len(rs[j].Path)
	})
	return &Table{routes: rs}
}

// Routes returns the routes in matching order.
func (t *Table) Routes() []*Route { return t.routes }

func hostRank(h string) int {
	switch {
	case h == "" || h == "*":
		return 2
	case strings.HasPrefix(h, "*."):
		return 1
	}
	return 0
}

// Match returns the route for host and path, or nil. The path is cleaned
// first so that "/public/../admin" cannot borrow the rules of "/public".
func (t *Table) Match(host, p string) *Route {
	host = CanonicalHost(host)
	p = CleanPath(p)
	for _, r := range t.routes {
		if hostMatches(r.Host, host) && pathMatches(r.Path, p) {
			return r
		}
	}
	return nil
}

// CleanPath resolves dot segments and doubled slashes, keeping a trailing
// slash, so matching sees the path the upstream will see.
func CleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

func hostMatches(pattern, host string) bool {
	switch {
	case pattern == "" || pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(host, pattern[1:]) && len(host) > len(pattern)-1
	}
	return pattern == host
}

func pathMatches(prefix, p string) bool {
	if prefix == "" || prefix == "/" {
		return true
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// CheckNetwork applies the route's source-network rule.
func (r *Route) CheckNetwork(src netip.Addr) (reason.Code, authgate.Check) {
	if len(r.Networks) == 0 {
		return "", authgate.Check{Name: "policy.network", Result: authgate.Skip, Detail: "route has no network rule"}
	}
	src = src.Unmap()
	for _, n := range r.Networks {
		if n.Contains(src) {
			return "", authgate.Checkf("policy.network", authgate.Pass, "source %s in %s", src, n)
		}
	}
	return reason.NetworkNotAllowed, authgate.Checkf("policy.network", authgate.Fail, "source %s not in %s", src, prefixList(r.Networks))
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
