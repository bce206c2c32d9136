// Package limitertest is the conformance suite every throttle.Limiter
// passes, so that one node (Memory) and many (Redis) keep the same
// semantics. Backends run it from their tests with Run.
package limitertest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/throttle"
)

// NewLimiter returns a fresh, empty limiter applying rules. It registers its
// own cleanup with t.
type NewLimiter func(t *testing.T, rules throttle.Rules) throttle.Limiter

// T0 is the clock the suite starts from: a whole millisecond far from the
// real time, so nothing passes by accident.
var T0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the conformance suite against the limiters newLimiter builds.
func Run(t *testing.T, newLimiter NewLimiter) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, NewLimiter)
	}{
		{"failures within the window are counted one by one", countsWithinWindow},
		{"a full window refuses until its oldest failure leaves it", slidingBlock},
		{"failures no longer count once their window has passed", windowExpiry},
		{"reaching the limit locks the key for the lock duration", lockout},
		{"each kind has its own limit and counter", kindsIndependent},
		{"a kind without a rule is never throttled", kindWithoutRule},
		{"the delay doubles after the free failures, up to its cap", progressiveDelay},
		{"retry-after counts whole seconds up to the end of the block", retryAfter},
		{"reset forgets failures and lock of that key only", reset},
		{"many keys are counted separately", manyKeys},
		{"concurrent failures are counted exactly", concurrentFailures},
		{"concurrent failures past the limit count exactly the limit", concurrentPastLimit},
		{"addresses in one IPv6 /64 share the network counter", ipv6Network},
		{"an IPv4 address in IPv6 form is the IPv4 address", ipv4Mapped},
		{"the zero key is refused", zeroKey},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newLimiter) })
	}
}

func at(d time.Duration) time.Time { return T0.Add(d) }

func fail(t *testing.T, l throttle.Limiter, k throttle.Key, now time.Time) throttle.Status {
	t.Helper()
	s, err := l.Fail(context.Background(), k, now)
	if err != nil {
		t.Fatalf("Fail(%s, %v): %v", k, now, err)
	}
	return s
}

func check(t *testing.T, l throttle.Limiter, k throttle.Key, now time.Time) throttle.Status {
	t.Helper()
	s, err := l.Check(context.Background(), k, now)
	if err != nil {
		t.Fatalf("Check(%s, %v): %v", k, now, err)
	}
	return s
}

func want(t *testing.T, what string, got, want throttle.Status) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func countsWithinWindow(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 5, Window: 10 * time.Minute}})
	k := throttle.UserKey("alice")
	want(t, "check before any failure", check(t, l, k, at(0)), throttle.Status{Limit: 5})
	for i := 1; i <= 4; i++ {
		want(t, fmt.Sprintf("failure %d", i), fail(t, l, k, at(time.Duration(i)*time.Minute)),
			throttle.Status{Failures: i, Limit: 5, Counted: true})
	}
	want(t, "check counts nothing", check(t, l, k, at(5*time.Minute)), throttle.Status{Failures: 4, Limit: 5})
	want(t, "check again", check(t, l, k, at(5*time.Minute)), throttle.Status{Failures: 4, Limit: 5})
}

func slidingBlock(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindAddress: {Limit: 3, Window: 10 * time.Minute}})
	k := throttle.AddressKey(netip.MustParseAddr("192.0.2.7"))
	fail(t, l, k, at(0))
	fail(t, l, k, at(time.Minute))
	blocked := throttle.Status{Failures: 3, Limit: 3, Blocked: true, Since: at(2 * time.Minute), Until: at(10 * time.Minute)}
	counted := blocked
	counted.Counted = true
	want(t, "third failure blocks", fail(t, l, k, at(2*time.Minute)), counted)
	want(t, "a failure while blocked is not counted", fail(t, l, k, at(5*time.Minute)), blocked)
	want(t, "just before the oldest leaves", check(t, l, k, at(10*time.Minute-time.Millisecond)), blocked)
	want(t, "once the oldest left", check(t, l, k, at(10*time.Minute)), throttle.Status{Failures: 2, Limit: 3})
	counted.Since, counted.Until = at(10*time.Minute), at(11*time.Minute)
	want(t, "a new failure fills the window again", fail(t, l, k, at(10*time.Minute)), counted)
}

