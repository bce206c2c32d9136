package signinlog

import (
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jsonquote"
	"github.com/authgate/authgate/reason"
)

// appendJSONLine appends d's log line exactly as slog.JSONHandler writes
// the record of lineAttrs(d, summary) at level and time t, newline
// included. It reports false, having appended nothing, for a value that
// slog would write as an error (a time outside years 0–9999, a float that
// is not finite): the caller then logs through slog.
func appendJSONLine(b []byte, d *authgate.Decision, level slog.Level, t time.Time, summary bool) ([]byte, bool) {
	start := len(b)
	b = append(b, `{"time":`...)
	var ok bool
	if b, ok = appendSlogTime(b, t.Round(0)); !ok {
		return b[:start], false
	}
	b = append(b, `,"level":`...)
	b = appendSlogString(b, level.String())
	b = append(b, `,"msg":"decision","request_id":`...)
	b = appendSlogString(b, d.RequestID)
	b = appendSlogField(b, "outcome", d.Outcome())
	b = appendSlogField(b, "route", d.Route)
	b = appendSlogField(b, "method", string(d.Method))
	if !d.Allowed {
		b = appendSlogField(b, "reason", string(d.Reason))
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(reason.Lookup(d.Reason).Status), 10)
	}
	if d.Claimed != "" {
		b = appendSlogField(b, "claimed", d.Claimed)
	}
	if d.Principal != nil {
		b = appendSlogField(b, "subject", d.Principal.Subject)
	}
	if d.Fingerprint != "" {
		b = appendSlogField(b, "fingerprint", d.Fingerprint)
	}
	if d.ClockSkew != 0 {
		b = append(b, `,"clock_skew_s":`...)
		if b, ok = appendJSONFloat(b, d.ClockSkew.Seconds()); !ok {
			return b[:start], false
		}
	}
	if d.Token != nil {
		if b, ok = appendTokenGroup(b, d.Token); !ok {
			return b[:start], false
		}
	}
	b = appendSlogField(b, "source", d.Source.String())
	b = appendSlogField(b, "http_method", d.HTTPMethod)
	b = appendSlogField(b, "host", d.Host)
	b = appendSlogField(b, "path", d.Path)
	b = appendSlogField(b, "user_agent", d.UserAgent)
	b = append(b, `,"latency_ms":`...)
	if b, ok = appendJSONFloat(b, latencyMillis(d)); !ok {
		return b[:start], false
	}
	switch {
	case !summary:
		b = append(b, `,"checks":`...)
		b = appendChecks(b, d.Checks)
	default:
		if c, found := failedCheck(d); found {
			b = appendSlogField(b, "failed_check", c.Name+": "+c.Detail)
		}
	}
	return append(b, "}\n"...), true
}

// appendTokenGroup appends tokenAttr's group, which slog leaves out when
// it is empty.
func appendTokenGroup(b []byte, t *authgate.TokenInfo) ([]byte, bool) {
	start := len(b)
	b = append(b, `,"token":{`...)
	open := len(b)
	add := func(k, v string) {
		if v != "" {
			if len(b) > open {
				b = append(b, ',')
			}
			b = appendSlogString(b, k)
			b = append(b, ':')
			b = appendSlogString(b, v)
		}
	}
	for _, f := range tokenTexts(t) {
		add(f.k, f.v)
	}
	if len(t.Audience) > 0 {
		if len(b) > open {
			b = append(b, ',')
		}
		// slog.Any of a []string goes through encoding/json.
		b = append(b, `"aud":[`...)
		for i, a := range t.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonquote.Append(b, a, jsonquote.Encoder)
		}
		b = append(b, ']')
	}
	for _, tt := range tokenTimes(t) {
		if !tt.t.IsZero() {
			if len(b) > open {
				b = append(b, ',')
			}
			b = appendSlogString(b, tt.k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendSlogTime(b, tt.t); !ok {
				return b[:start], false
			}
		}
	}
	add("jti_hash", t.JTIHash)
	if len(b) == open {
		return b[:start], true
	}
	return append(b, '}'), true
}

// appendSlogField appends ,"key":"value".
func appendSlogField(b []byte, key, value string) []byte {
	b = append(b, ',')
	b = appendSlogString(b, key)
	b = append(b, ':')
	return appendSlogString(b, value)
}

// appendSlogTime appends t as slog's JSON handler does (RFC 3339 with
// nanoseconds), or reports false for a year it writes as an error.
func appendSlogTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendJSONFloat appends f as encoding/json does, which is how slog's
// JSON handler writes a float, or reports false for NaN and infinities.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendSlogString appends s quoted as slog's JSON handler quotes strings.
func appendSlogString(b []byte, s string) []byte {
	return jsonquote.Append(b, s, jsonquote.Slog)
}
