package apikey

import (
	"strconv"
	"time"
)

// stamp formats t for a trace to the minute, in UTC: 2026-11-20T10:00Z.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format("2006-01-02T15:04Z07:00")
}

// ago says how far t is from now in words a person reads at a glance:
// "3 days ago", "in 2 hours".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "time unknown"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
