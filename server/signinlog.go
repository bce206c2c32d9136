package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/admin"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/metrics"
	"github.com/authgate/authgate/portal"
	"github.com/authgate/authgate/signinlog"
)

// fanout hands each decision to several sinks.
type fanout []authgate.EventSink

func (f fanout) Record(d *authgate.Decision) {
	for _, s := range f {
		s.Record(d)
	}
}

// signInLog is the durable side of the log: the event store, the batching
// writer in front of it, the metrics, and the optional admin listener.
type signInLog struct {
	events  signinlog.Store
	writer  *signinlog.Writer
	metrics *metrics.Metrics
	admin   *http.Server
	adminLn net.Listener
	logger  *slog.Logger
}

// openSignInLog opens the configured store and starts its writer; decisions
// then flow metrics → (memory ring and log line, durable writer).
func openSignInLog(cfg *config.Config, recorder authgate.EventSink, logger *slog.Logger, now func() time.Time) (*signInLog, error) {
	routes := make([]string, len(cfg.Routes))
	for i, r := range cfg.Routes {
		routes[i] = r.Name
	}
	if acceptsSessions(cfg) {
		routes = append(routes, portal.RouteName) // sign-ins on the portal's pages
	}
	if cfg.Log.Store == config.LogStoreNone {
		logger.Warn("no durable sign-in log (log.store: none): decisions are kept in memory and in the log lines only")
		return &signInLog{metrics: metrics.New(routes, recorder)}, nil
	}
	// Long enough for a first start after an upgrade to migrate a large
	// log (about 10 s per million events); connecting is bounded apart.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	events, err := OpenEventStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w, err := signinlog.NewWriter(events, signinlog.WriterOptions{
		BatchInterval: cfg.Log.BatchInterval,
		SpoolDir:      filepath.Join(cfg.DataDir, "spool"),
		SpoolMaxBytes: cfg.Log.SpoolMaxBytes,
		Logger:        logger,
		Now:           now,
	})
	if err != nil {
		events.Close()
		return nil, fmt.Errorf("cannot start the sign-in log writer: %w", err)
	}
	l := &signInLog{events: events, writer: w, logger: logger}
	l.metrics = metrics.New(routes, fanout{recorder, w})
	l.metrics.WatchWriter(w)
	return l, nil
}

// sink is where the engine records decisions.
func (l *signInLog) sink() authgate.EventSink { return l.metrics }

// startAdmin listens for the admin API when the configuration asks for it.
func (l *signInLog) startAdmin(cfg *config.Config, users authgate.UserStore, keys authgate.KeyStore, logger *slog.Logger, now func() time.Time) error {
	if cfg.Admin.Listen == "" {
		return nil
	}
	if l.events == nil {
		return fmt.Errorf("admin.listen is set but log.store is none: the admin API serves the sign-in log — choose a log.store, or remove admin.listen")
	}
	ln, err := net.Listen("tcp", cfg.Admin.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen for the admin API on %s: the address is in use — choose another admin.listen", cfg.Admin.Listen)
		}
		return fmt.Errorf("cannot listen for the admin API on %s: %w", cfg.Admin.Listen, err)
	}
	l.adminLn = ln
	l.admin = &http.Server{
		Handler: admin.Handler(admin.Config{
			Token: cfg.Admin.Token, Events: l.events, Users: users, Keys: keys,
			Registry: l.metrics.Registry, Logger: logger, Now: now,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		logger.Warn("the admin API listens beyond loopback without TLS: its bearer token crosses the network in clear; put it behind a TLS proxy or bind admin.listen to 127.0.0.1", "listen", cfg.Admin.Listen)
	}
	go l.admin.Serve(ln)
	logger.Info("admin API listening", "url", "http://"+ln.Addr().String())
	return nil
}

// purgeLoop deletes events older than the retention period, hourly, until
// ctx ends.
func (l *signInLog) purgeLoop(ctx context.Context, days int, logger *slog.Logger, now func() time.Time) {
	if days <= 0 || l.events == nil {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := l.events.Purge(ctx, now().Add(-time.Duration(days)*24*time.Hour))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("sign-in log purge failed; will retry in an hour", "error", err)
		case n > 0:
			logger.Info("sign-in log purged", "events", n, "older_than_days", days)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close stops the admin API, writes every recorded event (to the store, or
// to the spool if the store is down) and closes the store.
func (l *signInLog) close(ctx context.Context) error {
	var errs []error
	if l.admin != nil {
		errs = append(errs, l.admin.Shutdown(ctx))
	}
	if l.writer != nil {
		errs = append(errs, l.writer.Close(ctx))
		// Requests that outlived the shutdown deadline decided after the
		// writer closed; their events are gone, but never silently.
		if st := l.writer.Stats(); st.DroppedAfterClose > 0 && l.logger != nil {
			l.logger.Warn("sign-in events lost: decided after the shutdown deadline", "events", st.DroppedAfterClose)
		}
		errs = append(errs, l.events.Close())
	}
	return errors.Join(errs...)
}
