package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/signinlog"
)

// BenchmarkQueries runs the same queries on any store holding synthetic
// events (signinlog.Synthetic) up to end, such as the million events of
// the stores' query benchmarks: the pages and the lookup the latency
// targets name first, then the queries the storage design makes dearer
// or cheaper (a user with no events at all, a network, a route, the
// counts explain and `authgate users show` ask for).
func BenchmarkQueries(b *testing.B, s signinlog.Store, end time.Time) {
	ctx := context.Background()
	day := signinlog.Filter{Since: end.Add(-24 * time.Hour)}
	newest, _, err := s.Query(ctx, day, signinlog.Page{Limit: 1000})
	if err != nil || len(newest) == 0 {
		b.Fatal("no events in the last day", err)
	}
	id, proxyID, fingerprint := newest[0].RequestID, "", ""
	var network netip.Prefix
	for _, d := range newest {
		if proxyID == "" && strings.Contains(d.RequestID, "-") {
			proxyID = d.RequestID
		}
		if fingerprint == "" && d.Fingerprint != "" {
			fingerprint = d.Fingerprint
		}
		if !network.IsValid() && d.Source.Is4() {
			network = netip.PrefixFrom(d.Source, 24).Masked()
		}
	}
	with := func(f signinlog.Filter, set func(*signinlog.Filter)) signinlog.Filter {
		set(&f)
		return f
	}
	user := with(day, func(f *signinlog.Filter) { f.User = signinlog.SyntheticUser(3) })
	page := func(f signinlog.Filter) func() (int, error) {
		return func() (int, error) {
			ev, _, err := s.Query(ctx, f, signinlog.Page{Limit: 100})
			return len(ev), err
		}
	}
	count := func(f signinlog.Filter) func() (int, error) {
		return func() (int, error) {
			groups, err := s.Stats(ctx, f, signinlog.ByReason)
			var n int64
			for _, g := range groups {
				n += g.Count
			}
			return int(n), err
		}
	}
	get := func(id string) func() (int, error) {
		return func() (int, error) {
			ev, err := s.Get(ctx, id)
			return len(ev), err
		}
	}
	for _, bb := range []struct {
		name string
		run  func() (int, error)
	}{
		{"one user last 24h page of 100", page(user)},
		{"one reason last 24h page of 100", page(with(day, func(f *signinlog.Filter) { f.Reason = "token_expired" }))},
		{"get by request id", get(id)},
		{"get by request id of a proxy", get(proxyID)},
		{"one user all time page of 100", page(signinlog.Filter{User: signinlog.SyntheticUser(3)})},
		{"an unknown user all time", page(signinlog.Filter{User: "nobody.at.all"})},
		{"one key last 24h page of 100", page(with(day, func(f *signinlog.Filter) { f.KeyID = signinlog.SyntheticKey(7) }))},
		{"one route last 24h page of 100", page(with(day, func(f *signinlog.Filter) { f.Route = "admin" }))},
		{"one /24 last 24h page of 100", page(with(day, func(f *signinlog.Filter) { f.Network = network }))},
		{"one fingerprint last 24h counted", count(with(day, func(f *signinlog.Filter) { f.Fingerprint = fingerprint }))},
		{"refusals last 24h by reason", count(with(day, func(f *signinlog.Filter) { f.Outcome = "deny" }))},
		{"one user's refusals last 24h by reason", count(with(user, func(f *signinlog.Filter) { f.Outcome = "deny" }))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				var err error
				if n, err = bb.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "events")
		})
	}
}

// LayoutDigest is a short digest of what a kept benchmark database depends
// on: the store's migrations (the files matching glob), the postings
// layout and form and the chunk encoding, which change without a
// migration. Benchmarks name their kept databases with it, so a change
// builds them anew.
func LayoutDigest(b *testing.B, glob string) string {
	h := sha256.New()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		b.Fatalf("no migrations match %s: %v", glob, err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		h.Write(body)
	}
	fmt.Fprint(h, signinlog.SegmentBits, signinlog.PackFrom, signinlog.PackBuckets, signinlog.RequestIDBuckets, signinlog.ChunkEvents)
	var enc signinlog.ChunkEncoder
	for d := range signinlog.Synthetic(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 1) {
		c, err := signinlog.EventColumns(d)
		if err != nil {
			b.Fatal(err)
		}
		if err := enc.Add(1, &c, d); err != nil {
			b.Fatal(err)
		}
	}
	ch, _ := enc.Finish(nil)
	h.Write(ch.Heads)
	h.Write(ch.Docs)
	// A batch smaller than PackFrom posts a row per key, a larger one packs.
	for _, n := range []int{3, 2 * signinlog.PackFrom} {
		post := signinlog.Postings{Lookups: true}
		var ids []int64
		for d := range signinlog.Synthetic(n, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 1) {
			c, err := signinlog.EventColumns(d)
			if err != nil {
				b.Fatal(err)
			}
			post.Add(&c)
			ids = append(ids, int64(len(ids)+1))
		}
		rows, _ := post.Rows(ids)
		for _, r := range rows {
			h.Write(r.IDs)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:4])
}

// BenchmarkWrite measures batched writes of synthetic events into a new
// store from open, in batches of 1000 and of signinlog.DefaultBatchSize
// (what a gateway's writer sends once events arrive faster than
// DefaultBatchSize per flush interval); events/s is the figure to compare
// with the write-rate targets. An empty store flatters it (every page is
// in the cache): the stores' EventWriteAt measures them at size.
func BenchmarkWrite(b *testing.B, open func(b *testing.B) signinlog.Store) {
	for _, batch := range []int{1000, signinlog.DefaultBatchSize} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b)
			events := slices.Collect(signinlog.Synthetic(25*batch, time.Now().Add(-time.Hour), time.Hour, 1))
			ctx := context.Background()
			i := 0
			for b.Loop() {
				part := events[i%25*batch : i%25*batch+batch]
				i++
				if err := s.Write(ctx, part); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
