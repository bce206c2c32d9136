package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var issuerSpec = sectionSpec{
	keys: []string{"name", "issuer", "jwks_file", "jwks_url", "discovery_url", "audiences", "algorithms",
		"leeway", "refresh_interval", "min_refresh_interval", "fetch_timeout"},
	elsewhere: map[string]string{"scopes": "to a route's policy, under routes:", "accept": "to a route, under routes:"},
	example:   "{name: corp, issuer: https://idp.example.com, jwks_url: https://idp.example.com/jwks.json, audiences: [api://orders]}",
}

const issuersExample = "[{name: corp, issuer: https://idp.example.com, discovery_url: https://idp.example.com/.well-known/openid-configuration, audiences: [api://orders]}]"

var issuerName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// keySources are the keys that say where an issuer's keys come from.
var keySources = []string{"jwks_url", "discovery_url", "jwks_file"}

// rejectedAlgorithms explains the algorithms that are never allowed.
var rejectedAlgorithms = map[string]string{
	"HS256": "HMAC", "HS384": "HMAC", "HS512": "HMAC", "NONE": "none",
}

// issuers reads the issuers list.
func (d *decoder) issuers(top *section) []*Issuer {
	items, _ := top.list("issuers", issuersExample)
	var out []*Issuer
	names := map[string]int{}
	for _, item := range items {
		n := deref(item)
		if n == nil || n.Kind != yaml.MappingNode {
			d.itemNotMapping(item, n, "issuer", issuerSpec.example)
			continue
		}
		is := d.issuer(n)
		if first, dup := names[is.Name]; dup && is.Name != "" {
			d.add(is.Line, "give each issuer its own name", "issuer name %q is already used by the issuer on line %d", is.Name, first)
			continue
		}
		names[is.Name] = is.Line
		out = append(out, is) // even when invalid, so routes naming it get no second complaint
	}
	return out
}

// itemNotMapping reports a list item that should have been a mapping.
func (d *decoder) itemNotMapping(item, n *yaml.Node, what, example string) {
	if n == nil {
		d.add(item.Line, "remove the lone - or write the "+what+" after it", "empty %s", what)
		return
	}
	d.add(n.Line, "write each "+what+" as keys, like - "+example, "each %s must be a mapping of keys, not %s", what, describe(n))
}

