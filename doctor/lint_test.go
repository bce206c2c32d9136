package doctor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authgate/authgate/doctor"
	"github.com/authgate/authgate/reason"
)

func TestLintFindsWhatAVerifierWouldReject(t *testing.T) {
	claims := func(extra string) string {
		return fmt.Sprintf(`{"iss":"https://idp.example","sub":"alice","aud":"api://orders","iat":%d,"exp":%d%s}`, now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix(), extra)
	}
	es := `{"alg":"ES256","kid":"k1","typ":"JWT"}`
	tests := []struct {
		name     string
		token    string
		audience string
		top      reason.Code // "" when the token is fine
		notes    []string
	}{
		{name: "a well-formed fresh token passes", token: fakeJWT(es, claims("")), top: ""},
		{name: "the same token read from a file with a newline passes", token: fakeJWT(es, claims("")) + "\n", top: ""},
		{name: "alg none is token_algorithm_rejected", token: fakeJWT(`{"alg":"none"}`, claims("")), top: reason.TokenAlgorithm},
		{name: "HMAC is token_algorithm_rejected with a red flag", token: fakeJWT(`{"alg":"HS256"}`, claims("")), top: reason.TokenAlgorithm, notes: []string{"token_hmac"}},
		{name: "an expired token is token_expired", token: fakeJWT(es, fmt.Sprintf(`{"iss":"i","sub":"s","aud":"a","exp":%d}`, now.Add(-5*time.Minute).Unix())), top: reason.TokenExpired},
		{name: "nbf in 10 minutes is token_not_yet_valid", token: fakeJWT(es, claims(fmt.Sprintf(`,"nbf":%d`, now.Add(10*time.Minute).Unix()))), top: reason.TokenNotYetValid},
		{name: "no exp is token_claim_missing", token: fakeJWT(es, `{"iss":"i","sub":"s","aud":"a"}`), top: reason.TokenClaimMissing},
		{name: "another audience is audience_mismatch", token: fakeJWT(es, claims("")), audience: "api://billing", top: reason.AudienceMismatch},
		{name: "jku and a 30-day lifetime are red flags, not causes", token: fakeJWT(`{"alg":"ES256","jku":"https://evil.example/k"}`,
			fmt.Sprintf(`{"iss":"i","sub":"s","aud":"a","iat":%d,"exp":%d}`, now.Unix(), now.Add(30*24*time.Hour).Unix())), notes: []string{"token_jku", "token_long_lived"}},
		{name: "no aud is a red flag", token: fakeJWT(es, fmt.Sprintf(`{"iss":"i","sub":"s","exp":%d}`, now.Add(time.Hour).Unix())), notes: []string{"token_no_aud"}},
		{name: "garbage with dots is token_malformed", token: "abc.def.ghi", top: reason.TokenMalformed},
		{name: "a token with its Bearer prefix is bearer_prefix_doubled", token: "Bearer " + fakeJWT(es, claims("")), top: reason.BearerPrefixDoubled},
		{name: "a quoted token is credential_quoted", token: `"` + fakeJWT(es, claims("")) + `"`, top: reason.CredentialQuoted},
		{name: "a token broken over two lines is credential_whitespace", token: fakeJWT(es, claims(""))[:20] + "\n" + fakeJWT(es, claims(""))[20:], top: reason.CredentialWhitespace},
		{name: "an opaque token has no claims to judge", token: "ya29.opaque-token-value", top: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := doctor.Lint(context.Background(), tt.token, doctor.LintOptions{Audience: tt.audience, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.TopCause().Code; got != tt.top {
				t.Errorf("top cause %q, want %q; causes %s", got, tt.top, codes(r.Causes))
			}
			if (tt.top != "") != (r.Outcome == doctor.Failed) {
				t.Errorf("outcome %s with top cause %q", r.Outcome, tt.top)
			}
			for _, n := range tt.notes {
				if !hasNote(r, n) {
					t.Errorf("no note %s; notes %v", n, noteIDs(r))
				}
			}
		})
	}
	if _, err := doctor.Lint(context.Background(), " \n", doctor.LintOptions{}); err == nil {
		t.Errorf("an empty token must be an error")
	}
}

func TestLintChecksTheKidAgainstAKeySetFile(t *testing.T) {
	g := newGateway(t)
	dir := t.TempDir()
	set := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(set, jwksJSON(jose.JSONWebKey{Key: &g.corpKey.PublicKey, KeyID: "corp-1", Algorithm: "ES256"}), 0o600); err != nil {
		t.Fatal(err)
	}
	lint := func(tok string) *doctor.Report {
		r, err := doctor.Lint(context.Background(), tok, doctor.LintOptions{JWKS: set, Now: g.now})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := lint(g.corpToken(nil)); r.Outcome != doctor.Succeeded || r.Token.Signature.Result != "verified" {
		t.Errorf("a valid token: outcome %s, signature %+v, causes %s", r.Outcome, r.Token.Signature, codes(r.Causes))
	}
	if r := lint(g.partnerToken("api://orders")); r.TopCause().Code != reason.KeyUnknown {
		t.Errorf("another issuer's kid: causes %s", codes(r.Causes))
	}
}
