package config

import (
	"log/slog"
	"net/netip"
	"net/url"
	"time"

	"github.com/authgate/authgate"
)

// Config is a validated configuration with every default filled in and
// every relative path made absolute against the configuration file's
// directory.
type Config struct {
	// File is the configuration file's name as given to Load or Parse.
	File string
	// Listen is the host:port the gateway listens on.
	Listen string
	// DataDir is the absolute directory holding the SQLite store and other
	// state.
	DataDir string
	// SecretKeyFile is the absolute path of the gateway's 32-byte key,
	// which keys credential fingerprints (in logs and failure counters)
	// and encrypts stored second-factor secrets. Gateways sharing Redis
	// or PostgreSQL must share it.
	SecretKeyFile string
	// SecretKeyShared reports whether the file named SecretKeyFile itself
	// (instead of taking the default in DataDir, created on first use).
	SecretKeyShared bool
	// Realm is the default realm sent in WWW-Authenticate challenges.
	Realm string
	// TrustedProxies are the networks whose X-Forwarded-* headers are
	// believed. Empty means none: the peer address is the client.
	TrustedProxies []netip.Prefix
	// Store configures the embedded store.
	Store Store
	// Users configures where user accounts come from besides the store.
	Users Users
	// Passwords configures password checks and hashing.
	Passwords Passwords
	// APIKeys configures how API keys are presented.
	APIKeys APIKeys
	// IdentityHeaders names the headers that carry the proven identity to
	// the upstream or the forward-auth caller.
	IdentityHeaders IdentityHeaders
	// Limits bounds what the gateway accepts from a request.
	Limits Limits
	// Log configures the gateway's own log and the sign-in log.
	Log Log
	// Admin configures the admin API and metrics listener.
	Admin Admin
	// Throttle configures failure counting, delays, lockouts and 429s.
	Throttle Throttle
	// Portal configures the sign-in pages under Portal.Path.
	Portal Portal
	// Sessions configures the portal's browser sessions.
	Sessions Sessions
	// TwoFactor configures 2-step verification with authenticator apps.
	TwoFactor TwoFactor
	// Redis is the shared Redis server, when some part uses one
	// (throttle.store or sessions.store: redis); its Address is "" otherwise.
	Redis Redis
	// Issuers are the token issuers whose JWTs bearer routes accept.
	Issuers []*Issuer
	// Routes are the protected routes, in file order; there is at least one.
	Routes []*Route
}

