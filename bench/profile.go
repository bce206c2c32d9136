package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/server"
)

// The authgate binary has no profiling endpoint, and the harness adds none
// to the product. To see where the gateway spends its CPU, -cpuprofile
// runs the same gateway code — config.Load and server.New, exactly what
// `authgate serve` calls — inside a child process of this program, with
// runtime/pprof recording from the moment it listens until it is told to
// stop, and repeats the proxy/api_key row against it.

// serveGatewayProfiled serves the gateway configured in cfgPath until ctx
// ends, writing a CPU profile to profilePath. Like every server mode it
// prints its URL as its first line on stdout; the decision log goes to
// stderr.
func serveGatewayProfiled(ctx context.Context, cfgPath, profilePath string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	s, err := server.New(cfg, server.Options{LogOutput: os.Stderr})
	if err != nil {
		return err
	}
	f, err := os.Create(profilePath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.Start(ctx); err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	fmt.Println(s.URL())
	<-ctx.Done()
	pprof.StopCPUProfile()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}
