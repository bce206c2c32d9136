package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Verify checks the raw token in c.Secret. A bad token is a Verdict with a
// reason and the trace of checks; the error is non-nil only when the
// verifier could not decide because the issuer's keys cannot be fetched,
// and is then an *authgate.UnavailableError with reason
// issuer_unavailable. Verdict.Token is filled whenever the token could be
// decoded. The Principal's and TokenInfo's slices are shared with the
// cache and must not be modified.
func (v *Verifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	now := v.now()
	h := sha256.Sum256([]byte(c.Secret))
	if e := v.cache.get(&h); e != nil {
		if e.expired && e.published() {
			return e.refuseExpired(now), nil
		}
		if detail, ok := e.usable(now); ok && !e.expired {
			tok := e.token
			return authgate.Verdict{
				Principal: e.principal,
				Claimed:   e.principal.Subject,
				Token:     &tok,
				Checks: []authgate.Check{
					{Name: "jwt.cache", Result: authgate.Pass, Detail: e.hit},
					{Name: "jwt.exp", Result: authgate.Pass, Detail: detail},
				},
			}, nil
		}
		// Expired, or its key was withdrawn: verify afresh so the trace
		// shows why it now fails.
		v.cache.remove(&h)
	}
	return v.verifyToken(ctx, c.Secret, &h, now)
}

// refuseExpired answers again for a cached expired token.
func (e *cacheEntry) refuseExpired(now time.Time) authgate.Verdict {
	detail, ago := expDetail(e.exp, now, e.issuer.cfg.Leeway)
	tok := e.token
	return authgate.Verdict{
		Reason:    reason.TokenExpired,
		Claimed:   e.claimed,
		Token:     &tok,
		ClockSkew: ago,
		Checks: []authgate.Check{
			{Name: "jwt.cache", Result: authgate.Pass, Detail: e.hit},
			{Name: "jwt.exp", Result: authgate.Fail, Detail: detail, Reason: reason.TokenExpired},
		},
	}
}

// verifyToken runs every check on a token that is not in the cache.
func (v *Verifier) verifyToken(ctx context.Context, tok string, h *[32]byte, now time.Time) (authgate.Verdict, error) {
	t := newTrace()
	rt, problem := decodeToken(tok)
	if rt.headerOK {
		t.v.Token = &authgate.TokenInfo{Algorithm: rt.header.Alg, KeyID: rt.header.Kid, Type: rt.header.Typ}
	}
	if rt.claimsOK {
		fillTokenInfo(t.v.Token, &rt.claims)
		t.v.Claimed = rt.claims.sub
	}
	if problem != "" {
		return t.deny("jwt.structure", reason.TokenMalformed, problem), nil
	}
	t.add("jwt.structure", authgate.Pass, fmt.Sprintf("3 base64url parts; alg=%s kid=%s typ=%s", quote(rt.header.Alg), quote(rt.header.Kid), quote(rt.header.Typ)))
	if rt.header.Jku != "" || rt.header.X5u != "" || len(rt.header.Jwk) > 0 {
		t.add("jwt.header", authgate.Info, "jku/x5u/jwk header ignored: keys come only from the issuer's configured key set")
	}

	iss := rt.claims.iss
	if iss == "" {
		return t.deny("jwt.issuer", reason.IssuerUntrusted, "token has no iss claim"), nil
	}
	is := v.byIss[iss]
	if is == nil {
		return t.deny("jwt.issuer", reason.IssuerUntrusted, "iss="+quote(iss)+" is not a configured issuer"), nil
	}
	t.add("jwt.issuer", authgate.Pass, "iss="+quote(iss)+" → issuer "+is.cfg.Name+" (not yet verified)")

	alg := rt.header.Alg
	if !is.allows(alg) {
		return t.deny("jwt.alg", reason.TokenAlgorithm, "alg="+quote(alg)+" is not on issuer "+is.cfg.Name+"'s allow-list ["+strings.Join(is.cfg.Algorithms, ", ")+"]"), nil
	}
	t.add("jwt.alg", authgate.Pass, "alg="+alg+" is allowed")

	k, err := v.selectKey(ctx, t, is, rt.header.Kid, alg)
	if err != nil || k == nil {
		return t.v, err
	}

	if err := algorithms[alg].method.Verify(rt.signingInput, rt.signature, k.pub); err != nil {
		return t.deny("jwt.signature", reason.TokenSignatureInvalid, "signature does not verify with kid="+quote(k.kid)+" ("+k.String()+")"), nil
	}
	t.add("jwt.signature", authgate.Pass, alg+" signature verified with kid="+quote(k.kid)+" ("+k.String()+")")

	if !checkClaims(t, &rt.claims, is, now) {
		if t.v.Reason == reason.TokenExpired {
			// Refusals cost no more than acceptances: the next time this
			// token comes, skip the signature check.
			v.cache.put(h, &cacheEntry{
				token: *t.v.Token, claimed: t.v.Claimed, issuer: is, key: k, exp: rt.claims.exp, expired: true,
				hit: "signature verified earlier with kid=" + quote(k.kid) + " of issuer " + is.cfg.Name + ", still published",
			}, now)
		}
		return t.v, nil
	}
	t.v.Principal = authgate.Principal{
		Subject:  rt.claims.sub,
		Method:   authgate.MethodBearer,
		Scopes:   rt.claims.scopes,
		Issuer:   is.cfg.Name,
		Audience: rt.claims.aud,
	}
	v.cache.put(h, &cacheEntry{
		principal: t.v.Principal,
		token:     *t.v.Token,
		issuer:    is,
		key:       k,
		exp:       rt.claims.exp,
		nbf:       rt.claims.nbf,
		hit:       "verified earlier with kid=" + quote(k.kid) + " of issuer " + is.cfg.Name + ", still published",
	}, now)
	return t.v, nil
}

