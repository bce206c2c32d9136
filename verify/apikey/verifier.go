package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Options configure a Verifier.
type Options struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Verifier checks API keys against a KeyStore. It never puts a key or its
// secret in a check, a log line or an error.
type Verifier struct {
	keys authgate.KeyStore
	now  func() time.Time
}

// New returns a Verifier that looks keys up in keys.
func New(keys authgate.KeyStore, opts Options) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{keys: keys, now: opts.Now}
}

// Method returns authgate.MethodAPIKey.
func (v *Verifier) Method() authgate.Method { return authgate.MethodAPIKey }

// Verify checks the key in c.Secret: its format, its id, its secret, then
// (only once the secret matched, so that the state of a key is revealed only
// to its holder) whether it was revoked, rotated out or has expired. It
// returns an *authgate.UnavailableError only when the store cannot answer.
func (v *Verifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	var vd authgate.Verdict
	id, secret, ok := Parse(c.Secret)
	if !ok {
		return deny(vd, reason.APIKeyMalformed, authgate.Checkf("apikey.format", authgate.Fail, "%s", Problem(c.Secret))), nil
	}
	vd.Claimed = id
	vd.Checks = make([]authgate.Check, 0, 5)
	vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.format", Result: authgate.Pass, Detail: "key id " + id})

	k, err := v.keys.APIKey(ctx, id)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		return deny(vd, reason.APIKeyUnknown, authgate.Checkf("apikey.lookup", authgate.Fail, "no key with id %s", id)), nil
	case err != nil:
		vd.Checks = append(vd.Checks, authgate.Checkf("apikey.lookup", authgate.Fail, "key store did not answer"))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second, fmt.Errorf("looking up API key %s: %w", id, err))
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.lookup", Result: authgate.Pass, Detail: "owned by " + strconv.Quote(k.Owner)})

	if subtle.ConstantTimeCompare(HashSecret(secret), k.SecretHash) != 1 {
		return deny(vd, reason.APIKeySecretWrong, authgate.Checkf("apikey.secret", authgate.Fail, "the secret does not match key %s", id)), nil
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.secret", Result: authgate.Pass, Detail: "secret matches"})

	now := v.now()
	switch k.State {
	case authgate.KeyRevoked:
		return deny(vd, reason.APIKeyRevoked, authgate.Checkf("apikey.state", authgate.Fail,
			"revoked %s (%s)", stamp(k.RevokedAt), authgate.Ago(now, k.RevokedAt))), nil
	case authgate.KeyRotated:
		if !now.Before(k.OverlapUntil) {
			return deny(vd, reason.KeyRotated, authgate.Checkf("apikey.state", authgate.Fail,
				"rotated out %s (%s), replaced by %s; overlap ended %s (%s)",
				stamp(k.RotatedAt), authgate.Ago(now, k.RotatedAt), k.Successor, stamp(k.OverlapUntil), authgate.Ago(now, k.OverlapUntil))), nil
		}
		vd.Checks = append(vd.Checks, authgate.Checkf("apikey.state", authgate.Info,
			"rotated %s, replaced by %s; this key stops working %s (%s)",
			stamp(k.RotatedAt), k.Successor, stamp(k.OverlapUntil), authgate.Ago(now, k.OverlapUntil)))
	case authgate.KeyActive:
		vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.state", Result: authgate.Pass, Detail: "active"})
	default:
		vd.Checks = append(vd.Checks, authgate.Checkf("apikey.state", authgate.Fail, "unknown key state %q in the store", k.State))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second, fmt.Errorf("API key %s has unknown state %q", id, k.State))
	}

	if !k.DisabledAt.IsZero() {
		return deny(vd, reason.APIKeyDisabled, authgate.Checkf("apikey.disabled", authgate.Fail,
			"disabled %s (%s); enable it with `authgate keys enable %s`", stamp(k.DisabledAt), authgate.Ago(now, k.DisabledAt), id)), nil
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return deny(vd, reason.APIKeyExpired, authgate.Checkf("apikey.expiry", authgate.Fail,
			"expired %s (%s)", stamp(k.ExpiresAt), authgate.Ago(now, k.ExpiresAt))), nil
	}
	if k.ExpiresAt.IsZero() {
		vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.expiry", Result: authgate.Pass, Detail: "never expires"})
	} else {
		vd.Checks = append(vd.Checks, authgate.Check{Name: "apikey.expiry", Result: authgate.Pass,
			Detail: "expires " + stamp(k.ExpiresAt) + " (" + authgate.Ago(now, k.ExpiresAt) + ")"})
	}

	vd.Principal = authgate.Principal{Subject: k.Owner, Method: authgate.MethodAPIKey, KeyID: id, Scopes: k.Scopes}
	return vd, nil
}

// deny appends the failing check and sets the verdict's reason.
func deny(vd authgate.Verdict, code reason.Code, c authgate.Check) authgate.Verdict {
	c.Result = authgate.Fail
	c.Reason = code
	vd.Checks = append(vd.Checks, c)
	vd.Reason = code
	return vd
}

var _ authgate.Verifier = (*Verifier)(nil)
