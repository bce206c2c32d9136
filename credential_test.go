package authgate

import "testing"

func TestCredentialString(t *testing.T) {
	for _, tc := range []struct {
		c    Credential
		want string
	}{
		{Credential{}, "no credential"},
		{Credential{Method: MethodAPIKey, Header: "X-Api-Key", Secret: "0123456789"}, "api_key in X-Api-Key (10 bytes)"},
		{Credential{Method: MethodBasic, Header: "Authorization", Username: "Aladdin", Secret: "open sesame"},
			`basic in Authorization (11 bytes) for user "Aladdin"`},
		{Credential{Method: MethodBasic, Header: "Authorization", Username: "tab\there \"q\"", Secret: "x"},
			`basic in Authorization (1 bytes) for user "tab\there \"q\""`},
		{Credential{Method: MethodBasic, Header: "Authorization", Username: "agk_u3p5wro22kxu_o5qJKOGm8YWBR4vCwaIjKGAy7POurSHW2FgetS_cjm0", Secret: ""},
			"basic in Authorization (0 bytes) for user (a 60-byte value that looks like a secret, not recorded)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}