// selectKey finds the key for the token in the issuer's set, refreshing
// the set once when the kid is unknown. It returns nil and records the
// refusal in t when no key fits; the error is set when the keys cannot be
// fetched.
func (v *Verifier) selectKey(ctx context.Context, t *trace, is *issuerState, kid, alg string) (*key, error) {
	set := is.keys.Load()
	var found *key
	st := kidUnknown
	if set != nil {
		found, st = set.lookup(kid, alg)
	}
	if st == kidUnknown {
		why := "kid=" + quote(kid) + " is not in the cached key set"
		if set == nil {
			why = "no keys loaded yet for issuer " + is.cfg.Name
		}
		fetched, retry, err := is.refreshOnDemand(ctx)
		set = is.keys.Load()
		if err != nil || set == nil {
			if err == nil {
				err = errNotStarted
			}
			t.deny("jwt.kid", reason.IssuerUnavailable, why+"; cannot fetch issuer "+is.cfg.Name+"'s keys: "+err.Error())
			return nil, authgate.Unavailable(reason.IssuerUnavailable, retry, fmt.Errorf("jwt: issuer %q: %w", is.cfg.Name, err))
		}
		if fetched {
			t.add("jwt.jwks", authgate.Info, why+"; refreshed the key set ("+strconv.Itoa(len(set.keys))+" keys)")
		} else {
			t.add("jwt.jwks", authgate.Info, why+"; refresh skipped, the last one was less than "+is.cfg.MinRefreshInterval.String()+" ago")
		}
		found, st = set.lookup(kid, alg)
	}
	switch st {
	case keyFound:
		t.add("jwt.kid", authgate.Pass, "kid="+quote(found.kid)+" → "+found.String()+" key")
		return found, nil
	case keyWrongKind:
		t.deny("jwt.kid", reason.TokenAlgorithm, "kid="+quote(kid)+" is an "+found.String()+" key; alg="+alg+" needs an "+algorithms[alg].kind.String()+" key")
	case keyWrongAlg:
		t.deny("jwt.kid", reason.TokenAlgorithm, "kid="+quote(kid)+" is published for alg "+quote(found.alg)+", the token says "+alg)
	case kidAmbiguous:
		t.deny("jwt.kid", reason.KeyUnknown, "token has no kid and issuer "+is.cfg.Name+" does not publish exactly one "+algorithms[alg].kind.String()+" key")
	default:
		t.deny("jwt.kid", reason.KeyUnknown, "kid="+quote(kid)+" is not among the "+strconv.Itoa(len(set.keys))+" keys of issuer "+is.cfg.Name)
	}
	return nil, nil
}

// allows reports whether alg is on the issuer's allow-list.
func (is *issuerState) allows(alg string) bool {
	for _, a := range is.cfg.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// fillTokenInfo copies the decoded claims' non-secret metadata into ti.
// The jti is kept only as a hash prefix: enough to correlate, not to replay.
func fillTokenInfo(ti *authgate.TokenInfo, c *claims) {
	ti.Issuer, ti.Subject, ti.Audience = c.iss, c.sub, c.aud
	ti.IssuedAt, ti.NotBefore, ti.Expires = c.iat, c.nbf, c.exp
	if c.jti != "" {
		sum := sha256.Sum256([]byte(c.jti))
		ti.JTIHash = hex.EncodeToString(sum[:8])
	}
}
