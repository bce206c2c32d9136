package throttle_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/throttle"
)

func newTestRedis(t testing.TB, rules throttle.Rules) *throttle.Redis {
	t.Helper()
	c, prefix := testRedis(t)
	l, err := throttle.NewRedis(c, rules, throttle.RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newTestMemory(t testing.TB, rules throttle.Rules) *throttle.Memory {
	t.Helper()
	m, err := throttle.NewMemory(rules, throttle.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
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
