package policy

import (
	"net"
	"net/url"
	"strings"
)

// NonCanonical reports why a request path, as sent (still escaped), could
// be read differently by the gateway and the application behind it, or ""
// when it cannot. Servers disagree on dot segments, doubled slashes,
// encoded slashes and backslashes, backslashes, semicolon parameters and
// NUL; a path with any of them could match a lax route here and reach a
// protected handler there, so such paths are refused rather than guessed.
func NonCanonical(escaped string) string {
	if escaped == "" || escaped == "*" {
		return ""
	}
	if escaped[0] != '/' {
		return "the path does not start with /"
	}
	lower := strings.ToLower(escaped)
	for _, bad := range []struct{ s, why string }{
		{"%2f", "an encoded slash (%2F)"},
		{"%5c", "an encoded backslash (%5C)"},
		{"%00", "an encoded NUL (%00)"},
		{"\\", "a backslash"},
		{";", "a semicolon (path parameters)"},
	} {
		if strings.Contains(lower, bad.s) {
			return "the path has " + bad.why
		}
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return "the path has a malformed %-escape"
	}
	if strings.Contains(decoded, "//") {
		return "the path has an empty segment (//)"
	}
	for _, seg := range strings.Split(decoded, "/") {
		if seg == "." || seg == ".." {
			return "the path has a dot segment (" + seg + ")"
		}
	}
	return ""
}

// CanonicalHost returns host without its port and trailing dot, in lower
// case, so "API.example.com.:443" and "api.example.com" match the same
// route. IPv6 literals lose their brackets.
func CanonicalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}
