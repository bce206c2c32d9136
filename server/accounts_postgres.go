package server

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/postgres"
)

// openPostgresAccounts opens the user and key store in PostgreSQL. The
// error never repeats the DSN.
func openPostgresAccounts(ctx context.Context, cfg *config.Config, opts AccountsOptions, refresh time.Duration) (accounts.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := postgres.OpenAccounts(ctx, cfg.Store.PostgresDSN, postgres.AccountOptions{
		Now: opts.Now, RefreshInterval: refresh, MaxStale: cfg.Store.MaxStale, Logger: opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open the user and key store in PostgreSQL (store.postgres_dsn): %w", err)
	}
	return st, nil
}
