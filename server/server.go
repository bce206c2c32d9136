// Package server builds a running gateway from a validated configuration:
// it opens the store, builds one verifier per method, the decision engine,
// the sign-in recorder and the HTTP handler, and owns the listener. The CLI
// (serve, quickstart) and end-to-end tests use it the same way.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/decision"
	"github.com/authgate/authgate/gateway"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/verify/password"
)

// Options are what a Server needs beyond its configuration.
type Options struct {
	// LogOutput receives the structured log; os.Stderr when nil.
	LogOutput io.Writer
	// Now is the clock of every time check; time.Now when nil.
	Now func() time.Time
}

// Server is a gateway built from one configuration.
type Server struct {
	cfg      *config.Config
	logger   *slog.Logger
	now      func() time.Time
	store    accounts.Store
	users    authgate.UserStore // the store, then a users file read as it is
	throttle *throttling
	browser  *browser
	recorder *signinlog.Recorder
	log      *signInLog
	engine   *decision.Engine
	handler  *gateway.Gateway
	starters []func(context.Context)
	// passwords checks Basic and portal passwords; nil when no route
	// accepts them.
	passwords *password.Verifier
	// hashThreads is how many password hashes may run at once on threads
	// of the lowest priority (password.Verifier.LowPriorityThreads).
	hashThreads int

	ln     net.Listener
	http   *http.Server
	cancel context.CancelFunc
	served chan error

	shutdown    sync.Once
	shutdownErr error
}

// New builds every piece of the gateway. Nothing listens yet; call Start.
func New(cfg *config.Config, opts Options) (_ *Server, err error) {
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	out := &lockedWriter{w: opts.LogOutput}
	s := &Server{cfg: cfg, logger: slog.New(handlerFor(cfg.Log)(out)), now: opts.Now}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data directory: %w — check the permissions of data_dir %s", err, cfg.DataDir)
	}
	key, err := LoadSecretKey(cfg)
	if err != nil {
		return nil, err
	}
	if !cfg.SecretKeyShared && (cfg.Throttle.Enabled && cfg.Throttle.Store == config.ThrottleRedis || cfg.Store.Type == config.StorePostgres) {
		s.logger.Warn("this gateway shares state but keeps its own secret key in data_dir: credential fingerprints, and so the credential failure counter, differ between gateways — give them one secret_key_file")
	}
	if s.store, err = OpenAccounts(context.Background(), cfg, AccountsOptions{Now: opts.Now, Logger: s.logger}); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.store.Close()
		}
	}()
	if s.throttle, err = newThrottling(cfg, s.store, s.logger); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.throttle.close()
			s.browser.close()
		}
	}()
	verifiers, starters, err := s.verifiers(key, opts.Now)
	if err != nil {
		return nil, err
	}
	if s.browser, err = newBrowser(cfg, s.store, s.users, key, opts.Now); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.browser.close()
		}
	}()
	if s.browser != nil && cfg.Sessions.Store == config.SessionsMemory && cfg.Store.Type == config.StorePostgres {
		s.logger.Warn("sessions are kept in this gateway's memory while users are shared in PostgreSQL: behind a load balancer a browser signed in on one gateway is unknown to the others, and a 2-step code can be used once on each — set sessions: {store: redis}")
	}
	if s.browser != nil {
		verifiers[authgate.MethodSession] = s.browser.verifier
		verifiers[authgate.MethodTOTP] = s.browser.twoStep
	}
	s.starters = starters
	ropts := signinlog.RecorderOptions{Output: out, Text: cfg.Log.Format == config.LogText, Level: cfg.Log.Level, Keep: cfg.Log.KeepLast,
		RefusedOnly: cfg.Log.Decisions == config.DecisionsRefused,
		// The durable sign-in log keeps each trace; the line says why.
		Summary: cfg.Log.Store != config.LogStoreNone}
	if cfg.Log.Decisions == config.DecisionsNone {
		ropts.Output = nil
	}
	s.recorder = signinlog.New(ropts)
	if s.log, err = openSignInLog(cfg, s.recorder, s.logger, opts.Now); err != nil {
		s.recorder.Close()
		return nil, err
	}
	s.engine = &decision.Engine{
		Routes:         policyTable(cfg),
		Extractor:      extractor(cfg),
		Verifiers:      verifiers,
		FingerprintKey: key,
		Now:            opts.Now,
		Sink:           s.log.sink(),
	}
	if s.throttle != nil {
		s.engine.Guard = s.throttle.guard
		s.log.metrics.WatchThrottle(s.throttle.stats)
	}
	s.handler = gateway.New(gateway.Config{
		Engine:         s.engine,
		Targets:        targets(cfg),
		TrustedProxies: cfg.TrustedProxies,
		IdentityHeaders: gateway.IdentityHeaders{
			Subject: cfg.IdentityHeaders.Subject, Method: cfg.IdentityHeaders.Method,
			Scopes: cfg.IdentityHeaders.Scopes, Issuer: cfg.IdentityHeaders.Issuer,
		},
		APIKeyHeader:  cfg.APIKeys.Header,
		SessionCookie: sessionCookie(cfg),
		Realm:         cfg.Realm,
		Prefix:        cfg.Portal.Path,
		Logger:        s.logger,
		Now:           opts.Now,
	})
	if s.browser != nil {
		s.handler.Mount(s.browser.portal(cfg, s, key, s.handler))
	}
	return s, nil
}

