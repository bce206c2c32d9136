package session_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/session"
)

// testRedisAddr returns the address of the Redis the integration tests use,
// skipping the test when none is configured unless integration tests are
// required.
func testRedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("AUTHGATE_TEST_REDIS")
	if addr == "" {
		if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("AUTHGATE_REQUIRE_INTEGRATION=1 but AUTHGATE_TEST_REDIS is unset")
		}
		t.Skip("Redis tests skipped: set AUTHGATE_TEST_REDIS=127.0.0.1:6379 to run them")
	}
	return addr
}

// newTestClient returns a client for addr that fails fast, closed with t.
func newTestClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:         addr,
		DialTimeout:  200 * time.Millisecond,
		ReadTimeout:  200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond,
		MaxRetries:   -1,
		// Without it go-redis ignores deadlines and NewRedis refuses it.
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// testRedis returns a client for the test Redis and a key prefix unique to
// the test, whose keys are deleted when the test ends. It never flushes: the
// server is shared.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := newTestClient(t, testRedisAddr(t))
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s: %v", c.Options().Addr, err)
	}
	prefix := "authgate-test:" + rand.Text()[:16] + ":"
	t.Cleanup(func() {
		for _, k := range redisKeys(t, c, prefix) {
			c.Del(ctx, k)
		}
	})
	return c, prefix
}

// redisKeys lists the keys under prefix.
func redisKeys(t testing.TB, c *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
	}
	return keys
}

func newTestRedis(t testing.TB, now func() time.Time) (*session.Redis, *redis.Client, string) {
	t.Helper()
	c, prefix := testRedis(t)
	st, err := session.NewRedis(c, session.RedisOptions{Prefix: prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return st, c, prefix
}

// quietRedisLog drops go-redis's own log lines (refused dials in the outage
// tests are expected); failures still reach the tests as errors.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedisLog{})
	os.Exit(m.Run())
}
