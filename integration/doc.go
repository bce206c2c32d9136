// Package integration tests authgate together with the real servers it is
// deployed behind. Its tests start nginx and Caddy from the configuration
// files in docs/forward-auth/, so the documented configurations are the
// tested ones; a missing server skips its test unless
// AUTHGATE_REQUIRE_INTEGRATION=1 makes that a failure.
package integration
