package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/accounts/accountstest"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/postgres"
)

func openAccounts(t testing.TB, dsn string, opts postgres.AccountOptions) *postgres.AccountStore {
	t.Helper()
	s, err := postgres.OpenAccounts(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAccountStoreConformance(t *testing.T) {
	testDSN(t)
	accountstest.Run(t, func(t *testing.T, now func() time.Time) (accounts.Store, func() accounts.Store) {
		dsn := newDatabase(t)
		open := func() accounts.Store {
			s, err := postgres.OpenAccounts(context.Background(), dsn, postgres.AccountOptions{Now: now, RefreshInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	})
}

// clock is a settable time source for AccountOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func passwordHash(t testing.TB, password string) string {
	t.Helper()
	h, err := passhash.Hash(password, passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// eventually waits up to ten seconds for cond to hold, checking it every
// few milliseconds, and fails the test with what if it never does.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, still not: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTwoGatewaysSeeEachOthersWritesWithinTheRefreshInterval(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	opts := postgres.AccountOptions{RefreshInterval: 10 * time.Millisecond}
	a, b := openAccounts(t, dsn, opts), openAccounts(t, dsn, opts)
	psql, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer psql.Close(ctx)
	var key accounts.Issued

	steps := []struct {
		name   string
		write  func() error
		reader *postgres.AccountStore
		seen   func() bool
	}{
		{"a user added on one gateway appears on the other", func() error { return a.AddUser(ctx, "Aladdin", passwordHash(t, "a"), nil) }, b,
			func() bool { _, err := b.User(ctx, "Aladdin"); return err == nil }},
		{"a key created on the other gateway appears on the first", func() error {
			key, err = b.CreateKey(ctx, "ci", nil, time.Time{})
			return err
		}, a, func() bool { _, err := a.APIKey(ctx, key.ID); return err == nil }},
		{"a lock set on one gateway locks the user on the other", func() error {
			return a.LockUser(ctx, "Aladdin", time.Now().Add(time.Hour), "5 failures")
		}, b, func() bool { u, _ := b.User(ctx, "Aladdin"); return u.Locked(time.Now()) }},
		{"a key revoked on one gateway is revoked on the other", func() error { return a.RevokeKey(ctx, key.ID) }, b,
			func() bool { k, _ := b.APIKey(ctx, key.ID); return k.State == authgate.KeyRevoked }},
		{"a user disabled with plain SQL is disabled on both gateways", func() error {
			_, err := psql.Exec(ctx, `UPDATE users SET disabled_at = 1 WHERE name = 'Aladdin'`)
			return err
		}, a, func() bool {
			ua, _ := a.User(ctx, "Aladdin")
			ub, _ := b.User(ctx, "Aladdin")
			return ua.Disabled() && ub.Disabled()
		}},
		{"a user deleted on one gateway is gone from the other", func() error { return b.DeleteUser(ctx, "Aladdin") }, a,
			func() bool { _, err := a.User(ctx, "Aladdin"); return errors.Is(err, authgate.ErrNotFound) }},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		eventually(t, st.name, st.seen)
	}
	for _, s := range []*postgres.AccountStore{a, b} {
		if err := s.Healthy(); err != nil {
			t.Errorf("Healthy = %v", err)
		}
	}
}

func TestGatewaysWritingAtOnceTakeTurns(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	opts := postgres.AccountOptions{RefreshInterval: -1}
	stores := []*postgres.AccountStore{openAccounts(t, dsn, opts), openAccounts(t, dsn, opts)}
	h := passwordHash(t, "a")
	if err := stores[0].AddUser(ctx, "bob", h, nil); err != nil {
		t.Fatal(err)
	}
	far := time.Now().Add(24 * time.Hour)

	const writers = 8
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		s := stores[i%2]
		wg.Go(func() { errs <- s.AddUser(ctx, "Aladdin", h, nil) })
		wg.Go(func() {
			if err := s.LockUser(ctx, "bob", far.Add(time.Duration(i)*time.Minute), fmt.Sprintf("lock %d", i)); err != nil {
				t.Errorf("LockUser: %v", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var added, exists int
	for err := range errs {
		switch {
		case err == nil:
			added++
		case errors.Is(err, accounts.ErrExists):
			exists++
		default:
			t.Errorf("AddUser: %v", err)
		}
	}
	if added != 1 || exists != writers-1 {
		t.Errorf("%d gateways added the user and %d were told it exists; want 1 and %d", added, exists, writers-1)
	}
	users, err := stores[0].Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bob := users[1]
	if want := far.Add((writers - 1) * time.Minute); !bob.LockedUntil.Equal(want) || bob.LockCause != fmt.Sprintf("lock %d", writers-1) {
		t.Errorf("bob is locked until %s for %q; want the longest lock, until %s", bob.LockedUntil, bob.LockCause, want)
	}
}

func TestAFailingDatabaseKeepsTheLastSnapshotUntilMaxStale(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	s := openAccounts(t, dsn, postgres.AccountOptions{Now: c.Now, RefreshInterval: 5 * time.Millisecond, MaxStale: 30 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err := s.AddUser(ctx, "Aladdin", passwordHash(t, "a"), nil); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// Without its change counter, the store can tell neither whether
	// anything changed nor load a snapshot.
	exec(`ALTER TABLE account_changes RENAME TO account_changes_moved`)
	eventually(t, "Healthy reports the failing poll", func() bool { return s.Healthy() != nil })
	if err := s.Refresh(ctx); err == nil {
		t.Error("Refresh succeeded without the change counter")
	}
	if _, err := s.User(ctx, "Aladdin"); err != nil {
		t.Errorf("within MaxStale, the last snapshot was not used: %v", err)
	}
	c.Advance(31 * time.Second)
	if _, err := s.User(ctx, "Aladdin"); !errors.Is(err, accounts.ErrStale) {
		t.Errorf("past MaxStale, User error = %v, want ErrStale", err)
	}
	if _, err := s.APIKey(ctx, "aaaaaaaaaaaa"); !errors.Is(err, accounts.ErrStale) {
		t.Errorf("past MaxStale, APIKey error = %v, want ErrStale", err)
	}

	exec(`ALTER TABLE account_changes_moved RENAME TO account_changes`)
	eventually(t, "the store recovers once the database does", func() bool { return s.Healthy() == nil })
	if _, err := s.User(ctx, "Aladdin"); err != nil {
		t.Errorf("after recovering, User = %v", err)
	}
}

func TestAccountsAndTheSignInLogShareOneDatabase(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			var err error
			if i%2 == 0 {
				var s *postgres.EventStore
				if s, err = postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
					s.Close()
				}
			} else {
				var s *postgres.AccountStore
				if s, err = postgres.OpenAccounts(ctx, dsn, postgres.AccountOptions{RefreshInterval: -1}); err == nil {
					s.Close()
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("opening: %v", err)
		}
	}
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

func TestOpenAccountsErrorsNeverShowThePassword(t *testing.T) {
	const password = "S3cr3t-pw"
	for _, dsn := range []string{
		"postgres://authgate:" + password + "@127.0.0.1:1/authgate?sslmode=disable&connect_timeout=2",
		"postgres://authgate:" + password + "@%zz/authgate",
		"host=127.0.0.1 user=authgate password='" + password + "' sslmode=sometimes",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := postgres.OpenAccounts(ctx, dsn, postgres.AccountOptions{})
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("OpenAccounts succeeded on a DSN that cannot work")
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
