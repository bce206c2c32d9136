package config

import (
	"fmt"
	"strings"

	"github.com/authgate/authgate"
	"go.yaml.in/yaml/v3"
)

// portalSections are the top-level sections that only matter when a route
// accepts session.
var portalSections = []string{"portal", "sessions", "two_factor"}

// checkPortalUse relates the portal, sessions and two_factor sections to
// the routes, once all are read: no route may lie under the portal's path,
// the sections are pointless unless a route accepts session, and the
// defaults that come from elsewhere in the file (allowed_hosts from the
// routes, two_factor.issuer from realm) are filled in and checked.
func (d *decoder) checkPortalUse(c *Config, top, portal, twoFactor *section) {
	sessionRoutes := 0
	for _, r := range c.Routes {
		if r.Accepts(authgate.MethodSession) {
			sessionRoutes++
		}
	}
	d.checkRoutesOutsidePortal(c, portal, sessionRoutes > 0)
	if sessionRoutes == 0 {
		if d.acceptUnknown || len(c.Routes) == 0 {
			return // the missing session may be in what was reported
		}
		for _, key := range portalSections {
			if top.has(key) {
				d.add(top.keyLine(key), "add session to a route's accept, or remove "+key+":",
					"%s: is set but no route accepts session, so the portal is never used", key)
			}
		}
		return
	}
	if !portal.has("allowed_hosts") {
		c.Portal.AllowedHosts = sessionHosts(c.Routes)
	}
	if !twoFactor.has("issuer") {
		d.checkRealmAsIssuer(c.Realm, top.keyLine("realm"))
	}
}

// checkRoutesOutsidePortal reports routes whose path lies under
// portal.path: the gateway answers those requests itself. It is checked
// even without a portal, since the forward-auth endpoint lives there too.
func (d *decoder) checkRoutesOutsidePortal(c *Config, portal *section, portalUsed bool) {
	if n := portal.node("path"); n != nil && (n.Kind != yaml.ScalarNode || n.Value != c.Portal.Path) {
		return // portal.path is wrong, and already reported
	}
	for _, rp := range d.routePaths {
		if !strings.HasPrefix(rp.route.Path+"/", c.Portal.Path) {
			continue
		}
		fix := "change the route's path"
		switch {
		case portal.has("path"):
			fix += fmt.Sprintf(", or portal.path (line %d)", portal.keyLine("path"))
		case portalUsed:
			fix += ", or move the portal with portal: {path: /.sso/}"
		}
		d.add(rp.line, fix, "route %q has path %s, under %s where the gateway answers requests itself (sign-in pages, verify, health), so the route would never be used",
			rp.route.Name, rp.route.Path, c.Portal.Path)
	}
}

// sessionHosts returns the distinct hosts of the routes that accept
// session, in file order; routes for any host add none.
func sessionHosts(routes []*Route) []string {
	var out []string
	for _, r := range routes {
		if r.Accepts(authgate.MethodSession) && r.Host != "" && !contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	return out
}

// checkRealmAsIssuer checks realm, which names the accounts in
// authenticator apps when two_factor.issuer is not set. line is realm's
// line (a realm left at its default is always fit).
func (d *decoder) checkRealmAsIssuer(realm string, line int) {
	p := checkTwoFactorIssuer("realm", realm)
	if p.ok() {
		return
	}
	if line == 0 {
		line = 1
	}
	d.add(line, fmt.Sprintf("set two_factor: {issuer: %s}, or change realm", issuerSuggestion(realm)),
		"two_factor.issuer is not set, so it would be the realm, but %s", p.msg)
}