// mappingName returns the value of a mapping's name key, if it has one, so
// messages about the mapping can name it before it is fully read.
func mappingName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			if v := deref(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

// issuer reads one issuer mapping.
func (d *decoder) issuer(n *yaml.Node) *Issuer {
	spec := issuerSpec
	label := "issuer"
	if name := mappingName(n); name != "" {
		label = fmt.Sprintf("issuer %q", name)
	}
	spec.where = "in " + label
	s := d.section(n, "issuer", spec)
	is := &Issuer{Line: n.Line, Algorithms: DefaultAlgorithms}

	if v, vn := s.str("name", "corp"); vn == nil || v == "" {
		d.add(n.Line, "add name: with a short name such as corp; routes refer to it in policy.issuers", "issuer has no name")
	} else if !issuerName.MatchString(v) {
		d.add(vn.Line, "use lower-case letters, digits, - and _, e.g. name: "+suggestIssuerName(v), "issuer name %q has characters other than a-z, 0-9, - and _", v)
		is.Name = v
	} else {
		is.Name = v
	}

	if v, vn := s.str("issuer", "https://idp.example.com"); vn == nil || v == "" {
		d.add(n.Line, "add issuer: with the exact iss value of its tokens, e.g. issuer: https://idp.example.com", "%s has no issuer URL", label)
	} else if _, p := parseHTTPURL("issuer URL", v, "https"); !d.report(vn.Line, p) {
		is.Issuer = v
	}

	d.keySource(s, is, label)

	if items, vn := s.strings("audiences", "[api://orders]"); len(items) == 0 {
		line := n.Line
		if vn != nil {
			line = vn.Line
		}
		d.add(line, "add audiences: with the aud values your tokens carry, e.g. audiences: [api://orders]; aud is always checked (RFC 8725 §3.9) so a token minted for another API is refused", "%s has no audiences", label)
	} else {
		for _, it := range items {
			is.Audiences = append(is.Audiences, it.value)
		}
	}

	if items, vn := s.strings("algorithms", "[ES256]"); vn != nil {
		is.Algorithms = d.algorithms(items, vn)
	}

	is.Leeway = s.duration("leeway", DefaultLeeway, 0, 5*time.Minute)
	is.RefreshInterval = s.duration("refresh_interval", DefaultJWKSRefresh, time.Minute, 7*day)
	is.MinRefreshInterval = s.duration("min_refresh_interval", DefaultJWKSMinRefresh, time.Second, 7*day)
	is.FetchTimeout = s.duration("fetch_timeout", DefaultJWKSFetchTimeout, 100*time.Millisecond, time.Minute)
	if is.MinRefreshInterval > is.RefreshInterval {
		d.add(s.keyLine("min_refresh_interval"), fmt.Sprintf("lower min_refresh_interval or raise refresh_interval (%s)", formatDuration(is.RefreshInterval)),
			"min_refresh_interval %s is longer than refresh_interval", formatDuration(is.MinRefreshInterval))
	}
	return is
}

// keySource reads the one place an issuer's keys come from.
func (d *decoder) keySource(s *section, is *Issuer, label string) {
	var present []string
	for _, k := range keySources {
		if s.has(k) {
			present = append(present, k)
		}
	}
	switch len(present) {
	case 0:
		d.add(s.line, "add one of jwks_url (the issuer's JWKS endpoint), discovery_url (its /.well-known/openid-configuration) or jwks_file (a local JWKS file)", "%s has no key source", label)
		return
	case 1:
	default:
		d.add(s.keyLine(present[1]), fmt.Sprintf("keep only one of %s", strings.Join(present, ", ")),
			"%s has both %s (line %d) and %s", label, present[0], s.keyLine(present[0]), present[1])
		return
	}
	v, vn := s.str(present[0], "https://idp.example.com/jwks.json")
	if vn == nil {
		return
	}
	switch present[0] {
	case "jwks_file":
		is.JWKSFile = d.resolvePath("jwks_file", v, vn.Line, d.dir)
	case "jwks_url":
		u, p := parseHTTPURL("jwks_url", v, "https")
		d.report(vn.Line, p)
		is.JWKSURL = u
	case "discovery_url":
		u, p := parseHTTPURL("discovery_url", v, "https")
		d.report(vn.Line, p)
		is.DiscoveryURL = u
	}
}

// algorithms checks an issuer's algorithm allow-list.
func (d *decoder) algorithms(items []scalar, list *yaml.Node) []string {
	allowed := strings.Join(DefaultAlgorithms, ", ")
	if len(items) == 0 {
		d.add(list.Line, "list at least one of "+allowed+", or leave algorithms out to allow them all", "algorithms is empty, so no token could ever be accepted")
		return nil
	}
	var out []string
	for _, it := range items {
		switch {
		case contains(DefaultAlgorithms, it.value):
			if !contains(out, it.value) {
				out = append(out, it.value)
			}
		case rejectedAlgorithms[strings.ToUpper(it.value)] == "HMAC":
			d.add(it.line, "HMAC needs a secret shared with the issuer, which a JWKS never publishes, and allowing it opens the door to key-confusion attacks (RFC 8725 §2.1); use "+allowed,
				"algorithm %q is never accepted for a JWKS issuer", it.value)
		case rejectedAlgorithms[strings.ToUpper(it.value)] == "none":
			d.add(it.line, `"none" means unsigned tokens, which anyone can forge; remove it and use `+allowed,
				"algorithm %q is never accepted", it.value)
		default:
			d.add(it.line, oneOf(it.value, DefaultAlgorithms), "algorithm %q is not supported", it.value)
		}
	}
	return out
}

// suggestIssuerName turns an invalid name into a valid one for the fix.
func suggestIssuerName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ', r == '.':
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "corp"
	}
	return b.String()
}
