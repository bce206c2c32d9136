package session_test

import (
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/session"
)

func newTestRedis(t testing.TB, now func() time.Time) (*session.Redis, *redis.Client, string) {
	t.Helper()
	c, prefix := testRedis(t)
	st, err := session.NewRedis(c, session.RedisOptions{Prefix: prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return st, c, prefix
}

func TestMain(m *testing.M) {
	redistest.Quiet()
	os.Exit(m.Run())
}

// Thin names for the shared Redis helpers (internal/redistest).
func testRedisAddr(t testing.TB) string                     { return redistest.Addr(t) }
func newTestClient(t testing.TB, addr string) *redis.Client { return redistest.Client(t, addr) }
func testRedis(t testing.TB) (*redis.Client, string)        { return redistest.New(t) }
func redisKeys(t testing.TB, c *redis.Client, prefix string) []string {
	return redistest.Keys(t, c, prefix)
}
