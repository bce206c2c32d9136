package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/signinlog"
)

// TestQueriesUseTheirIndex guards the query plans the latency targets rest
// on: walks newest first follow event_chunks_newest without sorting,
// postings are read by their key (segment, field, value), chunks by their
// first id, and none of them scans a table.
func TestQueriesUseTheirIndex(t *testing.T) {
	s, err := OpenEvents(filepath.Join(t.TempDir(), "signinlog.db"), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name  string
		query func() (string, []any)
		index string
		sorts bool // whether a sort of the matching rows is expected
	}{
		{"the newest chunks of a window", func() (string, []any) {
			return newestQuery(signinlog.ChunkWindow{HasSince: true, Since: 1, HasUntil: true, Until: 9}, 8)
		}, "INDEX event_chunks_newest", false},
		{"the next newest chunks before a cursor", func() (string, []any) {
			return newestQuery(signinlog.ChunkWindow{HasAt: true, AtTime: 5, After: true, AfterTime: 7, AfterFirst: 3}, 8)
		}, "INDEX event_chunks_newest", false},
		{"postings of a user in some segments", func() (string, []any) {
			return postedQuery(signinlog.PostingKey{Field: signinlog.PostUser, Value: "alice"}, []int64{1, 2, 3})
		}, "USING PRIMARY KEY (seg=? AND field=? AND value=?)", false},
		{"the chunks holding candidates", func() (string, []any) {
			return holdingQuery, []any{idArray([]int64{1, 40, 41})}
		}, "USING INTEGER PRIMARY KEY (rowid<?)", true},
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
