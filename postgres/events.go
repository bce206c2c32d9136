package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
)

var eventColumns = []string{"time", "request_id", "route", "method", "outcome", "reason", "status", "claimed",
	"subject", "key_id", "source", "source_ip", "user_agent", "fingerprint", "iss", "skew", "latency", "decision"}

// eventRow returns the column values of d in eventColumns order.
func eventRow(d *authgate.Decision) ([]any, error) {
	c, err := signinlog.EventColumns(d)
	if err != nil {
		return nil, err
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("event %q: %w", d.RequestID, err)
	}
	return []any{c.Time, c.RequestID, c.Route, c.Method, c.Outcome, c.Reason, int32(c.Status), c.Claimed,
		c.Subject, c.KeyID, c.Source, c.SourceIP, c.UserAgent, c.Fingerprint, c.Issuer, c.Skew, c.Latency, doc}, nil
}

// Write stores events with one COPY, which is atomic: all or none.
// Encoding happens before a connection is taken.
func (s *EventStore) Write(ctx context.Context, events []*authgate.Decision) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([][]any, len(events))
	for i, d := range events {
		row, err := eventRow(d)
		if err != nil {
			return fmt.Errorf("postgres: writing events: %w: %w", signinlog.ErrRejected, err)
		}
		rows[i] = row
	}
	if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("postgres: writing events: %w", rejected(err))
	}
	return nil
}

// RecordDropped adds counts to the dropped-event counters in one upsert
// that adds to what other gateways recorded. Zero counts are ignored; a
// negative count is an error.
func (s *EventStore) RecordDropped(ctx context.Context, counts map[reason.Code]int64) error {
	var codes []string
	var ns []int64
	for c, n := range counts {
		if n < 0 {
			return fmt.Errorf("postgres: recording dropped events: negative count %d for %q", n, c)
		}
		if n > 0 {
			codes = append(codes, string(c))
		}
	}
	if len(codes) == 0 {
		return nil
	}
	sort.Strings(codes) // one lock order for every gateway: no deadlocks
	for _, c := range codes {
		ns = append(ns, counts[reason.Code(c)])
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO dropped (reason, count)
		SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (reason) DO UPDATE SET count = dropped.count + excluded.count`, codes, ns); err != nil {
		return fmt.Errorf("postgres: recording dropped events: %w", err)
	}
	return nil
}

// Dropped returns the accumulated dropped-event counts per reason.
func (s *EventStore) Dropped(ctx context.Context) (map[reason.Code]int64, error) {
	out := map[reason.Code]int64{}
	rows, err := s.pool.Query(ctx, `SELECT reason, count FROM dropped`)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading dropped events: %w", err)
	}
	var code string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&code, &n}, func() error {
		out[reason.Code(code)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading dropped events: %w", err)
	}
	return out, nil
}

// Purge deletes events older than before, PurgeBatch per statement, oldest
// first, so writers and other gateways are never held up for long. It
// returns how many it deleted, also when it stops early on an error or a
// cancelled ctx.
func (s *EventStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE time < $1 ORDER BY time LIMIT $2)`, signinlog.UnixNanos(before), s.purgeBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: purging events: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.purgeBatch) {
			return total, nil
		}
	}
}

var _ signinlog.Store = (*EventStore)(nil)

// rejected marks data errors (SQLSTATE classes 22, data exception, and 23,
// integrity constraint violation) as signinlog.ErrRejected: retrying the
// same events cannot succeed.
func rejected(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")) {
		return fmt.Errorf("%w: %w", signinlog.ErrRejected, err)
	}
	return err
}
