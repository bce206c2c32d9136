package password

import (
	"fmt"
	"time"
)

// day formats t as a UTC date for a trace: 2026-11-21.
func day(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format(time.DateOnly)
}

// days formats a duration of whole days: "90 days".
func days(d time.Duration) string {
	return plural(int(d/(24*time.Hour)), "day")
}

// ago says how long before now t was, in words a person reads at a glance:
// "2 days ago", "5 minutes ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "less than a minute ago"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
