package password

import (
	"time"

	"github.com/authgate/authgate"
)

// day formats t as a UTC date for a trace: 2026-11-21.
func day(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format(time.DateOnly)
}

// days formats a duration of whole days: "90 days"; others as Go does
// ("36h0m0s").
func days(d time.Duration) string {
	if d%(24*time.Hour) != 0 {
		return d.String()
	}
	return authgate.Count(int(d/(24*time.Hour)), "day")
}
