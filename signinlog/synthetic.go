package signinlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Synthetic yields n realistic, made-up sign-in events spread evenly (with
// jitter) over [start, start+span), oldest first, for benchmarks, demos and
// `authgate log generate`. The same seed yields the same events.
//
// The traffic resembles a small company's: about 500 users (a few very
// active, most occasional), 50 API keys, 10 routes, 200 source networks
// (IPv4 /24s and IPv6 /64s, each user mostly behind one), Basic, Bearer and
// API key methods; about 88 % of requests are allowed and the failures are
// spread over many reason codes, weighted the way real refusals are (expired
// tokens and wrong passwords common, outages rare). Bearer events carry
// token metadata and some clock skew (one issuer runs about 95 s fast); the
// traces have the gateway's checks, named and worded as its own (most
// acceptances from its verified-credential caches). Request ids are unique and look like the
// gateway's (time-ordered), with one in twenty a proxy's UUID.
func Synthetic(n int, start time.Time, span time.Duration, seed int64) iter.Seq[*authgate.Decision] {
	return func(yield func(*authgate.Decision) bool) {
		g := newSynth(seed)
		step := float64(span) / float64(max(n, 1))
		for i := range n {
			t := start.Add(time.Duration(float64(i)*step + g.r.Float64()*step))
			if !yield(g.event(t)) {
				return
			}
		}
	}
}

// SyntheticUser returns the name of the i-th synthetic user (0..499); user
// 0 is the most active.
func SyntheticUser(i int) string {
	return fmt.Sprintf("%s.%s%d", synthFirst[i%len(synthFirst)], synthLast[(i/len(synthFirst))%len(synthLast)], i)
}

const (
	synthUsers    = 500
	synthKeys     = 50
	synthNetworks = 200
)

var (
	synthFirst  = []string{"ana", "ben", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jon", "kemal", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq"}
	synthLast   = []string{"k", "m", "s", "b", "w", "l", "r", "t", "p", "d"}
	synthRoutes = []struct{ name, host, prefix string }{
		{"api", "api.example.com", "/v1/"},
		{"admin", "admin.example.com", "/"},
		{"billing", "api.example.com", "/billing/"},
		{"reports", "reports.example.com", "/"},
		{"grafana", "grafana.internal", "/"},
		{"wiki", "wiki.internal", "/"},
		{"ci", "ci.internal", "/"},
		{"search", "api.example.com", "/search/"},
		{"metrics", "metrics.internal", "/"},
		{"uploads", "files.example.com", "/upload/"},
	}
	synthRouteWeights = []int{30, 3, 8, 6, 10, 12, 8, 12, 6, 5}
	synthAgents       = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"curl/8.8.0",
		"python-requests/2.32.3",
		"Go-http-client/2.0",
		"okhttp/4.12.0",
		"Grafana/11.1.0",
	}
	synthIssuers = []struct {
		iss  string
		skew time.Duration // how fast the issuer's clock runs
	}{
		{"https://login.example.com", 2 * time.Second},
		{"https://idp.partner.test", 95 * time.Second},
		{"https://accounts.example.org", -4 * time.Second},
	}
	synthScopes = []string{"read", "write", "deploy", "billing:read", "reports", "admin"}
)

// synthFailure is one weighted refusal of a method.
type synthFailure struct {
	code   reason.Code
	weight int
}

var synthFailures = map[authgate.Method][]synthFailure{
	authgate.MethodBasic: {
		{reason.PasswordWrong, 30}, {reason.UserUnknown, 12}, {reason.PasswordPrevious, 10},
		{reason.CredentialsMissing, 20}, {reason.BasicEncodingInvalid, 3}, {reason.BasicSeparatorMissing, 2},
		{reason.PasswordWhitespace, 2}, {reason.PasswordCapsLock, 2}, {reason.SchemeNotAccepted, 4},
		{reason.NetworkNotAllowed, 4}, {reason.InsufficientScopeCode, 5}, {reason.StoreUnavailable, 1},
	},
	authgate.MethodBearer: {
		{reason.TokenExpired, 35}, {reason.AudienceMismatch, 10}, {reason.TokenSignatureInvalid, 4},
		{reason.KeyUnknown, 5}, {reason.TokenNotYetValid, 6}, {reason.TokenIssuedInFuture, 3},
		{reason.IssuerUntrusted, 3}, {reason.TokenMalformed, 6}, {reason.TokenAlgorithm, 1},
		{reason.InsufficientScopeCode, 10}, {reason.CredentialsMissing, 12}, {reason.BearerPrefixDoubled, 2},
		{reason.IssuerUnavailable, 1},
	},
	authgate.MethodAPIKey: {
		{reason.APIKeyUnknown, 15}, {reason.APIKeyRevoked, 8}, {reason.KeyRotated, 12},
		{reason.APIKeyExpired, 6}, {reason.APIKeySecretWrong, 6}, {reason.APIKeyMalformed, 3},
		{reason.InsufficientScopeCode, 5}, {reason.NetworkNotAllowed, 3},
	},
}