func windowExpiry(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 5, Window: time.Minute}})
	k := throttle.UserKey("bob")
	fail(t, l, k, at(0))
	fail(t, l, k, at(30*time.Second))
	want(t, "one left", check(t, l, k, at(time.Minute)), throttle.Status{Failures: 1, Limit: 5})
	want(t, "both left", check(t, l, k, at(90*time.Second)), throttle.Status{Limit: 5})
	want(t, "counting starts over", fail(t, l, k, at(time.Hour)), throttle.Status{Failures: 1, Limit: 5, Counted: true})
}

func lockout(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 3, Window: 15 * time.Minute, Lock: 5 * time.Minute}})
	k := throttle.UserKey("carol")
	fail(t, l, k, at(0))
	fail(t, l, k, at(time.Minute))
	locked := throttle.Status{Failures: 3, Limit: 3, Blocked: true, Locked: true, Since: at(2 * time.Minute), Until: at(7 * time.Minute)}
	counted := locked
	counted.Counted = true
	want(t, "third failure locks", fail(t, l, k, at(2*time.Minute)), counted)
	want(t, "a failure while locked is not counted and does not extend the lock", fail(t, l, k, at(6*time.Minute)), locked)
	want(t, "just before the lock ends", check(t, l, k, at(7*time.Minute-time.Millisecond)), locked)
	want(t, "the lock ended", check(t, l, k, at(7*time.Minute)), throttle.Status{Failures: 3, Limit: 3})
	counted.Since, counted.Until = at(8*time.Minute), at(13*time.Minute)
	want(t, "a failure while the window is still full locks again", fail(t, l, k, at(8*time.Minute)), counted)
	want(t, "after the lock and the window", fail(t, l, k, at(time.Hour)), throttle.Status{Failures: 1, Limit: 3, Counted: true})
}

func kindsIndependent(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{
		throttle.KindUser:    {Limit: 2, Window: time.Hour},
		throttle.KindAddress: {Limit: 4, Window: time.Hour},
		throttle.KindPair:    {Limit: 3, Window: time.Hour},
	})
	ip := netip.MustParseAddr("192.0.2.1")
	user, addr, pair := throttle.UserKey("192.0.2.1"), throttle.AddressKey(ip), throttle.PairKey("192.0.2.1", ip)
	fail(t, l, user, at(0))
	if s := fail(t, l, user, at(time.Second)); !s.Blocked {
		t.Fatalf("user after 2 failures: %+v, want blocked", s)
	}
	want(t, "address with the same text", check(t, l, addr, at(2*time.Second)), throttle.Status{Limit: 4})
	want(t, "pair", check(t, l, pair, at(2*time.Second)), throttle.Status{Limit: 3})
	for i := 1; i <= 3; i++ {
		want(t, "address failure", fail(t, l, addr, at(3*time.Second)), throttle.Status{Failures: i, Limit: 4, Counted: true})
	}
}

func kindWithoutRule(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 1, Window: time.Hour}})
	k := throttle.CredentialKey(throttle.Fingerprint([]byte("secret"), []byte("hunter2")))
	for range 3 {
		want(t, "fail", fail(t, l, k, at(0)), throttle.Status{})
	}
	want(t, "check", check(t, l, k, at(0)), throttle.Status{})
}

