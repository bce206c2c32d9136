package config

import (
	"fmt"
	"strings"

	"github.com/authgate/authgate"
	"go.yaml.in/yaml/v3"
)

var routeSpec = sectionSpec{
	keys: []string{"name", "host", "path", "upstream", "accept", "forward_credentials", "detail", "realm", "policy"},
	elsewhere: map[string]string{
		"scopes": "under policy:", "issuers": "under policy:", "audiences": "under policy:", "networks": "under policy:",
		"require_2fa": "under policy:",
	},
	example: "{name: app, upstream: \"http://127.0.0.1:9000\", accept: [basic]}",
}

var policySpec = sectionSpec{
	prefix:  "policy.",
	keys:    []string{"scopes", "issuers", "audiences", "networks", "require_2fa"},
	example: "policy: {scopes: [orders:read]}",
}

const routesExample = "[{name: app, upstream: \"http://127.0.0.1:9000\", accept: [basic]}]"

// methodAliases maps words people write for a method to the method.
var methodAliases = map[string]authgate.Method{
	"jwt": authgate.MethodBearer, "token": authgate.MethodBearer, "oidc": authgate.MethodBearer,
	"oauth": authgate.MethodBearer, "oauth2": authgate.MethodBearer,
	"apikey": authgate.MethodAPIKey, "key": authgate.MethodAPIKey, "api-key": authgate.MethodAPIKey,
	"password": authgate.MethodBasic, "htpasswd": authgate.MethodBasic,
	"cookie": authgate.MethodSession, "browser": authgate.MethodSession, "portal": authgate.MethodSession,
}

// routeKey is what makes two routes the same: they would match the same
// requests, so the second could never be chosen.
type routeKey struct{ host, path string }

// routes reads the routes list; it reports a missing or empty list.
func (d *decoder) routes(top *section, realm string) []*Route {
	items, list := top.list("routes", routesExample)
	if list == nil && top.has("routes") {
		return nil // not a list, already reported
	}
	if len(items) == 0 {
		line := top.keyLine("routes")
		if line == 0 {
			line = 1
		}
		d.add(line, "add at least one route, e.g. routes: "+routesExample, "no routes: every request would be refused")
		return nil
	}
	var out []*Route
	names := map[string]int{}
	paths := map[routeKey]*Route{}
	for _, item := range items {
		n := deref(item)
		if n == nil || n.Kind != yaml.MappingNode {
			d.itemNotMapping(item, n, "route", routeSpec.example)
			continue
		}
		before := len(d.errs)
		r := d.route(n, realm)
		matchable := !d.hostOrPathFailed(before)
		if r.Name != "" {
			if first, dup := names[r.Name]; dup {
				d.add(r.Line, "give each route its own name", "route name %q is already used by the route on line %d", r.Name, first)
				matchable = false // one complaint about this route is enough
			} else {
				names[r.Name] = r.Line
			}
		}
		k := routeKey{r.Host, r.Path}
		if first, dup := paths[k]; dup && matchable {
			d.add(r.Line, "change host or path, or merge the two routes",
				"route %q matches %s, like route %q on line %d, so it would never be used", r.Name, describeMatch(k), first.Name, first.Line)
		} else if matchable {
			paths[k] = r
		}
		out = append(out, r)
	}
	return out
}

// hostOrPathFailed reports whether a problem with a route's host or path
// was found since the decoder held before problems; such a route's match
// is unknown, so it is not compared with others.
func (d *decoder) hostOrPathFailed(before int) bool {
	for _, e := range d.errs[before:] {
		if strings.HasPrefix(e.Msg, "host ") || strings.HasPrefix(e.Msg, "path ") {
			return true
		}
	}
	return false
}

// describeMatch says which requests a route matches.
func describeMatch(k routeKey) string {
	if k.host == "" {
		return fmt.Sprintf("any host and path %s", k.path)
	}
	return fmt.Sprintf("host %s and path %s", k.host, k.path)
}

// route reads one route mapping.
func (d *decoder) route(n *yaml.Node, realm string) *Route {
	spec := routeSpec
	label := "route"
	if name := mappingName(n); name != "" {
		label = fmt.Sprintf("route %q", name)
	}
	spec.where = "in " + label
	s := d.section(n, "route", spec)
	r := &Route{Line: n.Line, Path: DefaultRoutePath, Detail: DefaultDetail, Realm: realm}

	if v, vn := s.str("name", "orders"); vn == nil || v == "" {
		d.add(n.Line, "add name: with a short unique name such as orders; logs and authgate explain show it", "route has no name")
	} else {
		r.Name = v
	}
	if v, vn := s.str("host", "api.example.com"); vn != nil {
		h, p := normalizeHost(v)
		d.report(vn.Line, p)
		r.Host = h
	}
	if v, vn := s.str("path", "/orders"); vn != nil && !d.report(vn.Line, checkPath(v)) {
		r.Path = v
		d.routePaths = append(d.routePaths, routePath{route: r, line: vn.Line})
	}
	if v, vn := s.str("upstream", "http://127.0.0.1:9000"); vn != nil {
		u, p := parseHTTPURL("upstream", v, "http")
		d.report(vn.Line, p)
		r.Upstream = u
	}
	before := len(d.errs)
	r.Accept = d.accept(s, n, label)
	acceptRead := len(d.errs) == before
	r.ForwardCredentials = s.boolean("forward_credentials", false)
	r.Detail = d.detail(s, DefaultDetail)
	if v, vn := s.str("realm", "orders"); vn != nil && !d.report(vn.Line, checkRealm("realm", v)) {
		r.Realm = v
	}
	d.policy(s, r, label, acceptRead)
	return r
}

