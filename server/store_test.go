package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/reason"
)

// storeDown makes the store unreadable and checks that, once its last good
// snapshot is older than the store's tolerance, requests are refused with
// 503 store_unavailable instead of being decided on data that may be stale
// (a revoked key still working).
func storeDown(t *testing.T, h *harness, key string) {
	t.Helper()
	st := h.srv.Store()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st.Refresh(context.Background()) // fails: the database is closed
	resp, _ := h.do("GET", "/v", apiKey(key))
	if resp.StatusCode != 200 {
		t.Fatalf("within the tolerance the last snapshot must still serve, got %d %s", resp.StatusCode, resp.Header.Get("X-Authgate-Reason"))
	}
	h.advance(time.Hour)
	st.Refresh(context.Background())
	resp, _ = h.do("GET", "/v", apiKey(key))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Authgate-Reason") != string(reason.StoreUnavailable) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d reason %q retry-after %q, want 503 store_unavailable with Retry-After", resp.StatusCode, resp.Header.Get("X-Authgate-Reason"), resp.Header.Get("Retry-After"))
	}
}
