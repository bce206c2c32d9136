package sqlite

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// TestQueriesUseTheirIndex guards the query plans the latency targets rest
// on: filters without postings walk events_time newest first without
// sorting, a request id uses its index, postings are read by their key
// (segment, field, value) and candidates by id, and none of them scans a
// table.
func TestQueriesUseTheirIndex(t *testing.T) {
	s, err := OpenEvents(filepath.Join(t.TempDir(), "signinlog.db"), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	page := func(f signinlog.Filter) (string, []any) { return pageQuery(f, nil, 101) }
	candidates := func(f signinlog.Filter) (string, []any) {
		where, args := eventWhere(f, &signinlog.Position{Time: 1, ID: 2})
		in, ids := idsIn([]int64{1, 2, 3}, nil)
		return `SELECT id, time FROM events` + joinWhere(append([]string{in}, where...)) +
			` ORDER BY time DESC, id DESC LIMIT 101`, append(ids, args...)
	}
	tests := []struct {
		name  string
		query func() (string, []any)
		index string
		sorts bool // whether a sort of the matching rows is expected
	}{
		{"refusals, last day", func() (string, []any) {
			return page(signinlog.Filter{Outcome: "deny", Method: authgate.MethodBasic, Since: day})
		}, "INDEX events_time ", false},
		{"one route", func() (string, []any) { return page(signinlog.Filter{Route: "api"}) }, "INDEX events_time", false},
		{"one request id", func() (string, []any) { return page(signinlog.Filter{RequestID: "r1"}) }, "INDEX events_request_id ", true},
		{"a network larger than a bucket", func() (string, []any) {
			return page(signinlog.Filter{Network: netip.MustParsePrefix("10.0.0.0/8"), Since: day})
		}, "INDEX events_time ", false},
		{"postings of a user in some segments", func() (string, []any) {
			return postedQuery(signinlog.PostingKey{Field: signinlog.PostUser, Value: "alice"}, []int64{1, 2, 3})
		}, "USING PRIMARY KEY (seg=? AND field=? AND value=?)", false},
		{"candidates of a user", func() (string, []any) {
			return candidates(signinlog.Filter{User: "alice", Since: day})
		}, "USING INTEGER PRIMARY KEY (rowid=?)", true},
		{"candidates of a reason", func() (string, []any) {
			return candidates(signinlog.Filter{Reason: "token_expired", Since: day})
		}, "USING INTEGER PRIMARY KEY (rowid=?)", true},
		{"skew of an issuer", func() (string, []any) {
			return `SELECT COUNT(skew), AVG(skew) FROM events WHERE iss = ? AND time >= ? AND skew IS NOT NULL`, []any{"x", 1}
		}, "INDEX events_iss ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, args := tt.query()
			rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "; ")
			if !strings.Contains(text, tt.index) || strings.Contains(text, "SCAN event") && !strings.Contains(text, "USING") {
				t.Errorf("plan %q does not use %s", text, tt.index)
			}
			if sorts := strings.Contains(text, "TEMP B-TREE"); sorts && !tt.sorts {
				t.Errorf("plan %q sorts; the index should give the order", text)
			}
		})
	}
}
