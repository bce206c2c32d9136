package main

import (
	"fmt"
	"strings"
)

// gatewayConfig returns the gateway's configuration for a run: one route
// in front of the upstream accepting every measured method, one issuer per
// algorithm, loopback exempt from throttling, and otherwise the product's
// defaults. The decision log stays at its default info level, one line per
// request, because writing it is part of what a request costs; the harness
// sends it to a file. listen uses port 0: the gateway logs the address it
// got. logLevel is "info" but for experiments (-log-level) that price the
// log itself.
//
// The exemption: the refusal rows send one wrong key or expired token
// from 127.0.0.1 thousands of times, and isolation a burst of wrong
// passwords, so under the default failure counters they would measure
// 429s rather than the refusals they are about. Exempt, they measure what
// they measured before throttling existed (acceptances then skip the
// counter lookups too). Throttling itself is measured by the stuffing run
// (stuffing.go), on a gateway of its own with the defaults.
func gatewayConfig(upstreamURL, logLevel, signInLog string, issuers []*issuer) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by the authgate bench harness (bench/config.go) for one run.
listen: 127.0.0.1:0
data_dir: .
realm: bench
log:
  format: json
  level: %s
  store: %s
throttle:
  exempt_networks: [127.0.0.1/32, "::1/128"]

issuers:
`, logLevel, signInLog)
	for _, is := range issuers {
		fmt.Fprintf(&b, `  - name: %s
    issuer: %s
    jwks_file: %s
    audiences: [%s]
    algorithms: [%s]
`, is.Name, is.Issuer, is.JWKSFile(), benchAudience, is.Alg)
	}
	fmt.Fprintf(&b, `
routes:
  - name: bench
    path: /
    upstream: %s
    accept: [api_key, bearer, basic]
`, upstreamURL)
	return b.String()
}
