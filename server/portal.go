package server

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/gateway"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/portal"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/verify/totp"
)

// browser is the part of the gateway for people: the session store, the
// session verifier routes use, and the sign-in portal.
type browser struct {
	sessions session.Store
	memory   *session.Memory // nil unless sessions.store is memory
	client   *redis.Client   // nil unless sessions.store is redis
	verifier *session.Verifier
	twoStep  *totp.MethodVerifier
}

// acceptsSessions reports whether some route accepts session, which is
// what turns the portal on.
func acceptsSessions(cfg *config.Config) bool {
	for _, r := range cfg.Routes {
		if r.Accepts(authgate.MethodSession) {
			return true
		}
	}
	return false
}

// newBrowser opens the session store and builds the verifiers of the
// session and TOTP methods; nil when no route accepts session.
// Passwords and sessions look users up in users (the store, then a users
// file); second factors live in store only.
func newBrowser(cfg *config.Config, store accounts.Store, users authgate.UserStore, key []byte, now func() time.Time) (*browser, error) {
	if !acceptsSessions(cfg) {
		return nil, nil
	}
	b := &browser{}
	switch cfg.Sessions.Store {
	case config.SessionsRedis:
		quietRedis.Do(func() { redis.SetLogger(discardRedisLog{}) })
		b.client = NewRedisClient(cfg.Redis)
		r, err := session.NewRedis(b.client, session.RedisOptions{Prefix: cfg.Sessions.Prefix, Timeout: cfg.Redis.Timeout, Now: now})
		if err != nil {
			b.client.Close()
			return nil, fmt.Errorf("sessions: %w", err)
		}
		b.sessions = r
	default:
		b.memory = session.NewMemory(session.MemoryOptions{Now: now, MaxSessions: cfg.Sessions.MaxSessions})
		b.sessions = b.memory
	}
	b.verifier = session.NewVerifier(b.sessions, users, session.VerifierOptions{
		IdleTimeout: cfg.Sessions.IdleTimeout, AbsoluteTimeout: cfg.Sessions.AbsoluteTimeout, Now: now,
		SecondFactorAlways: cfg.TwoFactor.Enroll == config.EnrollRequired})
	codes, err := totp.New(key, b.sessions, store, totp.Params{})
	if err != nil {
		b.close()
		return nil, err
	}
	b.twoStep = &totp.MethodVerifier{Users: users, Codes: codes, Now: now}
	return b, nil
}

// portal builds the sign-in pages on the gateway's engine; g tells client
// addresses and schemes as for every other request.
func (b *browser) portal(cfg *config.Config, s *Server, key []byte, g *gateway.Gateway) *portal.Portal {
	return portal.New(portal.Config{
		Prefix: cfg.Portal.Path, Title: cfg.Portal.Title, Engine: s.engine,
		Route: &policy.Route{Name: portal.RouteName, Accept: []authgate.Method{authgate.MethodBasic, authgate.MethodTOTP},
			FirstFactor: true, Verbose: cfg.Portal.Detail == config.DetailVerbose},
		Accounts: s.store, Users: s.users, Sessions: b.sessions, SessionVerifier: b.verifier, TwoStep: b.twoStep,
		Sealer: totp.NewSealer(key), Key: key, Issuer: cfg.TwoFactor.Issuer,
		EnrollRequired: cfg.TwoFactor.Enroll == config.EnrollRequired, RecoveryCodes: cfg.TwoFactor.RecoveryCodes,
		AllowedHosts: cfg.Portal.AllowedHosts, CookieName: cfg.Portal.CookieName, SecureCookies: cfg.Portal.SecureCookies,
		IdleTimeout: cfg.Sessions.IdleTimeout, AbsoluteTimeout: cfg.Sessions.AbsoluteTimeout,
		ClientAddr: g.ClientAddr, IsHTTPS: g.IsHTTPS, Now: s.now, Logger: s.logger,
	})
}

// sweep drops expired in-memory sessions every minute until ctx ends.
func (b *browser) sweep(ctx context.Context, now func() time.Time) {
	if b.memory == nil {
		return
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.memory.Sweep(now())
		}
	}
}

func (b *browser) close() {
	if b != nil && b.client != nil {
		b.client.Close()
	}
}