func progressiveDelay(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindCredential: {Limit: 20, Window: time.Hour, FreeFailures: 2, Delay: time.Second, MaxDelay: 8 * time.Second}})
	k := throttle.CredentialKey("fp")
	wantDelays := []time.Duration{0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	var got []time.Duration
	for i := range wantDelays {
		got = append(got, fail(t, l, k, at(time.Duration(i)*time.Second)).Delay)
	}
	if d := cmp.Diff(wantDelays, got); d != "" {
		t.Errorf("delays (-want +got):\n%s", d)
	}
	if s := check(t, l, k, at(time.Minute)); s.Delay != 0 {
		t.Errorf("Check delay = %v, want 0: only a counted failure is delayed", s.Delay)
	}
}

func retryAfter(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{
		throttle.KindUser:    {Limit: 1, Window: time.Hour, Lock: 5 * time.Minute},
		throttle.KindAddress: {Limit: 2, Window: 10 * time.Minute},
	})
	user := throttle.UserKey("dave")
	s := fail(t, l, user, at(0))
	for _, c := range []struct {
		now  time.Duration
		want time.Duration
	}{
		{0, 300 * time.Second},
		{90*time.Second + 500*time.Millisecond, 210 * time.Second},
		{5*time.Minute - time.Millisecond, time.Second},
		{5 * time.Minute, 0},
	} {
		if got := s.RetryAfter(at(c.now)); got != c.want {
			t.Errorf("lock: RetryAfter at +%v = %v, want %v", c.now, got, c.want)
		}
	}
	addr := throttle.AddressKey(netip.MustParseAddr("2001:db8::1"))
	fail(t, l, addr, at(0))
	s = fail(t, l, addr, at(4*time.Minute))
	if got := s.RetryAfter(at(4 * time.Minute)); got != 6*time.Minute {
		t.Errorf("window: RetryAfter = %v, want 6m (until the first failure leaves)", got)
	}
	if got := check(t, l, addr, at(9*time.Minute)).RetryAfter(at(9 * time.Minute)); got != time.Minute {
		t.Errorf("window: RetryAfter from Check = %v, want 1m", got)
	}
}

func reset(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{
		throttle.KindUser: {Limit: 2, Window: time.Hour, Lock: time.Hour},
		throttle.KindPair: {Limit: 2, Window: time.Hour},
	})
	ip := netip.MustParseAddr("198.51.100.4")
	erin, frank, pair := throttle.UserKey("erin"), throttle.UserKey("frank"), throttle.PairKey("erin", ip)
	for _, k := range []throttle.Key{erin, frank, pair} {
		fail(t, l, k, at(0))
		fail(t, l, k, at(time.Second))
	}
	ctx := context.Background()
	for _, k := range []throttle.Key{erin, pair} {
		if err := l.Reset(ctx, k); err != nil {
			t.Fatalf("Reset(%s): %v", k, err)
		}
	}
	want(t, "erin after reset", check(t, l, erin, at(2*time.Second)), throttle.Status{Limit: 2})
	want(t, "pair after reset", check(t, l, pair, at(2*time.Second)), throttle.Status{Limit: 2})
	if s := check(t, l, frank, at(2*time.Second)); !s.Locked {
		t.Errorf("frank: %+v, want still locked", s)
	}
	want(t, "erin counts from zero", fail(t, l, erin, at(3*time.Second)), throttle.Status{Failures: 1, Limit: 2, Counted: true})
	if err := l.Reset(ctx, throttle.UserKey("nobody")); err != nil {
		t.Errorf("Reset of a key never seen: %v", err)
	}
}

func manyKeys(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 10, Window: time.Minute}})
	const n = 500
	for i := range n {
		k := throttle.UserKey(fmt.Sprintf("user%d", i))
		for range i % 3 {
			fail(t, l, k, at(0))
		}
	}
	for i := range n {
		k := throttle.UserKey(fmt.Sprintf("user%d", i))
		if got := check(t, l, k, at(time.Second)).Failures; got != i%3 {
			t.Fatalf("%s: %d failures, want %d", k, got, i%3)
		}
		if got := check(t, l, k, at(time.Minute)).Failures; got != 0 {
			t.Fatalf("%s after the window: %d failures, want 0", k, got)
		}
	}
}

