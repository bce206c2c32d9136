package signinlog

import (
	"log/slog"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jsonquote"
)

// trace renders a decision's checks as a JSON array in JSON logs and as
// one readable line in text logs.
type trace []authgate.Check

// MarshalJSON writes the checks without reflection: this runs for every
// decision.
func (t trace) MarshalJSON() ([]byte, error) {
	return appendChecks(make([]byte, 0, 128*len(t)+2), t), nil
}

// appendChecks appends checks as a JSON array, as encoding/json encodes
// a non-nil []authgate.Check.
func appendChecks(b []byte, checks []authgate.Check) []byte {
	b = append(b, '[')
	for i, c := range checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"check":`...)
		b = appendJSONString(b, c.Name)
		b = append(b, `,"result":`...)
		b = appendJSONString(b, string(c.Result))
		b = appendField(b, "detail", c.Detail)
		b = appendField(b, "reason", string(c.Reason))
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string, quoted as encoding/json
// quotes it without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	return jsonquote.Append(b, s, jsonquote.Encoder)
}

func (t trace) MarshalText() ([]byte, error) {
	var b strings.Builder
	for i, c := range t {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(c.Name)
		b.WriteByte(' ')
		b.WriteString(string(c.Result))
		if c.Detail != "" {
			b.WriteString(": ")
			b.WriteString(c.Detail)
		}
	}
	return []byte(b.String()), nil
}

// tokenTexts are the text fields that open the token group, in the order
// both its writers (tokenAttr and appendTokenGroup) write them; the
// audience, tokenTimes and jti_hash follow.
func tokenTexts(t *authgate.TokenInfo) [5]struct{ k, v string } {
	return [5]struct{ k, v string }{{"alg", t.Algorithm}, {"kid", t.KeyID}, {"typ", t.Type}, {"iss", t.Issuer}, {"sub", t.Subject}}
}

// tokenTime is one of the token group's times and its key.
type tokenTime struct {
	k string
	t time.Time
}

// tokenTimes are the token group's times, in order.
func tokenTimes(t *authgate.TokenInfo) [3]tokenTime {
	return [3]tokenTime{{"iat", t.IssuedAt}, {"nbf", t.NotBefore}, {"exp", t.Expires}}
}

// tokenAttr renders token metadata as a group: an object in JSON logs,
// token.alg=... pairs in text logs. Built from plain attributes, it costs
// no reflection: through encoding/json, it was most of a refusal's log
// line.
func tokenAttr(t *authgate.TokenInfo) slog.Attr {
	attrs := make([]any, 0, 10)
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	for _, f := range tokenTexts(t) {
		add(f.k, f.v)
	}
	if len(t.Audience) > 0 {
		attrs = append(attrs, slog.Any("aud", t.Audience))
	}
	for _, tt := range tokenTimes(t) {
		if !tt.t.IsZero() {
			attrs = append(attrs, slog.Time(tt.k, tt.t))
		}
	}
	add("jti_hash", t.JTIHash)
	return slog.Group("token", attrs...)
}
