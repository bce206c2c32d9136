package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/reason"
)

// Leeway is the clock skew a verifier usually tolerates on exp, nbf and iat
// (RFC 8725 §3.5 advises a small one; authgate's default is 60 s). A time
// off by less is not reported as a cause.
const Leeway = 60 * time.Second

// maxLifetime is the token lifetime above which doctor raises a red flag.
const maxLifetime = 24 * time.Hour

// tokenFinding is a cause found in the token itself.
type tokenFinding struct {
	code     reason.Code
	score    int
	evidence string
}

// clocks are the two clocks a token's times are compared with.
type clocks struct {
	local  time.Time
	server time.Time // zero when unknown
}

// inspectToken decodes raw without trusting it and records what a verifier
// would object to. audience, when set, is the audience the API expects.
func inspectToken(raw string, c clocks, audience string) (*TokenInfo, []Note) {
	ti := &TokenInfo{Format: "jwt", Secret: describeSecret(raw, true)}
	var notes []Note
	switch n := strings.Count(raw, "."); {
	case n == 4:
		ti.Format = "jwe"
		ti.Problem = "an encrypted token (JWE, 5 parts): only its audience can read its claims"
		return ti, notes
	case n != 2 && !strings.HasPrefix(raw, "eyJ"):
		ti.Format = "opaque"
		ti.Problem = "not a JWT: an opaque token that only its issuer can look up"
		return ti, notes
	}
	var claims jwtlib.MapClaims
	tok, _, err := jwtlib.NewParser().ParseUnverified(raw, &claims)
	if err != nil {
		ti.Problem = "not a well-formed JWT: " + jwtProblem(err)
		ti.codes = append(ti.codes, tokenFinding{reason.TokenMalformed, 80, "The token looks like a JWT but is not well formed: " + jwtProblem(err) + "."})
		return ti, notes
	}
	ti.Algorithm, _ = tok.Header["alg"].(string)
	ti.KeyID, _ = tok.Header["kid"].(string)
	ti.Type, _ = tok.Header["typ"].(string)
	ti.Issuer, _ = claims["iss"].(string)
	ti.Subject, _ = claims["sub"].(string)
	ti.Audience, _ = claims.GetAudience()
	ti.Scopes = scopesOf(claims)

	switch alg := ti.Algorithm; {
	case strings.EqualFold(alg, "none"):
		ti.codes = append(ti.codes, tokenFinding{reason.TokenAlgorithm, 85, `The token is unsigned (alg "none"); no verifier that checks signatures accepts it.`})
	case strings.HasPrefix(alg, "HS"):
		ti.codes = append(ti.codes, tokenFinding{reason.TokenAlgorithm, 50, "The token is signed with HMAC (" + alg + "): authgate never accepts it, and an issuer that publishes public keys (JWKS) never signs with HMAC — HS/RS confusion."})
		notes = append(notes, Note{"token_hmac", Warning, "alg " + alg + " is a shared-secret (HMAC) signature: safe only when the verifier and the issuer share a secret and no public key of the issuer could be used as that secret (RFC 8725 §3.1)."})
	}
	for _, h := range []string{"jku", "x5u", "jwk"} {
		if _, ok := tok.Header[h]; ok {
			notes = append(notes, Note{"token_" + h, Warning, "The header names its own key source (" + h + "); verifiers must ignore it and use the issuer's configured keys (RFC 8725 §3.10)."})
		}
	}
	if ti.Issuer == "" {
		ti.codes = append(ti.codes, tokenFinding{reason.IssuerUntrusted, 60, "The token has no iss claim, so no verifier can tell which issuer's keys to use."})
	}
	if len(ti.Audience) == 0 {
		notes = append(notes, Note{"token_no_aud", Warning, "The token has no aud claim: any API that trusts its issuer would accept it (RFC 8725 §3.9)."})
	} else if audience != "" && !contains(ti.Audience, audience) {
		ti.codes = append(ti.codes, tokenFinding{reason.AudienceMismatch, 80, fmt.Sprintf("The token is for audience %s, not %q: it was minted for another API.", strings.Join(quoteAll(ti.Audience), ", "), audience)})
	}

	exp, expErr := claims.GetExpirationTime()
	nbf, nbfErr := claims.GetNotBefore()
	iat, iatErr := claims.GetIssuedAt()
	for i, err := range []error{expErr, nbfErr, iatErr} {
		if err != nil {
			name := [...]string{"exp", "nbf", "iat"}[i]
			ti.codes = append(ti.codes, tokenFinding{reason.TokenMalformed, 70, "The " + name + " claim is not a number of seconds (RFC 7519 §2 NumericDate)."})
		}
	}
	if exp == nil && expErr == nil {
		ti.codes = append(ti.codes, tokenFinding{reason.TokenClaimMissing, 75, "The token has no exp claim; tokens that never expire are refused by authgate and by most APIs."})
	}
	if ti.Subject == "" {
		ti.codes = append(ti.codes, tokenFinding{reason.TokenClaimMissing, 55, "The token has no sub claim, so it names nobody."})
	}
	if exp != nil {
		ti.Expires = c.relative(exp.Time)
		if f, ok := expiryFinding(exp.Time, c); ok {
			ti.codes = append(ti.codes, f)
		}
	}
	if nbf != nil {
		ti.NotBefore = c.relative(nbf.Time)
		if f, ok := futureFinding("nbf", reason.TokenNotYetValid, 80, nbf.Time, c); ok {
			ti.codes = append(ti.codes, f)
		}
	}
	if iat != nil {
		ti.IssuedAt = c.relative(iat.Time)
		if f, ok := futureFinding("iat", reason.TokenIssuedInFuture, 70, iat.Time, c); ok {
			ti.codes = append(ti.codes, f)
		}
	}
	if exp != nil {
		start := iat
		if start == nil {
			start = nbf
		}
		if start != nil {
			life := exp.Sub(start.Time)
			ti.LifetimeSeconds = int64(life / time.Second)
			if life > maxLifetime {
				notes = append(notes, Note{"token_long_lived", Warning, "The token is valid for " + human(life) + ": over 24 h, a stolen copy stays useful for long. Prefer short-lived tokens and refresh them."})
			}
		}
		if left := exp.Sub(c.now()); left > 0 && left <= 2*Leeway {
			notes = append(notes, Note{"token_expiring", Info, "The token expires in " + human(left) + "; refresh it before it does."})
		}
	}
	return ti, notes
}

