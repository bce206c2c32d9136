package authgate

import (
	"testing"
	"time"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                      "alice",
		"ünïcode 🔑":                  "ünïcode 🔑",
		"a\x1b[31mred\x1b]0;pwned\a": `a\x1b[31mred\x1b]0;pwned\a`,
		"line\nbreak\ttab\x00nul":    `line\nbreak\ttab\x00nul`,
		"del\x7f c1\u0085":           `del\x7f c1\u0085`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		30 * time.Second:    "less than a minute ago",
		5 * time.Minute:     "5 minutes ago",
		time.Hour:           "1 hour ago",
		72 * time.Hour:      "3 days ago",
		-2 * time.Hour:      "in 2 hours",
		-1 * 24 * time.Hour: "in 24 hours",
	} {
		if got := Ago(now, now.Add(-d)); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
	if got := Ago(now, time.Time{}); got != "at an unknown time" {
		t.Errorf("zero time: %q", got)
	}
}
