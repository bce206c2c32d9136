package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/sqlite"
)

// BenchmarkEventWrite measures batched writes of 1000 synthetic events;
// events/s is the figure to compare with the 50 000/s target.
func BenchmarkEventWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "signinlog.db")
	s, err := sqlite.OpenEvents(path, sqlite.EventOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 1000
	events := slices.Collect(signinlog.Synthetic(100*batch, time.Now().Add(-time.Hour), time.Hour, 1))
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		chunk := events[i%100*batch : i%100*batch+batch]
		i++
		if err := s.Write(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// bigStore opens the cached database of one million synthetic events (30
// days ending at bigEnd), building it on first use (a few minutes). Query
// benchmarks run only with AUTHGATE_BENCH_EVENTS=1, so neither `go test`
// nor a plain `go test -bench .` spends minutes building it:
//
//	AUTHGATE_BENCH_EVENTS=1 go test ./sqlite -run '^$' -bench EventQuery
//
// The database is kept in $TMPDIR/authgate-bench/signinlog-1m.db.
func bigStore(b *testing.B) (*sqlite.EventStore, time.Time) {
	if os.Getenv("AUTHGATE_BENCH_EVENTS") != "1" {
		b.Skip("set AUTHGATE_BENCH_EVENTS=1 to build (once) or reuse the 1 000 000-event database")
	}
	path := filepath.Join(os.TempDir(), "authgate-bench", "signinlog-1m.db")
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	s, err := sqlite.OpenEvents(path, sqlite.EventOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if os.IsNotExist(statErr) {
		start := time.Now()
		if err := fill(s, bigCount, bigEnd); err != nil {
			s.Close()
			os.Remove(path)
			b.Fatal(err)
		}
		b.Logf("built %s in %v", path, time.Since(start))
	}
	return s, bigEnd
}

const bigCount = 1_000_000

// bigEnd is when the synthetic month ends; fixed so the cached database
// stays valid.
var bigEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func fill(s signinlog.Store, n int, end time.Time) error {
	ctx := context.Background()
	batch := make([]*authgate.Decision, 0, 1000)
	for d := range signinlog.Synthetic(n, end.Add(-30*24*time.Hour), 30*24*time.Hour, 42) {
		batch = append(batch, d)
		if len(batch) == cap(batch) {
			if err := s.Write(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return s.Write(ctx, batch)
}

func BenchmarkEventQuery(b *testing.B) {
	s, end := bigStore(b)
	defer s.Close()
	ctx := context.Background()
	day := signinlog.Filter{Since: end.Add(-24 * time.Hour)}
	user, rsn, id := day, day, ""
	user.User = signinlog.SyntheticUser(3)
	rsn.Reason = "token_expired"
	events, _, err := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1})
	if err != nil || len(events) == 0 {
		b.Fatal("no events", err)
	}
	id = events[0].RequestID
	for _, bb := range []struct {
		name string
		run  func() (int, error)
	}{
		{"one user last 24h page of 100", func() (int, error) {
			ev, _, err := s.Query(ctx, user, signinlog.Page{Limit: 100})
			return len(ev), err
		}},
		{"one reason last 24h page of 100", func() (int, error) {
			ev, _, err := s.Query(ctx, rsn, signinlog.Page{Limit: 100})
			return len(ev), err
		}},
		{"get by request id", func() (int, error) {
			ev, err := s.Get(ctx, id)
			return len(ev), err
		}},
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
