// Command bench measures authgate against baselines in one run, on
// 127.0.0.1 only: requests per second and p50/p99 latency of (a) a trivial
// upstream, (b) a bare httputil.ReverseProxy in front of it, (c) the built
// authgate binary in proxy mode with API keys, ES256/RS256/EdDSA tokens,
// cached argon2id Basic credentials and refusals, (d) the same credentials
// through the forward-auth endpoint, (e) whether a burst of wrong
// passwords slows an API-key route down, and, only when -run selects it,
// (f) a credential-stuffing attack on the default throttling while a
// legitimate client signs in. It prints each row's ratio to its baseline
// next to the target, and marks misses; it exits 0 even when a target is
// missed, because it measures rather than tests.
//
// Run it with `make bench`, or:
//
//	go build -o bin/authgate ./cmd/authgate
//	go run ./bench -binary bin/authgate [-duration 8s] [-conns 32] [-json]
//	go run ./bench -binary bin/authgate -run stuffing   # (f), or make bench-stuffing
//
// Every server runs in a child process: the upstream and the reverse proxy
// are this program again (-upstream, -reverse-proxy URL), the gateway is
// the binary started with `serve --config` on a configuration, store and
// keys made in a temporary folder with the binary's own CLI. The load
// generator is in this process. docs/benchmarks.md explains every row and
// keeps the figures of a reference run.
//
// The files, one concern each: main.go (flags, the run's order),
// process.go (child processes), servers.go (the baselines), fixture.go,
// config.go and issuers.go (the gateway's state), scenarios.go (the rows
// and their targets), load.go and histogram.go (the load generator),
// isolation.go (e), stuffing.go, stuffingplan.go, stuffingfixture.go and
// stuffingreport.go (f), profile.go (-cpuprofile), report.go (table and
// JSON).
package main
