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

// TestFilteredQueriesUseAnIndex guards the query plans the latency targets
// rest on: each filter walks its own index, newest first, without a full
// scan of the table (and, where the index ends with time, without sorting).
func TestFilteredQueriesUseAnIndex(t *testing.T) {
	s, err := OpenEvents(filepath.Join(t.TempDir(), "signinlog.db"), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		f     signinlog.Filter
		index []string // any of these
		sorts bool     // whether a sort of the matching rows is expected
	}{
		{"one user, last day", signinlog.Filter{User: "alice", Since: day}, []string{"events_claimed", "events_subject"}, true},
		{"one reason, last day", signinlog.Filter{Reason: "token_expired", Since: day}, []string{"events_reason"}, false},
		{"one key", signinlog.Filter{KeyID: "k_1"}, []string{"events_key_id"}, false},
		{"one route, last day", signinlog.Filter{Route: "api", Since: day}, []string{"events_route"}, false},
		{"one fingerprint", signinlog.Filter{Fingerprint: "f00"}, []string{"events_fingerprint"}, false},
		{"one request id", signinlog.Filter{RequestID: "r1"}, []string{"events_request_id"}, true},
		{"a network", signinlog.Filter{Network: netip.MustParsePrefix("192.0.2.0/24")}, []string{"events_source_ip"}, true},
		{"refusals, last day", signinlog.Filter{Outcome: "deny", Method: authgate.MethodBasic, Since: day}, []string{"events_time"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, args, err := pageQuery(tt.f, signinlog.Page{})
			if err != nil {
				t.Fatal(err)
			}
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
			used := false
			for _, ix := range tt.index {
				used = used || strings.Contains(text, "INDEX "+ix+" ")
			}
			if !used || strings.Contains(text, "SCAN events") && !strings.Contains(text, "USING") {
				t.Errorf("plan %q does not use %v", text, tt.index)
			}
			if sorts := strings.Contains(text, "TEMP B-TREE"); sorts && !tt.sorts {
				t.Errorf("plan %q sorts; the index should give the order", text)
			}
		})
	}
}
