package policy

import (
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Authorize applies the route's rules to a verified principal. It returns
// the refusal reason (empty when allowed), the checks it ran, and the
// required scopes the principal lacks.
func (r *Route) Authorize(p authgate.Principal) (code reason.Code, checks []authgate.Check, missing []string) {
	if p.Method == authgate.MethodBearer {
		c, ok := r.checkIssuer(p)
		checks = append(checks, c)
		if !ok {
			return reason.IssuerNotAllowed, checks, nil
		}
		c, ok = r.checkAudience(p)
		checks = append(checks, c)
		if !ok {
			return reason.AudienceMismatch, checks, nil
		}
	}
	if p.Method == authgate.MethodBasic && p.Enrolled && !r.FirstFactor {
		return reason.SecondFactorRequired, append(checks, authgate.Check{Name: "policy.2fa", Result: authgate.Fail,
			Detail: "the user has 2-step verification, so a password alone is not enough: sign in through the portal, or use an API key"}), nil
	}
	if r.Require2FA {
		if !p.SecondFactor {
			return reason.SecondFactorRequired, append(checks, authgate.Checkf("policy.2fa", authgate.Fail,
				"route requires 2-step verification; this %s identity was proved without a second factor", p.Method)), nil
		}
		checks = append(checks, authgate.Check{Name: "policy.2fa", Result: authgate.Pass, Detail: "route requires 2-step verification; the session passed it"})
	}
	if len(r.Scopes) == 0 {
		return "", append(checks, authgate.Check{Name: "policy.scopes", Result: authgate.Skip, Detail: "route requires no scope"}), nil
	}
	for _, s := range r.Scopes {
		if !p.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return reason.InsufficientScopeCode, append(checks, authgate.Checkf("policy.scopes", authgate.Fail,
			"requires %s; principal has %s; missing %s", join(r.Scopes), join(p.Scopes), join(missing))), missing
	}
	return "", append(checks, authgate.Checkf("policy.scopes", authgate.Pass, "requires %s; principal has them", join(r.Scopes))), nil
}

func (r *Route) checkIssuer(p authgate.Principal) (authgate.Check, bool) {
	if len(r.Issuers) == 0 {
		return authgate.Check{Name: "policy.issuer", Result: authgate.Skip, Detail: "route accepts every configured issuer"}, true
	}
	for _, i := range r.Issuers {
		if i == p.Issuer {
			return authgate.Checkf("policy.issuer", authgate.Pass, "issuer %s is allowed", p.Issuer), true
		}
	}
	return authgate.Checkf("policy.issuer", authgate.Fail, "issuer %s is not in the route's issuers %s", p.Issuer, join(r.Issuers)), false
}

func (r *Route) checkAudience(p authgate.Principal) (authgate.Check, bool) {
	if len(r.Audiences) == 0 {
		return authgate.Check{Name: "policy.audience", Result: authgate.Skip, Detail: "route adds no audience rule"}, true
	}
	for _, want := range r.Audiences {
		for _, have := range p.Audience {
			if want == have {
				return authgate.Checkf("policy.audience", authgate.Pass, "aud %s is allowed", have), true
			}
		}
	}
	return authgate.Checkf("policy.audience", authgate.Fail, "token aud %s, route requires one of %s", join(p.Audience), join(r.Audiences)), false
}

func join(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return "[" + strings.Join(s, " ") + "]"
}
