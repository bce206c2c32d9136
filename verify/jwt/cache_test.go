package jwt_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

func TestCache(t *testing.T) {
	t.Run("repeated token → answered from the cache with the same principal", func(t *testing.T) {
		k := genKey(t, "ed25519", "cache-1")
		f := newFixture(t, []testKey{k}, jwtverify.Options{})
		tok := mint(t, k, "EdDSA", claimsAt(t0))
		first, _ := f.verify(t, tok)
		second, err := f.verify(t, tok)
		if err != nil || second.Reason != "" {
			t.Fatalf("second: reason %q, err %v", second.Reason, err)
		}
		if check(second, "jwt.cache").Result != authgate.Pass || check(second, "jwt.exp").Result != authgate.Pass {
			t.Errorf("second verdict did not come from the cache: %+v", second.Checks)
		}
		if diff := cmp.Diff(first.Principal, second.Principal); diff != "" {
			t.Errorf("principal differs (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(first.Token, second.Token); diff != "" {
			t.Errorf("token info differs (-first +second):\n%s", diff)
		}
	})
	t.Run("cached token after the clock passes exp + leeway → token_expired", func(t *testing.T) {
		k := genKey(t, "ed25519", "cache-1")
		f := newFixture(t, []testKey{k}, jwtverify.Options{})
		tok := mint(t, k, "EdDSA", claimsAt(t0))
		f.verify(t, tok)
		f.clock.Advance(time.Hour + 30*time.Second)
		if v, _ := f.verify(t, tok); v.Reason != "" {
			t.Fatalf("within leeway: reason %q", v.Reason)
		}
		f.clock.Advance(time.Minute)
		v, _ := f.verify(t, tok)
		if v.Reason != reason.TokenExpired || v.ClockSkew != 90*time.Second {
			t.Errorf("reason %q skew %v, want token_expired 90s; trace %+v", v.Reason, v.ClockSkew, v.Checks)
		}
	})
	t.Run("cached token after its kid is withdrawn from the JWKS → key_unknown", func(t *testing.T) {
		k, next := genKey(t, "ed25519", "cache-1"), genKey(t, "ed25519", "cache-2")
		f := newFixture(t, []testKey{k}, jwtverify.Options{})
		tok := mint(t, k, "EdDSA", claimsAt(t0))
		f.verify(t, tok)
		f.srv.setKeys(t, next)
		// A token with the new kid makes the verifier refresh.
		if v, _ := f.verify(t, mint(t, next, "EdDSA", claimsAt(t0))); v.Reason != "" {
			t.Fatalf("new kid: %q", v.Reason)
		}
		if v, _ := f.verify(t, tok); v.Reason != reason.KeyUnknown {
			t.Errorf("withdrawn kid: reason %q, want key_unknown; trace %+v", v.Reason, v.Checks)
		}
	})
	t.Run("cached token after its kid is republished with other key material → token_signature_invalid", func(t *testing.T) {
		k, replaced := genKey(t, "ed25519", "cache-1"), genKey(t, "ed25519", "cache-1-replaced")
		f := newFixture(t, []testKey{k}, jwtverify.Options{})
		tok := mint(t, k, "EdDSA", claimsAt(t0))
		f.verify(t, tok)
		f.srv.setKeys(t, testKey{kid: "cache-1", priv: replaced.priv}, genKey(t, "ed25519", "cache-3"))
		f.verify(t, mint(t, genKey(t, "ed25519", "cache-3"), "EdDSA", claimsAt(t0)))
		if v, _ := f.verify(t, tok); v.Reason != reason.TokenSignatureInvalid {
			t.Errorf("replaced key: reason %q, want token_signature_invalid", v.Reason)
		}
	})
	t.Run("unchanged key across a refresh → cached token still answered from the cache", func(t *testing.T) {
		k, other := genKey(t, "ed25519", "cache-1"), genKey(t, "ed25519", "cache-2")
		f := newFixture(t, []testKey{k}, jwtverify.Options{})
		tok := mint(t, k, "EdDSA", claimsAt(t0))
		f.verify(t, tok)
		f.srv.setKeys(t, k, other)
		f.verify(t, mint(t, other, "EdDSA", claimsAt(t0)))
		if v, _ := f.verify(t, tok); v.Reason != "" || check(v, "jwt.cache").Result != authgate.Pass {
			t.Errorf("reason %q, trace %+v; want a cache hit", v.Reason, v.Checks)
		}
	})
}

func TestExpiredTokensAreRefusedFromTheCache(t *testing.T) {
	k, next := genKey(t, "p256", "exp-1"), genKey(t, "p256", "exp-2")
	f := newFixture(t, []testKey{k}, jwtverify.Options{})
	claims := claimsAt(t0.Add(-2 * time.Hour)) // expired an hour ago
	tok := mint(t, k, "ES256", claims)
	first, _ := f.verify(t, tok)
	if first.Reason != reason.TokenExpired || check(first, "jwt.signature").Result != authgate.Pass {
		t.Fatalf("first: reason %q, the signature must be checked once: %+v", first.Reason, first.Checks)
	}
	f.clock.Advance(time.Minute)
	again, _ := f.verify(t, tok)
	if again.Reason != reason.TokenExpired || check(again, "jwt.cache").Result != authgate.Pass || check(again, "jwt.signature").Name != "" {
		t.Fatalf("again: reason %q, want token_expired from the cache without a signature check: %+v", again.Reason, again.Checks)
	}
	if again.ClockSkew != first.ClockSkew+time.Minute || again.Token == nil || again.Claimed != "alice" {
		t.Errorf("the cached refusal must keep token info and move its skew with the clock: %+v", again)
	}

	forged := tok[:len(tok)-4] + "AAAA"
	if v, _ := f.verify(t, forged); v.Reason != reason.TokenSignatureInvalid {
		t.Errorf("an altered copy of a cached expired token is judged on its own: %q", v.Reason)
	}

	f.srv.setKeys(t, next)
	f.verify(t, mint(t, next, "ES256", claimsAt(t0))) // refresh: exp-1 withdrawn
	if v, _ := f.verify(t, tok); v.Reason != reason.KeyUnknown {
		t.Errorf("once its key is withdrawn, the token goes through every check again: %q", v.Reason)
	}
}