// hammer calls Fail on key from workers goroutines, perWorker times each, and
// returns how many calls were counted.
func hammer(t *testing.T, l throttle.Limiter, k throttle.Key, workers, perWorker int) int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		counted int
		errs    []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				s, err := l.Fail(context.Background(), k, at(time.Duration(w*perWorker+i)*time.Millisecond))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if s.Counted {
					counted++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return counted
}

func concurrentFailures(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 1000, Window: time.Hour}})
	k := throttle.UserKey("grace")
	if got := hammer(t, l, k, 8, 40); got != 320 {
		t.Errorf("counted %d failures, want 320", got)
	}
	want(t, "after the storm", check(t, l, k, at(time.Second)), throttle.Status{Failures: 320, Limit: 1000})
}

func concurrentPastLimit(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindUser: {Limit: 50, Window: time.Hour, Lock: time.Hour}})
	k := throttle.UserKey("heidi")
	if got := hammer(t, l, k, 8, 25); got != 50 {
		t.Errorf("counted %d failures, want exactly the limit, 50", got)
	}
	if s := check(t, l, k, at(time.Second)); !s.Locked || s.Failures != 50 {
		t.Errorf("after the storm: %+v, want locked with 50 failures", s)
	}
}

func ipv6Network(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{
		throttle.KindAddress: {Limit: 5, Window: time.Hour},
		throttle.KindNetwork: {Limit: 3, Window: time.Hour},
	})
	addrs := []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:abcd::9"}
	var last throttle.Status
	for _, a := range addrs {
		keys := throttle.SourceKeys(netip.MustParseAddr(a))
		if len(keys) != 2 {
			t.Fatalf("SourceKeys(%s) = %v, want address and network", a, keys)
		}
		want(t, "address "+a, fail(t, l, keys[0], at(0)), throttle.Status{Failures: 1, Limit: 5, Counted: true})
		last = fail(t, l, keys[1], at(0))
	}
	if !last.Blocked || last.Failures != 3 {
		t.Errorf("the /64 after 3 failures from 3 addresses: %+v, want blocked", last)
	}
	other, _ := throttle.NetworkKey(netip.MustParseAddr("2001:db8:1:3::1"))
	want(t, "the next /64", check(t, l, other, at(0)), throttle.Status{Limit: 3})
}

func ipv4Mapped(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindAddress: {Limit: 5, Window: time.Hour}, throttle.KindNetwork: {Limit: 1, Window: time.Hour}})
	fail(t, l, throttle.AddressKey(netip.MustParseAddr("::ffff:192.0.2.9")), at(0))
	keys := throttle.SourceKeys(netip.MustParseAddr("192.0.2.9"))
	if len(keys) != 1 {
		t.Fatalf("SourceKeys of IPv4 = %v, want the address only", keys)
	}
	want(t, "the IPv4 form", fail(t, l, keys[0], at(0)), throttle.Status{Failures: 2, Limit: 5, Counted: true})
}

func zeroKey(t *testing.T, nl NewLimiter) {
	l := nl(t, throttle.Rules{throttle.KindAddress: {Limit: 5, Window: time.Hour}})
	ctx := context.Background()
	k := throttle.AddressKey(netip.Addr{})
	if _, err := l.Check(ctx, k, at(0)); !errors.Is(err, throttle.ErrInvalidKey) {
		t.Errorf("Check: %v, want ErrInvalidKey", err)
	}
	if _, err := l.Fail(ctx, k, at(0)); !errors.Is(err, throttle.ErrInvalidKey) {
		t.Errorf("Fail: %v, want ErrInvalidKey", err)
	}
	if err := l.Reset(ctx, k); !errors.Is(err, throttle.ErrInvalidKey) {
		t.Errorf("Reset: %v, want ErrInvalidKey", err)
	}
}
