package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/authgate/authgate/internal/hashproc"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/credential"
	"github.com/authgate/authgate/gateway"
	"github.com/authgate/authgate/htpasswd"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/verify/apikey"
	"github.com/authgate/authgate/verify/jwt"
	"github.com/authgate/authgate/verify/password"
)

// handlerFor makes the slog handlers of the configured format and level.
func handlerFor(c config.Log) func(io.Writer) slog.Handler {
	o := &slog.HandlerOptions{Level: c.Level}
	if c.Format == config.LogText {
		return func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, o) }
	}
	return func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, o) }
}

// lockedWriter serialises writes from the gateway's logger and the
// decision recorder's buffer, so lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// LoadSecretKey reads the gateway's 32-byte key from secret_key_file. It
// keys secret fingerprints (the sign-in log, the credential failure
// counter) and the verified-credential cache; it never leaves its file.
// The default file in data_dir is created on first use; a file the
// configuration names must exist, since gateways sharing Redis or
// PostgreSQL must share one key. The file holds 32 raw bytes or 64 hex
// digits.
func LoadSecretKey(cfg *config.Config) ([]byte, error) {
	path := cfg.SecretKeyFile
	const fix = "make one with: head -c 32 /dev/urandom > %s && chmod 600 %s"
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		if k, ok := parseSecretKey(key); ok {
			return k, nil
		}
		return nil, fmt.Errorf("secret key %s is %d bytes, want 32 raw bytes or 64 hex digits — "+fix+" (fingerprints in older logs will no longer match)", path, len(key), path, path)
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("cannot read the secret key %s: %w", path, err)
	case cfg.SecretKeyShared:
		return nil, fmt.Errorf("secret_key_file %s does not exist — "+fix+", and give every gateway sharing Redis or PostgreSQL the same file", path, path, path)
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("cannot write the gateway key: %w — check that data_dir %s is writable", err, cfg.DataDir)
	}
	return key, nil
}

// parseSecretKey accepts 32 raw bytes, or 64 hex digits with an optional
// trailing newline.
func parseSecretKey(b []byte) ([]byte, bool) {
	if len(b) == 32 {
		return b, true
	}
	if h := strings.TrimSpace(string(b)); len(h) == 64 {
		if k, err := hex.DecodeString(h); err == nil {
			return k, true
		}
	}
	return nil, false
}

// verifiers builds one verifier per method some route accepts.
func (s *Server) verifiers(key []byte, now func() time.Time) (map[authgate.Method]authgate.Verifier, []func(context.Context), error) {
	cfg := s.cfg
	used := map[authgate.Method]bool{}
	for _, r := range cfg.Routes {
		for _, m := range r.Accept {
			used[m] = true
		}
	}
	vs := map[authgate.Method]authgate.Verifier{}
	var starters []func(context.Context)
	// The portal's sign-in form checks passwords too.
	if used[authgate.MethodBasic] || used[authgate.MethodSession] {
		users := authgate.UserStore(s.store)
		if cfg.Users.Htpasswd != "" {
			f, err := htpasswd.Load(cfg.Users.Htpasswd)
			if err != nil {
				return nil, nil, err
			}
			users = chain{s.store, f}
			starters = append(starters, func(ctx context.Context) { go reloadEvery(ctx, f, cfg.Store.RefreshInterval, s.logger) })
		}
		s.users = users
		previous := cfg.Passwords.PreviousChecked
		if previous == 0 {
			previous = -1 // the verifier reads 0 as "default"; the file says none
		}
		opts := password.Options{
			Now:             now,
			KeepPrevious:    cfg.Passwords.KeepPrevious,
			DetectSlips:     cfg.Passwords.DetectSlips,
			PreviousChecked: previous,
			MaxConcurrent:   cfg.Passwords.MaxConcurrentHashes,
			NormalPriority:  cfg.Passwords.HashPriority == config.HashPriorityNormal,
			QueueTimeout:    cfg.Passwords.QueueTimeout,
			CacheKey:        key,
			Argon2:          Argon2(cfg),
			MaxAge:          cfg.Passwords.MaxAge,
			Logger:          s.logger,
		}
		if cfg.Passwords.UpgradeHashes {
			opts.Upgrade = s.store
		}
		if cfg.Passwords.HashProcess {
			var err error
			if opts.Process, err = hashproc.Executable(); err != nil {
				s.logger.Warn("password hashes are computed in the gateway's own process: its executable cannot be found to start the hash process", "error", err.Error())
			}
		}
		v := password.New(users, opts)
		s.passwords = v
		vs[authgate.MethodBasic] = v
		s.hashThreads = v.LowPriorityThreads()
	}
	if used[authgate.MethodAPIKey] {
		vs[authgate.MethodAPIKey] = apikey.New(s.store, apikey.Options{Now: now})
	}
	if used[authgate.MethodBearer] {
		issuers := make([]jwt.Issuer, len(cfg.Issuers))
		for i, is := range cfg.Issuers {
			leeway := is.Leeway
			if leeway == 0 {
				leeway = jwt.NoLeeway // the file said 0; the verifier reads 0 as "default"
			}
			issuers[i] = jwt.Issuer{
				Name: is.Name, Issuer: is.Issuer, JWKSFile: is.JWKSFile,
				JWKSURL: urlString(is.JWKSURL), DiscoveryURL: urlString(is.DiscoveryURL),
				Audiences: is.Audiences, Algorithms: is.Algorithms, Leeway: leeway,
				RefreshInterval: is.RefreshInterval, MinRefreshInterval: is.MinRefreshInterval, FetchTimeout: is.FetchTimeout,
			}
		}
		v, err := jwt.New(issuers, jwt.Options{Now: now, Logger: s.logger})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: issuers: %w", cfg.File, err)
		}
		vs[authgate.MethodBearer] = v
		starters = append(starters, v.Start)
	}
	return vs, starters, nil
}

// Argon2 returns the configured parameters for new password hashes.
func Argon2(cfg *config.Config) passhash.Argon2Params {
	a := cfg.Passwords.Argon2
	return passhash.Argon2Params{MemoryKiB: a.MemoryKiB, Iterations: a.Iterations, Parallelism: a.Parallelism}
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func policyTable(cfg *config.Config) *policy.Table {
	routes := make([]*policy.Route, len(cfg.Routes))
	for i, r := range cfg.Routes {
		routes[i] = &policy.Route{
			Name: r.Name, Host: r.Host, Path: r.Path, Accept: r.Accept,
			Scopes: r.Policy.Scopes, Issuers: r.Policy.Issuers, Audiences: r.Policy.Audiences,
			Networks: r.Policy.Networks, Require2FA: r.Policy.Require2FA, Verbose: r.Detail == config.DetailVerbose, Realm: r.Realm,
		}
	}
	return policy.NewTable(routes)
}

func extractor(cfg *config.Config) *credential.Extractor {
	return &credential.Extractor{APIKeyHeader: cfg.APIKeys.Header, MaxBytes: cfg.Limits.MaxCredentialBytes, SessionCookie: sessionCookie(cfg)}
}

// sessionCookie names the session cookie, or "" when no route takes
// sessions.
func sessionCookie(cfg *config.Config) string {
	if !acceptsSessions(cfg) {
		return ""
	}
	return cfg.Portal.CookieName
}

func targets(cfg *config.Config) map[string]gateway.RouteTarget {
	t := make(map[string]gateway.RouteTarget, len(cfg.Routes))
	for _, r := range cfg.Routes {
		t[r.Name] = gateway.RouteTarget{Upstream: r.Upstream, ForwardCredentials: r.ForwardCredentials}
	}
	return t
}
