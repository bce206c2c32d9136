package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/sqlite"
)

// AccountsOptions are what opening the user and key store needs beyond
// the configuration.
type AccountsOptions struct {
	// Now is the store's clock; time.Now when nil.
	Now func() time.Time
	// Logger receives reload failures.
	Logger *slog.Logger
	// OneShot is for the CLI: no background refresh, which a command that
	// exits at once does not need.
	OneShot bool
}

// OpenAccounts opens the user and key store the configuration names:
// SQLite in the data directory, or PostgreSQL shared by several gateways.
// The error never includes the PostgreSQL DSN, which may hold a password.
func OpenAccounts(ctx context.Context, cfg *config.Config, opts AccountsOptions) (accounts.Store, error) {
	refresh := cfg.Store.RefreshInterval
	if opts.OneShot {
		refresh = -1
	}
	switch cfg.Store.Type {
	case config.StorePostgres:
		return openPostgresAccounts(ctx, cfg, opts, refresh)
	default:
		st, err := sqlite.Open(cfg.Store.SQLite, sqlite.Options{Now: opts.Now, RefreshInterval: refresh, MaxStale: cfg.Store.MaxStale, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("cannot open the store %s: %w", cfg.Store.SQLite, err)
		}
		return st, nil
	}
}
