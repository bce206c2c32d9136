package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/server"
)

const defaultConfig = "authgate.yaml"

// configFlag adds --config, defaulting to $AUTHGATE_CONFIG or ./authgate.yaml.
func configFlag(c *cobra.Command) *string {
	def := os.Getenv("AUTHGATE_CONFIG")
	if def == "" {
		def = defaultConfig
	}
	return c.Flags().StringP("config", "c", def, "configuration file (env AUTHGATE_CONFIG)")
}

// loadConfig loads a configuration; its errors are the user's to fix.
func loadConfig(path string) (*config.Config, error) {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil, usagef("configuration file %s not found — pass --config FILE (authgate quickstart writes one to authgate-data/authgate.yaml)", path)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

func serveCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway from a configuration file",
		Args:  cobra.NoArgs,
	}
	path := configFlag(c)
	c.RunE = func(c *cobra.Command, _ []string) error {
		cfg, err := loadConfig(*path)
		if err != nil {
			return err
		}
		return run(c.Context(), cfg, e, nil)
	}
	return c
}

// run serves cfg until ctx ends (SIGINT or SIGTERM), then shuts down
// cleanly. ready, if set, is called once the gateway listens.
func run(ctx context.Context, cfg *config.Config, e *env, ready func(url string)) error {
	tuneGC()
	s, err := server.New(cfg, server.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		s.Shutdown(context.Background())
		return err
	}
	if ready != nil {
		ready(s.URL())
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// tuneGC trades memory for CPU, unless the operator chose with GOGC or
// GOMEMLIMIT. A gateway's live heap is small (a few MB), so the default
// target makes the collector run constantly under load; profiles of the
// proxy path showed a sixth of the CPU in marking and in returning memory
// to the system. A larger target with a soft limit keeps memory bounded.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(1 << 30)
}
