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
	DefaultRealm               = "authgate"
	DefaultSQLite              = "authgate.db"
	DefaultStoreRefresh        = time.Second
	DefaultStoreMaxStale       = 30 * time.Second
	DefaultKeepPrevious        = 90 * 24 * time.Hour
	DefaultPreviousChecked     = 1
	DefaultQueueTimeout        = 2 * time.Second
	DefaultArgon2MemoryKiB     = 19456
	DefaultArgon2Iterations    = 2
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
	defaultMaxConcurrentHashes = 0
)

// DefaultAlgorithms is the signing-algorithm allow-list of an issuer that
// names none; it is also every algorithm an issuer may list.
var DefaultAlgorithms = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// DefaultTrustedProxies are believed when trusted_proxies is absent: the
// loopback addresses, where a local nginx or Caddy runs.
func DefaultTrustedProxies() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
}
