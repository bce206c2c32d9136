package postgres_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/internal/pgtest"
	"github.com/authgate/authgate/postgres"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
)

// testDSN returns the server to test against, skipping or failing the test
// without one.
func testDSN(t testing.TB) string { return pgtest.ServerDSN(t) }

// newDatabase creates an empty database of the test's own and returns its
// DSN; it is dropped when the test ends.
func newDatabase(t testing.TB) string { return pgtest.NewDatabase(t, "authgate_test") }

func open(t testing.TB, dsn string, opts postgres.Options) *postgres.EventStore {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEventStoreConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) signinlog.Store {
		return open(t, newDatabase(t), postgres.Options{PurgeBatch: storetest.PurgeBatch})
	})
}

func TestGatewaysStartingTogetherMigrateOnce(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	s := open(t, dsn, postgres.Options{}) // and once more, later
	s.Close()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"migrations/0001_events.sql", "migrations/0002_accounts.sql", "migrations/0003_second_factor.sql", "migrations/0004_event_postings.sql", "migrations/0005_event_chunks.sql"}, names); diff != "" {
		t.Errorf("recorded migrations (-want +got):\n%s", diff)
	}
}

func TestAFailingRowRollsBackTheWholeBatch(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	s := open(t, dsn, postgres.Options{})
	defer s.Close()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `
		CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.field = 'q' AND NEW.value = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER poison BEFORE INSERT ON event_postings FOR EACH ROW EXECUTE FUNCTION poison();`); err != nil {
		t.Fatal(err)
	}
	batch := slices.Collect(signinlog.Synthetic(50, storetest.T0, time.Minute, 1))
	batch[30].RequestID = "poison"
	if err := s.Write(ctx, batch); err == nil {
		t.Fatal("a batch with a failing row was written")
	}
	var chunks, postings, segments int
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM event_chunks), (SELECT count(*) FROM event_postings),
		(SELECT count(*) FROM event_segments)`).Scan(&chunks, &postings, &segments); err != nil {
		t.Fatal(err)
	}
	if chunks+postings+segments != 0 {
		t.Errorf("the failed batch left %d chunks, %d postings and %d segments", chunks, postings, segments)
	}
	batch[30].RequestID = "cured"
	if err := s.Write(ctx, batch); err != nil {
		t.Errorf("the same batch without the failing row: %v", err)
	}
}

func TestTwoGatewaysShareOneLog(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	a, b := open(t, dsn, postgres.Options{}), open(t, dsn, postgres.Options{})
	defer a.Close()
	defer b.Close()
	events := slices.Collect(signinlog.Synthetic(400, storetest.T0, time.Hour, 2))
	var wg sync.WaitGroup
	for i, s := range []*postgres.EventStore{a, b} {
		wg.Go(func() {
			for j := i * 200; j < i*200+200; j += 20 {
				if err := s.Write(ctx, events[j:j+20]); err != nil {
					t.Error(err)
				}
				if err := s.RecordDropped(ctx, map[reason.Code]int64{reason.TokenExpired: 1, reason.PasswordWrong: 2}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []*postgres.EventStore{a, b} {
		got, _, err := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 400 {
			t.Errorf("a gateway sees %d events, want 400", len(got))
		}
		dropped, err := s.Dropped(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[reason.Code]int64{reason.TokenExpired: 20, reason.PasswordWrong: 40}, dropped); diff != "" {
			t.Errorf("dropped counts (-want +got):\n%s", diff)
		}
	}
}

// TestOpenErrorsNeverShowThePassword opens DSNs holding a password that
// fail at each step (parsing, dialling, the server refusing the database)
// and checks that no error shows the password, or a piece of it.
func TestOpenErrorsNeverShowThePassword(t *testing.T) {
	const password = "S3cr3t-pw"
	tests := []struct {
		name   string
		dsn    func(t *testing.T) string
		pieces []string // of the password that must not show either
	}{
		{"an unreachable server", func(*testing.T) string {
			return "postgres://authgate:" + password + "@127.0.0.1:1/authgate?sslmode=disable&connect_timeout=2"
		}, nil},
		{"an unreachable server, key=value DSN", func(*testing.T) string {
			return "host=127.0.0.1 port=1 user=authgate password=" + password + " dbname=authgate sslmode=disable connect_timeout=2"
		}, nil},
		{"a database that does not exist", func(t *testing.T) string {
			u, err := url.Parse(testDSN(t))
			if err != nil {
				t.Fatalf("AUTHGATE_TEST_POSTGRES must be a postgres:// URL: %v", err)
			}
			u.User = url.UserPassword(u.User.Username(), password)
			u.Path = "/authgate_no_such_database"
			return u.String()
		}, nil},
		{"a URL that does not parse", func(*testing.T) string {
			return "postgres://authgate:" + password + "@%zz/authgate"
		}, nil},
		{"a bad setting after a password with an unescaped @", func(*testing.T) string {
			return "postgres://authgate:S3c@r3t-pw@127.0.0.1:5432/authgate?connect_timeout=soon"
		}, []string{"r3t-pw", "S3c@"}},
		{"a bad setting in a key=value DSN", func(*testing.T) string {
			return "host=127.0.0.1 user=authgate password='" + password + "' sslmode=sometimes"
		}, nil},
		{"an unterminated quote in a key=value DSN", func(*testing.T) string {
			return "host=127.0.0.1 user=authgate password='" + password
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := tt.dsn(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, secret := range append([]string{password, dsn}, tt.pieces...) {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows %q: %v", secret, err)
				}
			}
		})
	}
}

// TestWritesCancelledMidCopyLeaveTheStoreUsable cancels writes at many
// moments, most of them while COPY streams the chunks (pgconn reads them
// on a goroutine of its own, which a failed COPY does not wait for), then
// writes normally. Every batch is in the store entirely or not at all,
// every write that returned nil is there (one that failed may be too: a
// commit cut off by its context may have happened), and nothing panics or
// races (make test runs this with -race).
func TestWritesCancelledMidCopyLeaveTheStoreUsable(t *testing.T) {
	s := open(t, newDatabase(t), postgres.Options{})
	defer s.Close()
	const batches, size = 24, 500
	events := slices.Collect(signinlog.Synthetic(batches*size+200, storetest.T0, time.Hour, 3))
	// The timeouts spread over twice the time a write takes here (the race
	// detector slows it several times).
	start := time.Now()
	if err := s.Write(context.Background(), slices.Collect(signinlog.Synthetic(size, storetest.T0.Add(-time.Hour), time.Minute, 4))); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	ok := make([]bool, batches)
	succeeded, failed := 0, 0
	for i := range batches {
		ctx, cancel := context.WithTimeout(context.Background(), 2*took*time.Duration(i)/batches)
		if err := s.Write(ctx, events[i*size:(i+1)*size]); err == nil {
			ok[i] = true
			succeeded++
		} else {
			failed++
		}
		cancel()
	}
	if err := s.Write(context.Background(), events[batches*size:]); err != nil {
		t.Fatalf("a write after the cancelled ones: %v", err)
	}
	stored := map[string]bool{}
	for p := (signinlog.Page{Limit: 1000}); ; {
		page, next, err := s.Query(context.Background(), signinlog.Filter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			stored[d.RequestID] = true
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	for i := range batches {
		n := 0
		for _, d := range events[i*size : (i+1)*size] {
			if stored[d.RequestID] {
				n++
			}
		}
		if n != 0 && n != size || ok[i] && n != size {
			t.Errorf("batch %d (written: %v): %d of its %d events stored", i, ok[i], n, size)
		}
	}
	for _, d := range events[batches*size:] {
		if !stored[d.RequestID] {
			t.Fatalf("the last write's event %s is missing", d.RequestID)
		}
	}
	t.Logf("%d writes succeeded, %d were cut off", succeeded, failed)
	if succeeded == 0 || failed == 0 {
		t.Log("the test saw only one kind of write: its timeouts no longer straddle a write's time")
	}
}
