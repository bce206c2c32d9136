package totp

import (
	"context"
	"errors"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// MethodVerifier is the authgate.Verifier of the TOTP method: the code
// typed on the 2-step page (Credential.Secret) for the user whose password
// the session already proved (Credential.Username). A right code's
// principal carries SecondFactor.
type MethodVerifier struct {
	Users authgate.UserStore
	Codes *Verifier
	Now   func() time.Time
}

// Method returns authgate.MethodTOTP.
func (m *MethodVerifier) Method() authgate.Method { return authgate.MethodTOTP }

// Verify looks the user up and checks the code. A user deleted meanwhile
// ends the session (session_revoked); a store that does not answer is an
// *authgate.UnavailableError.
func (m *MethodVerifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	u, err := m.Users.User(ctx, c.Username)
	if err != nil {
		vd := authgate.Verdict{Claimed: c.Username, Checks: []authgate.Check{authgate.Checkf("totp.user", authgate.Skip, "user store did not answer")}}
		if errors.Is(err, authgate.ErrNotFound) {
			vd.Checks[0] = authgate.Check{Name: "totp.user", Result: authgate.Fail, Reason: reason.SessionRevoked, Detail: "the session's user no longer exists"}
			vd.Reason = reason.SessionRevoked
			return vd, nil
		}
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second, err)
	}
	vd, err := m.Codes.Verify(ctx, u, c.Secret, m.Now())
	if err == nil && vd.Reason == "" {
		vd.Principal = authgate.Principal{Subject: u.Name, Method: authgate.MethodTOTP, Scopes: u.Scopes, SecondFactor: true}
	}
	return vd, err
}

// PendingVerifier checks the code that confirms an enrollment against the
// new secret, not yet stored: the current step or the one before, as at
// sign-in, and the code is used up in the replay cache.
type PendingVerifier struct {
	Secret []byte
	Replay Replay
	Now    func() time.Time
}

// Method returns authgate.MethodTOTP.
func (p PendingVerifier) Method() authgate.Method { return authgate.MethodTOTP }

// Verify checks c.Secret, typed by user c.Username.
func (p PendingVerifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	vd := authgate.Verdict{Claimed: c.Username}
	m := Check(p.Secret, c.Secret, p.Now(), Params{})
	if code := m.Reason(); code != "" {
		vd.Reason = code
		vd.Checks = append(vd.Checks, authgate.Check{Name: "totp.enroll", Result: authgate.Fail, Reason: code, Detail: m.Detail()})
		vd.ClockSkew = m.Skew()
		return vd, nil
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "totp.enroll", Result: authgate.Pass, Detail: "the code confirms the new secret: " + m.Detail()})
	if _, err := p.Replay.UseCode(ctx, c.Username, m.Step, m.ValidUntil); err != nil {
		return vd, authgate.Unavailable(reason.SessionStoreUnavailable, time.Second, err)
	}
	vd.Principal = authgate.Principal{Subject: c.Username, Method: authgate.MethodTOTP, SecondFactor: true}
	return vd, nil
}

var (
	_ authgate.Verifier = (*MethodVerifier)(nil)
	_ authgate.Verifier = PendingVerifier{}
)
