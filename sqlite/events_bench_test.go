package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
	"github.com/authgate/authgate/sqlite"
)

// BenchmarkEventWrite measures batched writes into an empty database
// (storetest.BenchmarkWrite); events/s is the figure to compare with the
// 50 000/s target.
func BenchmarkEventWrite(b *testing.B) {
	storetest.BenchmarkWrite(b, func(b *testing.B) signinlog.Store {
		s, err := sqlite.OpenEvents(filepath.Join(b.TempDir(), "signinlog.db"), sqlite.EventOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkEventWriteAt measures batched writes of 1000 new events (a
// gateway at 1000 requests/s, continuing after the stored month) into a
// copy of a database that already holds 0, 300 000 or 1 000 000 events.
// The stored databases are built once (minutes) and kept like bigStore's,
// so it runs only with AUTHGATE_BENCH_EVENTS=1; give it a fixed count of
// batches so that every size writes the same events:
//
//	AUTHGATE_BENCH_EVENTS=1 go test ./sqlite -run '^$' -bench EventWriteAt -benchtime 200x
func BenchmarkEventWriteAt(b *testing.B) {
	for _, stored := range []int{0, 300_000, bigCount} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "signinlog.db")
			if stored > 0 {
				copyFile(b, storedDatabase(b, stored), path)
			}
			s, err := sqlite.OpenEvents(path, sqlite.EventOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			next, stop := iter.Pull(signinlog.Synthetic(1<<30, bigEnd, (1<<30)*time.Millisecond, 7))
			defer stop()
			const batch = 1000
			events := make([]*authgate.Decision, batch)
			ctx := context.Background()
			var generating time.Duration
			cpu := cpuTime()
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
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			// The process's CPU time per event written, background
			// checkpoints included, which other load on the machine
			// disturbs less than events/s.
			b.ReportMetric(float64((cpuTime()-cpu-generating).Microseconds())/float64(b.N*batch), "cpu-µs/event")
		})
	}
}

// storedDatabase returns the path of the cached database of n synthetic
// events (30 days ending at bigEnd), building it on first use. The name
// carries a digest of the migrations, so a schema change builds anew.
func storedDatabase(b *testing.B, n int) string {
	if os.Getenv("AUTHGATE_BENCH_EVENTS") != "1" {
		b.Skip("set AUTHGATE_BENCH_EVENTS=1 to build (once) or reuse the databases of 300 000 and 1 000 000 events")
	}
	path := filepath.Join(os.TempDir(), "authgate-bench", fmt.Sprintf("signinlog-%d-%s.db", n, storetest.LayoutDigest(b, "eventmigrations/*.sql")))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".building"
	os.Remove(tmp)
	s, err := sqlite.OpenEvents(tmp, sqlite.EventOptions{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := fill(s, n, bigEnd); err != nil {
		s.Close()
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s in %v", path, time.Since(start))
	return path
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// bigStore opens the cached database of one million synthetic events (30
// days ending at bigEnd), building it on first use (a few minutes). Query
// benchmarks run only with AUTHGATE_BENCH_EVENTS=1, so neither `go test`
// nor a plain `go test -bench .` spends minutes building it:
//
//	AUTHGATE_BENCH_EVENTS=1 go test ./sqlite -run '^$' -bench EventQuery
//
// The database is kept in $TMPDIR/authgate-bench/.
func bigStore(b *testing.B) (*sqlite.EventStore, time.Time) {
	s, err := sqlite.OpenEvents(storedDatabase(b, bigCount), sqlite.EventOptions{})
	if err != nil {
		b.Fatal(err)
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

// BenchmarkEventQuery measures the queries of storetest.BenchmarkQueries
// on the cached million events (bigStore).
func BenchmarkEventQuery(b *testing.B) {
	s, end := bigStore(b)
	defer s.Close()
	storetest.BenchmarkQueries(b, s, end)
}
