// Package storetest is the conformance suite every signinlog.Store passes:
// the SQLite and PostgreSQL stores run the same tests, so the sign-in log
// answers the same on one machine and on many.
//
// Semantics the suite pins down beyond the interface's comments:
//   - times come back to the nanosecond (as the same instant; the location
//     may differ), and a decision comes back equal to the one written,
//     except that empty lists may come back nil;
//   - "newest first" orders by time, then by insertion, later first;
//   - Filter.Network matches the source address within the prefix, IPv4
//     and IPv6 apart: an IPv4-mapped IPv6 source (::ffff:192.0.2.1) counts
//     as IPv4, and ::/0 matches every IPv6 source but no IPv4 one; events
//     without a source match no network;
//   - Filter.User matches the claimed name or the resolved subject;
//     Filter.KeyID matches Principal.KeyID, or the claimed id of an api_key
//     event that was refused;
//   - Stats returns each group once, largest first, ties in byte order
//     of the key (whatever the database's collation);
//   - RecordDropped ignores zero counts and rejects negative ones.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

// PurgeBatch is the purge batch size Run expects stores to be opened with,
// so that Purge has to loop over several batches.
const PurgeBatch = 7

// Run runs the conformance suite. open must return a new, empty store each
// time it is called (with a purge batch of PurgeBatch events, so batching
// is exercised); Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) signinlog.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s signinlog.Store)
	}{
		{"a decision comes back exactly as written", testRoundTrip},
		{"each filter alone and combined selects the right events", testFilters},
		{"pages follow one another without gaps or duplicates while events arrive", testPagination},
		{"page size defaults to 100 and is capped at 1000", testPageSize},
		{"a foreign or garbled cursor is refused", testBadCursor},
		{"get returns every event of a request id, newest first", testGet},
		{"stats count by reason, route and user, largest group first", testStats},
		{"stats order ties by the bytes of the key", testStatsOrder},
		{"skew stats average the skew of one issuer's events since a time", testSkewStats},
		{"dropped counts accumulate across calls and writers", testDropped},
		{"purge deletes only older events, in batches", testPurge},
		{"a batch is written entirely or not at all", testWriteAllOrNothing},
		{"writers and readers run at the same time", testConcurrent},
		{"hostile text from a client (NUL, invalid UTF-8, escapes) is stored and found", testHostileText},
		{"filters find the same events over many segments, large and small batches, late and future events", testManyBatches},
		{"events of the same time in segments far apart come newest inserted first", testTiesAcrossSegments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.run(t, s)
		})
	}
}

// T0 is the time the fixture's events are relative to; it has a
// nanosecond part so that precision loss shows.
var T0 = time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)

const (
	idp   = "https://idp.example.com"
	other = "https://other.example.net"
)

// at is T0 plus m minutes.
func at(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }

func checks(final authgate.Check) []authgate.Check {
	return []authgate.Check{
		authgate.Checkf("route", authgate.Pass, "host example.com → route"),
		authgate.Checkf("credential", authgate.Pass, "parsed"),
		final,
	}
}

func allow(id string, m int, method authgate.Method, claimed, subject, route, src string) *authgate.Decision {
	d := &authgate.Decision{
		RequestID: id, Time: at(m), Route: route, Host: "example.com", Path: "/x", HTTPMethod: "GET",
		UserAgent: "curl/8.8.0", Method: method, Allowed: true, Status: 200, Claimed: claimed,
		Principal: &authgate.Principal{Subject: subject, Method: method, Scopes: []string{"read"}},
		Checks:    checks(authgate.Checkf("decision", authgate.Pass, "allowed")),
		Latency:   time.Duration(m+1) * 1234 * time.Nanosecond,
	}
	if src != "" {
		d.Source = netip.MustParseAddr(src)
	}
	return d
}

