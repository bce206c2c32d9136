package jwt

import (
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// trace accumulates the verdict and its checks while a token is verified.
type trace struct {
	v authgate.Verdict
}

func newTrace() *trace {
	return &trace{v: authgate.Verdict{Checks: make([]authgate.Check, 0, 12)}}
}

// add appends a check that did not refuse the token.
func (t *trace) add(name string, r authgate.Result, detail string) {
	t.v.Checks = append(t.v.Checks, authgate.Check{Name: name, Result: r, Detail: detail})
}

// deny appends the failing check and sets the verdict's one reason.
func (t *trace) deny(name string, code reason.Code, detail string) authgate.Verdict {
	t.v.Checks = append(t.v.Checks, authgate.Check{Name: name, Result: authgate.Fail, Detail: detail, Reason: code})
	t.v.Reason = code
	t.v.Principal = authgate.Principal{}
	return t.v
}

// expDetail describes the exp check, e.g. "exp=2026-11-23T03:00:00Z
// now=2026-11-23T03:05:12Z leeway=60s → expired 312 s ago", and returns how
// long ago the token expired (negative while it is valid).
func expDetail(exp, now time.Time, leeway time.Duration) (string, time.Duration) {
	ago := now.Sub(exp)
	b := windowPrefix(make([]byte, 0, 112), "exp", exp, now, leeway)
	switch {
	case ago <= 0:
		b = append(b, " → valid for another "...)
		b = appendSeconds(b, -ago)
	case ago <= leeway:
		b = append(b, " → expired "...)
		b = appendSeconds(b, ago)
		b = append(b, " ago, within leeway"...)
	default:
		b = append(b, " → expired "...)
		b = appendSeconds(b, ago)
		b = append(b, " ago"...)
	}
	return string(b), ago
}

// futureDetail describes an nbf or iat check and returns how far the claim
// lies ahead of now (negative when it is in the past).
func futureDetail(claim string, at, now time.Time, leeway time.Duration) (string, time.Duration) {
	ahead := at.Sub(now)
	b := windowPrefix(make([]byte, 0, 112), claim, at, now, leeway)
	if ahead <= 0 {
		b = append(b, " → not in the future"...)
		return string(b), ahead
	}
	b = append(b, " → "...)
	b = appendSeconds(b, ahead)
	b = append(b, " in the future"...)
	if ahead <= leeway {
		b = append(b, ", within leeway"...)
	}
	return string(b), ahead
}

func windowPrefix(b []byte, claim string, at, now time.Time, leeway time.Duration) []byte {
	b = append(b, claim...)
	b = append(b, '=')
	b = at.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, " now="...)
	b = now.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, " leeway="...)
	b = strconv.AppendInt(b, int64(leeway/time.Second), 10)
	return append(b, 's')
}

func appendSeconds(b []byte, d time.Duration) []byte {
	b = strconv.AppendInt(b, int64(d/time.Second), 10)
	return append(b, " s"...)
}

// maxQuoted bounds values copied from a token into the trace: they are
// chosen by the caller and must not flood the sign-in log.
const maxQuoted = 128

// quote renders a caller-supplied value for a check detail.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}

func quoteList(list []string) string {
	const maxItems = 8
	parts := make([]string, 0, min(len(list), maxItems)+1)
	for i, s := range list {
		if i == maxItems {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, quote(s))
	}
	return "[" + strings.Join(parts, ",") + "]"
}
