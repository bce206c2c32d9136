package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/internal/pgtest"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

func basic(user, pw string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func apiKey(k string) http.Header { return http.Header{"X-Api-Key": {k}} }

type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Hint      string `json:"hint"`
}

// TestEveryReasonThroughTheGateway sends, through real HTTP, a request that
// provokes each catalogued reason, and checks the status, the public code,
// the challenge, the problem document and the precise reason in the
// sign-in log. It then fails if any catalogued reason was never produced:
// a reason no request can reach is dead weight in the contract.
func TestEveryReasonThroughTheGateway(t *testing.T) {
	h := newHarness(t)
	everyReason(t, h)
	if *decisionCorpus != "" {
		writeDecisionCorpus(t, h, *decisionCorpus)
	}
}

var decisionCorpus = flag.String("decision-corpus", "", "after TestEveryReasonThroughTheGateway, write the JSON of its decisions (one per line, oldest first) to this file: the corpus the stored form's dictionary is made from (signinlog/storeddict_test.go)")

// writeDecisionCorpus writes the decisions the recorder kept, oldest first.
func writeDecisionCorpus(t *testing.T, h *harness, path string) {
	h.srv.Recorder().Flush()
	recent := h.srv.Recorder().Recent(1 << 20)
	var b []byte
	for i := len(recent) - 1; i >= 0; i-- {
		var err error
		if b, err = signinlog.AppendDecisionJSON(b, recent[i]); err != nil {
			t.Fatal(err)
		}
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d decisions to %s", len(recent), path)
}

// TestEveryReasonWithUsersInPostgres runs the same requests against a
// gateway whose users and keys live in PostgreSQL: both stores must give
// the same decisions.
func TestEveryReasonWithUsersInPostgres(t *testing.T) {
	everyReason(t, newHarnessOn(t, pgtest.NewDatabase(t, "authgate_server")))
}

func everyReason(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.srv.Store()
	h.addUser("alice", "Old-Battery-9", "read")
	h.addUser("alice", "Correct-Horse 1")
	active, _ := st.CreateKey(ctx, "billing", []string{"read"}, time.Time{})
	revoked, _ := st.CreateKey(ctx, "billing", nil, time.Time{})
	st.RevokeKey(ctx, revoked.ID)
	rotated, _ := st.CreateKey(ctx, "billing", nil, time.Time{})
	successor, _ := st.RotateKey(ctx, rotated.ID, 0)
	expiring, _ := st.CreateKey(ctx, "billing", nil, h.now().Add(time.Minute))
	secretWrong := active.Key[:len(active.Key)-4] + "AAAA"
	otherKey, _ := ecdsaKey()

	// Account states.
	h.addUser("dora", "Dora-Pass-1")
	st.SetUserDisabled(ctx, "dora", true)
	h.addUser("frank", "Frank-Pass-1")
	st.RequirePasswordChange(ctx, "frank")
	h.advance(-40 * 24 * time.Hour) // erin's password was set 40 days ago; passwords expire after 30
	h.addUser("erin", "Erin-Pass-1")
	h.advance(40 * 24 * time.Hour)
	disabledKey, _ := st.CreateKey(ctx, "billing", nil, time.Time{})
	st.SetKeyDisabled(ctx, disabledKey.ID, true)
	h.addUser("gina", "Gina-Pass-1")
	from := func(src string, hd http.Header) http.Header { hd.Set("X-Forwarded-For", src); return hd }

	type tc struct {
		name   string
		path   string
		host   string
		header http.Header
		before func()
		client *http.Client
		status int
		logged reason.Code // the precise reason in the sign-in log
		public reason.Code // the code the caller sees; defaults to logged
	}
	tests := []tc{
		{name: "a correct password is allowed", path: "/v/x", header: basic("alice", "Correct-Horse 1"), status: 200},
		{name: "an active API key is allowed", path: "/v/x", header: apiKey(active.Key), status: 200},
		{name: "a valid corp token is allowed", path: "/v/x", header: bearer(h.corpToken(nil)), status: 200},
		{name: "a valid partner token (EdDSA, JWKS file) is allowed", path: "/b", header: bearer(h.partnerToken("api://orders")), status: 200},
		{name: "the key that replaced a rotated key is allowed", path: "/v", header: apiKey(successor.Key), status: 200},

		{name: "another host has no route → route_not_found", host: "other.test", path: "/v", status: 404, logged: reason.RouteNotFound},
		{name: "access_token in the URL → token_in_query", path: "/v?access_token=abc", status: 400, logged: reason.TokenInQuery},
		{name: "no credentials → credentials_missing", path: "/v", status: 401, logged: reason.CredentialsMissing},
		{name: "a key in X-Auth-Token → credentials_wrong_header", path: "/v", header: http.Header{"X-Auth-Token": {active.Key}}, status: 401, logged: reason.CredentialsWrongHeader},
		{name: "Basic on a Bearer-only route → scheme_not_accepted", path: "/b", header: basic("alice", "x"), status: 401, logged: reason.SchemeNotAccepted},
		{name: "a bare token without scheme → scheme_missing", path: "/v", header: http.Header{"Authorization": {h.corpToken(nil)}}, status: 400, logged: reason.SchemeMissing},
		{name: "Bearer and nothing else → credential_empty", path: "/v", header: http.Header{"Authorization": {"Bearer"}}, status: 400, logged: reason.CredentialEmpty},
		{name: "Bearer Bearer → bearer_prefix_doubled", path: "/v", header: bearer("Bearer " + h.corpToken(nil)), status: 400, logged: reason.BearerPrefixDoubled},
		{name: "a quoted token → credential_quoted", path: "/v", header: bearer(`"` + h.corpToken(nil) + `"`), status: 400, logged: reason.CredentialQuoted},
		{name: "a token with a space → credential_whitespace", path: "/v", header: bearer("abc def"), status: 400, logged: reason.CredentialWhitespace},
		{name: "an oversize token → credential_too_large", path: "/v", header: bearer(strings.Repeat("a", 600)), status: 431, logged: reason.CredentialTooLarge},
		{name: "a token and a key → credentials_ambiguous", path: "/v", header: http.Header{"Authorization": {"Bearer x"}, "X-Api-Key": {active.Key}}, status: 400, logged: reason.CredentialsAmbiguous},
		{name: "forward-auth from a peer that is not a trusted proxy → forward_auth_untrusted", path: "/.authgate/verify", client: h.untrusted,
			header: http.Header{"X-Forwarded-Uri": {"/v"}, "X-Api-Key": {active.Key}}, status: 403, logged: reason.ForwardAuthUntrusted},
		{name: "X-Forwarded-Uri and X-Original-URI disagree → forwarded_headers_conflict", path: "/.authgate/verify",
			header: http.Header{"X-Forwarded-Uri": {"/v"}, "X-Original-Uri": {"/office"}, "X-Api-Key": {active.Key}}, status: 400, logged: reason.ForwardedConflict},
		{name: "a forward-auth call naming no URI → forwarded_headers_missing", path: "/.authgate/verify",
			header: http.Header{"X-Forwarded-Host": {"api.test"}, "X-Api-Key": {active.Key}}, status: 400, logged: reason.ForwardedMissing},
		{name: "a dot segment the app might resolve → path_not_canonical", path: "/office/../v/x", header: apiKey(active.Key), status: 400, logged: reason.PathNotCanonical},
		{name: "an encoded slash → path_not_canonical", path: "/v%2F..%2Foffice", header: apiKey(active.Key), status: 400, logged: reason.PathNotCanonical},
		{name: "a semicolon parameter → path_not_canonical", path: "/office;x", header: apiKey(active.Key), status: 400, logged: reason.PathNotCanonical},
		{name: "an API key as the Basic user name → api_key_in_basic", path: "/v", header: basic(active.Key, ""), status: 401, logged: reason.APIKeyInBasic},
		{name: "Basic not base64 → basic_encoding_invalid", path: "/v", header: http.Header{"Authorization": {"Basic %%%"}}, status: 400, logged: reason.BasicEncodingInvalid},
		{name: "Basic without colon → basic_separator_missing", path: "/v", header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}}, status: 400, logged: reason.BasicSeparatorMissing},
		{name: "Basic with a control character → basic_characters_invalid", path: "/v", header: basic("alice", "a\x01b"), status: 400, logged: reason.BasicCharactersInvalid},

		{name: "unknown user on a verbose route → user_unknown", path: "/v", header: basic("mallory", "x"), status: 401, logged: reason.UserUnknown},
		{name: "unknown user on a minimal route → invalid_credentials", path: "/m", header: basic("mallory", "x"), status: 401, logged: reason.UserUnknown, public: reason.InvalidCredentials},
		{name: "wrong password on a verbose route → password_wrong", path: "/v", header: basic("alice", "nope"), status: 401, logged: reason.PasswordWrong},
		{name: "wrong password on a minimal route → invalid_credentials", path: "/m", header: basic("alice", "nope"), status: 401, logged: reason.PasswordWrong, public: reason.InvalidCredentials},
		{name: "the previous password → logged password_previous, shown password_wrong", path: "/v", header: basic("alice", "Old-Battery-9"), status: 401, logged: reason.PasswordPrevious, public: reason.PasswordWrong},
		{name: "the previous password on a minimal route → invalid_credentials", path: "/m", header: basic("alice", "Old-Battery-9"), status: 401, logged: reason.PasswordPrevious, public: reason.InvalidCredentials},
		{name: "a trailing space → logged password_whitespace", path: "/v", header: basic("alice", "Correct-Horse 1 "), status: 401, logged: reason.PasswordWhitespace, public: reason.PasswordWrong},
		{name: "Caps Lock → logged password_caps_lock", path: "/m", header: basic("alice", "cORRECT-hORSE 1"), status: 401, logged: reason.PasswordCapsLock, public: reason.InvalidCredentials},

		{name: "not our key format → api_key_malformed", path: "/v", header: apiKey("sk_live_123"), status: 401, logged: reason.APIKeyMalformed},
		{name: "an unknown key id → api_key_unknown", path: "/v", header: apiKey("agk_aaaaaaaaaaaa_" + strings.Repeat("A", 43)), status: 401, logged: reason.APIKeyUnknown},
		{name: "an unknown key on a minimal route → invalid_credentials", path: "/m", header: apiKey("agk_aaaaaaaaaaaa_" + strings.Repeat("A", 43)), status: 401, logged: reason.APIKeyUnknown, public: reason.InvalidCredentials},
		{name: "a known id with a wrong secret → api_key_secret_wrong", path: "/v", header: apiKey(secretWrong), status: 401, logged: reason.APIKeySecretWrong},
		{name: "a revoked key → api_key_revoked", path: "/m", header: apiKey(revoked.Key), status: 401, logged: reason.APIKeyRevoked},
		{name: "a rotated-out key → key_rotated", path: "/m", header: apiKey(rotated.Key), status: 401, logged: reason.KeyRotated},

		{name: "three dots of garbage → token_malformed", path: "/v", header: bearer("abc.def.ghi"), status: 401, logged: reason.TokenMalformed},
		{name: "alg none → token_algorithm_rejected", path: "/v", header: bearer(noneToken()), status: 401, logged: reason.TokenAlgorithm},
		{name: "an unknown issuer → issuer_untrusted", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { c["iss"] = "https://evil.test" })), status: 401, logged: reason.IssuerUntrusted},
		{name: "an unknown kid → key_unknown", path: "/v", header: bearer(h.corpToken(func(_ jwtlib.MapClaims, hd map[string]any) { hd["kid"] = "corp-9" })), status: 401, logged: reason.KeyUnknown},
		{name: "signed by another key → token_signature_invalid", path: "/v", header: bearer(sign(jwtlib.SigningMethodES256, jwtlib.MapClaims{"iss": "https://corp.test", "sub": "a", "aud": "api://orders", "exp": h.now().Add(time.Hour).Unix()}, map[string]any{"kid": "corp-1"}, otherKey)), status: 401, logged: reason.TokenSignatureInvalid},
		{name: "expired 5 minutes ago → token_expired", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { c["exp"] = h.now().Add(-5 * time.Minute).Unix() })), status: 401, logged: reason.TokenExpired},
		{name: "nbf 10 minutes ahead → token_not_yet_valid", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { c["nbf"] = h.now().Add(10 * time.Minute).Unix() })), status: 401, logged: reason.TokenNotYetValid},
		{name: "iat 3 minutes ahead → token_issued_in_future", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { c["iat"] = h.now().Add(3 * time.Minute).Unix() })), status: 401, logged: reason.TokenIssuedInFuture},
		{name: "no exp → token_claim_missing", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { delete(c, "exp") })), status: 401, logged: reason.TokenClaimMissing},
		{name: "a token for another API → audience_mismatch", path: "/v", header: bearer(h.corpToken(func(c jwtlib.MapClaims, _ map[string]any) { c["aud"] = "api://billing" })), status: 401, logged: reason.AudienceMismatch},
		{name: "a partner token for api://other on a route for api://orders → audience_mismatch", path: "/orders", header: bearer(h.partnerToken("api://other")), status: 401, logged: reason.AudienceMismatch},
		{name: "a partner token on a corp-only route → issuer_not_allowed", path: "/corp", header: bearer(h.partnerToken("api://orders")), status: 401, logged: reason.IssuerNotAllowed},
		{name: "the issuer's JWKS endpoint is down → issuer_unavailable", path: "/v", header: bearer(sign(jwtlib.SigningMethodES256, jwtlib.MapClaims{"iss": "https://down.test", "sub": "a", "aud": "api://orders", "exp": h.now().Add(time.Hour).Unix()}, map[string]any{"kid": "d"}, otherKey)), status: 503, logged: reason.IssuerUnavailable},

		{name: "a key without the admin scope → insufficient_scope", path: "/scoped", header: apiKey(active.Key), status: 403, logged: reason.InsufficientScopeCode},
		{name: "a token without the admin scope → insufficient_scope", path: "/scoped", header: bearer(h.corpToken(nil)), status: 403, logged: reason.InsufficientScopeCode},
		{name: "loopback on an office-only route → network_not_allowed", path: "/office", header: apiKey(active.Key), status: 403, logged: reason.NetworkNotAllowed},
		{name: "an upstream that does not answer → upstream_unavailable", path: "/dead", header: apiKey(active.Key), status: 502, public: reason.UpstreamUnavailable},
		{name: "a forward-auth-only route in proxy mode → upstream_unavailable", path: "/fwd", header: apiKey(active.Key), status: 502, public: reason.UpstreamUnavailable},

		{name: "a disabled user with the right password → account_disabled", path: "/v", header: basic("dora", "Dora-Pass-1"), status: 401, logged: reason.AccountDisabled},
		{name: "a disabled user on a minimal route → invalid_credentials", path: "/m", header: basic("dora", "Dora-Pass-1"), status: 401, logged: reason.AccountDisabled, public: reason.InvalidCredentials},
		{name: "a password set 40 days ago, max age 30 days → password_expired", path: "/m", header: basic("erin", "Erin-Pass-1"), status: 401, logged: reason.PasswordExpired},
		{name: "a password an admin expired → password_change_required", path: "/m", header: basic("frank", "Frank-Pass-1"), status: 401, logged: reason.PasswordChangeRequired},
		{name: "a disabled key → api_key_disabled", path: "/m", header: apiKey(disabledKey.Key), status: 401, logged: reason.APIKeyDisabled},

		{name: "the same wrong key a fifth time → too_many_failures_credential", path: "/v", header: from("198.51.100.10", apiKey(secretWrong)),
			before: func() { h.failFrom("198.51.100.10", 4, func(int) http.Header { return apiKey(secretWrong) }) },
			status: 429, logged: reason.TooManyFailuresCredential},
		{name: "three wrong passwords from one source → account_locked_from_source", path: "/v", header: from("198.51.100.20", basic("alice", "Correct-Horse 1")),
			before: func() {
				h.failFrom("198.51.100.20", 3, func(i int) http.Header { return basic("alice", fmt.Sprintf("guess-%d", i)) })
			},
			status: 429, logged: reason.AccountLockedFromSource},
		{name: "the same user from another source is not locked", path: "/v", header: from("198.51.100.21", basic("alice", "Correct-Horse 1")), status: 200},
		{name: "wrong passwords from several sources → account_locked", path: "/v", header: from("198.51.100.33", basic("gina", "Gina-Pass-1")),
			before: func() {
				h.failFrom("198.51.100.31", 3, func(i int) http.Header { return basic("gina", fmt.Sprintf("guess-%d", i)) })
				h.failFrom("198.51.100.32", 2, func(i int) http.Header { return basic("gina", fmt.Sprintf("guess-%d", i+3)) })
			},
			status: 429, logged: reason.AccountLocked},
		{name: "account_locked on a minimal route → too_many_failures", path: "/m", header: from("198.51.100.34", basic("gina", "Gina-Pass-1")), status: 429, logged: reason.AccountLocked, public: reason.TooManyFailures},
		{name: "six wrong passwords for six users from one address → too_many_failures", path: "/v", header: from("198.51.100.40", basic("alice", "Correct-Horse 1")),
			before: func() {
				h.failFrom("198.51.100.40", 6, func(i int) http.Header { return basic(fmt.Sprintf("user%d", i), "guess") })
			},
			status: 429, logged: reason.TooManyFailures},
		{name: "a valid key from that address is still allowed: nothing to guess", path: "/v", header: from("198.51.100.40", apiKey(active.Key)), status: 200},

		// Clock moves last: cases after this see a later time.
		{name: "a key past its expiry → api_key_expired", path: "/m", header: apiKey(expiring.Key), before: func() { h.advance(2 * time.Minute) }, status: 401, logged: reason.APIKeyExpired},
	}

	seen := map[reason.Code]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			req, _ := http.NewRequest("GET", h.base+tt.path, nil)
			req.Host = "api.test"
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			client := h.client
			if tt.client != nil {
				client = tt.client
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Errorf("no X-Request-Id")
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (reason header %q)", resp.StatusCode, tt.status, resp.Header.Get("X-Authgate-Reason"))
			}
			public := tt.public
			if public == "" {
				public = tt.logged
			}
			seen[tt.logged], seen[public] = true, true
			if tt.status == 200 {
				assertAllowed(t, h, id)
				return
			}
			if got := reason.Code(resp.Header.Get("X-Authgate-Reason")); got != public {
				t.Errorf("public reason = %q, want %q", got, public)
			}
			var p problemDoc
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatalf("body is not a problem document: %v", err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if p.Code != string(public) || p.Status != tt.status || p.RequestID != id || p.Type == "" || p.Title == "" {
				t.Errorf("problem document %+v does not match code %s, status %d, id %s", p, public, tt.status, id)
			}
			if tt.status == 401 && resp.Header.Get("Www-Authenticate") == "" {
				t.Errorf("a 401 without WWW-Authenticate breaks RFC 9110 §15.5.2")
			}
			if reason.Lookup(public).Retry && resp.Header.Get("Retry-After") == "" {
				t.Errorf("a %d without Retry-After", tt.status)
			}
			if tt.logged == "" {
				return
			}
			d := lookup(t, h, id)
			if d.Reason != tt.logged || d.Allowed {
				t.Errorf("logged reason = %q (allowed %v), want %q", d.Reason, d.Allowed, tt.logged)
			}
			if n := reasoned(d.Checks); n != 1 || !hasFailing(d.Checks, tt.logged) {
				t.Errorf("trace must hold exactly one check naming a reason, a failing one naming %s: %+v", tt.logged, d.Checks)
			}
		})
	}

	t.Run("a burst of wrong passwords beyond the hashing queue → password_check_busy", func(t *testing.T) {
		if !burstUntilBusy(h) {
			t.Fatalf("64 concurrent wrong passwords with one hashing slot and a 1 ms queue never got password_check_busy")
		}
		seen[reason.PasswordCheckBusy] = true
	})
	t.Run("a store that cannot be read for too long → store_unavailable", func(t *testing.T) {
		storeDown(t, h, active.Key)
		seen[reason.StoreUnavailable] = true
	})

	t.Run("no password, key or token reaches the log or the data folder", func(t *testing.T) {
		secrets := []string{"Correct-Horse 1", "Old-Battery-9", "cORRECT-hORSE 1", "Correct-Horse 1 "}
		for _, k := range []string{active.Key, revoked.Key, rotated.Key, successor.Key, expiring.Key, secretWrong} {
			secrets = append(secrets, k, k[len("agk_")+12+1:]) // the whole key and its secret part
		}
		tok := h.corpToken(nil)
		secrets = append(secrets, tok, tok[strings.LastIndexByte(tok, '.')+1:])
		h.srv.Recorder().Flush()
		assertNoSecrets(t, h, secrets)
	})

	var missing []string
	for _, r := range reason.All() {
		if !seen[r.Code] && !reachedElsewhere[r.Code] {
			missing = append(missing, string(r.Code))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("catalogued reasons no request reached: %s — add a case, or remove the reason if it cannot happen", strings.Join(missing, ", "))
	}
}