func deny(id string, m int, method authgate.Method, claimed string, code reason.Code, route, src string) *authgate.Decision {
	d := &authgate.Decision{
		RequestID: id, Time: at(m), Route: route, Host: "example.com", Path: "/x", HTTPMethod: "POST",
		UserAgent: "Mozilla/5.0", Method: method, Claimed: claimed,
		Checks:  checks(authgate.Check{})[:2], // Deny appends the failing check
		Latency: 999 * time.Microsecond,
	}
	d.Deny(code, authgate.Check{Name: "verify", Detail: "refused"})
	d.Status = reason.Lookup(code).Status
	if src != "" {
		d.Source = netip.MustParseAddr(src)
	}
	return d
}

func token(iss string, skew time.Duration) *authgate.TokenInfo {
	return &authgate.TokenInfo{Algorithm: "RS256", KeyID: "kid-1", Type: "JWT", Issuer: iss, Subject: "bob",
		Audience: []string{"https://api.example.com"}, IssuedAt: T0.Add(-time.Hour), NotBefore: T0.Add(-time.Hour),
		Expires: T0.Add(skew), JTIHash: "jti-" + iss}
}

// fixture returns the suite's events in write order: allowed and refused,
// every method, tokens with metadata, IPv4, IPv6, an IPv4-mapped and a
// missing source, and two events at the same time (r08 before r09).
func fixture() []*authgate.Decision {
	r01 := allow("r01", 1, authgate.MethodBasic, "alice", "alice", "app", "192.0.2.10")
	r01.Fingerprint = "fp-alice"
	r02 := deny("r02", 2, authgate.MethodBasic, "alice", reason.PasswordPrevious, "app", "192.0.2.11")
	r02.Fingerprint = "fp-alice-old"
	r03 := allow("r03", 3, authgate.MethodBearer, "bob", "bob", "api", "2001:db8::1")
	r03.Token, r03.ClockSkew = token(idp, 90*time.Second), 90*time.Second
	r03.Principal.Issuer, r03.Principal.Audience = idp, r03.Token.Audience
	r04 := deny("r04", 4, authgate.MethodBearer, "bob", reason.TokenExpired, "api", "2001:db8::2")
	r04.Token, r04.ClockSkew = token(idp, -30*time.Second), 30*time.Second
	r05 := allow("r05", 5, authgate.MethodAPIKey, "k_1", "carol", "api", "198.51.100.7")
	r05.Principal.KeyID = "k_1"
	r06 := deny("r06", 6, authgate.MethodAPIKey, "k_0", reason.KeyRotated, "api", "198.51.100.8")
	r06.Fingerprint = "fp-k0"
	r07 := deny("r07", 7, "", "", reason.CredentialsMissing, "admin", "203.0.113.9")
	r08 := deny("r08", 8, authgate.MethodBearer, "dave", reason.AudienceMismatch, "admin", "2001:db8:1::5")
	r08.Token = token(other, time.Hour)
	r09 := allow("r09", 8, authgate.MethodBasic, "dave", "dave", "admin", "203.0.113.10")
	r10 := deny("r10", 9, authgate.MethodBasic, "erin", reason.StoreUnavailable, "app", "")
	r10.RetryAfter = 5 * time.Second
	r11 := deny("r11", 10, authgate.MethodAPIKey, "k_0", reason.KeyRotated, "app", "198.51.100.8")
	r11.Fingerprint = "fp-k0"
	r12 := allow("r12", 11, authgate.MethodBasic, "alice", "alice", "api", "2001:db8::abcd")
	r13 := deny("r13", 12, authgate.MethodBasic, "alice", reason.PasswordWrong, "app", "::ffff:192.0.2.12")
	return []*authgate.Decision{r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13}
}

// options compare decisions: netip.Addr by value, empty lists as nil, and
// (through time.Time.Equal, which cmp uses) times as instants.
var options = cmp.Options{cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateEmpty()}

