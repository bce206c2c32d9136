package config

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

var portalSpec = sectionSpec{where: "in portal", prefix: "portal.",
	keys: []string{"path", "title", "allowed_hosts", "detail", "secure_cookies", "cookie_name"},
	elsewhere: map[string]string{
		"store": "under sessions:", "prefix": "under sessions:", "idle_timeout": "under sessions:",
		"absolute_timeout": "under sessions:", "max_sessions": "under sessions:",
		"issuer": "under two_factor:", "enroll": "under two_factor:", "recovery_codes": "under two_factor:",
		"require_2fa": "to a route's policy:, e.g. policy: {require_2fa: true}",
	},
	example: "portal: {title: Example Corp, allowed_hosts: [app.example.com]}"}

const (
	allowedHostsExample = `[app.example.com, "*.example.com"]`
	maxTitleLength      = 80
	maxCookieNameLength = 64
)

// secureCookieValues are the values of portal.secure_cookies.
var secureCookieValues = []string{SecureAuto, SecureAlways, SecureNever}

// portal reads the portal section. AllowedHosts is left nil when the file
// has none: its default depends on the routes, read later (see
// checkPortalUse).
func (d *decoder) portal(s *section) Portal {
	p := Portal{
		Path:          DefaultPortalPath,
		Title:         DefaultPortalTitle,
		Detail:        d.detail(s, DefaultPortalDetail),
		SecureCookies: DefaultSecureCookies,
		CookieName:    DefaultCookieName,
	}
	if v, n := s.str("path", DefaultPortalPath); n != nil && !d.report(n.Line, checkPortalPath(v)) {
		p.Path = v
	}
	if v, n := s.str("title", DefaultPortalTitle); n != nil && !d.report(n.Line, checkLabel("portal.title", v, maxTitleLength)) {
		p.Title = v
	}
	if items, n := s.strings("allowed_hosts", allowedHostsExample); n != nil {
		p.AllowedHosts = d.allowedHosts(items)
	}
	if v, n := s.str("secure_cookies", SecureAuto); n != nil {
		if contains(secureCookieValues, v) {
			p.SecureCookies = v
		} else {
			fix := oneOf(v, secureCookieValues)
			if n.Tag == "!!bool" {
				fix = "write always (for true) or never (for false); auto, the default, marks cookies Secure when the request came over HTTPS"
			}
			d.add(n.Line, fix, "unknown portal.secure_cookies %q", v)
		}
	}
	name, nameNode := s.str("cookie_name", DefaultCookieName)
	if nameNode != nil && !d.report(nameNode.Line, checkCookieName(name)) {
		p.CookieName = name
		if prefix := secureOnlyPrefix(name); prefix != "" && p.SecureCookies != SecureAlways {
			d.add(nameNode.Line, "set portal.secure_cookies: always (the portal must then be reached over HTTPS), or drop the "+prefix+" prefix",
				"portal.cookie_name %q starts with %s, which browsers accept only on cookies marked Secure, but portal.secure_cookies is %s, so a sign-in over plain HTTP would set a cookie the browser drops",
				name, prefix, p.SecureCookies)
		}
	}
	return p
}

// allowedHosts reads portal.allowed_hosts: host names or "*.suffix"
// wildcards, lower-cased. An empty list allows only the gateway's own host.
func (d *decoder) allowedHosts(items []scalar) []string {
	var out []string
	first := map[string]int{}
	for _, it := range items {
		h, p := normalizeHost(it.value)
		switch {
		case !p.ok():
			d.add(it.line, `write only a host name, e.g. app.example.com, or "*.example.com" for its subdomains`, "portal.allowed_hosts: %s", p.msg)
		case h == "":
			d.add(it.line, "list the hosts of your apps, e.g. allowed_hosts: "+allowedHostsExample+"; the gateway's own host is always allowed",
				"portal.allowed_hosts: %q would let a sign-in send the browser on to any site", it.value)
		case first[h] > 0:
			d.add(it.line, "list each host once", "portal.allowed_hosts lists %s twice (first on line %d)", h, first[h])
		default:
			first[h] = it.line
			out = append(out, h)
		}
	}
	return out
}

