package authgate

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/authgate/authgate/reason"
)

// Result is the outcome of one check in a decision's trace.
type Result string

// Check results.
const (
	Pass Result = "pass" // the check ran and succeeded
	Fail Result = "fail" // the check ran and refused; it names the reason
	Skip Result = "skip" // the check did not apply
	Info Result = "info" // context worth knowing, not a verdict
)

// Check is one step of a decision's trace: which check ran, how it ended,
// and the non-secret values it compared.
type Check struct {
	Name   string      `json:"check"`
	Result Result      `json:"result"`
	Detail string      `json:"detail,omitempty"`
	Reason reason.Code `json:"reason,omitempty"` // set on the failing check
}

// Checkf builds a check whose detail is formatted like fmt.Sprintf.
func Checkf(name string, r Result, format string, args ...any) Check {
	return Check{Name: name, Result: r, Detail: fmt.Sprintf(format, args...)}
}

// TokenInfo is the non-secret metadata of a presented token.
type TokenInfo struct {
	Algorithm string    `json:"alg,omitempty"`
	KeyID     string    `json:"kid,omitempty"`
	Type      string    `json:"typ,omitempty"`
	Issuer    string    `json:"iss,omitempty"`
	Subject   string    `json:"sub,omitempty"`
	Audience  []string  `json:"aud,omitempty"`
	IssuedAt  time.Time `json:"iat,omitzero"`
	NotBefore time.Time `json:"nbf,omitzero"`
	Expires   time.Time `json:"exp,omitzero"`
	JTIHash   string    `json:"jti_hash,omitempty"`
}

// Verdict is what a verifier concluded about one credential.
type Verdict struct {
	Principal Principal   // set when the credential verified
	Reason    reason.Code // empty when the credential verified
	Claimed   string      // who the credential claims to be (user, key id, sub)
	Checks    []Check
	Token     *TokenInfo
	// ClockSkew is how far a time check was off (positive: the token is from
	// the future or expired that long ago), so skew is visible in the log.
	ClockSkew time.Duration
}

// Verifier proves one credential method. Bad credentials are a Verdict with
// a Reason, never an error; an error means the verifier could not decide
// (a dependency is down) and should be an *UnavailableError.
type Verifier interface {
	Method() Method
	Verify(ctx context.Context, c Credential) (Verdict, error)
}

// Decision is the gateway's answer for one request: allowed with a
// principal, or refused with exactly one catalogued reason. It is a plain
// value that knows nothing of HTTP; transports turn it into responses and
// the sign-in log stores it.
type Decision struct {
	RequestID  string      `json:"request_id"`
	Time       time.Time   `json:"time"`
	Route      string      `json:"route,omitempty"`
	Host       string      `json:"host,omitempty"`
	Path       string      `json:"path,omitempty"`
	HTTPMethod string      `json:"http_method,omitempty"`
	Source     netip.Addr  `json:"source,omitzero"`
	UserAgent  string      `json:"user_agent,omitempty"`
	Method     Method      `json:"method,omitempty"`
	Allowed    bool        `json:"allowed"`
	Reason     reason.Code `json:"reason,omitempty"`
	// Status is the HTTP status of the decision: 200 when allowed, else
	// the status of the reason (before masking; masks share it).
	Status int `json:"status"`
	// Shown is the code the caller was shown: Reason itself, or its mask
	// on a route whose detail level hides it.
	Shown       reason.Code   `json:"shown,omitempty"`
	Claimed     string        `json:"claimed,omitempty"`
	Principal   *Principal    `json:"principal,omitempty"`
	Fingerprint string        `json:"fingerprint,omitempty"` // keyed hash of the presented secret
	Token       *TokenInfo    `json:"token,omitempty"`
	ClockSkew   time.Duration `json:"clock_skew,omitempty"`
	RetryAfter  time.Duration `json:"retry_after,omitempty"`
	// Delay is how long the transport waits before answering a refusal,
	// to slow down repeated failures.
	Delay time.Duration `json:"delay,omitempty"`
	// MissingScopes lists the scopes the route requires and the principal
	// lacks; the Bearer challenge names them.
	MissingScopes []string      `json:"missing_scopes,omitempty"`
	Checks        []Check       `json:"checks"`
	Latency       time.Duration `json:"latency"`
}

// Outcome is "allow" or "deny".
func (d *Decision) Outcome() string {
	if d.Allowed {
		return "allow"
	}
	return "deny"
}

// Deny records the failing check and the decision's one reason.
func (d *Decision) Deny(code reason.Code, c Check) {
	c.Result = Fail
	c.Reason = code
	d.Checks = append(d.Checks, c)
	d.Allowed = false
	d.Reason = code
}

// EventSink receives every decision after it is taken. Record must not block
// the request path for long; sinks batch or buffer.
type EventSink interface {
	Record(d *Decision)
}
