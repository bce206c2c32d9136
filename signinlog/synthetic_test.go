package signinlog_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSyntheticEventsLookLikeRealTraffic(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	span := 24 * time.Hour
	const n = 20000
	var (
		allowed, skewed, v6 int
		users, keys, routes = map[string]bool{}, map[string]bool{}, map[string]bool{}
		reasons             = map[reason.Code]int{}
		ids                 = map[string]bool{}
		last                time.Time
	)
	for d := range signinlog.Synthetic(n, start, span, 1) {
		if d.Time.Before(start) || !d.Time.Before(start.Add(span)) || d.Time.Before(last) {
			t.Fatalf("event time %v out of order or outside the span", d.Time)
		}
		last = d.Time
		if ids[d.RequestID] {
			t.Fatalf("request id %s repeats", d.RequestID)
		}
		ids[d.RequestID] = true
		if d.Allowed {
			allowed++
			if d.Principal == nil || d.Status != 200 || d.Reason != "" {
				t.Fatalf("allowed event without principal, 200 and empty reason: %+v", d)
			}
			users[d.Principal.Subject] = true
		} else {
			reasons[d.Reason]++
			if !reason.Known(d.Reason) || d.Status != reason.Lookup(d.Reason).Status {
				t.Fatalf("refused event with unknown reason or wrong status: %s %d", d.Reason, d.Status)
			}
			if fails := d.Checks[len(d.Checks)-1]; fails.Result != authgate.Fail || fails.Reason != d.Reason {
				t.Fatalf("refused event's last check is not the failing one: %+v", fails)
			}
		}
		if d.Method == authgate.MethodAPIKey {
			keys[d.Claimed] = true
		}
		if d.Method == authgate.MethodBearer && (d.Token == nil || d.Token.Issuer == "") {
			t.Fatalf("bearer event without token metadata: %+v", d)
		}
		if d.ClockSkew != 0 {
			skewed++
		}
		if d.Source.Is6() {
			v6++
		}
		if c := len(d.Checks); c < 3 || c > 10 {
			t.Fatalf("trace of %d checks, want 3..10: %+v", c, d.Checks)
		}
		// Named as the gateway names its checks.
		for _, c := range d.Checks {
			if !realCheck[c.Name] {
				t.Fatalf("check %q is not one of the gateway's", c.Name)
			}
		}
		if !d.Allowed && d.Checks[len(d.Checks)-1].Reason != d.Reason {
			t.Fatalf("the last check does not name the reason %s: %+v", d.Reason, d.Checks)
		}
		routes[d.Route] = true
	}
	share := func(k int) float64 { return float64(k) / n }
	if s := share(allowed); s < 0.84 || s > 0.92 {
		t.Errorf("allowed share %.2f, want about 0.88", s)
	}
	if len(reasons) < 20 {
		t.Errorf("failures spread over %d reasons, want at least 20", len(reasons))
	}
	if len(users) < 300 || len(keys) < 40 || len(routes) != 10 {
		t.Errorf("%d users, %d keys, %d routes; want about 500, 50, 10", len(users), len(keys), len(routes))
	}
	if skewed == 0 || v6 == 0 {
		t.Errorf("%d skewed and %d IPv6 events; want some of each", skewed, v6)
	}
}

func TestSyntheticIsDeterministicForASeed(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	collect := func(seed int64) []*authgate.Decision {
		var out []*authgate.Decision
		for d := range signinlog.Synthetic(50, start, time.Hour, seed) {
			out = append(out, d)
		}
		return out
	}
	if diff := cmp.Diff(collect(7), collect(7), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("same seed, different events (-first +second):\n%s", diff)
	}
	if cmp.Equal(collect(7), collect(8), cmpopts.EquateComparable(netip.Addr{})) {
		t.Error("different seeds gave the same events")
	}
}

// realCheck lists the check names of the gateway's traces that synthetic
// events use.
var realCheck = map[string]bool{
	"route": true, "policy.network": true, "credential": true, "throttle": true,
	"password.user": true, "password.cache": true, "password.hash": true, "account.state": true,
	"jwt.cache": true, "jwt.exp": true, "jwt.nbf": true, "jwt.iat": true, "jwt.aud": true, "jwt.kid": true, "jwt.signature": true,
	"apikey.format": true, "apikey.lookup": true, "apikey.secret": true, "apikey.state": true, "apikey.expiry": true,
	"policy.issuer": true, "policy.audience": true, "policy.scopes": true,
}
