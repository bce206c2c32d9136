package integration

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// requireSharedRedis returns the address of the machine's Redis
// (AUTHGATE_TEST_REDIS), or skips the test (fails it when
// AUTHGATE_REQUIRE_INTEGRATION=1) when none is configured or it does not
// answer.
func requireSharedRedis(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("AUTHGATE_TEST_REDIS")
	if addr == "" {
		if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("AUTHGATE_TEST_REDIS is unset and AUTHGATE_REQUIRE_INTEGRATION=1: set it to a Redis the tests may write to, e.g. AUTHGATE_TEST_REDIS=127.0.0.1:6379")
		}
		t.Skip("AUTHGATE_TEST_REDIS is unset, so gateways sharing failure counters in Redis are not tested; set AUTHGATE_TEST_REDIS=127.0.0.1:6379 and rerun, or set AUTHGATE_REQUIRE_INTEGRATION=1 to make this a failure")
	}
	c := newRedisClient(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("AUTHGATE_TEST_REDIS=%s does not answer: %v", addr, err)
	}
	return addr
}

// requireRedisServer finds the redis-server executable, or skips the test
// (fails it when AUTHGATE_REQUIRE_INTEGRATION=1) if it is not installed.
func requireRedisServer(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	const usual = "/usr/bin/redis-server"
	if _, err := os.Stat(usual); err == nil {
		return usual
	}
	if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("redis-server is not installed (not on PATH, not at %s) and AUTHGATE_REQUIRE_INTEGRATION=1: install it (apt-get install redis-server)", usual)
	}
	t.Skip("redis-server is not installed, so a gateway losing and regaining its Redis is not tested; install it (apt-get install redis-server) and rerun, or set AUTHGATE_REQUIRE_INTEGRATION=1 to make this a failure")
	return ""
}

// newRedisClient returns a client for addr, closed with t, that gives up
// quickly on a server that is down.
func newRedisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:        addr,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
		MaxRetries: -1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// redisPrefix returns a key prefix unique to the test and deletes the keys
// under it when the test ends. It never flushes: the server is shared with
// tests running in parallel.
func redisPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	prefix := "authgate-test:" + rand.Text()[:16] + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := redisKeys(ctx, c, prefix)
		if err != nil {
			t.Errorf("the test's Redis keys were not deleted: %v", err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("delete the test's Redis keys %q: %v", keys, err)
			}
		}
	})
	return prefix
}

// redisKeys lists the keys under prefix.
func redisKeys(ctx context.Context, c *redis.Client, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// redisServer is a private redis-server child process the test owns, so
// that it can stop and start it without disturbing the machine's Redis.
type redisServer struct {
	bin, addr, dir string
	cmd            *exec.Cmd
	out            *syncBuffer
	exited         chan struct{}
	waitErr        error // set before exited is closed
}

// startRedisServer runs bin on a free loopback port with no persistence,
// and stops it when the test ends, whether or not the test failed.
func startRedisServer(t *testing.T, bin string) *redisServer {
	t.Helper()
	r := &redisServer{bin: bin, addr: freeAddr(t), dir: t.TempDir(), out: &syncBuffer{}}
	t.Cleanup(func() {
		if r.running() {
			r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			t.Logf("redis-server output:\n%s", r.out)
		}
	})
	r.start(t)
	return r
}

// start runs redis-server on r's address and waits until it answers PING.
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	_, port, _ := strings.Cut(r.addr, ":")
	r.cmd = exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--daemonize", "no")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	r.exited = exited
	cmd := r.cmd
	go func() {
		r.waitErr = cmd.Wait()
		close(exited)
	}()
	c := redis.NewClient(&redis.Options{Addr: r.addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if !r.running() {
			t.Fatalf("redis-server exited before answering on %s (%v):\n%s", r.addr, r.waitErr, r.out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server does not answer on %s after 10s: %v\n%s", r.addr, err, r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends redis-server with SIGTERM and waits for it to exit.
func (r *redisServer) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to redis-server: %v", err)
	}
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-server did not exit within 10s of SIGTERM")
	}
}

// running reports whether the last redis-server started has not exited.
func (r *redisServer) running() bool {
	if r.exited == nil {
		return false
	}
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}
