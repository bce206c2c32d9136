package signinlog

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// trace renders a decision's checks as a JSON array in JSON logs and as
// one readable line in text logs.
type trace []authgate.Check

func (t trace) MarshalJSON() ([]byte, error) { return json.Marshal([]authgate.Check(t)) }

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

// token renders token metadata as an object in JSON logs and as key=value
// pairs in text logs.
type token struct{ *authgate.TokenInfo }

func (t token) MarshalJSON() ([]byte, error) { return json.Marshal(t.TokenInfo) }

func (t token) MarshalText() ([]byte, error) {
	var b strings.Builder
	add := func(k, v string) {
		if v != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + "=" + v)
		}
	}
	ts := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	}
	add("alg", t.Algorithm)
	add("kid", t.KeyID)
	add("iss", t.Issuer)
	add("sub", t.Subject)
	add("aud", strings.Join(t.Audience, ","))
	add("iat", ts(t.IssuedAt))
	add("nbf", ts(t.NotBefore))
	add("exp", ts(t.Expires))
	add("jti_hash", t.JTIHash)
	return []byte(b.String()), nil
}
