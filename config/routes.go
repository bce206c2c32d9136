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
	},
	example: "{name: app, upstream: \"http://127.0.0.1:9000\", accept: [basic]}",
}

var policySpec = sectionSpec{
	prefix:  "policy.",
	keys:    []string{"scopes", "issuers", "audiences", "networks"},
	example: "policy: {scopes: [orders:read]}",
}

const routesExample = "[{name: app, upstream: \"http://127.0.0.1:9000\", accept: [basic]}]"

// methodAliases maps words people write for a method to the method.
var methodAliases = map[string]authgate.Method{
	"jwt": authgate.MethodBearer, "token": authgate.MethodBearer, "oidc": authgate.MethodBearer,
	"oauth": authgate.MethodBearer, "oauth2": authgate.MethodBearer,
	"apikey": authgate.MethodAPIKey, "key": authgate.MethodAPIKey, "api-key": authgate.MethodAPIKey,
	"password": authgate.MethodBasic, "htpasswd": authgate.MethodBasic,
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
	}
	if v, vn := s.str("upstream", "http://127.0.0.1:9000"); vn != nil {
		u, p := parseHTTPURL("upstream", v, "http")
		d.report(vn.Line, p)
		r.Upstream = u
	}
	r.Accept = d.accept(s, n, label)
	r.ForwardCredentials = s.boolean("forward_credentials", false)
	if v, vn := s.str("detail", "minimal"); vn != nil {
		switch dv := Detail(v); dv {
		case DetailMinimal, DetailVerbose:
			r.Detail = dv
		default:
			fix := "use minimal (the default: the public answer says only what the caller can fix) or verbose (for development: the precise reason)"
			if best := closest(v, []string{"minimal", "verbose"}); best != "" {
				fix = "did you mean " + best + "? Otherwise " + fix
			}
			d.add(vn.Line, fix, "unknown detail %q", v)
		}
	}
	if v, vn := s.str("realm", "orders"); vn != nil && !d.report(vn.Line, checkRealm("realm", v)) {
		r.Realm = v
	}
	d.policy(s, r, label)
	return r
}

// accept reads the methods a route accepts.
func (d *decoder) accept(s *section, n *yaml.Node, label string) []authgate.Method {
	const fix = "add accept: with one or more of basic (user and password), bearer (tokens from an issuer) and api_key, e.g. accept: [bearer]"
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
	valid := []string{string(authgate.MethodBasic), string(authgate.MethodBearer), string(authgate.MethodAPIKey)}
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
// issuers are known.
func (d *decoder) policy(rs *section, r *Route, label string) {
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
