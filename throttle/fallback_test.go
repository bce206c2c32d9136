package throttle_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/syncbuf"
	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/throttle/limitertest"
)

var fallbackRules = throttle.Rules{throttle.KindUser: {Limit: 3, Window: time.Hour}}

// syncBuffer is a log sink the limiter may write to from any goroutine.
type syncBuffer struct{ syncbuf.Buffer }

func (s *syncBuffer) lines(substr string) int { return strings.Count(s.String(), substr) }

func newFallback(t *testing.T, addr, prefix string) (*throttle.Fallback, *syncBuffer) {
	t.Helper()
	shared, err := throttle.NewRedis(newTestClient(t, addr), fallbackRules, throttle.RedisOptions{Prefix: prefix, Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	f := throttle.NewFallback(shared, newTestMemory(t, fallbackRules), throttle.FallbackOptions{
		ProbeInterval: 5 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(log, nil)),
	})
	return f, log
}

func TestFallbackServesFromMemoryWhileRedisIsDown(t *testing.T) {
	f, log := newFallback(t, closedAddr(t), "authgate-test:down:")
	ctx := context.Background()
	k := throttle.UserKey("oscar")
	for i := 1; i <= 3; i++ {
		s, err := f.Fail(ctx, k, limitertest.T0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatalf("Fail %d: %v", i, err)
		}
		if s.Failures != i {
			t.Errorf("Fail %d: %d failures, want %d", i, s.Failures, i)
		}
	}
	if s, err := f.Check(ctx, k, limitertest.T0.Add(time.Minute)); err != nil || !s.Blocked {
		t.Errorf("Check: %+v, %v, want blocked from memory", s, err)
	}
	if !f.Degraded() || f.Degradations() != 1 {
		t.Errorf("Degraded = %v, Degradations = %d, want true, 1", f.Degraded(), f.Degradations())
	}
	if n := log.lines("per-node limits"); n != 1 {
		t.Errorf("logged the degradation %d times, want once", n)
	}
	if err := f.Reset(ctx, k); err != nil {
		t.Errorf("Reset while degraded: %v", err)
	}
	if s, _ := f.Check(ctx, k, limitertest.T0.Add(time.Minute)); s.Failures != 0 {
		t.Errorf("after Reset: %d failures, want 0", s.Failures)
	}
}

// forwarder relays TCP connections to a target until cut, so a test can
// take Redis away from a client without touching the shared server.
type forwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newForwarder(t *testing.T, target string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target, conns: map[net.Conn]bool{}}
	f.wg.Go(f.serve)
	t.Cleanup(func() {
		ln.Close()
		f.setCut(true)
		f.wg.Wait()
	})
	return f
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.cut {
			f.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			f.mu.Unlock()
			c.Close()
			continue
		}
		f.conns[c], f.conns[up] = true, true
		f.mu.Unlock()
		f.wg.Go(func() { io.Copy(up, c); up.Close(); c.Close() })
		f.wg.Go(func() { io.Copy(c, up); up.Close(); c.Close() })
	}
}

// setCut cuts (closing every relayed connection) or restores the relay.
func (f *forwarder) setCut(cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = cut
	if cut {
		for c := range f.conns {
			c.Close()
		}
		clear(f.conns)
	}
}

func TestFallbackReturnsToRedisWhenItAnswersAgain(t *testing.T) {
	c, prefix := testRedis(t)
	fw := newForwarder(t, c.Options().Addr)
	f, log := newFallback(t, fw.addr(), prefix)
	direct, _ := throttle.NewRedis(c, fallbackRules, throttle.RedisOptions{Prefix: prefix})
	ctx := context.Background()
	k := throttle.UserKey("peggy")
	t0 := limitertest.T0
	sharedFailures := func() int {
		t.Helper()
		s, err := direct.Check(ctx, k, t0)
		if err != nil {
			t.Fatal(err)
		}
		return s.Failures
	}

	if _, err := f.Fail(ctx, k, t0); err != nil || f.Degraded() {
		t.Fatalf("Fail with Redis up: %v, degraded %v", err, f.Degraded())
	}
	if n := sharedFailures(); n != 1 {
		t.Fatalf("Redis holds %d failures, want 1", n)
	}

	fw.setCut(true)
	s, err := f.Fail(ctx, k, t0.Add(time.Second))
	if err != nil || !f.Degraded() || f.Degradations() != 1 {
		t.Fatalf("Fail with Redis cut: %v, degraded %v, degradations %d; want served from memory, 1 degradation", err, f.Degraded(), f.Degradations())
	}
	if s.Failures != 1 {
		t.Errorf("memory holds %d failures, want 1 (counted during the outage)", s.Failures)
	}

	fw.setCut(false)
	if _, err := f.Fail(ctx, k, t0.Add(2*time.Second)); err != nil || !f.Degraded() {
		t.Fatalf("before the next probe: %v, degraded %v; want still on memory", err, f.Degraded())
	}
	if n := sharedFailures(); n != 1 {
		t.Errorf("Redis holds %d failures before the probe, want 1", n)
	}
	s, err = f.Fail(ctx, k, t0.Add(7*time.Second))
	if err != nil || f.Degraded() {
		t.Fatalf("after the probe interval: %v, degraded %v; want back on Redis", err, f.Degraded())
	}
	if s.Failures != 2 || sharedFailures() != 2 {
		t.Errorf("after recovery: %d failures, Redis %d; want 2 and 2", s.Failures, sharedFailures())
	}
	if n := log.lines("back to shared limits"); n != 1 {
		t.Errorf("logged the recovery %d times, want once", n)
	}

	fw.setCut(true)
	f.Check(ctx, k, t0.Add(8*time.Second))
	f.Check(ctx, k, t0.Add(9*time.Second))
	if f.Degradations() != 2 || log.lines("per-node limits") != 2 {
		t.Errorf("second outage: %d degradations, %d log lines; want 2, 2", f.Degradations(), log.lines("per-node limits"))
	}
}

func TestFallbackDoesNotDegradeWhenTheCallerGivesUp(t *testing.T) {
	f, _ := newFallback(t, closedAddr(t), "authgate-test:cancel:")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Check(ctx, throttle.UserKey("x"), limitertest.T0); err == nil {
		t.Error("Check with a cancelled context: no error")
	}
	if f.Degraded() {
		t.Error("a cancelled caller degraded the limiter")
	}
}
