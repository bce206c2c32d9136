package signinlog

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseFilter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		params map[string]string
		want   Filter
		bad    string // the parameter named in the error
	}{
		{"nothing filters nothing", nil, Filter{}, ""},
		{"a duration is back from now", map[string]string{"since": "2h", "until": "30m"}, Filter{Since: now.Add(-2 * time.Hour), Until: now.Add(-30 * time.Minute)}, ""},
		{"days work", map[string]string{"since": "7d"}, Filter{Since: now.Add(-7 * 24 * time.Hour)}, ""},
		{"a date is midnight UTC", map[string]string{"since": "2026-11-20"}, Filter{Since: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}, ""},
		{"an address is a one-address network", map[string]string{"ip": "192.0.2.7"}, Filter{Network: netip.MustParsePrefix("192.0.2.7/32")}, ""},
		{"a CIDR is masked", map[string]string{"ip": "10.1.2.3/8"}, Filter{Network: netip.MustParsePrefix("10.0.0.0/8")}, ""},
		{"IPv6 works", map[string]string{"ip": "2001:db8::/32"}, Filter{Network: netip.MustParsePrefix("2001:db8::/32")}, ""},
		{"plain fields pass through", map[string]string{"user": "alice", "key": "k1", "route": "api", "method": "bearer", "reason": "token_expired", "outcome": "deny", "request_id": "r1", "fingerprint": "f"},
			Filter{User: "alice", KeyID: "k1", Route: "api", Method: "bearer", Reason: "token_expired", Outcome: "deny", RequestID: "r1", Fingerprint: "f"}, ""},
		{"a bad CIDR is refused", map[string]string{"ip": "10.0.0.300/8"}, Filter{}, "ip"},
		{"a bad time is refused", map[string]string{"since": "yesterday"}, Filter{}, "since"},
		{"until before since is refused", map[string]string{"since": "1h", "until": "2h"}, Filter{}, "until"},
		{"an unknown reason is refused", map[string]string{"reason": "token_expird"}, Filter{}, "reason"},
		{"an unknown method is refused", map[string]string{"method": "cookie"}, Filter{}, "method"},
		{"an unknown outcome is refused", map[string]string{"outcome": "refused"}, Filter{}, "outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter(func(k string) string { return tt.params[k] }, now)
			var fe *FilterError
			if tt.bad != "" {
				if !errors.As(err, &fe) || fe.Param != tt.bad || fe.Fix == "" {
					t.Fatalf("err = %v, want a FilterError for %s with a fix", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnknownReasonSuggestsTheClosest(t *testing.T) {
	_, err := ParseFilter(func(k string) string { return map[string]string{"reason": "token_expird"}[k] }, time.Now())
	if err == nil || !strings.Contains(err.Error(), "did you mean token_expired") {
		t.Errorf("err = %v", err)
	}
}