func write(t *testing.T, s signinlog.Store, events ...*authgate.Decision) {
	t.Helper()
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func ids(events []*authgate.Decision) []string {
	out := []string{}
	for _, d := range events {
		out = append(out, d.RequestID)
	}
	return out
}

// all returns every event matching f, following cursors, pages of size.
func all(t *testing.T, s signinlog.Store, f signinlog.Filter, size int) []*authgate.Decision {
	t.Helper()
	var out []*authgate.Decision
	p := signinlog.Page{Limit: size}
	for range 10000 {
		events, next, err := s.Query(context.Background(), f, p)
		if err != nil {
			t.Fatalf("Query(%+v, %+v): %v", f, p, err)
		}
		if len(events) > p.Size() {
			t.Fatalf("Query returned %d events, more than the page size %d", len(events), p.Size())
		}
		out = append(out, events...)
		if next == "" {
			return out
		}
		p.Cursor = next
	}
	t.Fatal("Query never ran out of pages")
	return nil
}

func testRoundTrip(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	full := &authgate.Decision{
		RequestID: "7f3c9a", Time: time.Date(2026, 11, 20, 11, 12, 13, 987654321, time.FixedZone("CET", 3600)),
		Route: "api", Host: "api.example.com", Path: "/v1/items?x=1", HTTPMethod: "DELETE",
		Source: netip.MustParseAddr("2001:db8:aa::17"), UserAgent: "okhttp/4.12.0",
		Method: authgate.MethodBearer, Allowed: false, Reason: reason.InsufficientScopeCode, Status: 403,
		Claimed: "bob",
		Principal: &authgate.Principal{Subject: "bob", Method: authgate.MethodBearer, Scopes: []string{"read", "write"},
			Issuer: idp, Audience: []string{"https://api.example.com", "https://b.example.com"}},
		Fingerprint: "f1e2d3c4",
		Token: &authgate.TokenInfo{Algorithm: "ES256", KeyID: "kid-9", Type: "at+jwt", Issuer: idp, Subject: "bob",
			Audience: []string{"https://api.example.com"}, IssuedAt: time.Unix(1795000000, 0).UTC(),
			NotBefore: time.Unix(1795000001, 0).UTC(), Expires: time.Unix(1795003600, 0).UTC(), JTIHash: "ab12"},
		ClockSkew:     -1500 * time.Millisecond,
		RetryAfter:    17 * time.Second,
		MissingScopes: []string{"admin"},
		Checks: []authgate.Check{
			{Name: "route", Result: authgate.Pass, Detail: `host "api.example.com" → route "api"`},
			{Name: "token.signature", Result: authgate.Pass, Detail: "kid-9 verified"},
			{Name: "token.time", Result: authgate.Info, Detail: "skew −1.5s within leeway"},
			{Name: "policy.scope", Result: authgate.Fail, Detail: "needs admin", Reason: reason.InsufficientScopeCode},
		},
		Latency: 1234567 * time.Nanosecond,
	}
	write(t, s, full)
	got, _, err := s.Query(ctx, signinlog.Filter{}, signinlog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*authgate.Decision{full}, got, options); diff != "" {
		t.Errorf("Query returned a different decision (-written +read):\n%s", diff)
	}
	got, err = s.Get(ctx, "7f3c9a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*authgate.Decision{full}, got, options); diff != "" {
		t.Errorf("Get returned a different decision (-written +read):\n%s", diff)
	}
	if len(got) == 1 && got[0].Time.UnixNano() != full.Time.UnixNano() {
		t.Errorf("time came back as %v, want %v to the nanosecond", got[0].Time, full.Time)
	}

	// Every fixture event round-trips too: no principal, no source, no
	// method, IPv4-mapped source.
	fx := fixture()
	write(t, s, fx...)
	for _, want := range fx {
		got, err := s.Get(ctx, want.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*authgate.Decision{want}, got, options); diff != "" {
			t.Errorf("event %s came back different (-written +read):\n%s", want.RequestID, diff)
		}
	}
}

func testFilters(t *testing.T, s signinlog.Store) {
	write(t, s, fixture()...)
	pfx := netip.MustParsePrefix
	tests := []struct {
		name string
		f    signinlog.Filter
		want []string
	}{
		{"no filter returns every event, newest first, ties by insertion", signinlog.Filter{},
			[]string{"r13", "r12", "r11", "r10", "r09", "r08", "r07", "r06", "r05", "r04", "r03", "r02", "r01"}},
		{"user matches the claimed name", signinlog.Filter{User: "alice"}, []string{"r13", "r12", "r02", "r01"}},
		{"user matches the resolved subject of a key", signinlog.Filter{User: "carol"}, []string{"r05"}},
		{"an unknown user matches nothing", signinlog.Filter{User: "mallory"}, []string{}},
		{"key id matches a refused key's claimed id", signinlog.Filter{KeyID: "k_0"}, []string{"r11", "r06"}},
		{"key id matches the principal's key", signinlog.Filter{KeyID: "k_1"}, []string{"r05"}},
		{"route selects its events", signinlog.Filter{Route: "admin"}, []string{"r09", "r08", "r07"}},
		{"method bearer", signinlog.Filter{Method: authgate.MethodBearer}, []string{"r08", "r04", "r03"}},
		{"method api_key", signinlog.Filter{Method: authgate.MethodAPIKey}, []string{"r11", "r06", "r05"}},
		{"reason selects refusals of that reason", signinlog.Filter{Reason: reason.KeyRotated}, []string{"r11", "r06"}},
		{"outcome allow", signinlog.Filter{Outcome: "allow"}, []string{"r12", "r09", "r05", "r03", "r01"}},
		{"outcome deny", signinlog.Filter{Outcome: "deny"},
			[]string{"r13", "r11", "r10", "r08", "r07", "r06", "r04", "r02"}},
		{"an IPv4 /24 includes the IPv4-mapped source", signinlog.Filter{Network: pfx("192.0.2.0/24")},
			[]string{"r13", "r02", "r01"}},
		{"an IPv4 /32 is one address", signinlog.Filter{Network: pfx("192.0.2.10/32")}, []string{"r01"}},
		{"an IPv4 /24 given with host bits", signinlog.Filter{Network: pfx("198.51.100.99/24")},
			[]string{"r11", "r06", "r05"}},
		{"0.0.0.0/0 is every IPv4 source", signinlog.Filter{Network: pfx("0.0.0.0/0")},
			[]string{"r13", "r11", "r09", "r07", "r06", "r05", "r02", "r01"}},
		{"an IPv6 /64", signinlog.Filter{Network: pfx("2001:db8::/64")}, []string{"r12", "r04", "r03"}},
		{"an IPv6 /128 is one address", signinlog.Filter{Network: pfx("2001:db8::1/128")}, []string{"r03"}},
		{"::/0 is every IPv6 source and no IPv4 one", signinlog.Filter{Network: pfx("::/0")},
			[]string{"r12", "r08", "r04", "r03"}},
		{"an IPv4-mapped prefix means its IPv4 network", signinlog.Filter{Network: pfx("::ffff:192.0.2.0/120")},
			[]string{"r13", "r02", "r01"}},
		{"a network with no events", signinlog.Filter{Network: pfx("10.0.0.0/8")}, []string{}},
		{"since is inclusive", signinlog.Filter{Since: at(8)}, []string{"r13", "r12", "r11", "r10", "r09", "r08"}},
		{"until is exclusive", signinlog.Filter{Until: at(8)},
			[]string{"r07", "r06", "r05", "r04", "r03", "r02", "r01"}},
		{"since and until make a window", signinlog.Filter{Since: at(4), Until: at(6)}, []string{"r05", "r04"}},
		{"since one nanosecond after an event excludes it", signinlog.Filter{Since: at(12).Add(1)}, []string{}},
		{"request id", signinlog.Filter{RequestID: "r06"}, []string{"r06"}},
		{"fingerprint finds every try of the same secret", signinlog.Filter{Fingerprint: "fp-k0"},
			[]string{"r11", "r06"}},
		{"user, outcome and since combined", signinlog.Filter{User: "alice", Outcome: "deny", Since: at(2)},
			[]string{"r13", "r02"}},
		{"method, reason, network and route combined", signinlog.Filter{Method: authgate.MethodAPIKey,
			Reason: reason.KeyRotated, Network: pfx("198.51.100.0/24"), Route: "app"}, []string{"r11"}},
		{"key, fingerprint and window combined", signinlog.Filter{KeyID: "k_0", Fingerprint: "fp-k0",
			Since: at(1), Until: at(7)}, []string{"r06"}},
		{"user and IPv6 network combined", signinlog.Filter{User: "bob", Network: pfx("2001:db8::2/128")},
			[]string{"r04"}},
		{"filters that exclude each other match nothing", signinlog.Filter{Route: "admin", Method: authgate.MethodAPIKey},
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := s.Query(context.Background(), tt.f, signinlog.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if next != "" {
				t.Errorf("next cursor %q on the only page", next)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("Query(%+v) (-want +got):\n%s", tt.f, diff)
			}
			// The same through pages of one event.
			if diff := cmp.Diff(tt.want, ids(all(t, s, tt.f, 1))); diff != "" {
				t.Errorf("Query(%+v) in pages of 1 (-want +got):\n%s", tt.f, diff)
			}
		})
	}
}

// numbered makes n allowed events starting at minute m0, three per minute
// (so times tie), with request ids prefix-0000...
func numbered(prefix string, n, m0 int) []*authgate.Decision {
	var out []*authgate.Decision
	for i := range n {
		d := allow(fmt.Sprintf("%s-%04d", prefix, i), m0+i/3, authgate.MethodBasic, "alice", "alice", "app", "192.0.2.1")
		if i%2 == 1 {
			d.Route = "api"
		}
		out = append(out, d)
	}
	return out
}

func reversed(events []*authgate.Decision) []string {
	out := ids(events)
	slices.Reverse(out)
	return out
}

func testPagination(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	old := numbered("old", 100, 0)
	write(t, s, old...)
	for _, f := range []signinlog.Filter{{}, {Route: "api"}, {User: "alice", Since: at(3)}} {
		t.Run(fmt.Sprintf("filter %+v", f), func(t *testing.T) {
			// What the pages must add up to: the events stored before the
			// first page (earlier subtests add events too).
			want := ids(all(t, s, f, 1000))
			if len(want) < 50 {
				t.Fatalf("only %d events match; the test needs many pages", len(want))
			}
			var got []string
			p := signinlog.Page{Limit: 7}
			for page := 0; ; page++ {
				events, next, err := s.Query(ctx, f, p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(events)...)
				if next == "" {
					break
				}
				// New events arrive between pages: newer ones, and one at
				// the very time of the page's last event. None may show up
				// in later pages, and none of the old may be skipped.
				last := events[len(events)-1]
				fresh := numbered(fmt.Sprintf("new%d", page), 2, 200)
				tie := allow(fmt.Sprintf("tie%d", page), 0, authgate.MethodBasic, "alice", "alice", "api", "192.0.2.1")
				tie.Time = last.Time
				write(t, s, append(fresh, tie)...)
				p.Cursor = next
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}
}

func testPageSize(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	write(t, s, numbered("e", 1003, 0)...)
	for _, tt := range []struct {
		name  string
		limit int
		want  int
	}{
		{"limit 0 means 100", 0, 100},
		{"a negative limit means 100", -5, 100},
		{"limit 1", 1, 1},
		{"limit 1000", 1000, 1000},
		{"limit over 1000 is capped", 5000, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events, next, err := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != tt.want || next == "" {
				t.Errorf("got %d events and cursor %q, want %d and a cursor", len(events), next, tt.want)
			}
		})
	}
	t.Run("a last page that is exactly full has no cursor", func(t *testing.T) {
		events, next, err := s.Query(ctx, signinlog.Filter{Since: at(333)}, signinlog.Page{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"e-1002", "e-1001", "e-1000", "e-0999"}, ids(events)); diff != "" || next != "" {
			t.Errorf("got %v and cursor %q, want the four newest and no cursor", ids(events), next)
		}
	})
}

func testBadCursor(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	write(t, s, fixture()...)
	_, next, err := s.Query(ctx, signinlog.Filter{Route: "api"}, signinlog.Page{Limit: 1})
	if err != nil || next == "" {
		t.Fatalf("first page: cursor %q, %v", next, err)
	}
	for _, tt := range []struct {
		name   string
		f      signinlog.Filter
		cursor string
	}{
		{"a cursor of another filter", signinlog.Filter{Route: "admin"}, next},
		{"a cursor of the same filter with a window added", signinlog.Filter{Route: "api", Since: T0}, next},
		{"a cursor of a filtered query used without the filter", signinlog.Filter{}, next},
		{"a garbled cursor", signinlog.Filter{Route: "api"}, "not a cursor!"},
		{"a truncated cursor", signinlog.Filter{Route: "api"}, next[:len(next)-2]},
		{"a cursor with one character changed", signinlog.Filter{Route: "api"}, flip(next)},
		{"a number", signinlog.Filter{Route: "api"}, "12345"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events, _, err := s.Query(ctx, tt.f, signinlog.Page{Cursor: tt.cursor})
			if !errors.Is(err, signinlog.ErrBadCursor) {
				t.Errorf("got %d events and error %v, want an error wrapping ErrBadCursor", len(events), err)
			}
		})
	}
}

// flip changes one character in the middle of s.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func testGet(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	write(t, s, fixture()...)
	a := deny("dup", 20, authgate.MethodBasic, "alice", reason.PasswordWrong, "app", "192.0.2.1")
	b := allow("dup", 22, authgate.MethodBasic, "alice", "alice", "app", "192.0.2.1")
	c := deny("dup", 21, authgate.MethodBasic, "alice", reason.PasswordPrevious, "app", "192.0.2.1")
	write(t, s, a, b)
	write(t, s, c)
	for _, tt := range []struct {
		name string
		id   string
		want []*authgate.Decision
	}{
		{"a unique request id", "r04", []*authgate.Decision{fixture()[3]}},
		{"a repeated request id returns all its events, newest first", "dup", []*authgate.Decision{b, c, a}},
		{"an unknown request id returns none and no error", "nope", nil},
		{"an empty request id returns none", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Get(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, options); diff != "" {
				t.Errorf("Get(%q) (-want +got):\n%s", tt.id, diff)
			}
		})
	}
}

