package doctor_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/doctor"
)

func p(name, value string) doctor.Param { return doctor.Param{Name: name, Value: value} }

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []doctor.Challenge
		wantErr bool
	}{
		{name: "a Basic challenge with realm and charset", in: []string{`Basic realm="api", charset="UTF-8"`},
			want: []doctor.Challenge{{Scheme: "Basic", Params: []doctor.Param{p("realm", "api"), p("charset", "UTF-8")}}}},
		{name: "authgate's three challenges in one field", in: []string{`Basic realm="t", charset="UTF-8", Bearer realm="t", error="invalid_token", error_description="Token expired", ApiKey realm="t", header="X-API-Key"`},
			want: []doctor.Challenge{
				{Scheme: "Basic", Params: []doctor.Param{p("realm", "t"), p("charset", "UTF-8")}},
				{Scheme: "Bearer", Params: []doctor.Param{p("realm", "t"), p("error", "invalid_token"), p("error_description", "Token expired")}},
				{Scheme: "ApiKey", Params: []doctor.Param{p("realm", "t"), p("header", "X-API-Key")}},
			}},
		{name: "challenges in separate fields", in: []string{`Negotiate`, `NTLM`},
			want: []doctor.Challenge{{Scheme: "Negotiate"}, {Scheme: "NTLM"}}},
		{name: "a token68 challenge then another", in: []string{`Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, Basic realm="x"`},
			want: []doctor.Challenge{{Scheme: "Negotiate", Token68: "YIIBhwYGKwYBBQUCoIIBezCCAXeg=="}, {Scheme: "Basic", Params: []doctor.Param{p("realm", "x")}}}},
		{name: "unquoted token values and spaces around =", in: []string{`Bearer error = invalid_token ,scope="a b"`},
			want: []doctor.Challenge{{Scheme: "Bearer", Params: []doctor.Param{p("error", "invalid_token"), p("scope", "a b")}}}},
		{name: "escaped quotes inside a quoted-string", in: []string{`Digest realm="say \"hi\"", nonce="n\\1"`},
			want: []doctor.Challenge{{Scheme: "Digest", Params: []doctor.Param{p("realm", `say "hi"`), p("nonce", `n\1`)}}}},
		{name: "empty list elements are skipped", in: []string{` , Bearer realm="a",, `},
			want: []doctor.Challenge{{Scheme: "Bearer", Params: []doctor.Param{p("realm", "a")}}}},
		{name: "an unterminated quote is an error after what parsed", in: []string{`Basic realm="x", Bearer realm="oops`},
			want: []doctor.Challenge{{Scheme: "Basic", Params: []doctor.Param{p("realm", "x")}}, {Scheme: "Bearer"}}, wantErr: true},
		{name: "a value that is neither token nor quoted-string is an error", in: []string{`Bearer realm=@`},
			want: []doctor.Challenge{{Scheme: "Bearer"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := doctor.ParseChallenges(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("challenges (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzChallenges checks that the parser never panics and that what it
// parses survives a round trip through String.
func FuzzChallenges(f *testing.F) {
	for _, s := range []string{
		`Basic realm="api", charset="UTF-8"`,
		`Bearer realm="t", error="invalid_token", error_description="Token expired", ApiKey realm="t", header="X-API-Key"`,
		`Negotiate YIIBhw==, Basic realm=x`,
		`Digest realm="say \"hi\"", qop="auth,auth-int", nonce=abc`,
		`, ,Bearer`, `Basic realm="x`, `a b=c, d e==, f`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := doctor.ParseChallenges([]string{s})
		if err != nil {
			return
		}
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.String())
		}
		again, err := doctor.ParseChallenges(parts)
		if err != nil {
			t.Fatalf("%q parsed, but its rendering %q does not: %v", s, parts, err)
		}
		if diff := cmp.Diff(cs, again); diff != "" {
			t.Fatalf("round trip of %q changed it (-first +second):\n%s", s, diff)
		}
	})
}