// now is the clock that decides: the server's when known.
func (c clocks) now() time.Time {
	if !c.server.IsZero() {
		return c.server
	}
	return c.local
}

func (c clocks) relative(at time.Time) *TokenTime {
	t := &TokenTime{At: at.UTC(), Local: relative(at, c.local)}
	if !c.server.IsZero() {
		t.Server = relative(at, c.server)
	}
	return t
}

// expiryFinding judges exp against both clocks. The server's clock decides;
// when the two clocks disagree, the evidence says by how much.
func expiryFinding(exp time.Time, c clocks) (tokenFinding, bool) {
	byLocal := c.local.Sub(exp) > Leeway
	if c.server.IsZero() {
		if byLocal {
			return tokenFinding{reason.TokenExpired, 80, "The token expired " + human(c.local.Sub(exp)) + " ago by your clock."}, true
		}
		return tokenFinding{}, false
	}
	byServer := c.server.Sub(exp) > Leeway
	skew := c.server.Sub(c.local)
	switch {
	case byServer && byLocal:
		return tokenFinding{reason.TokenExpired, 85, "The token expired " + human(c.server.Sub(exp)) + " ago."}, true
	case byServer:
		return tokenFinding{reason.TokenExpired, 85, "The token expired " + human(c.server.Sub(exp)) + " ago by the server's clock but is valid by yours: your clock is about " + human(skew) + " slow."}, true
	case byLocal:
		return tokenFinding{reason.TokenExpired, 30, "The token expired " + human(c.local.Sub(exp)) + " ago by your clock but is still valid by the server's: your clock is about " + human(-skew) + " fast."}, true
	}
	return tokenFinding{}, false
}

// futureFinding judges a time that must not lie in the future (nbf, iat).
func futureFinding(claim string, code reason.Code, score int, at time.Time, c clocks) (tokenFinding, bool) {
	aheadLocal := at.Sub(c.local) > Leeway
	if c.server.IsZero() {
		if aheadLocal {
			return tokenFinding{code, score, claim + " is " + human(at.Sub(c.local)) + " in the future by your clock: the issuer's clock is probably ahead."}, true
		}
		return tokenFinding{}, false
	}
	aheadServer := at.Sub(c.server) > Leeway
	switch {
	case aheadServer && aheadLocal:
		return tokenFinding{code, score, claim + " is " + human(at.Sub(c.server)) + " in the future by the server's clock and yours: the issuer's clock is about that much ahead."}, true
	case aheadServer:
		return tokenFinding{code, score, claim + " is " + human(at.Sub(c.server)) + " in the future by the server's clock but not by yours: the server's clock is behind yours by about " + human(c.local.Sub(c.server)) + "."}, true
	case aheadLocal:
		return tokenFinding{code, score / 3, claim + " is " + human(at.Sub(c.local)) + " in the future by your clock but not by the server's: your clock is about " + human(c.local.Sub(c.server)) + " fast."}, true
	}
	return tokenFinding{}, false
}

// scopesOf reads the scopes of the usual claims: scope (space-separated),
// scp (string or list), scopes (list).
func scopesOf(c jwtlib.MapClaims) []string {
	for _, k := range []string{"scope", "scp", "scopes"} {
		switch v := c[k].(type) {
		case string:
			return strings.Fields(v)
		case []any:
			var out []string
			for _, s := range v {
				if s, ok := s.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// jwtProblem says what is wrong with a token golang-jwt could not parse,
// without quoting the token.
func jwtProblem(err error) string {
	msg := err.Error()
	var syn *json.SyntaxError
	switch {
	case strings.Contains(msg, "contains an invalid number of segments"):
		return "it does not have three dot-separated parts"
	case strings.Contains(msg, "could not base64 decode"), strings.Contains(msg, "illegal base64"):
		return "a part is not base64url"
	case strings.Contains(msg, "could not JSON decode"), errors.As(err, &syn):
		return "a part is not JSON"
	}
	return "it cannot be decoded"
}

// relative renders at relative to ref: "5 min ago", "in 3 min", "now".
func relative(at, ref time.Time) string {
	d := at.Sub(ref)
	switch {
	case d.Abs() < time.Second:
		return "now"
	case d < 0:
		return human(-d) + " ago"
	}
	return "in " + human(d)
}

// human renders a duration the way people say it: "45 s", "5 min", "3 h",
// "2 days".
func human(d time.Duration) string {
	d = d.Abs()
	switch {
	case d < 2*time.Minute:
		return itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case d < 2*time.Hour:
		return itoa(int(d.Round(time.Minute)/time.Minute)) + " min"
	case d < 48*time.Hour:
		return itoa(int(d.Round(time.Hour)/time.Hour)) + " h"
	}
	return itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + " days"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
