package throttle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/throttle/limitertest"
)

var benchRules = throttle.Rules{throttle.KindUser: {Limit: 1000, Window: time.Second}}

// benchKeys are spread so that each key sees a failure every 10 s of the
// benchmark's clock: windows pass and entries stay small, as in steady use.
var benchKeys = func() []throttle.Key {
	keys := make([]throttle.Key, 10_000)
	for i := range keys {
		keys[i] = throttle.UserKey(fmt.Sprintf("user%d", i))
	}
	return keys
}()

func benchLimiter(b *testing.B, l throttle.Limiter, fail bool) {
	ctx := context.Background()
	call := l.Check
	if fail {
		call = l.Fail
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := call(ctx, benchKeys[i%len(benchKeys)], limitertest.T0.Add(time.Duration(i)*time.Millisecond)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkMemory(b *testing.B) {
	for _, fail := range []bool{false, true} {
		b.Run(map[bool]string{false: "Check", true: "Fail"}[fail], func(b *testing.B) {
			benchLimiter(b, newTestMemory(b, benchRules), fail)
		})
	}
}

func BenchmarkRedis(b *testing.B) {
	for _, fail := range []bool{false, true} {
		b.Run(map[bool]string{false: "Check", true: "Fail"}[fail], func(b *testing.B) {
			benchLimiter(b, newTestRedis(b, benchRules), fail)
		})
	}
}
