package main

import (
	"encoding/base64"
	"net/http"
)

// The scenarios of a run, in the order they run. Each repeats one request
// for the measured window; proxy-mode rows are compared with the bare
// reverse proxy (b), forward-auth rows with the upstream itself (a), and
// refusal rows with the acceptance of the same method, since a refusal
// should never cost more than letting the request in.

// Scenario is one measured row.
type Scenario struct {
	Name   string // stable id, also the row's label
	Group  string // baseline, proxy, forward-auth
	About  string // what the row measures, in one line
	Target Target
	// CompareTo names the row this one's rps is divided by; "" for none.
	CompareTo string
	// MinRatio is the target for that ratio; 0 shows the ratio without
	// judging it.
	MinRatio float64
}

// The targets the harness judges rows by.
const (
	proxyMinRatio       = 0.9 // proxy API key / JWT vs (b)
	forwardAuthMinRatio = 0.5 // forward-auth JWT vs (a)
	refusalMinRatio     = 0.9 // refusal vs acceptance of the same method: "no more costly", with room for noise
	isolationMaxRatio   = 2.0 // API-key p99 under a wrong-password burst vs idle
)

// Row names the other rows refer to.
const (
	rowUpstream     = "upstream"
	rowReverseProxy = "reverse-proxy"
	rowProxyAPIKey  = "proxy/api_key"
)

// credential is one way of presenting oneself.
type credential struct {
	name     string // row suffix
	header   string
	value    string
	status   int    // expected answer
	accepts  string // for refusals: the acceptance row suffix to compare with
	minRatio float64
	about    string
}

// credentials lists what the gateway rows present, each refusal right
// after the acceptance it is compared with: the shared machine drifts
// over a run (and the sign-in log grows), so a refusal measured five rows
// after its acceptance was judged against a machine minutes younger.
// measureMain also runs the acceptance again right after the refusal.
// minRatio is the target of acceptances in proxy mode.
func credentials(f *Fixture) []credential {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.User+":"+f.Password))
	cs := []credential{
		{name: "api_key", header: "X-API-Key", value: f.APIKey, status: 200, minRatio: proxyMinRatio,
			about: "a valid API key (SHA-256 of the secret, looked up in the in-memory store snapshot)"},
		{name: "refuse-api_key", header: "X-API-Key", value: f.WrongAPIKey, status: 401, accepts: "api_key",
			about: "a known key id with a wrong secret (api_key_secret_wrong), vs the valid key"},
	}
	for _, is := range f.Issuers {
		cs = append(cs, credential{name: "jwt-" + is.Alg, header: "Authorization", value: "Bearer " + f.Tokens[is.Alg], status: 200,
			minRatio: proxyMinRatio, about: "the same valid " + is.Alg + " token every time (verified-token cache)"})
		if is.Alg == "ES256" {
			cs = append(cs, credential{name: "refuse-jwt-expired", header: "Authorization", value: "Bearer " + f.ExpiredToken, status: 401, accepts: "jwt-ES256",
				about: "an ES256 token expired 5 minutes ago (token_expired), vs the valid ES256 token"})
		}
	}
	return append(cs,
		credential{name: "basic-cached", header: "Authorization", value: basic, status: 200,
			about: "correct argon2id Basic credentials, repeated (verified-credential cache; informational ratio)"},
	)
}

// scenarios returns every row, given the base URLs of the upstream, the
// reverse proxy and the gateway.
func scenarios(upstream, reverseProxy, gateway string, f *Fixture) []Scenario {
	const path = "/bench/hello"
	out := []Scenario{
		{Name: rowUpstream, Group: "baseline", About: "(a) the upstream alone: a trivial Go handler",
			Target: Target{URL: upstream + path, Expect: []int{200}}},
		{Name: rowReverseProxy, Group: "baseline", About: "(b) httputil.ReverseProxy (MaxIdleConnsPerHost 256) in front of (a)",
			Target: Target{URL: reverseProxy + path, Expect: []int{200}}},
	}
	for _, c := range credentials(f) {
		s := Scenario{Name: "proxy/" + c.name, Group: "proxy", About: "(c) authgate proxy mode: " + c.about,
			Target:    Target{URL: gateway + path, Header: http.Header{c.header: {c.value}}, Expect: []int{c.status}},
			CompareTo: rowReverseProxy, MinRatio: c.minRatio}
		if c.accepts != "" {
			s.CompareTo, s.MinRatio = "proxy/"+c.accepts, refusalMinRatio
		}
		out = append(out, s)
	}
	for _, c := range credentials(f) {
		s := Scenario{Name: "verify/" + c.name, Group: "forward-auth", About: "(d) authgate GET /.authgate/verify: " + c.about,
			Target: Target{URL: gateway + "/.authgate/verify", Header: http.Header{
				c.header:             {c.value},
				"X-Forwarded-Method": {"GET"},
				"X-Forwarded-Host":   {"app.bench.test"},
				"X-Forwarded-Uri":    {path},
				"X-Forwarded-Proto":  {"https"},
			}, Expect: []int{c.status}},
			CompareTo: rowUpstream}
		switch {
		case c.accepts != "":
			s.CompareTo, s.MinRatio = "verify/"+c.accepts, refusalMinRatio
		case c.header == "Authorization" && c.minRatio > 0: // the JWT rows
			s.MinRatio = forwardAuthMinRatio
		}
		out = append(out, s)
	}
	return out
}
