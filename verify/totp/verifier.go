package totp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Replay remembers which steps' codes each user has used, so that a code
// works once even across gateways. The session package's replay cache
// implements it.
type Replay interface {
	// UseCode records that user used the code of step and reports whether
	// no one had before; the record may be forgotten after expires. An
	// error means the cache could not answer.
	UseCode(ctx context.Context, user string, step int64, expires time.Time) (first bool, err error)
}

// RecoveryCodes uses up recovery codes; accounts.Store implements it.
type RecoveryCodes interface {
	// UseRecoveryCode removes the code with this digest from the user's
	// unused codes and reports whether it was there. It returns an error
	// wrapping authgate.ErrNotFound for an unknown user, and another error
	// when the store could not answer.
	UseRecoveryCode(ctx context.Context, name string, digest []byte) (bool, error)
}

// Verifier checks the second factor of a user whose password has already
// been verified: a code from an authenticator app or a recovery code. It
// is safe for concurrent use.
type Verifier struct {
	sealer      *Sealer
	recoveryKey []byte
	replay      Replay
	codes       RecoveryCodes
	params      Params
}

// New returns a Verifier. From gatewayKey it derives the key that opens
// users' sealed secrets (as NewSealer does) and the key of recovery-code
// digests (as RecoveryDigest does); replay records used codes; codes uses
// up recovery codes. Zero fields of p take Default values. The error
// names a gateway key shorter than MinGatewayKey or an invalid p.
func New(gatewayKey []byte, replay Replay, codes RecoveryCodes, p Params) (*Verifier, error) {
	if len(gatewayKey) < MinGatewayKey {
		return nil, fmt.Errorf("totp: the gateway key is %d bytes; it needs at least %d", len(gatewayKey), MinGatewayKey)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{
		sealer:      NewSealer(gatewayKey),
		recoveryKey: derive(gatewayKey, recoveryInfo),
		replay:      replay,
		codes:       codes,
		params:      p.orDefault(),
	}, nil
}

// Verify checks code, as user typed it at now, against user's enrolled
// secret or, when it has a recovery code's shape, against user's recovery
// codes. The verdict never has a principal: on success its Reason is
// empty and the caller marks its own principal as 2-step verified. It
// fails with second_factor_required (user not enrolled), code_malformed,
// code_wrong, code_expired, code_reused or code_clock_skew, setting
// ClockSkew to the estimated skew of the device's clock whenever a step
// other than the current one matched. The error is an
// *authgate.UnavailableError: session_store_unavailable when the replay
// cache does not answer, store_unavailable when the user store does not or
// the sealed secret does not open. A user deleted from the store while
// using a recovery code is user_unknown.
func (v *Verifier) Verify(ctx context.Context, user authgate.User, code string, now time.Time) (authgate.Verdict, error) {
	vd := authgate.Verdict{Claimed: user.Name, Checks: make([]authgate.Check, 0, 4)}
	if !user.Enrolled() {
		return deny(vd, reason.SecondFactorRequired, authgate.Checkf("totp.enrolled", authgate.Fail,
			"user %q has not set up 2-step verification: no authenticator app is enrolled", user.Name)), nil
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "totp.enrolled", Result: authgate.Pass, Detail: "authenticator app enrolled " + day(user.TOTPEnrolledAt)})

	if LooksLikeRecoveryCode(code) {
		return v.useRecoveryCode(ctx, vd, user, code)
	}
	if _, ok := normalizeDigits(code, v.params.Digits); !ok {
		return deny(vd, reason.CodeMalformed, authgate.Checkf("totp.format", authgate.Fail,
			"expected %d digits, or a recovery code of %d letters and digits (xxxx-xxxx-xxxx); got %s",
			v.params.Digits, RecoveryLength, describe(code))), nil
	}
	vd.Checks = append(vd.Checks, authgate.Checkf("totp.format", authgate.Pass, "%d digits", v.params.Digits))

	secret, err := v.sealer.Open(user.Name, user.TOTPSecret)
	if err != nil {
		vd.Checks = append(vd.Checks, authgate.Checkf("totp.code", authgate.Fail, "the stored secret does not open with this gateway's key"))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second,
			fmt.Errorf("%w; if the gateway key changed, restore it, else reset the user's 2-step verification with `authgate users reset-2fa`", err))
	}
	m := Check(secret, code, now, v.params)
	clear(secret)
	if why := m.Reason(); why != "" {
		if why == reason.CodeClockSkew {
			vd.ClockSkew = m.Skew()
		}
		if m.Found && m.Offset > 0 {
			// A code of a later step has been typed and the answer says
			// so (clock skew): burn that step, so that no one who learns
			// the code from this answer can use it when its time comes.
			if _, err := v.replay.UseCode(ctx, user.Name, m.Step, m.ValidUntil); err == nil {
				vd.Checks = append(vd.Checks, authgate.Checkf("totp.replay", authgate.Info,
					"the code of step %d is now used up, so it will not work when that step comes", m.Step))
			}
		}
		return deny(vd, why, authgate.Check{Name: "totp.code", Detail: m.Detail()}), nil
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "totp.code", Result: authgate.Pass, Detail: m.Detail()})
	vd.ClockSkew = m.Skew()

	first, err := v.replay.UseCode(ctx, user.Name, m.Step, m.ValidUntil)
	switch {
	case err != nil:
		vd.Checks = append(vd.Checks, authgate.Checkf("totp.replay", authgate.Fail, "the replay cache did not answer"))
		return vd, authgate.Unavailable(reason.SessionStoreUnavailable, time.Second,
			fmt.Errorf("recording the use of step %d by user %q: %w", m.Step, user.Name, err))
	case !first:
		return deny(vd, reason.CodeReused, authgate.Checkf("totp.replay", authgate.Fail,
			"this code was used at step %d already: each code works once", m.Step)), nil
	}
	vd.Checks = append(vd.Checks, authgate.Checkf("totp.replay", authgate.Pass, "first use of the code of step %d", m.Step))
	return vd, nil
}

// useRecoveryCode checks a recovery code and uses it up.
func (v *Verifier) useRecoveryCode(ctx context.Context, vd authgate.Verdict, user authgate.User, code string) (authgate.Verdict, error) {
	ok, err := v.codes.UseRecoveryCode(ctx, user.Name, recoveryDigest(v.recoveryKey, code))
	n := len(user.RecoveryCodes)
	switch {
	case errors.Is(err, authgate.ErrNotFound):
		// Deleted since the caller looked it up: an answer, not an outage.
		return deny(vd, reason.UserUnknown, authgate.Checkf("totp.recovery", authgate.Fail,
			"user %q no longer exists in the store", user.Name)), nil
	case err != nil:
		vd.Checks = append(vd.Checks, authgate.Checkf("totp.recovery", authgate.Fail, "the user store did not answer"))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second,
			fmt.Errorf("using a recovery code of user %q: %w", user.Name, err))
	case !ok:
		return deny(vd, reason.CodeWrong, authgate.Checkf("totp.recovery", authgate.Fail,
			"a recovery code, but not one of the user's %s", authgate.Count(n, "unused recovery code"))), nil
	}
	vd.Checks = append(vd.Checks, authgate.Checkf("totp.recovery", authgate.Pass,
		"one of the user's recovery codes, now used up: %d left", max(n-1, 0)))
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

// day formats t as a UTC date for a trace: 2026-11-21.
func day(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format(time.DateOnly)
}
