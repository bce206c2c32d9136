package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// parseDuration parses Go duration syntax ("1h30m", "250ms") extended with
// a leading whole number of days ("90d", "1d12h"), since password and key
// retention windows are naturally written in days.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, 'd')
	if i < 0 {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseUint(s[:i], 10, 32)
	if err != nil {
		return 0, errors.New("days must be a whole number, as in 90d")
	}
	if days > uint64(math.MaxInt64/int64(day)) {
		return 0, errors.New("too many days")
	}
	d := time.Duration(days) * day
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, errors.New("bad duration after the days")
		}
		d += r
	}
	return d, nil
}

// FormatDuration writes d the way a user would, as the configuration file
// does: "90d", "1h", "5m", "30s".
func FormatDuration(d time.Duration) string { return formatDuration(d) }

func formatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses a duration as the configuration file does: Go
// syntax ("90s", "1h30m") or a whole number of days first ("90d", "1d12h").
// The CLI uses it for flags such as --expires and --overlap.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }
