package apikey

import "time"

// stamp formats t for a trace to the minute, in UTC: 2026-11-20T10:00Z.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format("2006-01-02T15:04Z07:00")
}