func testStats(t *testing.T, s signinlog.Store) {
	write(t, s, fixture()...)
	tests := []struct {
		name string
		f    signinlog.Filter
		by   signinlog.GroupBy
		want []signinlog.Count
	}{
		{"by reason, allowed events under the empty key, largest first, ties by key", signinlog.Filter{},
			signinlog.ByReason, []signinlog.Count{c("", 5), c("key_rotated", 2), c("audience_mismatch", 1),
				c("credentials_missing", 1), c("password_previous", 1), c("password_wrong", 1),
				c("store_unavailable", 1), c("token_expired", 1)}},
		{"by route, a tie ordered by key", signinlog.Filter{}, signinlog.ByRoute,
			[]signinlog.Count{c("api", 5), c("app", 5), c("admin", 3)}},
		{"by user: the claimed name, else the subject; the empty key sorts first among ties",
			signinlog.Filter{}, signinlog.ByUser, []signinlog.Count{c("alice", 4), c("bob", 2), c("dave", 2),
				c("k_0", 2), c("", 1), c("erin", 1), c("k_1", 1)}},
		{"by reason of refusals in a window", signinlog.Filter{Outcome: "deny", Since: at(6), Until: at(11)},
			signinlog.ByReason, []signinlog.Count{c("key_rotated", 2), c("audience_mismatch", 1),
				c("credentials_missing", 1), c("store_unavailable", 1)}},
		{"by route of one user", signinlog.Filter{User: "alice"}, signinlog.ByRoute,
			[]signinlog.Count{c("app", 3), c("api", 1)}},
		{"nothing matching gives no groups", signinlog.Filter{User: "mallory"}, signinlog.ByUser, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Stats(context.Background(), tt.f, tt.by)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Stats(%+v, %s) (-want +got):\n%s", tt.f, tt.by, diff)
			}
		})
	}
	t.Run("an unknown grouping is an error", func(t *testing.T) {
		if _, err := s.Stats(context.Background(), signinlog.Filter{}, "colour"); err == nil {
			t.Error("Stats by colour: no error")
		}
	})
}

