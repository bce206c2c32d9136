package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
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
	tuneProcs(s.LowPriorityHashThreads(), s.Logger())
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

// cpuProcs is GOMAXPROCS as the runtime chose it at start (the CPUs this
// process may use), before tuneProcs adds to it.
var cpuProcs = runtime.GOMAXPROCS(0)

// tuneProcs gives the Go runtime one P more per password hash that may run
// at low priority, unless the operator chose GOMAXPROCS. A running hash
// holds its P however little CPU the kernel gives its thread, so without
// the extra Ps a burst of wrong passwords would still take Ps from every
// other request: on 2 CPUs, one of the two. It sets GOMAXPROCS from
// cpuProcs, so calling it again does not add up.
func tuneProcs(hashThreads int, logger *slog.Logger) {
	if hashThreads == 0 {
		return
	}
	if os.Getenv("GOMAXPROCS") != "" {
		logger.Info("hashing passwords at low priority; GOMAXPROCS is set in the environment, so it stays as it is",
			"hash_threads", hashThreads, "gomaxprocs", runtime.GOMAXPROCS(0))
		return
	}
	runtime.GOMAXPROCS(cpuProcs + hashThreads)
	logger.Info("hashing passwords at low priority", "hash_threads", hashThreads,
		"gomaxprocs", cpuProcs+hashThreads, "cpus", cpuProcs)
}