// checkPortalPath checks portal.path, the prefix of the gateway's own
// pages. It becomes part of ServeMux patterns, so it is held to the
// characters that mean the same there as in a URL.
func checkPortalPath(s string) problem {
	const key = "portal.path"
	fix := "write it like path: " + suggestPortalPath(s)
	switch {
	case s == "":
		return problem{key + " is empty", "leave it out for " + DefaultPortalPath + ", or write a prefix of its own, e.g. /.sso/"}
	case !strings.HasPrefix(s, "/"):
		return problem{fmt.Sprintf("%s %q does not start with /", key, s), fix}
	case strings.ContainsAny(s, "?#"):
		return problem{fmt.Sprintf("%s %q contains ? or #", key, s), "the portal is a path prefix: remove the query or fragment, e.g. path: " + suggestPortalPath(s)}
	case strings.Contains(s, ".."):
		return problem{fmt.Sprintf("%s %q contains ..", key, s), "write a plain prefix without .., e.g. path: " + suggestPortalPath(s)}
	}
	for _, c := range s {
		if !(c < utf8.RuneSelf && (isUnreservedChar(byte(c)) || c == '/')) {
			return problem{fmt.Sprintf("%s %q contains %q", key, s, c), "use letters, digits, -, ., _ and ~ between the slashes, e.g. path: /.sso/"}
		}
	}
	switch {
	case s == "/":
		return problem{key + " is /, which would take every path from the routes", "give the portal a prefix of its own, e.g. path: " + DefaultPortalPath}
	case strings.Contains(s, "//") || strings.Contains(s+"/", "/./"):
		return problem{fmt.Sprintf("%s %q has an empty or . segment", key, s), fix}
	case !strings.HasSuffix(s, "/"):
		return problem{fmt.Sprintf("%s %q does not end with /", key, s), "write it like path: " + s + "/"}
	}
	return problem{}
}

// suggestPortalPath turns s into a clean prefix starting and ending with /.
func suggestPortalPath(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	p := path.Clean("/" + s)
	if p == "/" {
		return DefaultPortalPath
	}
	return p + "/"
}

// isUnreservedChar reports whether c is unreserved in a URI (RFC 3986 §2.3).
func isUnreservedChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// checkLabel checks text shown to people (the portal's title, the name in
// authenticator apps): one line of printable characters, at most max of
// them.
func checkLabel(key, s string, max int) problem {
	if strings.TrimSpace(s) == "" {
		return problem{key + " is empty", "write a short name, or leave the key out for the default"}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return problem{fmt.Sprintf("%s is %d characters long, more than %d", key, n, max), fmt.Sprintf("shorten it to %d characters or fewer", max)}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return problem{fmt.Sprintf("%s contains %q, which is not a printable character", key, r), "write it on one line, with letters, digits, spaces and punctuation"}
		}
	}
	return problem{}
}

// checkCookieName checks that s is a cookie name (an RFC 6265 token).
func checkCookieName(s string) problem {
	if s == "" {
		return problem{"portal.cookie_name is empty", "leave it out for " + DefaultCookieName + ", or name the cookie, e.g. cookie_name: example_session"}
	}
	if len(s) > maxCookieNameLength {
		return problem{fmt.Sprintf("portal.cookie_name is %d characters long, more than %d", len(s), maxCookieNameLength), "use a shorter name, e.g. cookie_name: " + DefaultCookieName}
	}
	for _, c := range []byte(s) {
		if !isTokenChar(c) {
			return problem{fmt.Sprintf("portal.cookie_name %q contains %q, which a cookie name cannot hold", s, c), "use letters, digits, - and _, e.g. cookie_name: " + DefaultCookieName}
		}
	}
	return problem{}
}

// secureOnlyPrefix returns the cookie name prefix (__Host- or __Secure-)
// that makes browsers refuse the cookie unless it is marked Secure, or "".
// Browsers compare the prefixes without regard to case.
func secureOnlyPrefix(name string) string {
	for _, p := range []string{"__Host-", "__Secure-"} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return p
		}
	}
	return ""
}
