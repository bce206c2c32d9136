package config

import (
	"fmt"
	"strings"

	"github.com/authgate/authgate"
)

// headerUse is a header name set in the file, remembered for the checks
// that compare headers with each other.
type headerUse struct {
	key  string // e.g. "api_keys.header"
	name string // canonical form
	line int    // 0 when the header is the default
}

// issuerRef is a route's policy.issuers entry, checked once every issuer
// has been read.
type issuerRef struct {
	route *Route
	name  string
	line  int
}

// routePath is a path set on a route, checked once portal.path is known
// to lie outside it.
type routePath struct {
	route *Route
	line  int
}

// reservedHeaders carry credentials or routing; authgate cannot read an API
// key from them or overwrite them with an identity.
var reservedHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "Host", "Connection",
	"Content-Length", "Content-Type", "Transfer-Encoding", "Upgrade", "Forwarded",
}

// crossCheck runs the checks that relate one part of the file to another.
func (d *decoder) crossCheck(c *Config) {
	d.checkHeaders()
	d.checkIssuerRefs(c)
	for _, r := range c.Routes {
		if r.Accepts(authgate.MethodBearer) && len(c.Issuers) == 0 {
			d.add(r.Line, "define the issuer whose tokens this route takes under issuers:, e.g. issuers: "+issuersExample,
				"route %q accepts bearer but no issuers are defined, so no token could be verified", r.Name)
		}
	}
}

// checkHeaders reports header names that are reserved or used twice.
func (d *decoder) checkHeaders() {
	seen := map[string]headerUse{}
	for _, h := range d.headers {
		if isReservedHeader(h.name) {
			d.add(h.line, "pick a header of your own, e.g. X-API-Key or X-Authgate-Subject",
				"%s %q is a header with its own meaning in HTTP", h.key, h.name)
			continue
		}
		if first, dup := seen[h.name]; dup {
			if h.line == 0 { // a default clashing with a header set earlier
				h, first = first, h
			}
			where := "its default"
			if first.line > 0 {
				where = fmt.Sprintf("line %d", first.line)
			}
			d.add(h.line, "give each of these settings its own header",
				"%s %q is the same header as %s (%s)", h.key, h.name, first.key, where)
			continue
		}
		seen[h.name] = h
	}
}

// isReservedHeader reports whether name is a header authgate may not take
// over.
func isReservedHeader(name string) bool {
	return contains(reservedHeaders, name) || strings.HasPrefix(name, "X-Forwarded-")
}

// checkIssuerRefs reports policy.issuers entries naming no issuer.
func (d *decoder) checkIssuerRefs(c *Config) {
	var names []string
	for _, is := range c.Issuers {
		names = append(names, is.Name)
	}
	for _, ref := range d.issuerRefs {
		if c.Issuer(ref.name) != nil {
			continue
		}
		fix := fmt.Sprintf("define it under issuers: with name: %s, or remove it", ref.name)
		if len(names) > 0 {
			fix = "use one of the issuers defined: " + strings.Join(names, ", ")
			if best := closest(ref.name, names); best != "" {
				fix = fmt.Sprintf("did you mean %q? (%s)", best, fix)
			}
		}
		d.add(ref.line, fix, "policy.issuers names %q, which is not defined under issuers:", ref.name)
	}
}
