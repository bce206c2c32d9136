package signinlog

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
)

// FilterParams names the textual filters shared by `authgate log` (as
// --flags) and the admin API (as query parameters).
var FilterParams = []string{"user", "key", "route", "method", "reason", "outcome", "ip", "since", "until", "request_id", "fingerprint"}

// FilterError is a filter value that cannot be used, with how to write it.
type FilterError struct {
	Param, Value, Msg, Fix string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("%s %q: %s — %s", e.Param, e.Value, e.Msg, e.Fix)
}

// ParseFilter builds a Filter from textual values; get returns "" for a
// parameter not given. Times are durations back from now ("1h", "7d") or
// timestamps ("2026-11-23T10:00:00Z", "2026-11-23").
func ParseFilter(get func(string) string, now time.Time) (Filter, error) {
	f := Filter{
		User: get("user"), KeyID: get("key"), Route: get("route"),
		RequestID: get("request_id"), Fingerprint: get("fingerprint"),
	}
	if v := get("method"); v != "" {
		if !authgate.Method(v).Valid() {
			return f, &FilterError{"method", v, "not a credential method", "use basic, api_key or bearer"}
		}
		f.Method = authgate.Method(v)
	}
	if v := get("reason"); v != "" {
		if !reason.Known(reason.Code(v)) {
			return f, &FilterError{"reason", v, "not a reason code", "see `authgate reasons` for the codes" + closest(v)}
		}
		f.Reason = reason.Code(v)
	}
	if v := get("outcome"); v != "" {
		if v != "allow" && v != "deny" {
			return f, &FilterError{"outcome", v, "not an outcome", "use allow or deny"}
		}
		f.Outcome = v
	}
	if v := get("ip"); v != "" {
		p, err := parseNetwork(v)
		if err != nil {
			return f, &FilterError{"ip", v, "not an address or network", "write an address like 192.0.2.7 or 2001:db8::1, or a network like 10.0.0.0/8"}
		}
		f.Network = p
	}
	var err error
	if f.Since, err = parseTime("since", get("since"), now); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", get("until"), now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, &FilterError{"until", get("until"), "is not after since", "give a since earlier than until"}
	}
	return f, nil
}

func parseNetwork(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseTime(param, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := config.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &FilterError{param, v, "not a duration or a time", "write a duration back from now like 15m, 2h or 7d, or a time like 2026-11-23T10:00:00Z or 2026-11-23"}
}

// closest suggests the catalogue code nearest to v, if one is near.
func closest(v string) string {
	best, bestScore := "", 0
	for _, r := range reason.All() {
		if s := common(v, string(r.Code)); s > bestScore {
			best, bestScore = string(r.Code), s
		}
	}
	if bestScore*2 < len(v) {
		return ""
	}
	return "; did you mean " + best + "?"
}

// common is the length of the longest common substring of a and b.
func common(a, b string) int {
	best := 0
	for i := range a {
		for j := range b {
			k := 0
			for i+k < len(a) && j+k < len(b) && a[i+k] == b[j+k] {
				k++
			}
			best = max(best, k)
		}
	}
	return best
}

// Match reports whether f selects the event with columns c, as the stores'
// SQL conditions do: text fields compare equal to the stored columns,
// User matches the claimed name or the subject, Network compares address
// keys (an IPv6 network never matches an IPv4 source), Since is
// inclusive and Until exclusive. Stores that keep heads rather than
// columns (chunks) filter with it.
func (f Filter) Match(c *Columns) bool {
	if f.User != "" && c.Claimed != f.User && c.Subject != f.User {
		return false
	}
	for _, p := range [...]struct{ want, got string }{
		{f.KeyID, c.KeyID}, {f.Route, c.Route}, {string(f.Method), c.Method}, {string(f.Reason), c.Reason},
		{f.Outcome, c.Outcome}, {f.RequestID, c.RequestID}, {f.Fingerprint, c.Fingerprint},
	} {
		if p.want != "" && p.want != p.got {
			return false
		}
	}
	if f.Network.IsValid() {
		if len(c.SourceIP) != 16 {
			return false
		}
		lo, hi, exceptIPv4 := AddressRange(f.Network)
		key := string(c.SourceIP)
		if key < string(lo[:]) || key > string(hi[:]) {
			return false
		}
		if v4Lo, v4Hi := IPv4Keys(); exceptIPv4 && string(v4Lo[:]) <= key && key <= string(v4Hi[:]) {
			return false
		}
	}
	return (f.Since.IsZero() || c.Time >= UnixNanos(f.Since)) && (f.Until.IsZero() || c.Time < UnixNanos(f.Until))
}