// synth holds the generator's fixed world and its random source.
type synth struct {
	r        *rand.Rand
	zipf     *rand.Zipf
	networks []netip.Prefix
	keyOwner []int
	homeNet  []int
}

func newSynth(seed int64) *synth {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5167a7e))
	g := &synth{r: r, zipf: rand.NewZipf(r, 1.1, 8, synthUsers-1)}
	for i := range synthNetworks {
		if i%10 < 7 { // 140 IPv4 /24s, 60 IPv6 /64s
			a := netip.AddrFrom4([4]byte{byte(10 + i%5*40), byte(i * 7), byte(i * 13), 0})
			g.networks = append(g.networks, netip.PrefixFrom(a, 24))
		} else {
			var b [16]byte
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
			b[4], b[5], b[6], b[7] = byte(i>>8), byte(i), 0, byte(i*3)
			g.networks = append(g.networks, netip.PrefixFrom(netip.AddrFrom16(b), 64))
		}
	}
	for range synthKeys {
		g.keyOwner = append(g.keyOwner, r.IntN(synthUsers))
	}
	for range synthUsers {
		g.homeNet = append(g.homeNet, r.IntN(synthNetworks))
	}
	return g
}

// SyntheticKey returns the id of the i-th synthetic API key (0..49).
func SyntheticKey(i int) string { return fmt.Sprintf("k_%04x", i*2654435761%65536) }

func (g *synth) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := g.r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *synth) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return hex.EncodeToString(b)
}

// requestID makes an id the way the gateway does (48 bits of milliseconds,
// then 80 random bits, base32, so ids sort by time), or, for one request in
// twenty, a UUID set by a trusted proxy.
func (g *synth) requestID(t time.Time) string {
	if g.r.IntN(20) == 0 {
		h := g.hex(16)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	for i := 6; i < 16; i++ {
		b[i] = byte(g.r.Uint32())
	}
	return requestIDEncoding.EncodeToString(b[:])
}

func (g *synth) source(user int) netip.Addr {
	net := g.networks[g.homeNet[user]]
	if g.r.IntN(10) == 0 {
		net = g.networks[g.r.IntN(len(g.networks))]
	}
	if net.Addr().Is4() {
		b := net.Addr().As4()
		b[3] = byte(1 + g.r.IntN(254))
		return netip.AddrFrom4(b)
	}
	b := net.Addr().As16()
	b[14], b[15] = byte(g.r.IntN(256)), byte(1+g.r.IntN(255))
	return netip.AddrFrom16(b)
}

func (g *synth) fingerprint(secret string) string {
	sum := sha256.Sum256([]byte("synthetic fingerprint key|" + secret))
	return hex.EncodeToString(sum[:16])
}

func (g *synth) event(t time.Time) *authgate.Decision {
	user := int(g.zipf.Uint64())
	route := synthRoutes[g.pick(synthRouteWeights)]
	d := &authgate.Decision{
		RequestID:  g.requestID(t),
		Time:       t,
		Route:      route.name,
		Host:       route.host,
		Path:       route.prefix + []string{"", "items", "items/42", "export", "status"}[g.r.IntN(5)],
		HTTPMethod: []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}[g.r.IntN(6)],
		Source:     g.source(user),
		UserAgent:  synthAgents[g.r.IntN(len(synthAgents))],
		Latency:    time.Duration(30_000 + g.r.ExpFloat64()*400_000),
	}
	// The checks are named and worded as the gateway's own.
	d.Checks = append(d.Checks,
		authgate.Checkf("route", authgate.Pass, "route %s (host %q, path %s) accepts basic, bearer, api_key", route.name, route.host, route.prefix),
		authgate.Check{Name: "policy.network", Result: authgate.Skip, Detail: "route has no network rule"})
	d.Method = []authgate.Method{authgate.MethodBasic, authgate.MethodBearer, authgate.MethodAPIKey}[g.pick([]int{35, 45, 20})]
	fail := g.r.IntN(100) >= 88
	var code reason.Code
	if fail {
		fs := synthFailures[d.Method]
		w := make([]int, len(fs))
		for i, f := range fs {
			w[i] = f.weight
		}
		code = fs[g.pick(w)].code
	}
	name := SyntheticUser(user)
	switch d.Method {
	case authgate.MethodBasic:
		g.basic(d, name, code)
	case authgate.MethodBearer:
		g.bearer(d, name, code)
	case authgate.MethodAPIKey:
		g.apiKey(d, code)
	}
	if code == reason.CredentialsMissing {
		d.Method, d.Claimed, d.Fingerprint, d.Token, d.ClockSkew = "", "", "", nil, 0
		d.Checks = d.Checks[:2]
		d.Checks = append(d.Checks,
			authgate.Checkf("credential", authgate.Info, "no Authorization header, no cookie, no X-API-Key"))
	}
	if fail {
		d.Deny(code, authgate.Checkf(synthCheckName(code), authgate.Fail, "%s", reason.Lookup(code).Title))
		d.Status = reason.Lookup(code).Status
		if reason.Lookup(code).Retry {
			d.RetryAfter = time.Duration(1+g.r.IntN(60)) * time.Second
		}
		if code == reason.InsufficientScopeCode {
			d.MissingScopes = []string{synthScopes[g.r.IntN(len(synthScopes))]}
		}
	} else {
		d.Allowed = true
		d.Status = 200
		d.Checks = append(d.Checks, authgate.Check{Name: "policy.scopes", Result: authgate.Skip, Detail: "route requires no scope"})
	}
	return d
}