// testStatsOrder writes keys that a locale's collation orders otherwise
// than bytes (case, punctuation and accents weigh less there: "a_b", "ab",
// "émile", "Zoe"), so a store must not leave tie order to its database.
func testStatsOrder(t *testing.T, s signinlog.Store) {
	for i, name := range []string{"ab", "émile", "a_b", "Zoe", "ab"} {
		write(t, s, allow(fmt.Sprintf("o%d", i), i, authgate.MethodBasic, name, name, "app", "192.0.2.1"))
	}
	got, err := s.Stats(context.Background(), signinlog.Filter{}, signinlog.ByUser)
	if err != nil {
		t.Fatal(err)
	}
	want := []signinlog.Count{c("ab", 2), c("Zoe", 1), c("a_b", 1), c("émile", 1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats by user (-want +got):\n%s", diff)
	}
}

// c is one expected group of Stats.
func c(key string, n int64) signinlog.Count { return signinlog.Count{Key: key, Count: n} }

func testSkewStats(t *testing.T, s signinlog.Store) {
	write(t, s, fixture()...)
	late := deny("late", 30, authgate.MethodBearer, "bob", reason.TokenNotYetValid, "api", "2001:db8::3")
	late.Token, late.ClockSkew = token(idp, time.Hour), -15*time.Second
	write(t, s, late)
	tests := []struct {
		name  string
		iss   string
		since time.Time
		n     int
		mean  time.Duration
	}{
		{"every skewed event of the issuer", idp, T0, 3, 35 * time.Second},
		{"since is inclusive", idp, at(4), 2, 7500 * time.Millisecond},
		{"only the newest", idp, at(5), 1, -15 * time.Second},
		{"none since a later time", idp, at(31), 0, 0},
		{"events without skew do not count", other, T0, 0, 0},
		{"an unknown issuer", "https://nobody.example", T0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, mean, err := s.SkewStats(context.Background(), tt.iss, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.n || mean != tt.mean {
				t.Errorf("SkewStats(%s, %v) = %d, %v; want %d, %v", tt.iss, tt.since, n, mean, tt.n, tt.mean)
			}
		})
	}
}

func testDropped(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	got, err := s.Dropped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("a new store has dropped counts %v", got)
	}
	if err := s.RecordDropped(ctx, map[reason.Code]int64{reason.PasswordWrong: 3, reason.TokenExpired: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDropped(ctx, map[reason.Code]int64{reason.PasswordWrong: 2, reason.KeyRotated: 5, reason.UserUnknown: 0}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDropped(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDropped(ctx, map[reason.Code]int64{reason.KeyRotated: -1}); err == nil {
		t.Error("a negative count was accepted")
	}
	// Several gateways record at once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if err := s.RecordDropped(ctx, map[reason.Code]int64{reason.TokenExpired: 1, reason.APIKeyUnknown: 2}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err = s.Dropped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[reason.Code]int64{reason.PasswordWrong: 5, reason.TokenExpired: 81, reason.KeyRotated: 5, reason.APIKeyUnknown: 160}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
}

func testPurge(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	var events []*authgate.Decision
	for i := range 5 * PurgeBatch {
		events = append(events, allow(fmt.Sprintf("p%02d", i), i, authgate.MethodBasic, "alice", "alice", "app", "192.0.2.1"))
	}
	write(t, s, events...)
	cut := 3*PurgeBatch + 2 // not a multiple of the batch
	n, err := s.Purge(ctx, at(cut))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(cut) {
		t.Errorf("Purge deleted %d events, want %d", n, cut)
	}
	if diff := cmp.Diff(reversed(events[cut:]), ids(all(t, s, signinlog.Filter{}, 1000))); diff != "" {
		t.Errorf("events left (-want +got):\n%s", diff)
	}
	if n, err := s.Purge(ctx, at(cut)); err != nil || n != 0 {
		t.Errorf("a second Purge deleted %d events (%v), want 0", n, err)
	}
	if n, err := s.Purge(ctx, T0.Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("Purge before every event deleted %d (%v), want 0", n, err)
	}
	if n, err := s.Purge(ctx, at(5*PurgeBatch)); err != nil || n != int64(5*PurgeBatch-cut) {
		t.Errorf("Purge of the rest deleted %d (%v), want %d", n, err, 5*PurgeBatch-cut)
	}
}

func testWriteAllOrNothing(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	if err := s.Write(ctx, nil); err != nil {
		t.Errorf("writing no events: %v", err)
	}
	fx := fixture()
	if err := s.Write(ctx, []*authgate.Decision{fx[0], fx[1], nil, fx[2]}); err == nil {
		t.Error("a batch with a nil event was accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cancelled, fx); err == nil {
		t.Error("a write with a cancelled context succeeded")
	}
	if got := all(t, s, signinlog.Filter{}, 1000); len(got) != 0 {
		t.Errorf("failed writes left %v", ids(got))
	}
	write(t, s, fx...)
	if got := all(t, s, signinlog.Filter{}, 1000); len(got) != len(fx) {
		t.Errorf("after a good write %d events, want %d", len(got), len(fx))
	}
}

func testConcurrent(t *testing.T, s signinlog.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const writers, batches, size = 4, 10, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				if err := s.Write(ctx, numbered(fmt.Sprintf("w%d-%d", w, b), size, b)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for ctx.Err() == nil {
				if _, _, err := s.Query(ctx, signinlog.Filter{User: "alice"}, signinlog.Page{}); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cancel()
	readers.Wait()
	counts, err := s.Stats(context.Background(), signinlog.Filter{}, signinlog.ByUser)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]signinlog.Count{c("alice", writers*batches*size)}, counts); diff != "" {
		t.Errorf("events stored (-want +got):\n%s", diff)
	}
}

// testHostileText writes what an unauthenticated client controls — a
// token's unverified sub and iss, a user agent — with NUL bytes, invalid
// UTF-8 and terminal escapes. One such event must not fail its batch (a
// PostgreSQL text column refuses NUL), and it comes back as written.
func testHostileText(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	hostile := &authgate.Decision{
		RequestID: "hostile-1", Time: T0, Route: "api", Method: authgate.MethodBearer, Reason: reason.TokenSignatureInvalid, Status: 401,
		Claimed: "a\x00b\x1b[31m", UserAgent: "x\xff\xfe", Source: netip.MustParseAddr("192.0.2.7"),
		Token:  &authgate.TokenInfo{Issuer: "iss\x00", Subject: "a\x00b\x1b[31m"},
		Checks: []authgate.Check{{Name: "jwt.signature", Result: authgate.Fail, Reason: reason.TokenSignatureInvalid}},
	}
	plain := &authgate.Decision{RequestID: "plain-1", Time: T0.Add(time.Second), Route: "api", Allowed: true, Status: 200}
	if err := s.Write(ctx, []*authgate.Decision{hostile, plain}); err != nil {
		t.Fatalf("a batch with one hostile event failed: %v", err)
	}
	got, err := s.Get(ctx, "hostile-1")
	if err != nil || len(got) != 1 {
		t.Fatalf("Get: %d events, %v", len(got), err)
	}
	if got[0].Claimed != hostile.Claimed || got[0].Token.Issuer != hostile.Token.Issuer {
		t.Errorf("the stored decision must keep what was sent: claimed %q iss %q", got[0].Claimed, got[0].Token.Issuer)
	}
	if evs, _, err := s.Query(ctx, signinlog.Filter{User: "ab\x1b[31m"}, signinlog.Page{}); err != nil || len(evs) != 1 {
		t.Errorf("the event is found by its claimed name without the NUL: %d, %v", len(evs), err)
	}
}