// detail reads the detail key of a route or of the portal, returning def
// when it is absent or wrong.
func (d *decoder) detail(s *section, def Detail) Detail {
	v, vn := s.str("detail", "minimal")
	if vn == nil {
		return def
	}
	switch dv := Detail(v); dv {
	case DetailMinimal, DetailVerbose:
		return dv
	default:
		fix := "use minimal (the default: the public answer says only what the caller can fix) or verbose (for development: the precise reason)"
		if best := closest(v, []string{"minimal", "verbose"}); best != "" {
			fix = "did you mean " + best + "? Otherwise " + fix
		}
		d.add(vn.Line, fix, "unknown %sdetail %q", s.prefix, v)
		return def
	}
}

// accept reads the methods a route accepts.
func (d *decoder) accept(s *section, n *yaml.Node, label string) []authgate.Method {
	const fix = "add accept: with one or more of basic (user and password), bearer (tokens from an issuer), api_key and session (browsers, through the sign-in portal), e.g. accept: [bearer]"
	if an := s.node("accept"); an != nil && an.Kind != yaml.SequenceNode {
		s.strings("accept", "[bearer]") // reports the wrong type
		return nil
	}
	items, list := s.strings("accept", "[bearer]")
	if len(items) == 0 {
		line := n.Line
		if list != nil {
			line = list.Line
		}
		d.add(line, fix, "%s accepts no method, so every request to it would be refused", label)
		return nil
	}
	var out []authgate.Method
	valid := methodStrings(authgate.Methods)
	for _, it := range items {
		m := authgate.Method(it.value)
		switch {
		case m.Valid() && contains(methodStrings(out), it.value):
			d.add(it.line, "list each method once", "method %q is listed twice in accept", it.value)
		case m.Valid():
			out = append(out, m)
		default:
			fix := oneOf(it.value, valid)
			if alias, ok := methodAliases[strings.ToLower(it.value)]; ok {
				fix = fmt.Sprintf("did you mean %s? (use one of %s)", alias, strings.Join(valid, ", "))
			}
			d.add(it.line, fix, "unknown method %q in accept", it.value)
			d.acceptUnknown = true
		}
	}
	return out
}

// methodStrings converts methods to strings.
func methodStrings(ms []authgate.Method) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// policy reads a route's policy; issuer names are checked once all
// issuers are known. acceptRead reports whether the route's accept list was
// read without a problem, so checks of which methods it holds are sound.
func (d *decoder) policy(rs *section, r *Route, label string, acceptRead bool) {
	spec := policySpec
	spec.where = "in the policy of " + label
	s := d.section(rs.vals["policy"], "policy", spec)
	for _, it := range nonEmpty(d, s, "scopes", "[orders:read]") {
		r.Policy.Scopes = append(r.Policy.Scopes, it.value)
	}
	issuers := nonEmpty(d, s, "issuers", "[corp]")
	for _, it := range issuers {
		r.Policy.Issuers = append(r.Policy.Issuers, it.value)
		d.issuerRefs = append(d.issuerRefs, issuerRef{route: r, name: it.value, line: it.line})
	}
	audiences := nonEmpty(d, s, "audiences", "[api://orders]")
	for _, it := range audiences {
		r.Policy.Audiences = append(r.Policy.Audiences, it.value)
	}
	if items, _ := s.strings("networks", "[10.0.0.0/8]"); items != nil {
		r.Policy.Networks = d.prefixes("policy.networks", items)
	}
	if r.Accept != nil && !r.Accepts(authgate.MethodBearer) {
		for _, key := range []string{"issuers", "audiences"} {
			if s.has(key) {
				d.add(s.keyLine(key), "add bearer to accept, or remove policy."+key,
					"policy.%s only applies to bearer tokens, and %s does not accept bearer", key, label)
			}
		}
	}
	r.Policy.Require2FA = s.boolean("require_2fa", false)
	if r.Policy.Require2FA && r.Accept != nil {
		d.checkRequire2FA(r, label, s.keyLine("require_2fa"), acceptRead)
	}
}

// checkRequire2FA relates policy.require_2fa to the methods a route
// accepts: only a portal session that passed the 2-step page carries a
// second factor, so requests proved any other way are refused.
func (d *decoder) checkRequire2FA(r *Route, label string, line int, acceptRead bool) {
	if acceptRead && !r.Accepts(authgate.MethodSession) {
		d.add(line, "add session to accept, or remove require_2fa",
			"policy.require_2fa needs a second factor, which only a portal session carries, and %s does not accept session, so every request to it would be refused", label)
		return
	}
	for _, m := range []struct {
		method authgate.Method
		what   string
	}{{authgate.MethodBasic, "Basic requests"}, {authgate.MethodAPIKey, "API keys"}, {authgate.MethodBearer, "bearer tokens"}} {
		if r.Accepts(m.method) {
			d.add(line, fmt.Sprintf("remove %s from accept, or require_2fa (give machine clients a route of their own)", m.method),
				"%s accepts %s, which can never pass 2-step verification, so with policy.require_2fa its %s would always be refused", label, m.method, m.what)
		}
	}
}

// nonEmpty reads a list of strings and reports empty items.
func nonEmpty(d *decoder, s *section, key, example string) []scalar {
	items, _ := s.strings(key, example)
	out := items[:0]
	for _, it := range items {
		if strings.TrimSpace(it.value) == "" {
			d.add(it.line, "remove the empty item", "%s has an empty item", s.prefix+key)
			continue
		}
		out = append(out, it)
	}
	return out
}