// reachedElsewhere lists the reasons only a fault at a seam can produce,
// with the test that produces them.
var reachedElsewhere = map[reason.Code]bool{
	reason.InternalError: true, // decision.TestVerifierFaultIsInternalError

	// The portal's reasons need a browser's walk through several pages:
	// TestPortalSignInEnrollAndTwoStep, TestPortalSessionsEnd and
	// TestPortalSessionStoreDown reach each one and check its status, its
	// page and its trace.
	reason.FormTokenInvalid: true, reason.RedirectNotAllowed: true, reason.SecondFactorRequired: true,
	reason.CodeMalformed: true, reason.CodeWrong: true, reason.CodeExpired: true, reason.CodeReused: true, reason.CodeClockSkew: true,
	reason.SessionUnknown: true, reason.SessionIdleTimeout: true, reason.SessionExpired: true, reason.SessionRevoked: true,
	reason.SessionStoreUnavailable: true,
}

func burstUntilBusy(h *harness) bool {
	for attempt := 0; attempt < 5; attempt++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		busy := false
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", h.base+"/v", nil)
				req.Host = "api.test"
				req.Header = basic("alice", "wrong-"+time.Now().String())
				resp, err := h.client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 503 && resp.Header.Get("X-Authgate-Reason") == string(reason.PasswordCheckBusy) {
					if resp.Header.Get("Retry-After") == "" {
						h.t.Errorf("password_check_busy without Retry-After")
					}
					mu.Lock()
					busy = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if busy {
			return true
		}
	}
	return false
}
