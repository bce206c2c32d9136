package config

import (
	"log/slog"
	"net/netip"
	"time"
)

// The defaults for every optional key, in one place so docs and tests can
// point at them.
const (
	DefaultListen              = "127.0.0.1:8080"
	DefaultDataDir             = "./authgate-data"
	DefaultSecretKeyFile       = "secret.key"
	DefaultRealm               = "authgate"
	DefaultSQLite              = "authgate.db"
	DefaultStoreRefresh        = time.Second
	DefaultStoreMaxStale       = 30 * time.Second
	DefaultKeepPrevious        = 90 * 24 * time.Hour
	DefaultPreviousChecked     = 1
	DefaultQueueTimeout        = 2 * time.Second
	DefaultArgon2MemoryKiB     = 7168
	DefaultArgon2Iterations    = 5
	DefaultArgon2Parallelism   = 1
	DefaultAPIKeyHeader        = "X-API-Key"
	DefaultSubjectHeader       = "X-Authgate-Subject"
	DefaultMethodHeader        = "X-Authgate-Method"
	DefaultScopesHeader        = "X-Authgate-Scopes"
	DefaultIssuerHeader        = "X-Authgate-Issuer"
	DefaultMaxCredentialBytes  = 8192
	DefaultLogKeepLast         = 1000
	DefaultLeeway              = 60 * time.Second
	DefaultJWKSRefresh         = time.Hour
	DefaultJWKSMinRefresh      = 30 * time.Second
	DefaultJWKSFetchTimeout    = 5 * time.Second
	DefaultRoutePath           = "/"
	DefaultDetail              = DetailMinimal
	DefaultLogLevel            = slog.LevelInfo
	DefaultLogFormat           = LogJSON
	defaultDetectSlips         = true
	defaultUpgradeHashes       = true
	defaultHashProcess         = true
	defaultMaxConcurrentHashes = 0
	DefaultMaxAge              = 0 // passwords never expire
	DefaultStoreType           = StoreSQLite
	DefaultThrottleEnabled     = true
	DefaultThrottleStore       = ThrottleMemory
	DefaultThrottlePrefix      = "authgate:throttle:"
	DefaultThrottleMaxKeys     = 1 << 20
	// DefaultThrottleMaxDelay caps a counter's delay when it sets delay
	// but neither it nor its default rule sets max_delay.
	DefaultThrottleMaxDelay = 30 * time.Second
	DefaultRedisDB          = 0
	DefaultRedisTimeout     = 250 * time.Millisecond

	// The portal, its sessions and 2-step verification. The portal's
	// allowed_hosts default to the hosts of the routes that accept
	// session, and two_factor.issuer to the top-level realm.
	DefaultPortalPath      = "/.authgate/"
	DefaultPortalTitle     = "Sign in"
	DefaultPortalDetail    = DetailMinimal
	DefaultSecureCookies   = SecureAuto
	DefaultCookieName      = "authgate_session"
	DefaultSessionsStore   = SessionsMemory
	DefaultSessionsPrefix  = "authgate:session:"
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultMaxSessions     = 1 << 20
	DefaultEnroll          = EnrollOptional
	DefaultRecoveryCodes   = 10
)

// DefaultAlgorithms is the signing-algorithm allow-list of an issuer that
// names none; it is also every algorithm an issuer may list.
var DefaultAlgorithms = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// DefaultTrustedProxies are believed when trusted_proxies is absent: the
// loopback addresses, where a local nginx or Caddy runs.
func DefaultTrustedProxies() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
}

// DefaultThrottleRules returns the rule of each counter when the file says
// nothing about it, keyed by counter name (CounterPair, ...). The pair
// counter locks one source out of an account well before the user counter
// locks the account itself: one address adds at most 5 failures per
// 15-minute lock, 20 an hour, below the user limit of 30, so a flood from
// one address cannot lock the real user out everywhere. Each call returns
// a new map.
func DefaultThrottleRules() map[string]ThrottleRule {
	return map[string]ThrottleRule{
		CounterPair: {Limit: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute,
			FreeFailures: 2, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second},
		CounterUser: {Limit: 30, Window: time.Hour, Lock: 30 * time.Minute},
		CounterAddress: {Limit: 100, Window: 10 * time.Minute,
			FreeFailures: 10, Delay: 250 * time.Millisecond, MaxDelay: 2 * time.Second},
		CounterNetwork: {Limit: 300, Window: 10 * time.Minute},
		CounterCredential: {Limit: 10, Window: 10 * time.Minute,
			FreeFailures: 3, Delay: 500 * time.Millisecond, MaxDelay: 4 * time.Second},
	}
}
