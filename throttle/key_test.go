package throttle_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/throttle"
)

func TestKeys(t *testing.T) {
	ip := netip.MustParseAddr
	network := func(s string) throttle.Key { k, _ := throttle.NetworkKey(ip(s)); return k }
	for _, tc := range []struct {
		name string
		key  throttle.Key
		want string
	}{
		{"a user name is kept as given", throttle.UserKey("Alice"), "user:Alice"},
		{"an IPv4 address is itself", throttle.AddressKey(ip("192.0.2.1")), "addr:192.0.2.1"},
		{"an IPv4 address in IPv6 form is unmapped", throttle.AddressKey(ip("::ffff:192.0.2.1")), "addr:192.0.2.1"},
		{"an IPv6 address is kept whole", throttle.AddressKey(ip("2001:db8:1:2:3:4:5:6")), "addr:2001:db8:1:2:3:4:5:6"},
		{"an IPv6 zone is dropped", throttle.AddressKey(ip("fe80::1%eth0")), "addr:fe80::1"},
		{"an IPv6 network is its /64", network("2001:db8:1:2:3:4:5:6"), "net:2001:db8:1:2::/64"},
		{"a pair over IPv4 uses the address", throttle.PairKey("bob smith", ip("::ffff:198.51.100.2")), "pair:198.51.100.2 bob smith"},
		{"a pair over IPv6 uses the /64", throttle.PairKey("bob", ip("2001:db8::99")), "pair:2001:db8::/64 bob"},
		{"a credential is its fingerprint", throttle.CredentialKey("abc"), "cred:abc"},
		{"a long user name is replaced by its digest", throttle.UserKey(strings.Repeat("x", 200)), "user:sha256=" + "qiDCPjIBg0BQZ54diJQbmm_tBVfJpwXLLDFeLmP9SG0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeysWithoutAValidSource(t *testing.T) {
	if _, ok := throttle.NetworkKey(netip.MustParseAddr("::ffff:192.0.2.1")); ok {
		t.Error("NetworkKey of IPv4 in IPv6 form: ok, want no network counter")
	}
	for name, k := range map[string]throttle.Key{
		"address":     throttle.AddressKey(netip.Addr{}),
		"pair":        throttle.PairKey("bob", netip.Addr{}),
		"credential":  throttle.CredentialKey(""),
		"zero values": {},
	} {
		if !k.IsZero() {
			t.Errorf("%s: %q, want the zero Key", name, k)
		}
	}
	if keys := throttle.SourceKeys(netip.Addr{}); keys != nil {
		t.Errorf("SourceKeys of an invalid address = %v, want nil", keys)
	}
}

func TestFingerprintIsKeyedAndShort(t *testing.T) {
	a := throttle.Fingerprint([]byte("deployment-1"), []byte("hunter2"))
	b := throttle.Fingerprint([]byte("deployment-2"), []byte("hunter2"))
	if a == b || len(a) != 22 || strings.Contains(a, "hunter2") {
		t.Errorf("fingerprints %q and %q: want distinct 22-character digests", a, b)
	}
	if a != throttle.Fingerprint([]byte("deployment-1"), []byte("hunter2")) {
		t.Error("Fingerprint is not deterministic")
	}
}

func TestRulesValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules throttle.Rules
		ok    bool
	}{
		{"no rules throttle nothing", nil, true},
		{"a full rule", throttle.Rules{throttle.KindUser: {Limit: 5, Window: time.Minute, Lock: time.Hour, FreeFailures: 2, Delay: time.Second, MaxDelay: time.Minute}}, true},
		{"a zero limit", throttle.Rules{throttle.KindUser: {Window: time.Minute}}, false},
		{"a window under a millisecond", throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Microsecond}}, false},
		{"a negative lock", throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Minute, Lock: -time.Second}}, false},
		{"an unknown kind", throttle.Rules{"device": {Limit: 1, Window: time.Minute}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rules.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if _, err := throttle.NewMemory(tc.rules, throttle.MemoryOptions{}); (err == nil) != tc.ok {
				t.Errorf("NewMemory: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
