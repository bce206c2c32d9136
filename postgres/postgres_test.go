package postgres_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
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
	if diff := cmp.Diff([]string{"migrations/0001_events.sql", "migrations/0002_accounts.sql", "migrations/0003_second_factor.sql", "migrations/0004_event_postings.sql"}, names); diff != "" {
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
			IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison();`); err != nil {
		t.Fatal(err)
	}
	batch := slices.Collect(signinlog.Synthetic(50, storetest.T0, time.Minute, 1))
	batch[30].RequestID = "poison"
	if err := s.Write(ctx, batch); err == nil {
		t.Fatal("a batch with a failing row was written")
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d events of the failed batch were kept", n)
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

// TestPostingsMigrationAndOlderGateways writes events into a database of
// the first three migrations, as the store did before postings, opens it
// (which applies 0004_event_postings.sql), writes more the old way, as a
// gateway of the older version still running would, and more through the
// store: every filter must find what it finds in a database that got the
// same events through the store from the start.
func TestPostingsMigrationAndOlderGateways(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	before := slices.Collect(signinlog.Synthetic(2*signinlog.SegmentEvents+300, start, 24*time.Hour, 5))
	during := slices.Collect(signinlog.Synthetic(700, start.Add(24*time.Hour), time.Hour, 6))
	after := slices.Collect(signinlog.Synthetic(1500, start.Add(25*time.Hour), time.Hour, 7))

	dsn := newDatabase(t)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, name := range []string{"0001_events.sql", "0002_accounts.sql", "0003_second_factor.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := c.Exec(ctx, `CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (name) VALUES ('migrations/0001_events.sql'), ('migrations/0002_accounts.sql'), ('migrations/0003_second_factor.sql')`); err != nil {
		t.Fatal(err)
	}
	writeAsBefore(t, c, before)
	migrated := open(t, dsn, postgres.Options{})
	defer migrated.Close()
	writeAsBefore(t, c, during)
	fresh := open(t, newDatabase(t), postgres.Options{})
	defer fresh.Close()
	for _, events := range [][]*authgate.Decision{before, during} {
		for i := 0; i < len(events); i += 1000 {
			if err := fresh.Write(ctx, events[i:min(i+1000, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range []*postgres.EventStore{migrated, fresh} {
		if err := s.Write(ctx, after); err != nil {
			t.Fatal(err)
		}
	}
	day := start.Add(12 * time.Hour)
	for _, f := range []signinlog.Filter{
		{User: signinlog.SyntheticUser(3)},
		{User: signinlog.SyntheticUser(0), Since: day},
		{KeyID: signinlog.SyntheticKey(7)},
		{Reason: "token_expired"},
		{Reason: "password_wrong", Outcome: "deny", Since: day},
		{Fingerprint: before[17].Fingerprint},
		{Fingerprint: during[3].Fingerprint},
		{Network: netip.PrefixFrom(before[5].Source, 24+before[5].Source.BitLen()-32).Masked()},
		{Network: netip.MustParsePrefix("2001:db8::/32")},
		{Route: "admin"},
	} {
		var got [2][]string
		for i, s := range []*postgres.EventStore{migrated, fresh} {
			p := signinlog.Page{Limit: 1000}
			for {
				page, next, err := s.Query(ctx, f, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page {
					got[i] = append(got[i], d.RequestID)
				}
				if next == "" {
					break
				}
				p.Cursor = next
			}
		}
		if len(got[1]) == 0 {
			t.Errorf("filter %+v matches nothing; the test needs events", f)
		}
		if diff := cmp.Diff(got[1], got[0]); diff != "" {
			t.Errorf("filter %+v: migrated database (-written through the store +migrated):\n%s", f, diff)
		}
	}
}

// writeAsBefore writes events with one COPY the way the store did before
// postings: no ids (the identity column draws them), no postings.
func writeAsBefore(t *testing.T, c *pgx.Conn, events []*authgate.Decision) {
	t.Helper()
	columns := []string{"time", "request_id", "route", "method", "outcome", "reason", "status", "claimed",
		"subject", "key_id", "source", "source_ip", "user_agent", "fingerprint", "iss", "skew", "latency", "decision"}
	var rows [][]any
	for _, d := range events {
		col, err := signinlog.EventColumns(d)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, []any{col.Time, col.RequestID, col.Route, col.Method, col.Outcome, col.Reason, int32(col.Status),
			col.Claimed, col.Subject, col.KeyID, col.Source, col.SourceIP, col.UserAgent, col.Fingerprint, col.Issuer,
			col.Skew, col.Latency, doc})
	}
	if _, err := c.CopyFrom(context.Background(), pgx.Identifier{"events"}, columns, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
}
