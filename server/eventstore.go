package server

import (
	"context"
	"fmt"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/postgres"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/sqlite"
)

// OpenEventStore opens the sign-in log store the configuration names. The
// error never includes the PostgreSQL DSN, which may hold a password.
func OpenEventStore(ctx context.Context, cfg *config.Config) (signinlog.Store, error) {
	switch cfg.Log.Store {
	case config.LogStoreNone:
		return nil, fmt.Errorf("log.store is none: this gateway keeps no sign-in log to read")
	case config.LogStorePostgres:
		s, err := postgres.Open(ctx, cfg.Log.PostgresDSN, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("cannot open the sign-in log in PostgreSQL (log.postgres_dsn): %w", err)
		}
		return s, nil
	default:
		s, err := sqlite.OpenEvents(cfg.Log.SQLite, sqlite.EventOptions{})
		if err != nil {
			return nil, fmt.Errorf("cannot open the sign-in log %s: %w", cfg.Log.SQLite, err)
		}
		return s, nil
	}
}
