package quickstart

import "fmt"

// configFile is the demo configuration, commented for a first reader.
func configFile(listen, upstream string) string {
	return fmt.Sprintf(`# Written by "authgate quickstart", which rewrites this file on every run.
# Copy it elsewhere to start your own configuration, then:
#   authgate check-config FILE    (validates it)
#   authgate serve --config FILE  (runs the gateway)
listen: %s
data_dir: .               # this folder: the SQLite store, keys and the demo issuer live here
realm: quickstart
log:
  format: text            # json for production log pipelines
  level: info
throttle:                 # repeated failures are slowed down, then refused with 429
  pair: {limit: 5, window: 1m, lock: 1m}   # one user from one address; the default locks for 15m
  user: {limit: 30, window: 5m, lock: 5m}  # the whole account, only when failures come from several addresses

issuers:
  - name: demo
    issuer: %s
    jwks_file: demo-jwks.json   # or jwks_url: / discovery_url: for a real identity provider
    audiences: [%s]
    algorithms: [ES256]
    leeway: 60s

routes:
  - name: admin
    path: /admin
    upstream: %s
    accept: [basic, api_key, bearer]
    detail: verbose       # shows the precise reason and how to fix it; use minimal in production
    policy:
      scopes: [admin]     # nobody in the demo has it: a valid credential gets 403
  - name: secure
    path: /secure
    upstream: %s
    accept: [session]     # browsers only, through the sign-in page
    detail: verbose
    policy:
      require_2fa: true   # asks for a code from an authenticator app (set up at first sign-in)
  - name: demo
    path: /
    upstream: %s
    accept: [basic, api_key, bearer, session]   # session: browsers are sent to the sign-in page
    detail: verbose

portal:
  title: authgate quickstart   # heads the sign-in pages under /.authgate/
sessions:
  idle_timeout: 30m       # a browser idle that long signs in again (session_idle_timeout)
`, listen, DemoIssuer, DemoAudience, upstream, upstream, upstream)
}
