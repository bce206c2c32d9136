package credential

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/google/go-cmp/cmp"
)

var all = []authgate.Method{authgate.MethodBasic, authgate.MethodBearer, authgate.MethodAPIKey}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestExtract(t *testing.T) {
	x := &Extractor{APIKeyHeader: "X-Api-Key", MaxBytes: 4096}
	bearerOnly := []authgate.Method{authgate.MethodBearer}
	tests := []struct {
		name   string
		header http.Header
		accept []authgate.Method
		want   authgate.Credential
		reason reason.Code
		method authgate.Method
	}{
		{name: "a Bearer token is read", header: http.Header{"Authorization": {"Bearer abc.def.ghi"}},
			want: authgate.Credential{Method: authgate.MethodBearer, Header: "Authorization", Secret: "abc.def.ghi"}},
		{name: "the scheme name is case-insensitive", header: http.Header{"Authorization": {"bEaReR abc"}},
			want: authgate.Credential{Method: authgate.MethodBearer, Header: "Authorization", Secret: "abc"}},
		{name: "RFC 7617's Aladdin example decodes", header: http.Header{"Authorization": {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}},
			want: authgate.Credential{Method: authgate.MethodBasic, Header: "Authorization", Username: "Aladdin", Secret: "open sesame"}},
		{name: "a password may contain colons", header: http.Header{"Authorization": {"Basic " + b64("bob:a:b")}},
			want: authgate.Credential{Method: authgate.MethodBasic, Header: "Authorization", Username: "bob", Secret: "a:b"}},
		{name: "Basic without padding is accepted", header: http.Header{"Authorization": {"Basic " + strings.TrimRight(b64("bob:pw"), "=")}},
			want: authgate.Credential{Method: authgate.MethodBasic, Header: "Authorization", Username: "bob", Secret: "pw"}},
		{name: "an API key is read from its header", header: http.Header{"X-Api-Key": {"agk_x_y"}},
			want: authgate.Credential{Method: authgate.MethodAPIKey, Header: "X-Api-Key", Secret: "agk_x_y"}},
		{name: "an API key is read from Authorization: ApiKey", header: http.Header{"Authorization": {"ApiKey agk_x_y"}},
			want: authgate.Credential{Method: authgate.MethodAPIKey, Header: "Authorization", Secret: "agk_x_y"}},
		{name: "an Authorization header the route does not read leaves the API key usable",
			header: http.Header{"Authorization": {"Bearer for-upstream"}, "X-Api-Key": {"agk_x_y"}}, accept: []authgate.Method{authgate.MethodAPIKey},
			want: authgate.Credential{Method: authgate.MethodAPIKey, Header: "X-Api-Key", Secret: "agk_x_y"}},

		{name: "nothing at all → credentials_missing", header: http.Header{}, reason: reason.CredentialsMissing},
		{name: "a key in X-Auth-Token → credentials_wrong_header", header: http.Header{"X-Auth-Token": {"k"}}, reason: reason.CredentialsWrongHeader},
		{name: "the British spelling Authorisation → credentials_wrong_header", header: http.Header{"Authorisation": {"Bearer k"}}, reason: reason.CredentialsWrongHeader},
		{name: "Basic where only Bearer is accepted → scheme_not_accepted", header: http.Header{"Authorization": {"Basic " + b64("a:b")}}, accept: bearerOnly, reason: reason.SchemeNotAccepted, method: authgate.MethodBasic},
		{name: "Digest → scheme_not_accepted", header: http.Header{"Authorization": {"Digest username=x"}}, reason: reason.SchemeNotAccepted},
		{name: "a bare JWT without a scheme → scheme_missing", header: http.Header{"Authorization": {"eyJhbGciOi.eyJzdWIi.c2ln"}}, reason: reason.SchemeMissing},
		{name: "Bearer with nothing after it → credential_empty", header: http.Header{"Authorization": {"Bearer"}}, reason: reason.CredentialEmpty},
		{name: "Bearer followed by spaces only → credential_empty", header: http.Header{"Authorization": {"Bearer   "}}, reason: reason.CredentialEmpty},
		{name: "an empty API key header → credential_empty", header: http.Header{"X-Api-Key": {" "}}, reason: reason.CredentialEmpty, method: authgate.MethodAPIKey},
		{name: "Bearer Bearer → bearer_prefix_doubled", header: http.Header{"Authorization": {"Bearer Bearer abc"}}, reason: reason.BearerPrefixDoubled, method: authgate.MethodBearer},
		{name: "a quoted token → credential_quoted", header: http.Header{"Authorization": {`Bearer "abc"`}}, reason: reason.CredentialQuoted, method: authgate.MethodBearer},
		{name: "a quoted header value → credential_quoted", header: http.Header{"Authorization": {`"Bearer abc"`}}, reason: reason.CredentialQuoted},
		{name: "a quoted API key → credential_quoted", header: http.Header{"X-Api-Key": {`'agk_x'`}}, reason: reason.CredentialQuoted, method: authgate.MethodAPIKey},
		{name: "a token with a space inside → credential_whitespace", header: http.Header{"Authorization": {"Bearer abc def"}}, reason: reason.CredentialWhitespace, method: authgate.MethodBearer},
		{name: "a token with a tab inside → credential_whitespace", header: http.Header{"Authorization": {"Bearer abc\tdef"}}, reason: reason.CredentialWhitespace, method: authgate.MethodBearer},
		{name: "an oversize token → credential_too_large", header: http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 5000)}}, reason: reason.CredentialTooLarge},
		{name: "two Authorization headers → credentials_ambiguous", header: http.Header{"Authorization": {"Bearer a", "Bearer b"}}, reason: reason.CredentialsAmbiguous},
		{name: "a token and an API key → credentials_ambiguous", header: http.Header{"Authorization": {"Bearer a"}, "X-Api-Key": {"k"}}, reason: reason.CredentialsAmbiguous},
		{name: "Basic that is not base64 → basic_encoding_invalid", header: http.Header{"Authorization": {"Basic !!!!"}}, reason: reason.BasicEncodingInvalid, method: authgate.MethodBasic},
		{name: "Basic without colon → basic_separator_missing", header: http.Header{"Authorization": {"Basic " + b64("bobpassword")}}, reason: reason.BasicSeparatorMissing, method: authgate.MethodBasic},
		{name: "Basic with a control character → basic_characters_invalid", header: http.Header{"Authorization": {"Basic " + b64("bob:pa\x00ss")}}, reason: reason.BasicCharactersInvalid, method: authgate.MethodBasic},
		{name: "Basic that is not UTF-8 → basic_characters_invalid", header: http.Header{"Authorization": {"Basic " + b64("b\xffb:pass")}}, reason: reason.BasicCharactersInvalid, method: authgate.MethodBasic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accept := tt.accept
			if accept == nil {
				accept = all
			}
			r := x.Extract(tt.header, accept)
			if r.Reason != tt.reason {
				t.Fatalf("reason = %q, want %q (check: %s)", r.Reason, tt.reason, r.Check.Detail)
			}
			if tt.reason != "" {
				if r.Check.Result != authgate.Fail || r.Check.Reason != tt.reason {
					t.Errorf("failing check = %+v, want a fail naming %s", r.Check, tt.reason)
				}
				if tt.method != "" && r.Method != tt.method {
					t.Errorf("method = %q, want %q", r.Method, tt.method)
				}
				return
			}
			if diff := cmp.Diff(tt.want, r.Credential); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTraceNeverHoldsTheSecret pushes distinctive secrets through every
// path and checks that no check detail contains them.
func TestTraceNeverHoldsTheSecret(t *testing.T) {
	x := &Extractor{APIKeyHeader: "X-Api-Key", MaxBytes: 64}
	const secret = "S3cr3tV4lue"
	headers := []http.Header{
		{"Authorization": {"Bearer " + secret}},
		{"Authorization": {secret}},
		{"Authorization": {secret + " more"}},
		{"Authorization": {"Bearer " + secret + " " + secret}},
		{"Authorization": {`Bearer "` + secret + `"`}},
		{"Authorization": {"Basic " + b64("bob:"+secret)}},
		{"Authorization": {"Basic " + b64("bob"+secret)}},
		{"Authorization": {"Bearer " + strings.Repeat(secret, 10)}},
		{"X-Api-Key": {secret + " x"}},
		{"X-Auth-Token": {secret}},
	}
	for _, h := range headers {
		r := x.Extract(h, all)
		if strings.Contains(r.Check.Detail, secret) || strings.Contains(r.Credential.String(), secret) {
			t.Errorf("trace %q reveals the secret", r.Check.Detail)
		}
	}
}

func TestCredentialFormattingRedactsTheSecret(t *testing.T) {
	c := authgate.Credential{Method: authgate.MethodBasic, Header: "Authorization", Username: "bob", Secret: "hunter2"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q reveals the secret", s)
		}
	}
}

func FuzzAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer a.b.c", "Basic " + b64("a:b"), "Bearer Bearer x", `"x"`, "ApiKey k", "Basic", "", "Digest x", "Basic ===="} {
		f.Add(s, "")
	}
	x := &Extractor{APIKeyHeader: "X-Api-Key", MaxBytes: 8192}
	f.Fuzz(func(t *testing.T, authz, key string) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		if key != "" {
			h.Set("X-Api-Key", key)
		}
		r := x.Extract(h, all)
		if r.Reason == "" {
			if r.Credential.Method == "" {
				t.Fatalf("no reason and no credential for %q", authz)
			}
			return
		}
		if !reason.Known(r.Reason) {
			t.Fatalf("uncatalogued reason %q", r.Reason)
		}
	})
}
