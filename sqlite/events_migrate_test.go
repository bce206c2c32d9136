package sqlite

import (
	"context"
	"database/sql"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// TestPostingsMigrationIndexesStoredEvents writes events into a log of the
// first schema (0001_events.sql, events and their indexes only), opens it,
// which applies 0002_postings.sql, and checks that every filter finds the
// same events, and that writes continue, as in a log written with
// postings from the start.
func TestPostingsMigrationIndexesStoredEvents(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	events := slices.Collect(signinlog.Synthetic(3*signinlog.SegmentEvents+100, start, 24*time.Hour, 5))
	more := slices.Collect(signinlog.Synthetic(500, start.Add(24*time.Hour), time.Hour, 6))

	oldPath := filepath.Join(t.TempDir(), "old.db")
	writeFirstSchema(t, oldPath, events)
	migrated, err := OpenEvents(oldPath, EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	fresh, err := OpenEvents(filepath.Join(t.TempDir(), "new.db"), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for i := 0; i < len(events); i += 1000 {
		if err := fresh.Write(ctx, events[i:min(i+1000, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*EventStore{migrated, fresh} {
		if err := s.Write(ctx, more); err != nil {
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
		{Fingerprint: events[17].Fingerprint},
		{Network: netip.MustParsePrefix(events[5].Source.String() + "/24")},
		{Network: netip.MustParsePrefix("2001:db8::/32")},
		{Route: "admin"},
	} {
		var got [2][]string
		for i, s := range []*EventStore{migrated, fresh} {
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
		if diff := cmp.Diff(got[1], got[0], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("filter %+v: migrated log (-written with postings +migrated):\n%s", f, diff)
		}
	}
}

// writeFirstSchema creates a log at path with the first migration only
// and events inserted as its store did.
func writeFirstSchema(t *testing.T, path string, events []*authgate.Decision) {
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	files := eventMigrations
	if err := migrate(ctx, db, files, "eventmigrations/0001_*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	columns := strings.TrimPrefix(eventColumns, "id, ")
	insert := `INSERT INTO events (` + columns + `) VALUES (?` + strings.Repeat(", ?", eventWidth-2) + `)`
	enc := new(batchEncoder)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range events {
		args, _, err := eventArgs(nil, d, enc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(insert, args[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
