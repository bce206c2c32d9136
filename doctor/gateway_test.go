package doctor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/doctor"
	"github.com/authgate/authgate/reason"
)

// TestDoctorAgreesWithTheGateway provokes, through a real authgate, every
// refusal a client can cause with what it sends, and checks that doctor's
// top cause is the reason the gateway reports. Where the cause can be seen
// from the client's side (the credential's format, the token's claims and
// keys), doctor must also find it on its own: its best own cause must be
// the same code, whatever the server says.
func TestDoctorAgreesWithTheGateway(t *testing.T) {
	g := newGateway(t)
	ctx := context.Background()
	st := g.srv.Store()
	g.addUser("alice", "Old-Battery-9", "read")
	g.addUser("alice", "Correct-Horse 1")
	active, _ := st.CreateKey(ctx, "billing", []string{"read"}, time.Time{})
	revoked, _ := st.CreateKey(ctx, "billing", nil, time.Time{})
	st.RevokeKey(ctx, revoked.ID)
	rotated, _ := st.CreateKey(ctx, "billing", nil, time.Time{})
	st.RotateKey(ctx, rotated.ID, 0)
	expiring, _ := st.CreateKey(ctx, "billing", nil, g.now().Add(time.Minute))
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	corp := func(edit func(jwtlib.MapClaims, map[string]any)) string { return g.corpToken(edit) }
	corpKeys := func(o *doctor.Options) {
		o.Issuer, o.JWKS, o.Audience = "https://corp.test", g.jwks.URL, "api://orders"
	}
	auth := func(v string) http.Header { return http.Header{"Authorization": {v}} }

	tests := []struct {
		name   string
		path   string
		host   string
		header http.Header
		opts   func(*doctor.Options)
		before func()
		want   reason.Code
		// local: doctor must find want itself, not only read it from the answer.
		local bool
	}{
		{name: "no credentials is credentials_missing", path: "/v", want: reason.CredentialsMissing, local: true},
		{name: "a key in X-Auth-Token is credentials_wrong_header", path: "/v", header: http.Header{"X-Auth-Token": {active.Key}}, want: reason.CredentialsWrongHeader, local: true},
		{name: "Basic on a Bearer-only route is scheme_not_accepted", path: "/b", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "alice", "x" }, want: reason.SchemeNotAccepted, local: true},
		{name: "a bare token without scheme is scheme_missing", path: "/v", header: auth(corp(nil)), want: reason.SchemeMissing, local: true},
		{name: "Bearer and nothing else is credential_empty", path: "/v", header: auth("Bearer"), want: reason.CredentialEmpty, local: true},
		{name: "a token that already holds its Bearer prefix is bearer_prefix_doubled", path: "/v", opts: func(o *doctor.Options) { o.Token = "Bearer " + corp(nil) }, want: reason.BearerPrefixDoubled, local: true},
		{name: "a quoted token is credential_quoted", path: "/v", opts: func(o *doctor.Options) { o.Token = `"` + corp(nil) + `"` }, want: reason.CredentialQuoted, local: true},
		{name: "a token with a space is credential_whitespace", path: "/v", header: auth("Bearer abc def"), want: reason.CredentialWhitespace, local: true},
		{name: "an oversize token is credential_too_large", path: "/v", opts: func(o *doctor.Options) { o.Token = strings.Repeat("a", 600) }, want: reason.CredentialTooLarge, local: true},
		{name: "a token and a key together are credentials_ambiguous", path: "/v", opts: func(o *doctor.Options) { o.Token, o.APIKey = "x", active.Key }, want: reason.CredentialsAmbiguous, local: true},
		{name: "Basic that is not base64 is basic_encoding_invalid", path: "/v", header: auth("Basic %%%"), want: reason.BasicEncodingInvalid, local: true},
		{name: "Basic without a colon is basic_separator_missing", path: "/v", header: auth("Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))), want: reason.BasicSeparatorMissing, local: true},
		{name: "Basic with a control character is basic_characters_invalid", path: "/v", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "alice", "a\x01b" }, want: reason.BasicCharactersInvalid, local: true},
		{name: "access_token in the URL is token_in_query", path: "/v?access_token=abcdef", want: reason.TokenInQuery, local: true},
		{name: "a host no route serves is route_not_found", path: "/v", host: "other.test", want: reason.RouteNotFound},

		{name: "an unknown user on a verbose route is user_unknown", path: "/v", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "mallory", "x" }, want: reason.UserUnknown},
		{name: "a wrong password on a verbose route is password_wrong", path: "/v", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "alice", "nope" }, want: reason.PasswordWrong},
		{name: "the previous password shows as password_wrong", path: "/v", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "alice", "Old-Battery-9" }, want: reason.PasswordWrong},
		{name: "a wrong password on a minimal route is invalid_credentials", path: "/m", opts: func(o *doctor.Options) { o.BasicUser, o.BasicPassword = "alice", "nope" }, want: reason.InvalidCredentials, local: true},
		{name: "a key not in authgate's format is api_key_malformed", path: "/v", opts: func(o *doctor.Options) { o.APIKey = "sk_live_123" }, want: reason.APIKeyMalformed, local: true},
		{name: "an unknown key id is api_key_unknown", path: "/v", opts: func(o *doctor.Options) { o.APIKey = "agk_aaaaaaaaaaaa_" + strings.Repeat("A", 43) }, want: reason.APIKeyUnknown},
		{name: "a known key id with a wrong secret is api_key_secret_wrong", path: "/v", opts: func(o *doctor.Options) { o.APIKey = active.Key[:len(active.Key)-4] + "AAAA" }, want: reason.APIKeySecretWrong},
		{name: "a revoked key is api_key_revoked", path: "/v", opts: func(o *doctor.Options) { o.APIKey = revoked.Key }, want: reason.APIKeyRevoked},
		{name: "a rotated-out key is key_rotated", path: "/v", opts: func(o *doctor.Options) { o.APIKey = rotated.Key }, want: reason.KeyRotated},

		{name: "three dots of garbage are token_malformed", path: "/v", opts: func(o *doctor.Options) { o.Token = "abc.def.ghi" }, want: reason.TokenMalformed, local: true},
		{name: "alg none is token_algorithm_rejected", path: "/v", opts: func(o *doctor.Options) { o.Token = noneToken() }, want: reason.TokenAlgorithm, local: true},
		{name: "a token of another issuer is issuer_untrusted", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { c["iss"] = "https://evil.test" })
		}, want: reason.IssuerUntrusted, local: true},
		{name: "a kid the issuer does not publish is key_unknown", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(_ jwtlib.MapClaims, h map[string]any) { h["kid"] = "corp-9" })
		}, want: reason.KeyUnknown, local: true},
		{name: "a token signed by another key is token_signature_invalid", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = sign(jwtlib.SigningMethodES256, jwtlib.MapClaims{"iss": "https://corp.test", "sub": "a", "aud": "api://orders", "exp": g.now().Add(time.Hour).Unix()}, map[string]any{"kid": "corp-1"}, otherKey)
		}, want: reason.TokenSignatureInvalid, local: true},
		{name: "a token expired 5 minutes ago is token_expired", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { c["exp"] = g.now().Add(-5 * time.Minute).Unix() })
		}, want: reason.TokenExpired, local: true},
		{name: "nbf 10 minutes ahead is token_not_yet_valid", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { c["nbf"] = g.now().Add(10 * time.Minute).Unix() })
		}, want: reason.TokenNotYetValid, local: true},
		{name: "iat 3 minutes ahead is token_issued_in_future", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { c["iat"] = g.now().Add(3 * time.Minute).Unix() })
		}, want: reason.TokenIssuedInFuture, local: true},
		{name: "a token without exp is token_claim_missing", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { delete(c, "exp") })
		}, want: reason.TokenClaimMissing, local: true},
		{name: "a token for another API is audience_mismatch", path: "/v", opts: func(o *doctor.Options) {
			corpKeys(o)
			o.Token = corp(func(c jwtlib.MapClaims, _ map[string]any) { c["aud"] = "api://billing" })
		}, want: reason.AudienceMismatch, local: true},
		{name: "a partner token for another audience on an orders route is audience_mismatch", path: "/orders", opts: func(o *doctor.Options) {
			o.Audience, o.Token = "api://orders", g.partnerToken("api://other")
		}, want: reason.AudienceMismatch, local: true},
		{name: "a partner token on a corp-only route is issuer_not_allowed", path: "/corp", opts: func(o *doctor.Options) { o.Token = g.partnerToken("api://orders") }, want: reason.IssuerNotAllowed},
		{name: "an issuer whose keys cannot be fetched is issuer_unavailable", path: "/v", opts: func(o *doctor.Options) {
			o.Token = sign(jwtlib.SigningMethodES256, jwtlib.MapClaims{"iss": "https://down.test", "sub": "a", "aud": "api://orders", "exp": g.now().Add(time.Hour).Unix()}, map[string]any{"kid": "d"}, otherKey)
		}, want: reason.IssuerUnavailable},

		{name: "a key without the admin scope is insufficient_scope", path: "/scoped", opts: func(o *doctor.Options) { o.APIKey = active.Key }, want: reason.InsufficientScopeCode},
		{name: "a token without the admin scope is insufficient_scope", path: "/scoped", opts: func(o *doctor.Options) { o.Token = corp(nil) }, want: reason.InsufficientScopeCode},
		{name: "loopback on an office-only route is network_not_allowed", path: "/office", opts: func(o *doctor.Options) { o.APIKey = active.Key }, want: reason.NetworkNotAllowed},
		{name: "an upstream that does not answer is upstream_unavailable", path: "/dead", opts: func(o *doctor.Options) { o.APIKey = active.Key }, want: reason.UpstreamUnavailable},

		// The clock moves last: later cases would see a later time.
		{name: "a key past its expiry is api_key_expired", path: "/v", opts: func(o *doctor.Options) { o.APIKey = expiring.Key }, before: func() { g.advance(2 * time.Minute) }, want: reason.APIKeyExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			host := "api.test"
			if tt.host != "" {
				host = tt.host
			}
			o := doctor.Options{URL: g.base + tt.path, Header: http.Header{"Host": {host}}, Now: g.now, Proxy: noProxy}
			for k, v := range tt.header {
				o.Header[k] = v
			}
			if tt.opts != nil {
				tt.opts(&o)
			}
			r, err := doctor.Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != doctor.Failed || r.Response == nil || r.Response.Authgate == nil {
				t.Fatalf("outcome %s, response %+v: want a refusal by authgate", r.Outcome, r.Response)
			}
			public := r.Response.Authgate.Reason
			if public != tt.want {
				t.Fatalf("the gateway reports %s, the test expects %s", public, tt.want)
			}
			if top := r.TopCause(); top.Code != public {
				t.Errorf("top cause %s, want the gateway's %s; causes %s", top.Code, public, codes(r.Causes))
			}
			if r.ExplainCommand != "authgate explain "+r.Response.Authgate.RequestID || r.Response.Authgate.RequestID == "" {
				t.Errorf("explain command %q for request id %q", r.ExplainCommand, r.Response.Authgate.RequestID)
			}
			if tt.local {
				if own := topOwnCause(r); own != tt.want {
					t.Errorf("doctor's own best cause is %q, want %s; causes %s", own, tt.want, codes(r.Causes))
				}
			}
		})
	}
}

