package session_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/session/sessiontest"
)

// benchSessions are a realistic population: 10 000 sessions of 1 000 users.
var benchSessions = func() []session.Session {
	ss := make([]session.Session, 10_000)
	for i := range ss {
		_, id, _ := session.NewToken()
		ss[i] = session.Session{
			ID: id, User: "user" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)),
			CreatedAt: sessiontest.T0, LastSeen: sessiontest.T0, SecondFactorAt: sessiontest.T0,
			Source:    netip.MustParseAddr("2001:db8::1"),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		}
	}
	return ss
}()

func benchStore(b *testing.B, st session.Store) {
	ctx := context.Background()
	expires := sessiontest.T0.Add(time.Hour)
	for _, s := range benchSessions {
		if err := st.Save(ctx, s, expires); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := st.Get(ctx, benchSessions[i%len(benchSessions)].ID); err != nil {
					b.Fatal(err)
				}
				i += 7
			}
		})
	})
	b.Run("Save", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := st.Save(ctx, benchSessions[i%len(benchSessions)], expires); err != nil {
					b.Fatal(err)
				}
				i += 7
			}
		})
	})
}

func BenchmarkMemory(b *testing.B) {
	benchStore(b, session.NewMemory(session.MemoryOptions{Now: sessiontest.NewClock().Now}))
}

func BenchmarkRedis(b *testing.B) {
	st, _, _ := newTestRedis(b, sessiontest.NewClock().Now)
	benchStore(b, st)
}
