// Package integration tests authgate together with the real servers it is
// deployed with. Its tests start nginx and Caddy from the configuration
// files in docs/forward-auth/, so the documented configurations are the
// tested ones; they run two gateway processes sharing failure counters in
// the machine's Redis (AUTHGATE_TEST_REDIS), and stop and start a
// redis-server of their own under a running gateway. A missing server
// skips its test unless AUTHGATE_REQUIRE_INTEGRATION=1 makes that a
// failure.
package integration
