package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/sqlite"
	"github.com/google/go-cmp/cmp"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var fast = passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func hash(t testing.TB, password string) string {
	t.Helper()
	h, err := passhash.Hash(password, fast)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// open opens a store in a fresh temporary directory without the background
// refresh, so that tests decide when reloads happen.
func open(t testing.TB, c *clock) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authgate.db")
	return openPath(t, path, c), path
}

func openPath(t testing.TB, path string, c *clock) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{Now: c.Now, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestMigrationsAreAppliedOnceAndRecorded(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "authgate.db")
	for range 3 {
		s, err := sqlite.Open(path, sqlite.Options{Now: c.Now, RefreshInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, applied_at FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type applied struct {
		Name string
		At   int64
	}
	var got []applied
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.Name, &a.At); err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	first := newClock().Now().UnixNano()
	want := []applied{{"migrations/0001_users_and_keys.sql", first}, {"migrations/0002_account_states.sql", first},
		{"migrations/0003_second_factor.sql", first}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
	var journal string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", journal, err)
	}
}

func TestOpenFailsWhenTheFileIsNotADatabase(t *testing.T) {
	if _, err := sqlite.Open(t.TempDir(), sqlite.Options{}); err == nil {
		t.Fatal("Open of a directory succeeded")
	}
}
