package storetest

import (
	"context"
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

// testManyBatches writes more events than the fixture: several
// segments' worth (signinlog.SegmentEvents) in batches large and small,
// the last of them late (times before those already stored, as a
// replayed spool writes them) or in the future. Every filter must find
// what a plain reading of its fields finds among the events written, in
// the same order, in one page and page by page, and Stats must count them.
func testManyBatches(t *testing.T, s signinlog.Store) {
	ctx := context.Background()
	n := 2*signinlog.SegmentEvents + 1500
	events := slices.Collect(signinlog.Synthetic(n, T0, 12*time.Hour, 3))
	late := slices.Collect(signinlog.Synthetic(700, T0.Add(-time.Hour), 10*time.Hour, 4))
	future := slices.Collect(signinlog.Synthetic(5, T0.Add(48*time.Hour), time.Minute, 5))
	var written []*authgate.Decision
	write := func(batch []*authgate.Decision) {
		t.Helper()
		if err := s.Write(ctx, batch); err != nil {
			t.Fatalf("Write: %v", err)
		}
		written = append(written, batch...)
	}
	for i, size := 0, 0; i < len(events); i += size {
		size = []int{1000, 1, 1000, 7, signinlog.PackFrom, signinlog.PackFrom - 1, 1000, 300}[len(written)%8]
		write(events[i:min(i+size, len(events))])
	}
	write(late[:500])
	write(future)
	write(late[500:])

	pos := map[*authgate.Decision]int{} // insertion order
	for i, d := range written {
		pos[d] = i
	}
	mid := T0.Add(6 * time.Hour)
	busy := signinlog.SyntheticUser(0)
	sources := []netip.Addr{written[10].Source, written[len(written)-3].Source}
	for _, f := range []signinlog.Filter{
		{User: busy},
		{User: signinlog.SyntheticUser(3)},
		{User: signinlog.SyntheticUser(40), Since: mid},
		{User: "nobody.at.all"},
		{KeyID: signinlog.SyntheticKey(7)},
		{KeyID: signinlog.SyntheticKey(7), Outcome: "allow"},
		{Reason: reason.TokenExpired},
		{Reason: reason.PasswordWrong, Until: mid},
		{Fingerprint: written[42].Fingerprint},
		{Fingerprint: written[len(written)-1].Fingerprint, Since: T0.Add(-time.Hour)},
		{Network: netip.PrefixFrom(sources[0], sources[0].BitLen()).Masked()},
		{Network: netip.PrefixFrom(sources[1], 24+sources[1].BitLen()-32).Masked()},
		{Network: netip.MustParsePrefix("10.0.0.0/8")},
		{Network: netip.MustParsePrefix("2001:db8::/32"), Since: mid},
		{Route: "admin", Since: mid, Until: mid.Add(time.Hour)},
		{User: busy, Reason: reason.TokenExpired, Method: authgate.MethodBearer},
		{Since: T0.Add(-30 * time.Minute), Until: T0.Add(30 * time.Minute), Outcome: "deny"},
	} {
		var want []*authgate.Decision
		for _, d := range written {
			if matches(t, f, d) {
				want = append(want, d)
			}
		}
		slices.SortStableFunc(want, func(a, b *authgate.Decision) int {
			if c := b.Time.Compare(a.Time); c != 0 {
				return c
			}
			return pos[b] - pos[a]
		})
		got, next, err := s.Query(ctx, f, signinlog.Page{Limit: 1000})
		if err != nil {
			t.Fatalf("Query(%+v): %v", f, err)
		}
		if len(want) <= 1000 && next != "" {
			t.Errorf("Query(%+v): a cursor after all %d events", f, len(want))
		}
		if len(want) > 1000 {
			want = want[:1000]
		}
		if diff := cmp.Diff(ids(want), ids(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Query(%+v) (-want +got):\n%s", f, diff)
		}
		paged := all(t, s, f, 37)
		if len(paged) > 1000 {
			paged = paged[:1000]
		}
		if diff := cmp.Diff(ids(want), ids(paged), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Query(%+v) in pages of 37 (-want +got):\n%s", f, diff)
		}
		counts, err := s.Stats(ctx, f, signinlog.ByRoute)
		if err != nil {
			t.Fatalf("Stats(%+v): %v", f, err)
		}
		var total int64
		for _, c := range counts {
			total += c.Count
		}
		var everything int
		for _, d := range written {
			if matches(t, f, d) {
				everything++
			}
		}
		if total != int64(everything) {
			t.Errorf("Stats(%+v) counts %d events, want %d", f, total, everything)
		}
	}
}

// matches reports whether f selects d, reading the filter's fields as
// signinlog.Filter documents them.
func matches(t *testing.T, f signinlog.Filter, d *authgate.Decision) bool {
	c, err := signinlog.EventColumns(d)
	if err != nil {
		t.Fatal(err)
	}
	in := func(want, got string) bool { return want == "" || want == got }
	if f.User != "" && c.Claimed != f.User && c.Subject != f.User {
		return false
	}
	if !in(f.KeyID, c.KeyID) || !in(f.Route, c.Route) || !in(string(f.Method), c.Method) ||
		!in(string(f.Reason), c.Reason) || !in(f.Outcome, c.Outcome) || !in(f.RequestID, c.RequestID) ||
		!in(f.Fingerprint, c.Fingerprint) {
		return false
	}
	if f.Network.IsValid() {
		if !d.Source.IsValid() {
			return false
		}
		p := f.Network
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if a := d.Source.Unmap(); a.Is4() != p.Addr().Is4() || !p.Contains(a) {
			return false
		}
	}
	if !f.Since.IsZero() && d.Time.Before(f.Since) || !f.Until.IsZero() && !d.Time.Before(f.Until) {
		return false
	}
	return true
}

// testTiesAcrossSegments writes events of one user at the same time in
// segments far apart: a page must order them by insertion there too,
// whichever segment it reads first.
func testTiesAcrossSegments(t *testing.T, s signinlog.Store) {
	user := func(id string, m int) *authgate.Decision {
		return allow(id, m, authgate.MethodBasic, "tie", "tie", "app", "192.0.2.1")
	}
	first := []*authgate.Decision{user("p1", 10), user("p2", 0), user("p3", 0), user("p4", -1)}
	filler := numbered("filler", 2*signinlog.SegmentEvents, 0)
	for _, d := range filler {
		d.Claimed, d.Principal.Subject, d.Time = "bob", "bob", at(-100)
	}
	write(t, s, first...)
	for i := 0; i < len(filler); i += 1000 {
		write(t, s, filler[i:min(i+1000, len(filler))]...)
	}
	write(t, s, user("q", 0))
	want := []string{"p1", "q", "p3", "p2", "p4"}
	for _, size := range []int{1, 2, 3, 1000} {
		if diff := cmp.Diff(want, ids(all(t, s, signinlog.Filter{User: "tie"}, size))); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", size, diff)
		}
	}
}
