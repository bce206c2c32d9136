package signinlog_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

// TestStoredJSONIsEncodingJSONs checks signinlog.AppendDecisionJSON, the
// stored form of a decision in both stores, against encoding/json: the
// same bytes for realistic events, and the same decision decoded for
// hostile text, zones and the edges of every omitted field. (It belongs
// beside signinlog/columns.go; it is here because this change owns no
// test file there.)
func TestStoredJSONIsEncodingJSONs(t *testing.T) {
	if changed := signinlog.DecisionFieldsChanged(); len(changed) > 0 {
		t.Errorf("the fields of %v changed: AppendDecisionJSON falls back to encoding/json until decisionFields and the encoder know them", changed)
	}
	marshal := func(d *authgate.Decision) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	for d := range signinlog.Synthetic(20000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, 9) {
		got, err := signinlog.AppendDecisionJSON(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if want := marshal(d); !bytes.Equal(got, want) {
			t.Fatalf("synthetic event %s:\n got %s\nwant %s", d.RequestID, got, want)
		}
	}

	cet := time.FixedZone("CET", 3600)
	hostile := "a\x00b\x1b[31m\n\t\"\\\u2028\xff</script>&é"
	edges := []*authgate.Decision{
		{},
		{RequestID: hostile, Time: time.Date(2026, 1, 2, 3, 4, 5, 600, cet), Checks: []authgate.Check{}},
		{RequestID: "z", Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Source: netip.MustParseAddr("::ffff:192.0.2.1"),
			Principal: &authgate.Principal{}, Token: &authgate.TokenInfo{}, MissingScopes: []string{}},
		{RequestID: "full", Time: time.Now(), Route: hostile, Host: hostile, Path: hostile, HTTPMethod: "GET",
			Source: netip.MustParseAddr("fe80::1%eth0"), UserAgent: hostile, Method: authgate.MethodBearer,
			Allowed: true, Reason: reason.TokenExpired, Status: 401, Shown: reason.TokenExpired, Claimed: hostile,
			Principal: &authgate.Principal{Subject: hostile, Method: authgate.MethodAPIKey, Scopes: []string{"a", hostile},
				Issuer: hostile, Audience: []string{hostile}, KeyID: hostile, SecondFactor: true, SessionID: hostile, Enrolled: true},
			Fingerprint: hostile,
			Token: &authgate.TokenInfo{Algorithm: hostile, KeyID: hostile, Type: hostile, Issuer: hostile, Subject: hostile,
				Audience: []string{hostile, ""}, IssuedAt: time.Unix(1, 0).In(cet), NotBefore: time.Unix(2, 3), Expires: time.Unix(-3, 0),
				JTIHash: hostile},
			ClockSkew: -1, RetryAfter: time.Hour, Delay: 1, MissingScopes: []string{hostile},
			Checks:  []authgate.Check{{}, {Name: hostile, Result: authgate.Fail, Detail: hostile, Reason: reason.TokenExpired}},
			Latency: -5},
		{RequestID: "only expiry", Time: time.Unix(0, 1).UTC(), Token: &authgate.TokenInfo{Expires: time.Unix(9, 0)}},
		{RequestID: "year 10000", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, d := range edges {
		got, gotErr := signinlog.AppendDecisionJSON([]byte("prefix"), d)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		wantErr := enc.Encode(d)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("event %q: error %v, encoding/json's %v", d.RequestID, gotErr, wantErr)
			continue
		}
		if gotErr != nil {
			continue
		}
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("event %q: the prefix was not kept: %s", d.RequestID, got)
		}
		var fromGot, fromWant authgate.Decision
		if err := json.Unmarshal(got[len("prefix"):], &fromGot); err != nil {
			t.Fatalf("event %q: %v in %s", d.RequestID, err, got)
		}
		if err := json.Unmarshal(b.Bytes(), &fromWant); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fromWant, fromGot, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("event %q decodes otherwise (-encoding/json +AppendDecisionJSON):\n%s\n%s", d.RequestID, diff, got)
		}
		if slices.Contains([]string{"", "only expiry"}, d.RequestID) && !bytes.Equal(got[len("prefix"):], marshal(d)) {
			t.Errorf("event %q:\n got %s\nwant %s", d.RequestID, got[len("prefix"):], marshal(d))
		}
	}
}
