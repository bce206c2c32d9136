package jwt

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
)

// Issuer configures one trusted token issuer and where its signing keys
// are published.
type Issuer struct {
	// Name is the configuration name that route policies refer to; it
	// becomes Principal.Issuer.
	Name string
	// Issuer is the exact `iss` value the issuer's tokens carry.
	Issuer string
	// Exactly one of JWKSFile, JWKSURL and DiscoveryURL is set. With
	// DiscoveryURL the OIDC discovery document names the JWKS URL, and its
	// `issuer` must equal Issuer.
	JWKSFile, JWKSURL, DiscoveryURL string
	// Audiences is required: a token's aud must contain one of them.
	Audiences []string
	// Algorithms is the allow-list of JWS algorithms; the default is
	// EdDSA, ES256, ES384, RS256, PS256. HMAC algorithms and `none` are
	// refused by New.
	Algorithms []string
	// Leeway is the clock skew tolerated on exp, nbf and iat; zero means
	// the default of 60 s and NoLeeway means none at all.
	Leeway time.Duration
	// RefreshInterval is how often the key set is refetched in the
	// background; zero means 1 h.
	RefreshInterval time.Duration
	// MinRefreshInterval bounds refreshes triggered by an unknown kid to one
	// per interval; zero means 30 s.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds each fetch of the discovery document or key set;
	// zero means 5 s.
	FetchTimeout time.Duration
}

// Defaults applied by New to zero fields.
const (
	DefaultLeeway = 60 * time.Second
	// NoLeeway asks for exact time checks.
	NoLeeway                  time.Duration = -1
	DefaultRefreshInterval                  = time.Hour
	DefaultMinRefreshInterval               = 30 * time.Second
	DefaultFetchTimeout                     = 5 * time.Second
	// MaxLeeway is the largest leeway New accepts: more would quietly
	// accept tokens that expired minutes ago.
	MaxLeeway = 5 * time.Minute
)

// DefaultAlgorithms is the allow-list used when Issuer.Algorithms is empty.
var DefaultAlgorithms = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// keyKind is the kind of public key an algorithm needs.
type keyKind uint8

const (
	kindRSA keyKind = iota + 1
	kindP256
	kindP384
	kindP521
	kindEd25519
)

func (k keyKind) String() string {
	switch k {
	case kindRSA:
		return "RSA"
	case kindP256:
		return "EC P-256"
	case kindP384:
		return "EC P-384"
	case kindP521:
		return "EC P-521"
	case kindEd25519:
		return "Ed25519"
	}
	return "unknown"
}

// algorithm ties a JWS algorithm name to the golang-jwt method that checks
// it and to the key kind it needs, so the token's alg never picks a key
// type on its own.
type algorithm struct {
	method jwtlib.SigningMethod
	kind   keyKind
}

var algorithms = map[string]algorithm{
	"EdDSA": {jwtlib.SigningMethodEdDSA, kindEd25519},
	"ES256": {jwtlib.SigningMethodES256, kindP256},
	"ES384": {jwtlib.SigningMethodES384, kindP384},
	"ES512": {jwtlib.SigningMethodES512, kindP521},
	"RS256": {jwtlib.SigningMethodRS256, kindRSA},
	"RS384": {jwtlib.SigningMethodRS384, kindRSA},
	"RS512": {jwtlib.SigningMethodRS512, kindRSA},
	"PS256": {jwtlib.SigningMethodPS256, kindRSA},
	"PS384": {jwtlib.SigningMethodPS384, kindRSA},
	"PS512": {jwtlib.SigningMethodPS512, kindRSA},
}

// withDefaults returns a copy of is with zero fields set to their defaults.
func (is Issuer) withDefaults() Issuer {
	if len(is.Algorithms) == 0 {
		is.Algorithms = slices.Clone(DefaultAlgorithms)
	}
	switch {
	case is.Leeway == 0:
		is.Leeway = DefaultLeeway
	case is.Leeway < 0:
		is.Leeway = 0 // NoLeeway: asked for explicitly
	}
	if is.RefreshInterval == 0 {
		is.RefreshInterval = DefaultRefreshInterval
	}
	if is.MinRefreshInterval == 0 {
		is.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if is.FetchTimeout == 0 {
		is.FetchTimeout = DefaultFetchTimeout
	}
	return is
}

// validate reports every problem of a defaulted issuer configuration.
func (is Issuer) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if is.Name == "" {
		bad("name is empty")
	}
	if is.Issuer == "" {
		bad("issuer (the expected iss value) is empty")
	}
	switch n := countSet(is.JWKSFile, is.JWKSURL, is.DiscoveryURL); {
	case n == 0:
		bad("no key source: set one of jwks_file, jwks_url or discovery_url")
	case n > 1:
		bad("%d key sources set: set exactly one of jwks_file, jwks_url or discovery_url", n)
	}
	for _, u := range [...]struct{ field, raw string }{{"jwks_url", is.JWKSURL}, {"discovery_url", is.DiscoveryURL}} {
		if u.raw != "" {
			if err := checkHTTPURL(u.raw); err != nil {
				bad("%s: %v", u.field, err)
			}
		}
	}
	if len(is.Audiences) == 0 {
		bad("audiences is empty: list the aud values this gateway accepts")
	}
	if slices.Contains(is.Audiences, "") {
		bad("audiences contains an empty value")
	}
	for _, a := range is.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			bad("algorithm %q accepts unsigned tokens and is never allowed", a)
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			bad("algorithm %q is HMAC (a shared secret) and is never allowed for issuer tokens; use EdDSA, ES256, ES384, RS256 or PS256", a)
		case algorithms[a].method == nil:
			bad("algorithm %q is not supported; use EdDSA, ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384 or PS512", a)
		}
	}
	if is.Leeway < 0 || is.Leeway > MaxLeeway {
		bad("leeway %v is outside 0..%v", is.Leeway, MaxLeeway)
	}
	if is.RefreshInterval < 0 || is.MinRefreshInterval < 0 || is.FetchTimeout < 0 {
		bad("refresh_interval, min_refresh_interval and fetch_timeout must not be negative")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("jwt: issuer %q: %w", is.Name, err)
	}
	return nil
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", u.Redacted())
	}
	return nil
}