// synthThrottle is the throttle's check when no counter is over its limit.
var synthThrottle = authgate.Check{Name: "throttle", Result: authgate.Pass, Detail: "no failure counter is over its limit"}

func synthCheckName(c reason.Code) string {
	switch c {
	case reason.NetworkNotAllowed:
		return "policy.network"
	case reason.InsufficientScopeCode:
		return "policy.scopes"
	case reason.PasswordWrong, reason.PasswordPrevious, reason.PasswordWhitespace, reason.PasswordCapsLock:
		return "password.hash"
	case reason.UserUnknown:
		return "password.user"
	case reason.TokenExpired:
		return "jwt.exp"
	case reason.TokenNotYetValid:
		return "jwt.nbf"
	case reason.TokenIssuedInFuture:
		return "jwt.iat"
	case reason.AudienceMismatch:
		return "jwt.aud"
	case reason.TokenSignatureInvalid:
		return "jwt.signature"
	case reason.KeyUnknown:
		return "jwt.kid"
	}
	return "credential"
}

func (g *synth) basic(d *authgate.Decision, name string, code reason.Code) {
	if code == reason.UserUnknown {
		name = fmt.Sprintf("%s.typo%d", synthFirst[g.r.IntN(len(synthFirst))], g.r.IntN(40))
	}
	d.Claimed = name
	d.Fingerprint = g.fingerprint("password|" + name + "|" + string(code))
	d.Checks = append(d.Checks,
		authgate.Checkf("credential", authgate.Pass, "basic in Authorization (%d bytes) for user %q", len(name)+13, name),
		synthThrottle)
	if code != reason.UserUnknown {
		d.Checks = append(d.Checks, authgate.Checkf("password.user", authgate.Pass, "user exists; password last changed %s",
			d.Time.AddDate(0, 0, -1-len(name)).Format(time.DateOnly)))
	}
	if code == "" || code == reason.InsufficientScopeCode || code == reason.NetworkNotAllowed {
		// Most acceptances come from the verified-credential cache.
		if len(d.RequestID)%4 == 0 {
			d.Checks = append(d.Checks,
				authgate.Check{Name: "password.cache", Result: authgate.Skip, Detail: "not verified recently"},
				authgate.Check{Name: "password.hash", Result: authgate.Pass, Detail: "matches the current argon2id hash"})
		} else {
			d.Checks = append(d.Checks, authgate.Check{Name: "password.cache", Result: authgate.Pass,
				Detail: "verified earlier with the current hash; not hashed again"})
		}
		d.Checks = append(d.Checks, authgate.Check{Name: "account.state", Result: authgate.Pass, Detail: "active"})
		d.Principal = &authgate.Principal{Subject: name, Method: authgate.MethodBasic, Scopes: []string{"read"}}
	}
}

