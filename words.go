package authgate

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Ago says how far t is from now in words a person reads at a glance, for
// check details and explanations: "3 days ago", "in 2 hours", "less than a
// minute ago".
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = Count(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = Count(int(d/time.Hour), "hour")
	default:
		s = Count(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// Count writes n with its unit, plural unless n is 1: "1 day", "90 days".
func Count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Printable returns s safe to print on a terminal: control characters
// (C0, DEL, C1), which a client can put in a token's claims or a header to
// rewrite an admin's screen, become visible escapes such as \x1b.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b []byte
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b = append(b, q[1:len(q)-1]...)
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f }
