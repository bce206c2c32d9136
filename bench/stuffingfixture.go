package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/signinlog"
)

// The stuffing run's gateway: a folder of its own, a configuration with
// the product's throttling defaults and cheap password hashes, the
// attacked users and the legitimate one imported with the binary's CLI,
// and the reading of what the run left in the sign-in log and the store.

// stuffingFixture is the stuffing gateway's state.
type stuffingFixture struct {
	Dir, ConfigPath string
	LegitPassword   string
	Targets         []string // the attacked user names
}

// stuffingConfig returns the stuffing gateway's configuration: one verbose
// route (so the attacker's answers name the precise reason) in front of
// the upstream, argon2id at the given cost, and no throttle: section at
// all — the defaults, with loopback trusted as a proxy and nothing exempt.
func stuffingConfig(upstreamURL string, memoryKiB, iterations int) string {
	return fmt.Sprintf(`# Written by the authgate bench harness (bench/stuffingfixture.go) for one
# credential-stuffing run. Throttling: the product's defaults.
listen: 127.0.0.1:0
data_dir: .
realm: bench
passwords:
  argon2: {memory_kib: %d, iterations: %d, parallelism: 1}
log:
  format: json
  store: sqlite

routes:
  - name: app
    path: /
    upstream: %s
    accept: [basic]
    detail: verbose
`, memoryKiB, iterations, upstreamURL)
}

// prepareStuffing writes the configuration into dir and imports the
// legitimate user and every attacked one, each with a random password the
// attack never sends.
func prepareStuffing(ctx context.Context, binary, dir, upstreamURL string, o StuffingOptions) (*stuffingFixture, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sf := &stuffingFixture{Dir: dir, ConfigPath: filepath.Join(dir, "authgate.yaml"), LegitPassword: randomString(18), Targets: targetNames(o)}
	if err := os.WriteFile(sf.ConfigPath, []byte(stuffingConfig(upstreamURL, o.MemoryKiB, o.Iterations)), 0o600); err != nil {
		return nil, err
	}
	if _, err := runCLI(ctx, binary, "", "check-config", sf.ConfigPath); err != nil {
		return nil, fmt.Errorf("the generated stuffing configuration is refused (a bug in bench/stuffingfixture.go): %w", err)
	}
	var users strings.Builder
	fmt.Fprintf(&users, "- {name: %s, password: %q, scopes: [bench]}\n", legitUser, sf.LegitPassword)
	for _, name := range sf.Targets {
		if name != legitUser {
			fmt.Fprintf(&users, "- {name: %s, password: %q, scopes: [bench]}\n", name, randomString(18))
		}
	}
	list := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(list, []byte(users.String()), 0o600); err != nil {
		return nil, err
	}
	if _, err := runCLI(ctx, binary, "", "users", "import", list, "--config", sf.ConfigPath); err != nil {
		return nil, err
	}
	return sf, os.Remove(list)
}

// stuffingOutcome is what the attack left behind, read from the stopped
// gateway's sign-in log and user store.
type stuffingOutcome struct {
	ByReason map[reason.Code]int64 // the attack's events (its source network)
	Logged   int64                 // their sum
	Dropped  int64                 // events the writer dropped, whatever their source
	// Refused counts the attacked accounts refused as account_locked at
	// least once: locked, as the attacker saw it. Locked counts those
	// whose lock the user store holds, where `authgate users` shows it and
	// every gateway sharing the store honours it.
	Refused, Locked int
}

// settle waits, while the gateway still runs, until its sign-in log holds
// want events of the attack or their count has not moved for 2 s, and at
// most 20 s. An attempt the tool stopped waiting for may still sit
// in the gateway's accept or hashing queue; stopping the gateway at once
// would drop those it has not read yet, and the accounting would blame
// the log for them.
func (sf *stuffingFixture) settle(ctx context.Context, began time.Time, want int64) error {
	cfg, err := config.Load(sf.ConfigPath)
	if err != nil {
		return err
	}
	events, err := server.OpenEventStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer events.Close()
	var last int64 = -1
	still, deadline := time.Now(), time.Now().Add(20*time.Second)
	for time.Now().Before(deadline) {
		counts, err := events.Stats(ctx, attackFilter(began, ""), signinlog.ByReason)
		if err != nil {
			return err
		}
		var n int64
		for _, c := range counts {
			n += c.Count
		}
		switch {
		case n >= want:
			return nil
		case n != last:
			last, still = n, time.Now()
		case time.Since(still) > 2*time.Second:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// attackFilter selects the attack's events since began with reason code
// ("" for any).
func attackFilter(began time.Time, code reason.Code) signinlog.Filter {
	return signinlog.Filter{Network: attackNetwork, Since: began.Add(-time.Second), Reason: code}
}

// outcome reads the attack's events since began and the locks.
func (sf *stuffingFixture) outcome(ctx context.Context, began time.Time) (*stuffingOutcome, error) {
	cfg, err := config.Load(sf.ConfigPath)
	if err != nil {
		return nil, err
	}
	events, err := server.OpenEventStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer events.Close()
	counts, err := events.Stats(ctx, attackFilter(began, ""), signinlog.ByReason)
	if err != nil {
		return nil, err
	}
	out := &stuffingOutcome{ByReason: map[reason.Code]int64{}}
	for _, c := range counts {
		out.ByReason[reason.Code(c.Key)] += c.Count
		out.Logged += c.Count
	}
	locked, err := events.Stats(ctx, attackFilter(began, reason.AccountLocked), signinlog.ByUser)
	if err != nil {
		return nil, err
	}
	out.Refused = len(locked)
	dropped, err := events.Dropped(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range dropped {
		out.Dropped += n
	}

	store, err := server.OpenAccounts(ctx, cfg, server.AccountsOptions{OneShot: true})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	users, err := store.Users(ctx)
	if err != nil {
		return nil, err
	}
	targets := map[string]bool{}
	for _, n := range sf.Targets {
		targets[n] = true
	}
	now := time.Now()
	for _, u := range users {
		if targets[u.Name] && u.Locked(now) {
			out.Locked++
		}
	}
	return out, nil
}
