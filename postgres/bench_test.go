package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/postgres"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
)

// BenchmarkEventWrite measures COPY writes into a fresh database
// (storetest.BenchmarkWrite); events/s is the figure to compare with the
// 100 000/s target.
func BenchmarkEventWrite(b *testing.B) {
	storetest.BenchmarkWrite(b, func(b *testing.B) signinlog.Store {
		s := open(b, newDatabase(b), postgres.Options{})
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkEventWriteAt measures COPY writes of batches of 1000 new events
// (a gateway at 1000 requests/s, continuing after the stored month) into a
// copy of a database that already holds 0, 300 000 or 1 000 000 events.
// The stored databases are built once (minutes) and kept, so it runs only
// with AUTHGATE_BENCH_EVENTS=1; give it a fixed count of batches so that
// every size writes the same events:
//
//	AUTHGATE_BENCH_EVENTS=1 AUTHGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./postgres -run '^$' -bench EventWriteAt -benchtime 200x
//
// Drop the kept databases (authgate_bench_*) when done.
func BenchmarkEventWriteAt(b *testing.B) {
	for _, stored := range []int{0, 300_000, bigCount} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			var dsn string
			if stored == 0 {
				dsn = newDatabase(b)
			} else {
				dsn = copyDatabase(b, storedDatabase(b, stored))
			}
			s := open(b, dsn, postgres.Options{})
			defer s.Close()
			next, stop := iter.Pull(signinlog.Synthetic(1<<30, bigEnd, (1<<30)*time.Millisecond, 7))
			defer stop()
			const batch = 1000
			events := make([]*authgate.Decision, batch)
			ctx := context.Background()
			server := serverCPU(b, dsn, nil)
			var generating time.Duration
			client := cpuTime()
			for b.Loop() {
				b.StopTimer()
				g := cpuTime()
				for i := range events {
					events[i], _ = next()
				}
				generating += cpuTime() - g
				b.StartTimer()
				if err := s.Write(ctx, events); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N * batch)
			b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
			// CPU time per event of this process (the client) and of the
			// server's processes serving the database, which other load
			// on the machine disturbs less than events/s.
			b.ReportMetric(float64((cpuTime()-client-generating).Microseconds())/n, "client-cpu-µs/event")
			if server != nil {
				var used time.Duration
				for _, d := range serverCPU(b, dsn, server) {
					used += d
				}
				b.ReportMetric(float64(used.Microseconds())/n, "server-cpu-µs/event")
			}
		})
	}
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

const bigCount = 1_000_000

// bigEnd is when the synthetic month ends; fixed so the cached databases
// stay valid.
var bigEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// storedDatabase returns the name of the kept database of n synthetic
// events (30 days ending at bigEnd), building it on first use. The name
// carries a digest of the migrations, so a schema change builds anew.
func storedDatabase(b *testing.B, n int) string {
	dsn := testDSN(b)
	if os.Getenv("AUTHGATE_BENCH_EVENTS") != "1" {
		b.Skip("set AUTHGATE_BENCH_EVENTS=1 to build (once) or reuse the databases of 300 000 and 1 000 000 events")
	}
	name := fmt.Sprintf("authgate_bench_%d_%s", n, storetest.LayoutDigest(b, "migrations/*.sql"))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if exists {
		return name
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	s := open(b, databaseDSN(b, building), postgres.Options{})
	batch := make([]*authgate.Decision, 0, 1000)
	for d := range signinlog.Synthetic(n, bigEnd.Add(-30*24*time.Hour), 30*24*time.Hour, 42) {
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
	s.Close()
	c, err := pgx.Connect(ctx, databaseDSN(b, building))
	if err != nil {
		b.Fatal(err)
	}
	_, err = c.Exec(ctx, `VACUUM ANALYZE`)
	c.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s in %v", name, time.Since(start))
	return name
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU returns the CPU time (user and system) each server process
// serving the database of dsn has used, less what it had used in since,
// or nil when /proc cannot tell (the server on another machine).
func serverCPU(b *testing.B, dsn string, since map[int]time.Duration) map[int]time.Duration {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	used := map[int]time.Duration{}
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// Fields 14 and 15, after the parenthesised command name, are
		// utime and stime in clock ticks (100 a second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			return nil
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		used[int(pid)] = time.Duration(ut+st)*10*time.Millisecond - since[int(pid)]
	}
	return used
}

// copyDatabase creates a copy of database template for the benchmark,
// dropped when it ends, and returns its DSN.
func copyDatabase(b *testing.B, template string) string {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	name := template + "_copy"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin, err := pgx.Connect(ctx, testDSN(b))
		if err != nil {
			b.Error(err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			b.Error(err)
		}
	})
	return databaseDSN(b, name)
}

// databaseDSN returns the test server's DSN for database name.
func databaseDSN(b *testing.B, name string) string {
	u, err := url.Parse(testDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// bigStore opens the kept database of one million synthetic events (30
// days ending at bigEnd), building it on first use. Query benchmarks run
// only with AUTHGATE_BENCH_EVENTS=1:
//
//	AUTHGATE_BENCH_EVENTS=1 AUTHGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./postgres -run '^$' -bench EventQuery
//
// Drop it (authgate_bench_1000000_*) when done.
func bigStore(b *testing.B) *postgres.EventStore {
	return open(b, databaseDSN(b, storedDatabase(b, bigCount)), postgres.Options{})
}

// BenchmarkEventQuery measures the queries of storetest.BenchmarkQueries
// on the kept million events (bigStore).
func BenchmarkEventQuery(b *testing.B) {
	s := bigStore(b)
	defer s.Close()
	storetest.BenchmarkQueries(b, s, bigEnd)
}
