package signinlog

import (
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCursor(t *testing.T) {
	since := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	f := Filter{User: "alice", Route: "api", Network: netip.MustParsePrefix("192.0.2.0/24"), Since: since}
	const tm, id = int64(1795000000123456789), int64(4711)
	c := EncodeCursor(f, tm, id)

	t.Run("a cursor keeps the encoding cursors handed out earlier", func(t *testing.T) {
		// Clients keep cursors across upgrades; a change of encoding must
		// change the version byte rather than this value.
		if want := "ARjpHv1jL00VAAAAAAAAEmfJOgd0DGhtKA"; c != want {
			t.Errorf("EncodeCursor = %q, want %q", c, want)
		}
	})

	accepted := []struct {
		name string
		f    Filter
	}{
		{"the same filter", f},
		{"the network given with host bits", Filter{User: "alice", Route: "api",
			Network: netip.MustParsePrefix("192.0.2.77/24"), Since: since}},
		{"the same instant in another location", Filter{User: "alice", Route: "api",
			Network: f.Network, Since: since.In(time.FixedZone("CET", 3600))}},
	}
	for _, tt := range accepted {
		t.Run("a cursor decodes under "+tt.name, func(t *testing.T) {
			gotT, gotID, err := DecodeCursor(tt.f, c)
			if err != nil || gotT != tm || gotID != id {
				t.Errorf("DecodeCursor = %d, %d, %v; want %d, %d, nil", gotT, gotID, err, tm, id)
			}
		})
	}

	refused := []struct {
		name   string
		f      Filter
		cursor string
	}{
		{"another user", Filter{User: "bob", Route: "api", Network: f.Network, Since: since}, c},
		{"a filter without the window", Filter{User: "alice", Route: "api", Network: f.Network}, c},
		{"a window one nanosecond later", Filter{User: "alice", Route: "api", Network: f.Network, Since: since.Add(1)}, c},
		{"no filter", Filter{}, c},
		{"a position changed under the same checksum", f, EncodeCursor(f, tm, id+1)[:23] + c[23:]},
		{"a truncated cursor", f, c[:len(c)-2]},
		{"text that is not base64", f, "not a cursor!"},
		{"an empty cursor", f, ""},
	}
	for _, tt := range refused {
		t.Run("a cursor is refused under "+tt.name, func(t *testing.T) {
			if _, _, err := DecodeCursor(tt.f, tt.cursor); !errors.Is(err, ErrBadCursor) {
				t.Errorf("DecodeCursor: %v, want an error wrapping ErrBadCursor", err)
			}
		})
	}
}

func TestAddressRange(t *testing.T) {
	key := func(s string) [16]byte { return AddressKey(netip.MustParseAddr(s)) }
	tests := []struct {
		name       string
		prefix     string
		lo, hi     string
		exceptIPv4 bool
	}{
		{"an IPv4 /24 spans its mapped addresses", "192.0.2.0/24", "::ffff:192.0.2.0", "::ffff:192.0.2.255", false},
		{"host bits are ignored", "192.0.2.77/24", "::ffff:192.0.2.0", "::ffff:192.0.2.255", false},
		{"an IPv4 /32 is one address", "192.0.2.10/32", "::ffff:192.0.2.10", "::ffff:192.0.2.10", false},
		{"0.0.0.0/0 is every IPv4 address", "0.0.0.0/0", "::ffff:0.0.0.0", "::ffff:255.255.255.255", false},
		{"a /20 ends mid-byte", "10.1.16.0/20", "::ffff:10.1.16.0", "::ffff:10.1.31.255", false},
		{"an IPv4-mapped prefix is its IPv4 network", "::ffff:192.0.2.0/120", "::ffff:192.0.2.0", "::ffff:192.0.2.255", false},
		{"an IPv6 /64", "2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", false},
		{"an IPv6 /128 is one address", "2001:db8::1/128", "2001:db8::1", "2001:db8::1", false},
		{"::/0 spans everything but leaves IPv4 out", "::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"::/64 covers the IPv4 keys too", "::/64", "::", "::ffff:ffff:ffff:ffff", true},
		{"an IPv6 prefix beside the IPv4 keys", "::1:0:0/96", "::1:0:0", "::1:ffff:ffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, except := AddressRange(netip.MustParsePrefix(tt.prefix))
			got := []any{netip.AddrFrom16(lo), netip.AddrFrom16(hi), except}
			want := []any{netip.AddrFrom16(key(tt.lo)), netip.AddrFrom16(key(tt.hi)), tt.exceptIPv4}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("AddressRange(%s) (-want +got):\n%s", tt.prefix, diff)
			}
		})
	}
	t.Run("IPv4 and IPv4-mapped sources share a key", func(t *testing.T) {
		if key("192.0.2.1") != key("::ffff:192.0.2.1") {
			t.Error("different keys")
		}
	})
}

func TestUnixNanosClampsToStoredTimes(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"a time in range is exact", time.Unix(1795000000, 123456789), 1795000000123456789},
		{"the year 1 is the smallest time", time.Time{}, math.MinInt64},
		{"the year 3000 is the largest time", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnixNanos(tt.t); got != tt.want {
				t.Errorf("UnixNanos(%v) = %d, want %d", tt.t, got, tt.want)
			}
		})
	}
}
