package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"

	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
	"github.com/authgate/authgate/sqlite"
)

func openEvents(t *testing.T) (*sqlite.EventStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signinlog.db")
	s, err := sqlite.OpenEvents(path, sqlite.EventOptions{PurgeBatch: storetest.PurgeBatch})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestEventStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signinlog.Store {
		s, _ := openEvents(t)
		return s
	})
}

func TestEventMigrationsAreAppliedOnceAndRecorded(t *testing.T) {
	s, path := openEvents(t)
	write := func(s *sqlite.EventStore, id string) {
		d := &authgate.Decision{RequestID: id, Time: storetest.T0, Allowed: true, Status: 200}
		if err := s.Write(context.Background(), []*authgate.Decision{d}); err != nil {
			t.Fatal(err)
		}
	}
	write(s, "before")
	s.Close()
	s, err := sqlite.OpenEvents(path, sqlite.EventOptions{})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	write(s, "after")
	db := rawDB(t, path)
	var names []string
	rows, err := db.Query(`SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	if diff := cmp.Diff([]string{"eventmigrations/0001_events.sql", "eventmigrations/0002_postings.sql", "eventmigrations/0003_event_chunks.sql"}, names); diff != "" {
		t.Errorf("recorded migrations (-want +got):\n%s", diff)
	}
	var mode string
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
	got, _, err := s.Query(context.Background(), signinlog.Filter{}, signinlog.Page{})
	if err != nil || len(got) != 2 {
		t.Errorf("after reopening: %d events (%v), want 2", len(got), err)
	}
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAFailingRowRollsBackTheWholeBatch(t *testing.T) {
	s, path := openEvents(t)
	defer s.Close()
	if _, err := rawDB(t, path).Exec(`CREATE TRIGGER poison BEFORE INSERT ON event_postings
		WHEN NEW.field = 'q' AND NEW.value = CAST('poison' AS BLOB) BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 100 events: four chunks, then postings; the poisoned row is among
	// the last postings, after every chunk was inserted.
	batch := slices.Collect(signinlog.Synthetic(100, storetest.T0, time.Minute, 1))
	batch[98].RequestID = "poison"
	if err := s.Write(ctx, batch); err == nil {
		t.Fatal("a batch with a failing row was written")
	}
	if got, _, _ := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1000}); len(got) != 0 {
		t.Errorf("%d events of the failed batch were kept", len(got))
	}
	batch[98].RequestID = "cured"
	if err := s.Write(ctx, batch); err != nil {
		t.Fatalf("the same batch without the failing row: %v", err)
	}
	got, _, _ := s.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1000})
	if len(got) != 100 || got[len(got)-1].RequestID != batch[0].RequestID {
		t.Errorf("after a good write: %d events, oldest %s; want 100, oldest %s", len(got), got[len(got)-1].RequestID, batch[0].RequestID)
	}
}

func TestOpenEventsFailsWhenTheFileIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signinlog.db")
	if err := os.WriteFile(path, []byte("these are not the pages you are looking for, not at all, no"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.OpenEvents(path, sqlite.EventOptions{}); err == nil {
		s.Close()
		t.Error("OpenEvents accepted a file that is not a database")
	}
}
