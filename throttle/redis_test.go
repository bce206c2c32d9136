package throttle_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/throttle/limitertest"
)

func TestRedisConformance(t *testing.T) {
	testRedisAddr(t)
	limitertest.Run(t, func(t *testing.T, rules throttle.Rules) throttle.Limiter {
		return newTestRedis(t, rules)
	})
}

func TestNewRedisRefusesAClientIgnoringDeadlines(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t)})
	defer c.Close()
	if _, err := throttle.NewRedis(c, nil, throttle.RedisOptions{}); err == nil {
		t.Error("NewRedis accepted a client without ContextTimeoutEnabled")
	}
}

func TestRedisKeysHaveThePrefixAndATTL(t *testing.T) {
	c, prefix := testRedis(t)
	l, err := throttle.NewRedis(c, throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Minute, Lock: 10 * time.Minute}}, throttle.RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The caller's clock, not Redis's, decides; TTLs follow the durations.
	if _, err := l.Fail(ctx, throttle.UserKey("judy"), time.Now()); err != nil {
		t.Fatal(err)
	}
	keys := redisKeys(t, c, prefix)
	if len(keys) != 2 {
		t.Fatalf("keys under %s: %q, want failures and lock", prefix, keys)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		max := time.Minute
		if strings.HasSuffix(k, ":l") {
			max = 10 * time.Minute
		}
		if ttl <= 0 || ttl > max {
			t.Errorf("PTTL %s = %v, want in (0, %v]", k, ttl, max)
		}
	}
	if err := l.Reset(ctx, throttle.UserKey("judy")); err != nil {
		t.Fatal(err)
	}
	if keys := redisKeys(t, c, prefix); len(keys) != 0 {
		t.Errorf("keys after Reset: %q, want none", keys)
	}
}

func TestRedisTwoGatewaysSharingOneRedisCountAsOne(t *testing.T) {
	c, prefix := testRedis(t)
	rules := throttle.Rules{throttle.KindUser: {Limit: 4, Window: time.Hour}}
	a, _ := throttle.NewRedis(c, rules, throttle.RedisOptions{Prefix: prefix})
	b, _ := throttle.NewRedis(newTestClient(t, c.Options().Addr), rules, throttle.RedisOptions{Prefix: prefix})
	ctx := context.Background()
	k := throttle.UserKey("mallory")
	for i := range 4 {
		l := []throttle.Limiter{a, b}[i%2]
		if _, err := l.Fail(ctx, k, limitertest.T0); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := a.Check(ctx, k, limitertest.T0); !s.Blocked || s.Failures != 4 {
		t.Errorf("after 2+2 failures: %+v, want blocked with 4", s)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string { return redistest.ClosedAddr(t) }

func TestRedisNotAnsweringIsAnErrorNotAnAnswer(t *testing.T) {
	// A server that accepts and never answers: the call must give up at the
	// limiter's timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	rules := throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Minute}}
	for _, tc := range []struct{ name, addr string }{
		{"nothing listens", closedAddr(t)},
		{"the server never answers", silent.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.addr)
			c.Options().ReadTimeout = time.Minute // only the limiter's timeout bounds the call
			l, _ := throttle.NewRedis(c, rules, throttle.RedisOptions{Timeout: 100 * time.Millisecond})
			ctx := context.Background()
			start := time.Now()
			_, errCheck := l.Check(ctx, throttle.UserKey("x"), limitertest.T0)
			_, errFail := l.Fail(ctx, throttle.UserKey("x"), limitertest.T0)
			errReset := l.Reset(ctx, throttle.UserKey("x"))
			for _, err := range []error{errCheck, errFail, errReset} {
				if !errors.Is(err, throttle.ErrUnavailable) {
					t.Errorf("err = %v, want ErrUnavailable", err)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("three calls took %v, want about 3×100ms at most", d)
			}
		})
	}
}
