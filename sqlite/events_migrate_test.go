package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
)

// TestMigrationsKeepStoredEvents writes events into a log of the first
// schema (0001_events.sql: a row per event and its indexes) the way its
// store did, more after 0002_postings.sql the way that store did (the
// stored form, postings), opens it, which applies 0003_event_chunks.sql,
// and checks that every filter, lookup by request id and skew summary
// finds what it finds in a log written through the store from the start,
// and that writes continue; then again after a purge packs the events
// kept a row each into chunks.
func TestMigrationsKeepStoredEvents(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var groups [][]*authgate.Decision
	for i, n := range []int{3*signinlog.SegmentEvents + 100, 900, 500} {
		groups = append(groups, slices.Collect(signinlog.Synthetic(n, start.Add(time.Duration(i)*24*time.Hour), 24*time.Hour, int64(5+i))))
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, eventMigrations, "eventmigrations/0001_*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	insertAsBefore(t, db, groups[0], func(d *authgate.Decision) []byte {
		doc, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	})
	if err := migrate(ctx, db, eventMigrations, "eventmigrations/0002_*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	insertAsBefore(t, db, groups[1], func(d *authgate.Decision) []byte {
		doc, err := signinlog.AppendStoredDecision(nil, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	})
	db.Close()

	migrated, err := OpenEvents(path, EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	fresh, err := OpenEvents(filepath.Join(t.TempDir(), "new.db"), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, events := range groups[:2] {
		for i := 0; i < len(events); i += 1000 {
			if err := fresh.Write(ctx, events[i:min(i+1000, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range []*EventStore{migrated, fresh} {
		if err := s.Write(ctx, groups[2]); err != nil {
			t.Fatal(err)
		}
	}
	singles := func() int {
		var n int
		if err := migrated.r.QueryRowContext(ctx, `SELECT count(*) FROM event_chunks WHERE heads IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n, want := singles(), len(groups[0])+len(groups[1]); n != want {
		t.Errorf("%d events kept a row each after the migration, want %d", n, want)
	}
	storetest.SameEvents(t, migrated, fresh, groups)
	if _, err := migrated.Purge(ctx, start.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := singles(); n != 0 {
		t.Errorf("%d events kept a row each after a purge, want none", n)
	}
	t.Run("after the purge packed them", func(t *testing.T) { storetest.SameEvents(t, migrated, fresh, groups) })
}

// insertAsBefore inserts events a row each into the events table of the
// first schemas, their decisions as doc makes them, and the postings of
// 0002 when the table is there, as the stores of those schemas did.
func insertAsBefore(t *testing.T, db *sql.DB, events []*authgate.Decision, doc func(*authgate.Decision) []byte) {
	t.Helper()
	columns := []string{"time", "request_id", "route", "method", "outcome", "reason", "status", "claimed",
		"subject", "key_id", "source", "source_ip", "user_agent", "fingerprint", "iss", "skew", "latency", "decision"}
	insert := `INSERT INTO events (` + strings.Join(columns, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(columns)-1) + `) RETURNING id`
	var posted bool
	if err := db.QueryRow(`SELECT count(*) > 0 FROM sqlite_master WHERE name = 'event_postings'`).Scan(&posted); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var post signinlog.Postings
	var ids []int64
	for _, d := range events {
		c, err := signinlog.EventColumns(d)
		if err != nil {
			t.Fatal(err)
		}
		var source string
		if d.Source.IsValid() {
			source = d.Source.String()
		}
		var skew any
		if c.Skew != nil {
			skew = *c.Skew
		}
		var id int64
		if err := tx.QueryRow(insert, c.Time, c.RequestID, c.Route, c.Method, c.Outcome, c.Reason, c.Status, c.Claimed,
			c.Subject, c.KeyID, source, c.SourceIP, c.UserAgent, c.Fingerprint, c.Issuer, skew, c.Latency, doc(d)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		post.Add(&c)
		ids = append(ids, id)
	}
	if posted {
		rows, spans := post.Rows(ids)
		for _, r := range rows {
			if _, err := tx.Exec(`INSERT INTO event_postings (seg, field, value, first_id, ids) VALUES (?, ?, ?, ?, ?)`,
				r.Seg, r.Key.Field, []byte(r.Key.Value), r.FirstID, r.IDs); err != nil {
				t.Fatal(err)
			}
		}
		for _, sp := range spans {
			if _, err := tx.Exec(`INSERT INTO event_segments (seg, min_time, max_time) VALUES (?, ?, ?)
				ON CONFLICT (seg) DO UPDATE SET min_time = min(min_time, excluded.min_time), max_time = max(max_time, excluded.max_time)`,
				sp.Seg, sp.MinTime, sp.MaxTime); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