// Handler is the gateway's HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the gateway's user and key store.
func (s *Server) Store() accounts.Store { return s.store }

// Events is the durable sign-in log.
func (s *Server) Events() signinlog.Store { return s.log.events }

// Metrics is the gateway's Prometheus registry.
func (s *Server) Metrics() *prometheus.Registry { return s.log.metrics.Registry }

// AdminURL is the admin API's base URL, or "" when it is off.
func (s *Server) AdminURL() string {
	if s.log.adminLn == nil {
		return ""
	}
	return "http://" + s.log.adminLn.Addr().String()
}

// Recorder holds the most recent decisions.
func (s *Server) Recorder() *signinlog.Recorder { return s.recorder }

// LowPriorityHashThreads is how many password hashes the gateway may
// compute at once on threads of the lowest priority: 0 when no route
// checks passwords or passwords.hash_priority is normal. A process serving
// one gateway adds that many to GOMAXPROCS, so that running hashes do not
// hold the Ps that requests need.
func (s *Server) LowPriorityHashThreads() int { return s.hashThreads }

// Logger is the gateway's structured logger.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Start fetches issuer keys in the background and starts listening on the
// configured address. A busy port is an error that says how to pick
// another.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen on %s: the address is in use by another program — stop it or choose another port (listen: in the configuration, or --listen)", s.cfg.Listen)
		}
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln, which the Server then owns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.log.startAdmin(s.cfg, s.store, s.store, s.logger, s.now); err != nil {
		ln.Close()
		return err
	}
	ctx, s.cancel = context.WithCancel(ctx)
	for _, start := range s.starters {
		start(ctx)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	go s.log.purgeLoop(ctx, s.cfg.Log.RetentionDays, s.logger, s.now)
	if s.throttle != nil {
		go s.throttle.sweep(ctx, s.now)
	}
	if s.browser != nil {
		go s.browser.sweep(ctx, s.now)
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.http.Serve(ln) }()
	s.logger.Info("authgate listening", "url", s.URL(), "routes", len(s.cfg.Routes), "config", s.cfg.File)
	return nil
}

// URL is the base URL the gateway listens on.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Shutdown stops accepting requests, waits for those in flight (until ctx
// ends), writes every recorded decision and closes the store. Calling it
// again returns the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Do(func() { s.shutdownErr = s.stop(ctx) })
	return s.shutdownErr
}

// stop does the work of Shutdown, once.
func (s *Server) stop(ctx context.Context) error {
	var err error
	if s.http != nil {
		err = s.http.Shutdown(ctx)
		<-s.served
	}
	if s.cancel != nil {
		s.cancel()
	}
	// Every decided request's event goes to the store (or the spool)
	// before the process exits.
	// Its own deadline: the requests' may already have run out.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if lerr := s.log.close(flushCtx); err == nil {
		err = lerr
	}
	s.recorder.Close()
	s.throttle.close()
	s.browser.close()
	if s.passwords != nil {
		s.passwords.Close() // before the store its upgrades write to
	}
	if cerr := s.store.Close(); err == nil {
		err = cerr
	}
	s.logger.Info("authgate stopped")
	return err
}

var _ authgate.EventSink = (*signinlog.Recorder)(nil)