// topOwnCause is the best cause doctor found itself.
func topOwnCause(r *doctor.Report) reason.Code {
	for _, c := range r.Causes {
		if c.FoundBy(doctor.FromDoctor) {
			return c.Code
		}
	}
	return ""
}

func codes(cs []doctor.Cause) string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c.Code)+"("+string(c.Likelihood)+","+strings.Join(c.Sources, "+")+")")
	}
	return "[" + strings.Join(s, " ") + "]"
}

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// TestDoctorPointsScriptsAwayFromBrowserRoutes: a 401 from a route that
// takes only portal sessions tells the person at the terminal where people
// sign in, and that a script needs another route.
func TestDoctorPointsScriptsAwayFromBrowserRoutes(t *testing.T) {
	g := newGateway(t)
	r, err := doctor.Check(context.Background(), doctor.Options{URL: g.base + "/home", Header: http.Header{"Host": {"app.test"}}, Now: g.now, Proxy: noProxy})
	if err != nil {
		t.Fatal(err)
	}
	if r.TopCause().Code != reason.CredentialsMissing {
		t.Fatalf("top cause %s, want credentials_missing", r.TopCause().Code)
	}
	for _, n := range r.Notes {
		if n.ID == "browser_session" && strings.Contains(n.Text, "/.authgate/sign-in") {
			return
		}
	}
	t.Errorf("no note pointing at the sign-in page: %+v", r.Notes)
}
