package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const oneRoute = "routes: [{name: app, upstream: \"http://127.0.0.1:9\", accept: [basic]}]\n"

func TestSharedConfigReadsStoreThrottleSessionsAndRedis(t *testing.T) {
	c, _ := loadValid(t, "shared.yaml")
	type parts struct {
		Store    Store
		MaxAge   time.Duration
		Throttle Throttle
		Sessions Sessions
		Redis    Redis
	}
	want := parts{
		Store: Store{
			Type:            StorePostgres,
			PostgresDSN:     "postgres://authgate:s3cret-store@db.internal:5432/authgate?sslmode=verify-full",
			RefreshInterval: time.Second,
			MaxStale:        30 * time.Second,
		},
		MaxAge: 365 * day,
		Throttle: Throttle{
			Enabled:        true,
			Store:          ThrottleRedis,
			Prefix:         "gw-eu:throttle:",
			ExemptNetworks: prefixes("192.0.2.0/24", "2001:db8::7/128"),
			MaxKeys:        200000,
			Rules: map[string]ThrottleRule{
				CounterPair: {Limit: 3, Window: 30 * time.Minute, Lock: time.Hour, FreeFailures: 1, Delay: time.Second, MaxDelay: 8 * time.Second},
				// The user rule has no delay by default, so max_delay is 30s.
				CounterUser:    {Limit: 12, Window: time.Hour, Lock: 30 * time.Minute, Delay: time.Second, MaxDelay: 30 * time.Second},
				CounterNetwork: {Limit: 1000, Window: time.Hour},
				// The default max_delay (4s) is raised to the longer delay.
				CounterCredential: {Limit: 10, Window: 10 * time.Minute, FreeFailures: 3, Delay: 5 * time.Second, MaxDelay: 5 * time.Second},
			},
		},
		Sessions: Sessions{Store: SessionsRedis, Prefix: "gw-eu:session:", IdleTimeout: 30 * time.Minute,
			AbsoluteTimeout: 12 * time.Hour, MaxSessions: 1 << 20},
		Redis: Redis{Address: "redis.internal:6380", Username: "authgate", Password: "r3dis-secret-for-tests", DB: 3, Timeout: 100 * time.Millisecond},
	}
	got := parts{Store: c.Store, MaxAge: c.Passwords.MaxAge, Throttle: c.Throttle, Sessions: c.Sessions, Redis: c.Redis}
	if diff := cmp.Diff(want, got, cmpPrefixes); diff != "" {
		t.Errorf("resolved config differs (-want +got):\n%s", diff)
	}
}

func TestThrottleCounters(t *testing.T) {
	defaults := DefaultThrottleRules()
	tests := []struct {
		name    string
		yaml    string
		counter string
		want    *ThrottleRule // nil: the counter has no rule
	}{
		{"an absent throttle section gives the pair counter its default rule",
			"", CounterPair, ptr(defaults[CounterPair])},
		{"an empty counter mapping keeps the default rule",
			"throttle: {address: {}}", CounterAddress, ptr(defaults[CounterAddress])},
		{"a counter set to off has no rule",
			"throttle: {network: off}", CounterNetwork, nil},
		{"a counter setting only its limit keeps the rest of its default rule",
			"throttle: {user: {limit: 40}}", CounterUser,
			&ThrottleRule{Limit: 40, Window: time.Hour, Lock: 30 * time.Minute}},
		{"delay 0 turns delays off and drops the default max_delay",
			"throttle: {pair: {delay: 0}}", CounterPair,
			&ThrottleRule{Limit: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, FreeFailures: 2}},
		{"a delay on a counter without one by default gets a 30s max_delay",
			"throttle: {network: {delay: 100ms}}", CounterNetwork,
			&ThrottleRule{Limit: 300, Window: 10 * time.Minute, Delay: 100 * time.Millisecond, MaxDelay: 30 * time.Second}},
		{"a delay longer than the default max_delay raises it",
			"throttle: {address: {delay: 3s}}", CounterAddress,
			&ThrottleRule{Limit: 100, Window: 10 * time.Minute, FreeFailures: 10, Delay: 3 * time.Second, MaxDelay: 3 * time.Second}},
		{"lock 0 makes a sliding limit",
			"throttle: {pair: {lock: 0}}", CounterPair,
			&ThrottleRule{Limit: 5, Window: 15 * time.Minute, FreeFailures: 2, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second}},
		{"a disabled throttle still reads its rules",
			"throttle: {enabled: false, credential: {limit: 7}}", CounterCredential,
			&ThrottleRule{Limit: 7, Window: 10 * time.Minute, FreeFailures: 3, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tt.yaml+"\n"+oneRoute))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.Throttle.Rules[tt.counter]
			var gotp *ThrottleRule
			if ok {
				gotp = &got
			}
			if diff := cmp.Diff(tt.want, gotp); diff != "" {
				t.Errorf("rule %s (-want +got):\n%s", tt.counter, diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDefaultThrottleRulesLockAPairBeforeTheUser(t *testing.T) {
	r := DefaultThrottleRules()
	if r[CounterUser].Limit <= r[CounterPair].Limit {
		t.Errorf("user limit %d is not above pair limit %d", r[CounterUser].Limit, r[CounterPair].Limit)
	}
	r[CounterPair] = ThrottleRule{}
	if DefaultThrottleRules()[CounterPair].Limit == 0 {
		t.Error("changing the returned map changed the defaults")
	}
}

func TestRedisAddress(t *testing.T) {
	tests := []struct {
		in      string
		wantFix string // "" when the address is valid
	}{
		{"127.0.0.1:6379", ""},
		{"redis.internal:6380", ""},
		{"[::1]:6379", ""},
		{"redis.internal", "add the port: address: redis.internal:6379"},
		{"6379", "name the host too: address: 127.0.0.1:6379"},
		{":6379", "name the host: address: 127.0.0.1:6379"},
		{"redis.internal:0", "write host:port, e.g. address: 127.0.0.1:6379"},
		{"redis://redis.internal", "write only host:port: address: redis.internal:6379"},
		{"redis://:pw@redis.internal:6380/2", "write only host:port: address: redis.internal:6380, and put the password in redis.password_file and the database number in redis.db"},
		{"user:pw@redis.internal:6379", "write only host:port, e.g. address: 127.0.0.1:6379, and put the credentials in redis.username and redis.password_file"},
	}
	for _, tt := range tests {
		p := checkRedisAddress(tt.in)
		if p.fix != tt.wantFix {
			t.Errorf("checkRedisAddress(%q) fix = %q, want %q", tt.in, p.fix, tt.wantFix)
		}
	}
}

func TestRedisPasswordsNeverAppearInErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("file-secret-42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{
		"a password in a URL address": "throttle: {store: redis}\nredis: {address: \"redis://:url-secret-42@h:6379/1\"}\n",
		"credentials before the host": "throttle: {store: redis}\nredis: {address: \"u:at-secret-42@h:6379\"}\n",
		"password and password_file":  "throttle: {store: redis}\nredis: {address: h:6379, password: inline-secret-42, password_file: pw}\n",
		"a password with no consumer": "redis: {address: h:6379, password: unused-secret-42}\n",
		"a password_file, db too big": "throttle: {store: redis}\nredis: {address: h:6379, password_file: pw, db: 5000}\n",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "authgate.yaml"), []byte(in+oneRoute))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if strings.Contains(err.Error(), "secret-42") {
				t.Errorf("the error shows the password:\n%v", err)
			}
		})
	}
}
