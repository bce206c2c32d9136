package postgres_test

import (
	"context"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/postgres"
	"github.com/authgate/authgate/signinlog"
)

// BenchmarkEventWrite measures COPY writes of batches of 1000 synthetic
// events into a fresh database; events/s is the figure to compare with the
// 100 000/s target.
func BenchmarkEventWrite(b *testing.B) {
	s := open(b, newDatabase(b), postgres.Options{})
	defer s.Close()
	const batch = 1000
	events := slices.Collect(signinlog.Synthetic(100*batch, time.Now().Add(-time.Hour), time.Hour, 1))
	ctx := context.Background()
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

// BenchmarkEventWriteParallel is BenchmarkEventWrite with two writers, as
// two gateways (or a gateway replaying its spool) would write.
func BenchmarkEventWriteParallel(b *testing.B) {
	s := open(b, newDatabase(b), postgres.Options{})
	defer s.Close()
	const batch = 1000
	events := slices.Collect(signinlog.Synthetic(100*batch, time.Now().Add(-time.Hour), time.Hour, 1))
	ctx := context.Background()
	b.SetParallelism(1) // GOMAXPROCS writers
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			chunk := events[i%100*batch : i%100*batch+batch]
			i++
			if err := s.Write(ctx, chunk); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

const (
	bigCount = 1_000_000
	bigName  = "authgate_bench_1m"
)

// bigEnd is when the synthetic month ends; fixed so the cached database
// stays valid.
var bigEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// bigStore opens the cached database authgate_bench_1m of one million
// synthetic events (30 days ending at bigEnd), building it on first use.
// Query benchmarks run only with AUTHGATE_BENCH_EVENTS=1:
//
//	AUTHGATE_BENCH_EVENTS=1 AUTHGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./postgres -run '^$' -bench EventQuery
//
// Drop it with `DROP DATABASE authgate_bench_1m` when done.
func bigStore(b *testing.B) *postgres.EventStore {
	dsn := testDSN(b)
	if os.Getenv("AUTHGATE_BENCH_EVENTS") != "1" {
		b.Skip("set AUTHGATE_BENCH_EVENTS=1 to build (once) or reuse the 1 000 000-event database " + bigName)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, bigName).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+bigName); err != nil {
			b.Fatal(err)
		}
	}
	u, _ := url.Parse(dsn)
	u.Path = "/" + bigName
	s := open(b, u.String(), postgres.Options{})
	if !exists {
		start := time.Now()
		batch := make([]*authgate.Decision, 0, 1000)
		for d := range signinlog.Synthetic(bigCount, bigEnd.Add(-30*24*time.Hour), 30*24*time.Hour, 42) {
			batch = append(batch, d)
			if len(batch) == cap(batch) {
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		c, err := pgx.Connect(ctx, u.String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `VACUUM ANALYZE events`); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v", bigName, time.Since(start))
	}
	return s
}

func BenchmarkEventQuery(b *testing.B) {
	s := bigStore(b)
	defer s.Close()
	ctx := context.Background()
	day := signinlog.Filter{Since: bigEnd.Add(-24 * time.Hour)}
	user, rsn := day, day
	user.User = signinlog.SyntheticUser(3)
	rsn.Reason = "token_expired"
	events, _, err := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1})
	if err != nil || len(events) == 0 {
		b.Fatal("no events", err)
	}
	id := events[0].RequestID
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
