package config

import (
	"log/slog"
	"net/netip"
	"net/textproto"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var topSpec = sectionSpec{
	where: "at the top level",
	keys: []string{"listen", "data_dir", "secret_key_file", "realm", "trusted_proxies", "store", "users", "passwords",
		"api_keys", "identity_headers", "limits", "log", "admin", "throttle", "portal", "sessions", "two_factor", "redis", "issuers", "routes"},
	elsewhere: map[string]string{
		"upstream": "to a route, under routes:", "accept": "to a route, under routes:",
		"path": "to a route, under routes:", "host": "to a route, under routes:",
		"policy": "to a route, under routes:", "detail": "to a route, under routes:",
		"forward_credentials": "to a route, under routes:",
		"jwks_url":            "to an issuer, under issuers:", "jwks_file": "to an issuer, under issuers:",
		"discovery_url": "to an issuer, under issuers:", "audiences": "to an issuer, under issuers:",
		"algorithms": "to an issuer, under issuers:", "leeway": "to an issuer, under issuers:",
		"sqlite": "under store:", "htpasswd": "under users:", "header": "under api_keys:",
		"level": "under log:", "format": "under log:", "keep_last": "under log:",
		"max_credential_bytes": "under limits:", "argon2": "under passwords:",
		"keep_previous": "under passwords:", "detect_slips": "under passwords:", "max_age": "under passwords:",
		"postgres_dsn":      "under store: (users and keys) or log: (the sign-in log)",
		"postgres_dsn_file": "under store: (users and keys) or log: (the sign-in log)",
		"exempt_networks":   "under throttle:", "max_keys": "under throttle:",
		"prefix": "under throttle: (failure counters) or sessions: (browser sessions)",
		"pair":   "under throttle:", "user": "under throttle:", "network": "under throttle:", "credential": "under throttle:",
		"address": "under throttle: (the per-address counter) or redis: (the server's host:port)",
		"limit":   counterUnderThrottle, "window": counterUnderThrottle, "lock": counterUnderThrottle,
		"free_failures": counterUnderThrottle, "delay": counterUnderThrottle, "max_delay": counterUnderThrottle,
		"password_file": "under redis:", "db": "under redis:",
		"title": "under portal:", "allowed_hosts": "under portal:", "secure_cookies": "under portal:", "cookie_name": "under portal:",
		"idle_timeout": "under sessions:", "absolute_timeout": "under sessions:", "max_sessions": "under sessions:",
		"enroll": "under two_factor:", "recovery_codes": "under two_factor:",
		"require_2fa": "to a route's policy:, e.g. policy: {require_2fa: true}",
	},
}

const counterUnderThrottle = "to a counter under throttle:, e.g. throttle: {pair: {limit: 5, window: 15m}}"

var usersSpec = sectionSpec{where: "in users", prefix: "users.", keys: []string{"htpasswd"},
	example: "users: {htpasswd: /etc/nginx/.htpasswd}"}

var passwordsSpec = sectionSpec{where: "in passwords", prefix: "passwords.",
	keys:    []string{"keep_previous", "detect_slips", "previous_checked", "max_concurrent_hashes", "hash_priority", "queue_timeout", "argon2", "upgrade_hashes", "hash_process", "max_age"},
	example: "passwords: {keep_previous: 90d}"}

var argon2Spec = sectionSpec{where: "in passwords.argon2", prefix: "passwords.argon2.",
	keys:    []string{"memory_kib", "iterations", "parallelism"},
	example: "argon2: {memory_kib: 7168, iterations: 5, parallelism: 1}"}

var apiKeysSpec = sectionSpec{where: "in api_keys", prefix: "api_keys.", keys: []string{"header"},
	example: "api_keys: {header: X-API-Key}"}

var identitySpec = sectionSpec{where: "in identity_headers", prefix: "identity_headers.",
	keys:    []string{"subject", "method", "scopes", "issuer"},
	example: "identity_headers: {subject: X-Authgate-Subject}"}

var limitsSpec = sectionSpec{where: "in limits", prefix: "limits.", keys: []string{"max_credential_bytes"},
	example: "limits: {max_credential_bytes: 8192}"}

var logSpec = sectionSpec{where: "in log", prefix: "log.", keys: []string{"level", "format", "keep_last", "decisions",
	"store", "sqlite", "postgres_dsn", "postgres_dsn_file", "retention_days", "batch_interval", "spool_max_mb"},
	example: "log: {level: info, format: json}"}

var adminSpec = sectionSpec{where: "in admin", prefix: "admin.", keys: []string{"listen", "token", "token_file"},
	example: "admin: {listen: 127.0.0.1:9090, token_file: /etc/authgate/admin-token}"}

// logLevels maps log.level values to slog levels.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// config reads the top-level mapping.
func (d *decoder) config(root *yaml.Node) *Config {
	top := d.section(root, "the configuration", topSpec)
	c := &Config{File: d.file}

	c.Listen = DefaultListen
	if v, n := top.str("listen", DefaultListen); n != nil && !d.report(n.Line, checkListen(v)) {
		c.Listen = v
	}
	c.DataDir = d.resolvePath("data_dir", DefaultDataDir, 0, d.dir)
	if v, n := top.str("data_dir", DefaultDataDir); n != nil {
		c.DataDir = d.resolvePath("data_dir", v, n.Line, d.dir)
	}
	c.SecretKeyFile = d.resolvePath("secret_key_file", DefaultSecretKeyFile, 0, c.DataDir)
	if v, n := top.str("secret_key_file", "/etc/authgate/secret.key"); n != nil {
		c.SecretKeyFile, c.SecretKeyShared = d.resolvePath("secret_key_file", v, n.Line, d.dir), true
	}
	c.Realm = DefaultRealm
	if v, n := top.str("realm", DefaultRealm); n != nil && !d.report(n.Line, checkRealm("realm", v)) {
		c.Realm = v
	}
	c.TrustedProxies = DefaultTrustedProxies()
	if items, n := top.strings("trusted_proxies", "[127.0.0.1/32, ::1/128]"); n != nil {
		c.TrustedProxies = d.prefixes("trusted_proxies", items)
	}

	c.Store = d.store(d.section(top.vals["store"], "store", storeSpec), c.DataDir)

	users := d.section(top.vals["users"], "users", usersSpec)
	if v, n := users.str("htpasswd", "/etc/nginx/.htpasswd"); n != nil {
		c.Users.Htpasswd = d.resolvePath("users.htpasswd", v, n.Line, d.dir)
	}

	c.Passwords = d.passwords(d.section(top.vals["passwords"], "passwords", passwordsSpec))

	keys := d.section(top.vals["api_keys"], "api_keys", apiKeysSpec)
	c.APIKeys.Header = d.header(keys, "header", DefaultAPIKeyHeader)

	ids := d.section(top.vals["identity_headers"], "identity_headers", identitySpec)
	c.IdentityHeaders = IdentityHeaders{
		Subject: d.header(ids, "subject", DefaultSubjectHeader),
		Method:  d.header(ids, "method", DefaultMethodHeader),
		Scopes:  d.header(ids, "scopes", DefaultScopesHeader),
		Issuer:  d.header(ids, "issuer", DefaultIssuerHeader),
	}

	limits := d.section(top.vals["limits"], "limits", limitsSpec)
	c.Limits.MaxCredentialBytes = limits.integer("max_credential_bytes", DefaultMaxCredentialBytes, 256, 65536, "8192")

	logSection := d.section(top.vals["log"], "log", logSpec)
	c.Log = d.log(logSection)
	d.signInLog(logSection, &c.Log, c.DataDir)
	c.Admin = d.admin(d.section(top.vals["admin"], "admin", adminSpec))

	throttle := d.throttleSection(top)
	c.Throttle = d.throttle(throttle)
	portal := d.section(top.vals["portal"], "portal", portalSpec)
	c.Portal = d.portal(portal)
	sessions := d.section(top.vals["sessions"], "sessions", sessionsSpec)
	c.Sessions = d.sessions(sessions)
	twoFactor := d.section(top.vals["two_factor"], "two_factor", twoFactorSpec)
	c.TwoFactor = d.twoFactor(twoFactor, c.Realm)
	c.Redis = d.redis(d.section(top.vals["redis"], "redis", redisSpec), top.keyLine("redis"))

	c.Issuers = d.issuers(top)
	c.Routes = d.routes(top, c.Realm)
	// Which routes accept session decides whether the sections above are
	// used at all, so these checks wait for the routes.
	d.checkRedisUse(c, top, throttle, sessions)
	d.checkPortalUse(c, top, portal, twoFactor)
	return c
}

// passwords reads the passwords section.
func (d *decoder) passwords(s *section) Passwords {
	p := Passwords{
		KeepPrevious:        s.duration("keep_previous", DefaultKeepPrevious, 0, 3650*day),
		DetectSlips:         s.boolean("detect_slips", defaultDetectSlips),
		UpgradeHashes:       s.boolean("upgrade_hashes", defaultUpgradeHashes),
		HashProcess:         s.boolean("hash_process", defaultHashProcess),
		PreviousChecked:     s.integer("previous_checked", DefaultPreviousChecked, 0, 5, "1"),
		MaxConcurrentHashes: s.integer("max_concurrent_hashes", defaultMaxConcurrentHashes, 0, 1024, "0 (automatic: half the CPUs, at least 1)"),
		HashPriority:        HashPriorityLow,
		QueueTimeout:        s.duration("queue_timeout", DefaultQueueTimeout, time.Millisecond, time.Minute),
		MaxAge:              s.duration("max_age", DefaultMaxAge, 0, 3650*day),
	}
	if v, n := s.str("hash_priority", "low"); n != nil {
		if pr := HashPriority(v); pr == HashPriorityLow || pr == HashPriorityNormal {
			p.HashPriority = pr
		} else {
			d.add(n.Line, oneOf(v, []string{"low", "normal"}), "unknown passwords.hash_priority %q", v)
		}
	}
	a := d.section(s.vals["argon2"], "passwords.argon2", argon2Spec)
	p.Argon2 = Argon2{
		MemoryKiB:   uint32(a.integer("memory_kib", DefaultArgon2MemoryKiB, 1024, 4<<20, "7168")),
		Iterations:  uint32(a.integer("iterations", DefaultArgon2Iterations, 1, 100, "5")),
		Parallelism: uint8(a.integer("parallelism", DefaultArgon2Parallelism, 1, 255, "1")),
	}
	return p
}

// log reads the log section.
func (d *decoder) log(s *section) Log {
	l := Log{Level: DefaultLogLevel, Format: DefaultLogFormat}
	if v, n := s.str("level", "info"); n != nil {
		if lv, ok := logLevels[v]; ok {
			l.Level = lv
		} else {
			d.add(n.Line, oneOf(v, []string{"debug", "info", "warn", "error"}), "unknown log.level %q", v)
		}
	}
	if v, n := s.str("format", "json"); n != nil {
		if f := LogFormat(v); f == LogJSON || f == LogText {
			l.Format = f
		} else {
			d.add(n.Line, oneOf(v, []string{"json", "text"}), "unknown log.format %q", v)
		}
	}
	l.KeepLast = s.integer("keep_last", DefaultLogKeepLast, 0, 10_000_000, "1000")
	return l
}

// header reads a header name, returned in canonical form.
func (d *decoder) header(s *section, key, def string) string {
	def = textproto.CanonicalMIMEHeaderKey(def)
	v, n := s.str(key, def)
	if n == nil {
		d.headers = append(d.headers, headerUse{key: s.prefix + key, name: def})
		return def
	}
	if d.report(n.Line, checkHeaderName(s.prefix+key, v)) {
		return def
	}
	v = textproto.CanonicalMIMEHeaderKey(v)
	d.headers = append(d.headers, headerUse{key: s.prefix + key, name: v, line: n.Line})
	return v
}

// prefixes parses a list of networks.
func (d *decoder) prefixes(key string, items []scalar) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(items))
	for _, it := range items {
		p, prob := parsePrefix(key, it.value)
		if !d.report(it.line, prob) {
			out = append(out, p)
		}
	}
	return out
}

// oneOf is the fix for a value outside a closed set: the closest valid
// value if there is one, and the whole set.
func oneOf(v string, valid []string) string {
	list := "use one of " + strings.Join(valid, ", ")
	if best := closest(v, valid); best != "" {
		return "did you mean " + best + "? (" + list + ")"
	}
	return list
}
