package session_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/session/sessiontest"
)

func TestRedisConformance(t *testing.T) {
	testRedisAddr(t)
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		st, _, _ := newTestRedis(t, now)
		return st
	})
}

func TestNewRedisRefusesAClientIgnoringDeadlines(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t)})
	defer c.Close()
	if _, err := session.NewRedis(c, session.RedisOptions{}); err == nil {
		t.Error("NewRedis accepted a client without ContextTimeoutEnabled")
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string { return redistest.ClosedAddr(t) }

func TestRedisNotAnsweringIsAnErrorNotAnAnswer(t *testing.T) {
	// A server that accepts and never answers: every call must give up at
	// the store's timeout.
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
	_, id, _ := session.NewToken()
	s := session.Session{ID: id, User: "alice"}
	for _, tc := range []struct{ name, addr string }{
		{"nothing listens", closedAddr(t)},
		{"the server never answers", silent.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.addr)
			c.Options().ReadTimeout = time.Minute // only the store's timeout bounds a call
			c.Options().DialTimeout = time.Minute
			const timeout = 100 * time.Millisecond
			st, err := session.NewRedis(c, session.RedisOptions{Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for name, call := range map[string]func() error{
				"Save":         func() error { return st.Save(ctx, s, time.Now().Add(time.Hour)) },
				"Save expired": func() error { return st.Save(ctx, s, time.Now().Add(-time.Hour)) },
				"Get":          func() error { _, err := st.Get(ctx, id); return err },
				"Touch":        func() error { return st.Touch(ctx, id, time.Now()) },
				"Delete":       func() error { return st.Delete(ctx, id) },
				"DeleteUser":   func() error { _, err := st.DeleteUser(ctx, "alice"); return err },
				"List":         func() error { _, err := st.List(ctx, "alice"); return err },
				"UseCode":      func() error { _, err := st.UseCode(ctx, "alice", 1, time.Now().Add(time.Minute)); return err },
			} {
				start := time.Now()
				err := call()
				d := time.Since(start)
				if !errors.Is(err, session.ErrUnavailable) {
					t.Errorf("%s: %v, want ErrUnavailable", name, err)
				}
				if errors.Is(err, session.ErrNotFound) {
					t.Errorf("%s: %v also claims not found", name, err)
				}
				if d > timeout+200*time.Millisecond {
					t.Errorf("%s took %v, want about the %v timeout", name, d, timeout)
				}
			}
		})
	}
}

func TestRedisStoresNoToken(t *testing.T) {
	st, c, prefix := newTestRedis(t, sessiontest.NewClock().Now)
	ctx := context.Background()
	token, id, _ := session.NewToken()
	s := session.Session{ID: id, User: "alice", CreatedAt: sessiontest.T0, UserAgent: "curl/8"}
	if err := st.Save(ctx, s, sessiontest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseCode(ctx, "alice", 42, sessiontest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	keys := redisKeys(t, c, prefix)
	if len(keys) != 3 {
		t.Errorf("keys = %q, want session, index and code", keys)
	}
	for _, k := range keys {
		dump, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(k, token) || strings.Contains(dump, token) {
			t.Errorf("key %s holds the token", k)
		}
	}
	data, err := c.Get(ctx, prefix+"s:"+id).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(data, `"id":"`+id+`"`) || strings.Contains(data, token) {
		t.Errorf("stored JSON %s: want the id and not the token", data)
	}
}

func TestRedisKeysHaveTTLsFromTheStoresClock(t *testing.T) {
	clock := sessiontest.NewClock()
	st, c, prefix := newTestRedis(t, clock.Now)
	ctx := context.Background()
	t0 := sessiontest.T0
	_, a, _ := session.NewToken()
	_, b, _ := session.NewToken()
	save := func(id string, expires time.Duration) {
		t.Helper()
		if err := st.Save(ctx, session.Session{ID: id, User: "alice"}, t0.Add(expires)); err != nil {
			t.Fatal(err)
		}
	}
	save(a, time.Hour)
	save(b, 10*time.Minute)
	if _, err := st.UseCode(ctx, "alice", 1, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{
		prefix + "s:" + a:    time.Hour,
		prefix + "s:" + b:    10 * time.Minute,
		prefix + "u:alice":   time.Hour, // the latest session's
		prefix + "c:alice:1": 90 * time.Second,
	}
	check := func(when string) {
		t.Helper()
		keys := redisKeys(t, c, prefix)
		if len(keys) != len(want) {
			t.Errorf("%s: keys %q, want %d", when, keys, len(want))
		}
		for _, k := range keys {
			ttl, err := c.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := want[k]; !ok || ttl <= w-time.Second || ttl > w {
				t.Errorf("%s: PTTL %s = %v, want %v", when, k, ttl, w)
			}
		}
	}
	check("after saving")
	// Replacing the latest session with a shorter one shortens the index.
	clock.Set(time.Minute)
	save(a, 5*time.Minute)
	want[prefix+"s:"+a] = 4 * time.Minute
	want[prefix+"u:alice"] = 9 * time.Minute // b's, now the latest
	check("after shortening")
}

func TestRedisKeysVanishOnTheRealClock(t *testing.T) {
	st, c, prefix := newTestRedis(t, time.Now)
	ctx := context.Background()
	_, id, _ := session.NewToken()
	start := time.Now()
	if err := st.Save(ctx, session.Session{ID: id, User: "alice"}, start.Add(150*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseCode(ctx, "alice", 1, start.Add(150*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for {
		keys := redisKeys(t, c, prefix)
		if len(keys) == 0 {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("keys %q still there after %v", keys, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisPrunesStaleIDsFromTheUserIndex(t *testing.T) {
	clock := sessiontest.NewClock()
	st, c, prefix := newTestRedis(t, clock.Now)
	ctx := context.Background()
	t0 := sessiontest.T0
	var ids []string
	for i := range 4 {
		_, id, _ := session.NewToken()
		ids = append(ids, id)
		expires := t0.Add(time.Hour)
		if i == 0 {
			expires = t0.Add(time.Minute)
		}
		if err := st.Save(ctx, session.Session{ID: id, User: "alice"}, expires); err != nil {
			t.Fatal(err)
		}
	}
	st.Delete(ctx, ids[1])
	index := prefix + "u:alice"
	if n := c.ZCard(ctx, index).Val(); n != 4 {
		t.Fatalf("index holds %d ids after Delete, want 4 (pruned later)", n)
	}
	clock.Set(time.Minute)
	if ss, err := st.List(ctx, "alice"); err != nil || len(ss) != 2 {
		t.Fatalf("List = %d sessions, %v; want 2", len(ss), err)
	}
	if got := c.ZRange(ctx, index, 0, -1).Val(); len(got) != 2 {
		t.Errorf("index after List = %q, want the 2 live ids", got)
	}
	if n, err := st.DeleteUser(ctx, "alice"); err != nil || n != 2 {
		t.Errorf("DeleteUser = %d, %v; want 2", n, err)
	}
	if n := c.Exists(ctx, index).Val(); n != 0 {
		t.Errorf("the index outlived DeleteUser")
	}
}

func TestRedisKeepsHashTagsOutOfUserKeys(t *testing.T) {
	st, c, prefix := newTestRedis(t, sessiontest.NewClock().Now)
	ctx := context.Background()
	_, id, _ := session.NewToken()
	user := "{ops}:admin %"
	if err := st.Save(ctx, session.Session{ID: id, User: user}, sessiontest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseCode(ctx, user, 9, sessiontest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, k := range redisKeys(t, c, prefix) {
		rest := strings.TrimPrefix(k, prefix)
		if strings.ContainsAny(rest, "{} ") {
			t.Errorf("key %q: braces or spaces from the user name", k)
		}
	}
	for _, k := range []string{"u:%7Bops%7D%3Aadmin%20%25", "c:%7Bops%7D%3Aadmin%20%25:9"} {
		if c.Exists(ctx, prefix+k).Val() != 1 {
			t.Errorf("no key %s", prefix+k)
		}
	}
}

func TestRedisUnreadableRecordIsUnavailableNotNotFound(t *testing.T) {
	st, c, prefix := newTestRedis(t, sessiontest.NewClock().Now)
	ctx := context.Background()
	_, id, _ := session.NewToken()
	c.Set(ctx, prefix+"s:"+id, "{not json", time.Minute)
	if _, err := st.Get(ctx, id); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get of an unreadable record: %v, want ErrUnavailable", err)
	}
	if err := st.Touch(ctx, id, sessiontest.T0); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Touch of an unreadable record: %v, want ErrUnavailable", err)
	}
	if got := c.Get(ctx, prefix+"s:"+id).Val(); got != "{not json" {
		t.Errorf("Touch of an unreadable record wrote %q", got)
	}
}

func TestRedisTouchKeepsTheTTLAndLeavesTheIndexAlone(t *testing.T) {
	clock := sessiontest.NewClock()
	st, c, prefix := newTestRedis(t, clock.Now)
	ctx := context.Background()
	t0 := sessiontest.T0
	_, a, _ := session.NewToken()
	_, b, _ := session.NewToken()
	for id, expires := range map[string]time.Duration{a: 10 * time.Minute, b: time.Hour} {
		if err := st.Save(ctx, session.Session{ID: id, User: "alice", CreatedAt: t0, LastSeen: t0}, t0.Add(expires)); err != nil {
			t.Fatal(err)
		}
	}
	index := prefix + "u:alice"
	before := c.ZRangeWithScores(ctx, index, 0, -1).Val()
	indexTTL := c.PTTL(ctx, index).Val()
	sessionTTL := c.PTTL(ctx, prefix+"s:"+a).Val()
	record := c.Get(ctx, prefix+"s:"+a).Val()

	clock.Set(5 * time.Minute)
	if err := st.Touch(ctx, a, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, prefix+"s:"+a).Val(); ttl > sessionTTL || ttl < sessionTTL-time.Second {
		t.Errorf("PTTL of the session after Touch = %v, want the %v it had", ttl, sessionTTL)
	}
	if ttl := c.PTTL(ctx, index).Val(); ttl > indexTTL || ttl < indexTTL-time.Second {
		t.Errorf("PTTL of the index after Touch = %v, want the %v it had", ttl, indexTTL)
	}
	if after := c.ZRangeWithScores(ctx, index, 0, -1).Val(); !cmp.Equal(before, after) {
		t.Errorf("index after Touch = %v, want %v", after, before)
	}
	touched := c.Get(ctx, prefix+"s:"+a).Val()
	want := strings.Replace(record, `"last_seen":"2030-01-02T03:04:05.678Z"`, `"last_seen":"2030-01-02T03:09:05.678Z"`, 1)
	if touched == record || touched != want {
		t.Errorf("record after Touch:\n%s\nwant only last_seen changed from\n%s", touched, record)
	}
}

func TestRedisTwoGatewaysShareSessionsAndCodes(t *testing.T) {
	clock := sessiontest.NewClock()
	a, c, prefix := newTestRedis(t, clock.Now)
	b, err := session.NewRedis(newTestClient(t, c.Options().Addr), session.RedisOptions{Prefix: prefix, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, id, _ := session.NewToken()
	if err := a.Save(ctx, session.Session{ID: id, User: "alice"}, sessiontest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Get(ctx, id); err != nil || s.User != "alice" {
		t.Errorf("the other gateway's Get = %+v, %v", s, err)
	}
	first, _ := a.UseCode(ctx, "alice", 5, sessiontest.T0.Add(time.Minute))
	again, _ := b.UseCode(ctx, "alice", 5, sessiontest.T0.Add(time.Minute))
	if !first || again {
		t.Errorf("a code used on two gateways: first %v then %v, want true then false", first, again)
	}
}