func (g *synth) bearer(d *authgate.Decision, name string, code reason.Code) {
	is := synthIssuers[g.r.IntN(len(synthIssuers))]
	now := d.Time
	iat := now.Add(-time.Duration(g.r.IntN(3000)) * time.Second).Add(is.skew).Truncate(time.Second)
	tok := &authgate.TokenInfo{
		Algorithm: []string{"RS256", "ES256", "EdDSA"}[g.r.IntN(3)],
		KeyID:     "kid-" + g.hex(4),
		Type:      "JWT",
		Issuer:    is.iss,
		Subject:   name,
		Audience:  []string{"https://" + synthRoutes[0].host},
		IssuedAt:  iat,
		NotBefore: iat,
		Expires:   iat.Add(time.Hour),
		JTIHash:   g.hex(8),
	}
	d.Claimed = name
	d.Token = tok
	d.Fingerprint = g.fingerprint("token|" + tok.JTIHash)
	if g.r.IntN(3) == 0 || is.skew > time.Minute {
		d.ClockSkew = is.skew + time.Duration(g.r.IntN(2000)-1000)*time.Millisecond
	}
	switch code {
	case reason.TokenExpired:
		tok.Expires = now.Add(-time.Duration(1+g.r.IntN(7200)) * time.Second).Truncate(time.Second)
		d.ClockSkew = now.Sub(tok.Expires)
	case reason.TokenNotYetValid, reason.TokenIssuedInFuture:
		tok.NotBefore = now.Add(is.skew + 90*time.Second).Truncate(time.Second)
		d.ClockSkew = tok.NotBefore.Sub(now)
	case reason.AudienceMismatch:
		tok.Audience = []string{"https://other-api.example.net"}
	}
	d.Checks = append(d.Checks,
		authgate.Checkf("credential", authgate.Pass, "bearer in Authorization (%d bytes)", 600+g.r.IntN(900)),
		synthThrottle)
	if code == "" || code == reason.InsufficientScopeCode || code == reason.NetworkNotAllowed {
		// Verified once, then from the verified-token cache.
		d.Checks = append(d.Checks,
			authgate.Checkf("jwt.cache", authgate.Pass, "verified earlier with kid=%q of issuer %s, still published", tok.KeyID, tok.Issuer),
			authgate.Checkf("jwt.exp", authgate.Pass, "exp=%s now=%s leeway=60s → valid for another %d s",
				tok.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), int(tok.Expires.Sub(now).Seconds())),
			authgate.Check{Name: "policy.issuer", Result: authgate.Skip, Detail: "route accepts every configured issuer"},
			authgate.Check{Name: "policy.audience", Result: authgate.Skip, Detail: "route adds no audience rule"})
		d.Principal = &authgate.Principal{Subject: name, Method: authgate.MethodBearer, Scopes: []string{"read", "write"},
			Issuer: tok.Issuer, Audience: tok.Audience}
	}
}

func (g *synth) apiKey(d *authgate.Decision, code reason.Code) {
	k := g.r.IntN(synthKeys)
	id := SyntheticKey(k)
	if code == reason.APIKeyUnknown || code == reason.APIKeyMalformed {
		id = "k_bad" + fmt.Sprint(g.r.IntN(20)) // the same few bad keys, tried again and again
	}
	d.Claimed = id
	d.Fingerprint = g.fingerprint("key|" + id + "|" + string(code))
	d.Checks = append(d.Checks,
		authgate.Checkf("credential", authgate.Pass, "api_key in X-Api-Key (%d bytes)", len(id)+48),
		synthThrottle,
		authgate.Checkf("apikey.format", authgate.Pass, "key id %s", id))
	if code == "" || code == reason.InsufficientScopeCode || code == reason.NetworkNotAllowed {
		d.Checks = append(d.Checks,
			authgate.Checkf("apikey.lookup", authgate.Pass, "owned by %q", SyntheticUser(g.keyOwner[k])),
			authgate.Check{Name: "apikey.secret", Result: authgate.Pass, Detail: "secret matches"},
			authgate.Check{Name: "apikey.state", Result: authgate.Pass, Detail: "active"},
			authgate.Check{Name: "apikey.expiry", Result: authgate.Pass, Detail: "never expires"})
		d.Principal = &authgate.Principal{Subject: SyntheticUser(g.keyOwner[k]), Method: authgate.MethodAPIKey,
			Scopes: []string{synthScopes[k%len(synthScopes)]}, KeyID: id}
	}
}