// Route returns the route called name, or nil if there is none.
func (c *Config) Route(name string) *Route {
	for _, r := range c.Routes {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Issuer returns the issuer called name, or nil if there is none.
func (c *Config) Issuer(name string) *Issuer {
	for _, is := range c.Issuers {
		if is.Name == name {
			return is
		}
	}
	return nil
}

// The user and key stores (store.type).
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Store configures the user and key store.
type Store struct {
	// Type is StoreSQLite (the default: a file in the data directory) or
	// StorePostgres (several gateways share one database).
	Type string
	// PostgresDSN names the PostgreSQL database when Type is postgres. It
	// may hold a password: never print it.
	PostgresDSN string
	// SQLite is the absolute path of the database file (relative paths in
	// the file are resolved against DataDir).
	SQLite string
	// RefreshInterval is how often cached users and keys are reloaded.
	RefreshInterval time.Duration
	// MaxStale is how long the cached users and keys keep serving while
	// reloads fail; after it, requests get 503 store_unavailable.
	MaxStale time.Duration
}

// Users configures extra sources of user accounts.
type Users struct {
	// Htpasswd is the absolute path of an htpasswd file read as it is, or
	// "" for none.
	Htpasswd string
}

// HashPriority is the CPU priority password hashes are computed at.
type HashPriority string

const (
	// HashPriorityLow computes hashes on threads of the lowest priority, so
	// that a burst of password checks slows itself rather than every other
	// request.
	HashPriorityLow HashPriority = "low"
	// HashPriorityNormal computes hashes at the process's priority.
	HashPriorityNormal HashPriority = "normal"
)

// Passwords configures password verification.
type Passwords struct {
	// KeepPrevious is how long hashes of replaced passwords are kept, so a
	// client still sending the old one gets password_previous.
	KeepPrevious time.Duration
	// DetectSlips reports whether near-misses (caps lock, a trailing
	// newline) are recognised and reported as such.
	DetectSlips bool
	// PreviousChecked is how many previous passwords are compared (0..5).
	PreviousChecked int
	// MaxConcurrentHashes bounds parallel hash computations; 0 means half
	// the CPUs, at least one.
	MaxConcurrentHashes int
	// HashPriority is the CPU priority of hash computations: HashPriorityLow
	// (the default) or HashPriorityNormal.
	HashPriority HashPriority
	// QueueTimeout is how long a check waits for a hashing slot before the
	// request is answered 503.
	QueueTimeout time.Duration
	// Argon2 holds the argon2id parameters for new hashes.
	Argon2 Argon2
	// UpgradeHashes makes a stored hash of another format or with other
	// argon2id parameters be made again with Argon2 after its password
	// matched (in the background); true unless the file says false.
	UpgradeHashes bool
	// HashProcess computes password hashes in a child process of the
	// gateway (at HashPriority) instead of in its own; true unless the
	// file says false.
	HashProcess bool
	// MaxAge is how long a password stays valid after it was set; a
	// correct password older than that is refused with password_expired.
	// Zero: passwords never expire.
	MaxAge time.Duration
}

// The throttle stores (throttle.store).
const (
	ThrottleMemory = "memory"
	ThrottleRedis  = "redis"
)

// Throttle configures the failure counters.
type Throttle struct {
	// Enabled is false only when the file says throttle: {enabled: false}.
	Enabled bool
	// Store is ThrottleMemory (per gateway) or ThrottleRedis (shared by
	// every gateway using the same Redis and prefix).
	Store string
	// Prefix starts every Redis key the counters write.
	Prefix string
	// ExemptNetworks are source networks whose failures are never counted
	// nor refused (monitoring, a trusted office).
	ExemptNetworks []netip.Prefix
	// MaxKeys bounds the memory store (and the per-node fallback while
	// Redis is down).
	MaxKeys int
	// Rules holds one rule per counter: user, pair, address, network and
	// credential. A counter set to off has no rule.
	Rules map[string]ThrottleRule
}

// The throttle counters, as named in the file.
const (
	CounterUser       = "user"       // a user name, across every source
	CounterPair       = "pair"       // a user name from one source (address or /64)
	CounterAddress    = "address"    // one source address
	CounterNetwork    = "network"    // the IPv6 /64 of a source
	CounterCredential = "credential" // one presented credential (its fingerprint)
)

// ThrottleCounters lists the counters in the order the docs show them.
var ThrottleCounters = []string{CounterPair, CounterUser, CounterAddress, CounterNetwork, CounterCredential}

// ThrottleRule is one counter's limit (see throttle.Rule).
type ThrottleRule struct {
	// Limit is the number of failures within Window after which attempts
	// are refused with 429.
	Limit int
	// Window is how long a failure counts.
	Window time.Duration
	// Lock, when positive, makes reaching Limit lock the counter for Lock;
	// zero makes it a sliding limit.
	Lock time.Duration
	// FreeFailures are answered without delay.
	FreeFailures int
	// Delay is the delay of the first failure past FreeFailures, doubling
	// for each further one up to MaxDelay. Zero: no delay.
	Delay    time.Duration
	MaxDelay time.Duration
}

// Portal configures the sign-in portal: the pages where people sign in with
// a password and a 2-step code, enroll an authenticator app and sign out.
type Portal struct {
	// Path is the reserved path prefix of the portal and of the
	// forward-auth endpoint (Path+"verify"); it starts and ends with "/".
	Path string
	// Title is the heading of the pages.
	Title string
	// AllowedHosts are the hosts a sign-in may return to ("app.example.com",
	// "*.example.com"); the gateway's own host and relative paths always
	// may. Default: the hosts of the routes that accept session.
	AllowedHosts []string
	// Detail is how much the pages say about a refused sign-in.
	Detail Detail
	// SecureCookies is SecureAuto (Secure when the request came over
	// HTTPS, directly or as X-Forwarded-Proto from a trusted proxy),
	// SecureAlways or SecureNever.
	SecureCookies string
	// CookieName names the session cookie.
	CookieName string
}

// The portal's secure_cookies values.
const (
	SecureAuto   = "auto"
	SecureAlways = "always"
	SecureNever  = "never"
)

// The session stores (sessions.store).
const (
	SessionsMemory = "memory"
	SessionsRedis  = "redis"
)

// Sessions configures browser sessions.
type Sessions struct {
	// Store is SessionsMemory (per gateway) or SessionsRedis (shared).
	Store string
	// Prefix starts every Redis key of the session store.
	Prefix string
	// IdleTimeout ends a session unused that long (session_idle_timeout).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session that long after sign-in
	// (session_expired), however active; at least IdleTimeout.
	AbsoluteTimeout time.Duration
	// MaxSessions bounds the memory store.
	MaxSessions int
}

// The two_factor.enroll values.
const (
	EnrollOptional = "optional"
	EnrollRequired = "required"
)

// TwoFactor configures 2-step verification (TOTP, RFC 6238).
type TwoFactor struct {
	// Issuer is the name authenticator apps show next to the account.
	Issuer string
	// Enroll is EnrollOptional (users enroll when a route with
	// policy.require_2fa asks them to) or EnrollRequired (every sign-in
	// through the portal enrolls, then asks for a code).
	Enroll string
	// RecoveryCodes is how many single-use recovery codes an enrollment
	// makes (0..20).
	RecoveryCodes int
}

// Redis configures the connection to a Redis server.
type Redis struct {
	// Address is host:port.
	Address string
	// Username and Password authenticate (Redis 6 ACL); Password may be
	// read from a file and must never be printed.
	Username string
	Password string
	// DB is the database number.
	DB int
	// Timeout bounds one round trip; a slower Redis counts as down.
	Timeout time.Duration
}

// Argon2 holds argon2id parameters (RFC 9106).
type Argon2 struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Iterations is the time cost.
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
}

// APIKeys configures how clients present API keys.
type APIKeys struct {
	// Header is the request header that carries the key, in canonical form
	// (X-Api-Key), as are all header names in Config.
	Header string
}

// IdentityHeaders names the headers set on allowed requests.
type IdentityHeaders struct {
	// Subject carries the principal's subject.
	Subject string
	// Method carries the method that proved it (basic, bearer, api_key).
	Method string
	// Scopes carries the principal's scopes, space-separated.
	Scopes string
	// Issuer carries the name of the issuer of a bearer token (empty for
	// other methods): a sub is unique only within its issuer.
	Issuer string
}

// Limits bounds request input.
type Limits struct {
	// MaxCredentialBytes is the largest credential accepted (256..65536).
	MaxCredentialBytes int
}

// Log configures logging.
type Log struct {
	// Level is the lowest level written.
	Level slog.Level
	// Format is LogJSON or LogText.
	Format LogFormat
	// KeepLast is how many recent sign-in events are kept in memory for
	// explain and the console.
	KeepLast int
	// Decisions says which decisions get a line in this log: DecisionsAll,
	// DecisionsRefused (the default with a durable sign-in log, which holds
	// every decision anyway) or DecisionsNone.
	Decisions string
	// Store is where the sign-in log is kept: LogStoreSQLite or
	// LogStorePostgres.
	Store string
	// SQLite is the absolute path of the sign-in log database.
	SQLite string
	// PostgresDSN names the PostgreSQL database when Store is postgres. It
	// may hold a password: never print it.
	PostgresDSN string
	// RetentionDays is how long events are kept; 0 keeps them forever.
	RetentionDays int
	// BatchInterval is how often recorded events are written; a crash
	// loses at most the events of one interval.
	BatchInterval time.Duration
	// SpoolMaxBytes bounds the on-disk spool used while the store is down.
	SpoolMaxBytes int64
}

// Admin configures the admin API and metrics listener.
type Admin struct {
	// Listen is its host:port, or "" when it is off (the default).
	Listen string
	// Token is the bearer token the admin API requires. Never print it.
	Token string
}

// LogFormat is how log lines are written.
type LogFormat string

// The log formats.
const (
	LogJSON LogFormat = "json"
	LogText LogFormat = "text"
)

// Issuer is a token issuer whose JWTs bearer routes accept. Exactly one of
// JWKSFile, JWKSURL and DiscoveryURL is set.
type Issuer struct {
	// Name is the issuer's short name, used by policy.issuers and in logs.
	Name string
	// Issuer is the exact iss claim its tokens carry. It is checked to be
	// an absolute URL but kept as written, since iss is compared as a
	// string.
	Issuer string
	// JWKSFile is the absolute path of a local JWKS file, or "".
	JWKSFile string
	// JWKSURL is the issuer's JWKS endpoint, or nil.
	JWKSURL *url.URL
	// DiscoveryURL is the issuer's OpenID discovery document, or nil.
	DiscoveryURL *url.URL
	// Audiences are the aud values accepted; never empty (RFC 8725 §3.9).
	Audiences []string
	// Algorithms is the allow-list of signing algorithms.
	Algorithms []string
	// Leeway is the clock skew tolerated on exp, nbf and iat (0..5m).
	Leeway time.Duration
	// RefreshInterval is how often keys are refetched.
	RefreshInterval time.Duration
	// MinRefreshInterval is the shortest gap between refetches triggered
	// by an unknown kid.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one fetch of the keys or discovery document.
	FetchTimeout time.Duration
	// Line is the line of the file where the issuer starts.
	Line int
}

// Route is a protected part of the URL space.
type Route struct {
	// Name identifies the route in logs, metrics and explain output.
	Name string
	// Host is the lower-case host to match: an exact name, "*.example.com"
	// for any subdomain, or "" for any host.
	Host string
	// Path is the path prefix to match; it starts with "/".
	Path string
	// Upstream is where allowed requests are proxied, or nil for a route
	// used only through forward-auth.
	Upstream *url.URL
	// Accept lists the methods the route accepts, in file order; never
	// empty.
	Accept []authgate.Method
	// ForwardCredentials reports whether the caller's credential is passed
	// on to the upstream.
	ForwardCredentials bool
	// Detail is how much of a refusal's reason the public answer shows.
	Detail Detail
	// Realm is the realm of this route's challenges.
	Realm string
	// Policy holds the checks run after a credential is verified.
	Policy Policy
	// Line is the line of the file where the route starts.
	Line int
}

// Accepts reports whether the route accepts method m.
func (r *Route) Accepts(m authgate.Method) bool {
	for _, a := range r.Accept {
		if a == m {
			return true
		}
	}
	return false
}

// Detail is how much a public refusal says.
type Detail string

// The detail levels.
const (
	// DetailMinimal shows only what the caller can act on without
	// revealing, say, whether a user name exists. It is the default.
	DetailMinimal Detail = "minimal"
	// DetailVerbose shows the precise reason; meant for development.
	DetailVerbose Detail = "verbose"
)

// Policy holds a route's rules beyond a valid credential.
type Policy struct {
	// Scopes must all be held by the principal.
	Scopes []string
	// Issuers, if set, restricts bearer tokens to these issuer names.
	Issuers []string
	// Audiences, if set, further restricts the tokens' aud.
	Audiences []string
	// Networks, if set, restricts the client address to these networks.
	Networks []netip.Prefix
	// Require2FA makes the route refuse identities proved without a
	// second factor (second_factor_required); browsers are sent to the
	// portal's 2-step page.
	Require2FA bool
}
