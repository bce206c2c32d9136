package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/postgres"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/signinlog/storetest"
)

// TestMigrationsAndOlderGateways builds a log the way each earlier version
// wrote it: events without postings (before 0004), then events with
// postings (0004's store); opens it (which applies 0005_event_chunks.sql);
// writes more the old ways, as gateways of the older versions still
// running would; and more through the store. Every filter, lookup by
// request id and skew summary must find what it finds in a database that
// got the same events through the store from the start, before and after
// a purge packs the events kept a row each into chunks.
func TestMigrationsAndOlderGateways(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var groups [][]*authgate.Decision
	for i, n := range []int{2*signinlog.SegmentEvents + 300, 900, 700, 400, 1500} {
		groups = append(groups, slices.Collect(signinlog.Synthetic(n, start.Add(time.Duration(i)*24*time.Hour), 24*time.Hour, int64(5+i))))
	}
	beforePostings, withPostings, duringOldest, during0004, after := groups[0], groups[1], groups[2], groups[3], groups[4]

	dsn := newDatabase(t)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	apply := func(names ...string) {
		t.Helper()
		for _, name := range names {
			body, err := os.ReadFile(filepath.Join("migrations", name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, string(body)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, "migrations/"+name); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply("0001_events.sql", "0002_accounts.sql", "0003_second_factor.sql")
	writeAsBefore(t, c, beforePostings)
	apply("0004_event_postings.sql")
	writeAs0004(t, c, withPostings)
	migrated := open(t, dsn, postgres.Options{})
	defer migrated.Close()
	writeAsBefore(t, c, duringOldest)
	writeAs0004(t, c, during0004)
	fresh := open(t, newDatabase(t), postgres.Options{})
	defer fresh.Close()
	for _, events := range groups[:4] {
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
	var single int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM event_chunks WHERE heads IS NULL`).Scan(&single); err != nil {
		t.Fatal(err)
	}
	if want := len(beforePostings) + len(withPostings) + len(duringOldest) + len(during0004); single != want {
		t.Errorf("%d events kept a row each after the migration, want %d", single, want)
	}
	storetest.SameEvents(t, migrated, fresh, groups)
	if _, err := migrated.Purge(ctx, start.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM event_chunks WHERE heads IS NULL`).Scan(&single); err != nil {
		t.Fatal(err)
	}
	if single != 0 {
		t.Errorf("%d events kept a row each after a purge, want none", single)
	}
	t.Run("after the purge packed them", func(t *testing.T) { storetest.SameEvents(t, migrated, fresh, groups) })
}

// eventColumns are the events table's columns the earlier stores wrote.
var eventColumns = []string{"time", "request_id", "route", "method", "outcome", "reason", "status", "claimed",
	"subject", "key_id", "source", "source_ip", "user_agent", "fingerprint", "iss", "skew", "latency", "decision"}

// eventRow is the events row of d, with its decision as doc.
func eventRow(t *testing.T, d *authgate.Decision, doc []byte) []any {
	col, err := signinlog.EventColumns(d)
	if err != nil {
		t.Fatal(err)
	}
	var source string
	if d.Source.IsValid() {
		source = d.Source.String()
	}
	return []any{col.Time, col.RequestID, col.Route, col.Method, col.Outcome, col.Reason, int32(col.Status),
		col.Claimed, col.Subject, col.KeyID, source, col.SourceIP, col.UserAgent, col.Fingerprint, col.Issuer,
		col.Skew, col.Latency, doc}
}

// writeAsBefore writes events with one COPY the way the store did before
// postings: no ids (the identity column draws them), no postings, plain
// JSON.
func writeAsBefore(t *testing.T, c *pgx.Conn, events []*authgate.Decision) {
	t.Helper()
	var rows [][]any
	for _, d := range events {
		doc, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, eventRow(t, d, doc))
	}
	if _, err := c.CopyFrom(context.Background(), pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
}

// writeAs0004 writes events the way the store of 0004_event_postings.sql
// did: ids drawn first, a row per event with its stored decision, its
// postings and segment times, in a transaction that says it posts its own.
func writeAs0004(t *testing.T, c *pgx.Conn, events []*authgate.Decision) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL authgate.postings = 'written'`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT nextval('events_id_seq') FROM generate_series(1, $1)`, len(events))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(ids)
		var post signinlog.Postings
		var eventRows [][]any
		for i, d := range events {
			doc, err := signinlog.AppendStoredDecision(nil, d, nil)
			if err != nil {
				return err
			}
			col, _ := signinlog.EventColumns(d)
			post.Add(&col)
			eventRows = append(eventRows, append([]any{ids[i]}, eventRow(t, d, doc)...))
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, append([]string{"id"}, eventColumns...), pgx.CopyFromRows(eventRows)); err != nil {
			return err
		}
		postings, spans := post.Rows(ids)
		var postingRows [][]any
		for _, p := range postings {
			postingRows = append(postingRows, []any{p.Seg, p.Key.Field, []byte(p.Key.Value), p.FirstID, p.IDs})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"event_postings"}, []string{"seg", "field", "value", "first_id", "ids"},
			pgx.CopyFromRows(postingRows)); err != nil {
			return err
		}
		for _, sp := range spans {
			if _, err := tx.Exec(ctx, `INSERT INTO event_segments (seg, min_time, max_time) VALUES ($1, $2, $3)
				ON CONFLICT (seg) DO UPDATE SET min_time = least(event_segments.min_time, excluded.min_time),
					max_time = greatest(event_segments.max_time, excluded.max_time)`, sp.Seg, sp.MinTime, sp.MaxTime); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
