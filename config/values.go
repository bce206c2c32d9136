package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// problem is what is wrong with a value and how to fix it; the zero value
// means the value is fine.
type problem struct{ msg, fix string }

func (p problem) ok() bool { return p.msg == "" }

// report records p at line, if p is a problem, and reports whether it was one.
func (d *decoder) report(line int, p problem) bool {
	if p.ok() {
		return false
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: p.msg, Fix: p.fix})
	return true
}

// checkListen checks a host:port listen address.
func checkListen(s string) problem {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		fix := "write host:port, e.g. 127.0.0.1:8080, or :8080 for every interface"
		if _, perr := strconv.Atoi(s); perr == nil {
			fix = fmt.Sprintf("write 127.0.0.1:%s for this machine only, or :%s for every interface", s, s)
		}
		return problem{fmt.Sprintf("listen %q is not a host:port address", s), fix}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return problem{fmt.Sprintf("listen %q has port %q, which is not a number from 0 to 65535", s, port), "write host:port, e.g. 127.0.0.1:8080"}
	}
	return problem{}
}

// parsePrefix parses a CIDR, or a bare IP meaning just that address.
func parsePrefix(key, s string) (netip.Prefix, problem) {
	fix := "write a network like 10.0.0.0/8 or fd00::/8, or a single address like 192.168.1.5"
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, problem{fmt.Sprintf("%s: %q is not a network in CIDR form", key, s), fix}
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, problem{
				fmt.Sprintf("%s: %q has address bits set beyond the /%d", key, s, p.Bits()),
				fmt.Sprintf("did you mean %s (the whole network) or %s (that one address)?", m, p.Addr())}
		}
		return p, problem{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, problem{fmt.Sprintf("%s: %q is not an IP address or network", key, s), fix}
	}
	return netip.PrefixFrom(a, a.BitLen()), problem{}
}

// parseHTTPURL parses an absolute http or https URL with a host; scheme is
// the one suggested when s has none.
func parseHTTPURL(key, s, scheme string) (*url.URL, problem) {
	if !strings.Contains(s, "://") {
		return nil, problem{fmt.Sprintf("%s %q is not an absolute URL", key, s), "write it with its scheme, e.g. " + scheme + "://" + strings.TrimPrefix(s, "//")}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, problem{fmt.Sprintf("%s %q is not a URL", key, s), "write it like https://host.example.com/path"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, problem{fmt.Sprintf("%s %q uses scheme %q", key, s, u.Scheme), "use http:// or https://"}
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, problem{fmt.Sprintf("%s %q has no host", key, s), "write it like " + u.Scheme + "://host.example.com"}
	}
	if u.User != nil {
		return nil, problem{fmt.Sprintf("%s %q carries a user name or password", key, s), "remove the user:password@ part; the configuration file is no place for secrets"}
	}
	return u, problem{}
}

// checkHeaderName checks that s is an HTTP field name (RFC 9110 §5.1).
func checkHeaderName(key, s string) problem {
	if s == "" {
		return problem{fmt.Sprintf("%s is empty", key), "name a header, e.g. X-API-Key"}
	}
	for _, c := range []byte(s) {
		if !isTokenChar(c) {
			return problem{fmt.Sprintf("%s %q is not a valid header name (character %q)", key, s, c), "header names use letters, digits and -, e.g. X-API-Key"}
		}
	}
	return problem{}
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkRealm checks that s can go inside a quoted-string in a challenge.
func checkRealm(key, s string) problem {
	if s == "" {
		return problem{fmt.Sprintf("%s is empty", key), "name the protected area, e.g. realm: authgate"}
	}
	for _, r := range s {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return problem{fmt.Sprintf("%s %q contains %q, which cannot appear in a challenge", key, s, r), "use letters, digits, spaces and punctuation other than \" and \\"}
		}
	}
	return problem{}
}

// normalizeHost lower-cases a route host and checks its form: an exact
// name or IP, "*.example.com", or "" / "*" for any host (returned as "").
func normalizeHost(s string) (string, problem) {
	h := strings.ToLower(strings.TrimSpace(s))
	if h == "" || h == "*" {
		return "", problem{}
	}
	if strings.Contains(h, "/") {
		return "", problem{fmt.Sprintf("host %q is not a host name", s), "write only the name, e.g. host: api.example.com, and put the path in path:"}
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		return "", problem{fmt.Sprintf("host %q includes a port", s), fmt.Sprintf("write host: %s; routes match the host name whatever the port (:%s)", strings.Trim(host, "[]"), port)}
	}
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return a.String(), problem{}
	}
	name := strings.TrimPrefix(h, "*.")
	bad := name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..")
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			bad = true
		}
	}
	if bad {
		return "", problem{fmt.Sprintf("host %q is not a host name", s), `write an exact name like api.example.com, "*.example.com" for its subdomains, or leave host out to match any host`}
	}
	return h, problem{}
}

// checkPath checks a route's path prefix.
func checkPath(s string) problem {
	if !strings.HasPrefix(s, "/") {
		return problem{fmt.Sprintf("path %q does not start with /", s), "write it like path: /" + strings.TrimLeft(s, "/")}
	}
	if strings.ContainsAny(s, "?#") {
		return problem{fmt.Sprintf("path %q contains ? or #", s), "routes match the path only; remove the query or fragment"}
	}
	return problem{}
}
