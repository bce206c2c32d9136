package storetest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// SameEvents checks that two stores given the same events (groups, of
// synthetic events, each spanning a day or so), one of them through
// migrations, find the same for every kind of filter, lookup by request
// id and skew summary.
func SameEvents(t *testing.T, migrated, fresh signinlog.Store, groups [][]*authgate.Decision) {
	t.Helper()
	ctx := context.Background()
	first := groups[0]
	day := first[0].Time.Add(36 * time.Hour)
	filters := []signinlog.Filter{
		{User: signinlog.SyntheticUser(3)},
		{User: signinlog.SyntheticUser(0), Since: day},
		{KeyID: signinlog.SyntheticKey(7)},
		{Reason: "token_expired"},
		{Reason: "password_wrong", Outcome: "deny", Since: day},
		{Fingerprint: first[17].Fingerprint},
		{Network: netip.PrefixFrom(first[5].Source, 24+first[5].Source.BitLen()-32).Masked()},
		{Network: netip.MustParsePrefix("2001:db8::/32")},
		{Route: "admin"},
		{Outcome: "deny", Since: day, Until: day.Add(48 * time.Hour)},
	}
	for _, g := range groups[1:] {
		filters = append(filters, signinlog.Filter{Fingerprint: g[3].Fingerprint})
	}
	for _, f := range filters {
		var got [2][]string
		for i, s := range []signinlog.Store{migrated, fresh} {
			p := signinlog.Page{Limit: 1000}
			for {
				page, next, err := s.Query(ctx, f, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page {
					got[i] = append(got[i], d.RequestID)
				}
				if next == "" {
					break
				}
				p.Cursor = next
			}
		}
		if len(got[1]) == 0 {
			t.Errorf("filter %+v matches nothing; the test needs events", f)
		}
		if diff := cmp.Diff(got[1], got[0]); diff != "" {
			t.Errorf("filter %+v: (-written through the store +migrated):\n%s", f, diff)
		}
	}
	for _, g := range groups {
		for _, d := range []*authgate.Decision{g[0], g[len(g)/2], g[len(g)-1]} {
			a, errA := migrated.Get(ctx, d.RequestID)
			b, errB := fresh.Get(ctx, d.RequestID)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if len(a) != 1 || len(b) != 1 {
				t.Errorf("Get(%q): %d events migrated, %d written through the store; want 1", d.RequestID, len(a), len(b))
				continue
			}
			if diff := cmp.Diff(b[0], a[0], cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("Get(%q) (-written through the store +migrated):\n%s", d.RequestID, diff)
			}
		}
	}
	issuers := map[string]bool{}
	for _, g := range groups {
		for _, d := range g {
			if d.ClockSkew != 0 {
				issuers[d.Token.Issuer] = true
			}
		}
	}
	if len(issuers) == 0 {
		t.Fatal("no event has a clock skew; the test needs some")
	}
	for iss := range issuers {
		n1, m1, err1 := migrated.SkewStats(ctx, iss, first[0].Time)
		n2, m2, err2 := fresh.SkewStats(ctx, iss, first[0].Time)
		if err1 != nil || err2 != nil || n1 != n2 || m1 != m2 || n1 == 0 {
			t.Errorf("SkewStats(%s): migrated %d, %v (%v); written through the store %d, %v (%v)", iss, n1, m1, err1, n2, m2, err2)
		}
	}
}
