// Package redistest gives tests the machine's Redis (AUTHGATE_TEST_REDIS)
// with a key prefix of their own, deleted when the test ends — never a
// FLUSHALL: the server is shared with tests running in parallel. Without
// the variable a test is skipped with the reason printed, or fails when
// AUTHGATE_REQUIRE_INTEGRATION=1, as .ci/run sets it.
package redistest

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr returns the test Redis's address, or skips (or fails) the test.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("AUTHGATE_TEST_REDIS")
	if addr == "" {
		const msg = "Redis tests need a server: set AUTHGATE_TEST_REDIS=127.0.0.1:6379 (.ci/run does)"
		if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(msg + "; AUTHGATE_REQUIRE_INTEGRATION=1 makes its absence a failure")
		}
		t.Skip(msg)
	}
	return addr
}

// Client returns a client for addr that fails fast and ends calls at their
// context's deadline (the stores refuse clients that do not), closed with t.
func Client(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialTimeout:           200 * time.Millisecond,
		ReadTimeout:           200 * time.Millisecond,
		WriteTimeout:          200 * time.Millisecond,
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// New returns a client for the test Redis and a key prefix unique to the
// test; every key under the prefix is deleted when the test ends.
func New(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := Client(t, Addr(t))
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer: %v", c.Options().Addr, err)
	}
	prefix := "authgate-test:" + rand.Text()[:16] + ":"
	t.Cleanup(func() {
		for _, k := range Keys(t, c, prefix) {
			c.Del(ctx, k)
		}
	})
	return c, prefix
}

// Keys lists the keys under prefix.
func Keys(t testing.TB, c *redis.Client, prefix string) []string {
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

// ClosedAddr returns a loopback address nothing listens on.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Quiet drops go-redis's own log lines (refused dials in the outage tests
// are expected); failures still reach the tests as errors. Call it from
// TestMain.
func Quiet() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
