package signinlog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// AppendDecisionJSON appends d to b as the JSON that encoding/json makes
// of it (with HTML escaping off), for stores to keep: the same fields,
// names, omissions and values, without reflection, in about a third of
// the time, which matters at tens of thousands of events a second. When
// the decision types have fields this encoder does not know (a field was
// added), or a value only encoding/json handles (a time outside years
// 0-9999), it uses encoding/json; an error is encoding/json's.
func AppendDecisionJSON(b []byte, d *authgate.Decision) ([]byte, error) {
	if !decisionFieldsKnown || !plainTime(d.Time) || d.Token != nil &&
		!(plainTime(d.Token.IssuedAt) && plainTime(d.Token.NotBefore) && plainTime(d.Token.Expires)) {
		return appendMarshalled(b, d)
	}
	b = append(b, `{"request_id":`...)
	b = appendJSONString(b, d.RequestID)
	b = append(b, `,"time":`...)
	b = appendJSONTime(b, d.Time)
	b = appendField(b, "route", d.Route)
	b = appendField(b, "host", d.Host)
	b = appendField(b, "path", d.Path)
	b = appendField(b, "http_method", d.HTTPMethod)
	if d.Source.IsValid() && d.Source.Zone() == "" {
		b = append(b, `,"source":"`...) // an address without a zone needs no escaping
		b = append(d.Source.AppendTo(b), '"')
	} else if d.Source.IsValid() {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, d.Source.String())
	}
	b = appendField(b, "user_agent", d.UserAgent)
	b = appendField(b, "method", string(d.Method))
	b = append(b, `,"allowed":`...)
	b = strconv.AppendBool(b, d.Allowed)
	b = appendField(b, "reason", string(d.Reason))
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(d.Status), 10)
	b = appendField(b, "shown", string(d.Shown))
	b = appendField(b, "claimed", d.Claimed)
	if p := d.Principal; p != nil {
		b = append(b, `,"principal":{"subject":`...)
		b = appendJSONString(b, p.Subject)
		b = append(b, `,"method":`...)
		b = appendJSONString(b, string(p.Method))
		b = appendList(b, "scopes", p.Scopes)
		b = appendField(b, "issuer", p.Issuer)
		b = appendList(b, "audience", p.Audience)
		b = appendField(b, "key_id", p.KeyID)
		if p.SecondFactor {
			b = append(b, `,"second_factor":true`...)
		}
		b = appendField(b, "session_id", p.SessionID)
		if p.Enrolled {
			b = append(b, `,"enrolled":true`...)
		}
		b = append(b, '}')
	}
	b = appendField(b, "fingerprint", d.Fingerprint)
	if t := d.Token; t != nil {
		b = append(b, `,"token":{`...)
		start := len(b)
		b = appendField(b, "alg", t.Algorithm)
		b = appendField(b, "kid", t.KeyID)
		b = appendField(b, "typ", t.Type)
		b = appendField(b, "iss", t.Issuer)
		b = appendField(b, "sub", t.Subject)
		b = appendList(b, "aud", t.Audience)
		for _, tt := range []struct {
			name string
			t    time.Time
		}{{"iat", t.IssuedAt}, {"nbf", t.NotBefore}, {"exp", t.Expires}} {
			if !tt.t.IsZero() {
				b = append(append(append(b, `,"`...), tt.name...), `":`...)
				b = appendJSONTime(b, tt.t)
			}
		}
		b = appendField(b, "jti_hash", t.JTIHash)
		if len(b) > start {
			b = append(b[:start], b[start+1:]...) // the first field's comma
		}
		b = append(b, '}')
	}
	b = appendNumber(b, "clock_skew", int64(d.ClockSkew))
	b = appendNumber(b, "retry_after", int64(d.RetryAfter))
	b = appendNumber(b, "delay", int64(d.Delay))
	b = appendList(b, "missing_scopes", d.MissingScopes)
	b = append(b, `,"checks":`...)
	if d.Checks == nil {
		b = append(b, "null"...)
	} else {
		b = appendChecks(b, d.Checks)
	}
	b = append(b, `,"latency":`...)
	b = strconv.AppendInt(b, int64(d.Latency), 10)
	return append(b, '}'), nil
}

// appendMarshalled appends d as encoding/json encodes it.
func appendMarshalled(b []byte, d *authgate.Decision) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return b, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendJSONString(b, v)
}

// appendList appends ,"name":[...] unless list is empty (omitempty).
func appendList(b []byte, name string, list []string) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":[`...)
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

// appendNumber appends ,"name":n unless n is 0 (omitempty).
func appendNumber(b []byte, name string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return strconv.AppendInt(b, n, 10)
}

// plainTime reports whether t encodes as time.Time.MarshalJSON does it
// by appendJSONTime: a year within 0-9999, an offset within a day.
func plainTime(t time.Time) bool {
	_, offset := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && offset > -24*60*60 && offset < 24*60*60
}

// appendJSONTime appends t as time.Time.MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// decisionFields lists the fields (name and JSON tag) that
// AppendDecisionJSON encodes, per type.
var decisionFields = map[reflect.Type]string{
	reflect.TypeFor[authgate.Decision]():  "RequestID:request_id Time:time Route:route,omitempty Host:host,omitempty Path:path,omitempty HTTPMethod:http_method,omitempty Source:source,omitzero UserAgent:user_agent,omitempty Method:method,omitempty Allowed:allowed Reason:reason,omitempty Status:status Shown:shown,omitempty Claimed:claimed,omitempty Principal:principal,omitempty Fingerprint:fingerprint,omitempty Token:token,omitempty ClockSkew:clock_skew,omitempty RetryAfter:retry_after,omitempty Delay:delay,omitempty MissingScopes:missing_scopes,omitempty Checks:checks Latency:latency",
	reflect.TypeFor[authgate.Principal](): "Subject:subject Method:method Scopes:scopes,omitempty Issuer:issuer,omitempty Audience:audience,omitempty KeyID:key_id,omitempty SecondFactor:second_factor,omitempty SessionID:session_id,omitempty Enrolled:enrolled,omitempty",
	reflect.TypeFor[authgate.TokenInfo](): "Algorithm:alg,omitempty KeyID:kid,omitempty Type:typ,omitempty Issuer:iss,omitempty Subject:sub,omitempty Audience:aud,omitempty IssuedAt:iat,omitzero NotBefore:nbf,omitzero Expires:exp,omitzero JTIHash:jti_hash,omitempty",
	reflect.TypeFor[authgate.Check]():     "Name:check Result:result Detail:detail,omitempty Reason:reason,omitempty",
}

// DecisionFieldsChanged returns the types whose fields differ from those
// AppendDecisionJSON knows; while any does, it uses encoding/json.
func DecisionFieldsChanged() []string {
	var changed []string
	for t, want := range decisionFields {
		var have []string
		for f := range t.Fields() {
			have = append(have, f.Name+":"+f.Tag.Get("json"))
		}
		if strings.Join(have, " ") != want {
			changed = append(changed, t.String())
		}
	}
	slices.Sort(changed)
	return changed
}

var decisionFieldsKnown = len(DecisionFieldsChanged()) == 0
