// Package authgate holds the domain of the authentication gateway: the
// credential a request presents, the principal it proves, the decision the
// gateway takes with its trace, and the small interfaces that verifiers and
// stores implement. It imports nothing of HTTP servers or SQL; transports,
// stores and verifiers live in their own packages and depend on this one.
package authgate

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/authgate/authgate/reason"
)

// Method names a way of proving identity. The values are stable: they are
// written to logs and configuration files.
type Method string

// The credential methods the gateway understands.
const (
	MethodBasic  Method = "basic"
	MethodAPIKey Method = "api_key"
	MethodBearer Method = "bearer"
	// MethodSession is a browser session made by the sign-in portal,
	// presented as a cookie.
	MethodSession Method = "session"
)

// MethodTOTP is a 2-step verification code typed on the portal's 2-step
// page. It is never presented to a route; sessions that passed it carry
// Principal.SecondFactor.
const MethodTOTP Method = "totp"

// Methods lists every method, in the order challenges are advertised.
var Methods = []Method{MethodBasic, MethodBearer, MethodAPIKey, MethodSession}

// Known reports whether m is a method a decision may name: a route's
// method or the portal's TOTP.
func (m Method) Known() bool { return m == MethodTOTP || m.Valid() }

// Valid reports whether m is a method a route may accept.
func (m Method) Valid() bool {
	for _, k := range Methods {
		if m == k {
			return true
		}
	}
	return false
}

// Credential is what a request presents, parsed but not verified. Secret
// holds the password, API key or token; it must never be logged, which is why
// every formatting of a Credential redacts it.
type Credential struct {
	Method   Method
	Header   string // where it came from, e.g. "Authorization" or "X-API-Key"
	Username string // Basic only
	Secret   string
}

// String describes the credential without its secret.
func (c Credential) String() string {
	if c.Method == "" {
		return "no credential"
	}
	// Built without fmt: every request's trace has this line.
	s := string(c.Method) + " in " + c.Header + " (" + strconv.Itoa(len(c.Secret)) + " bytes)"
	if c.Username != "" {
		if n := LoggableName(c.Username); n == c.Username {
			s += " for user " + strconv.Quote(n)
		} else {
			s += " for user " + n
		}
	}
	return s
}

// LoggableName is a user name as a log may keep it. A name that looks like
// a secret — an API key, a token, a long random string: a key or password
// typed into the name field — is replaced by a description, so it never
// reaches a log or the sign-in log.
func LoggableName(n string) string {
	if looksSecret(n) {
		return fmt.Sprintf("(a %d-byte value that looks like a secret, not recorded)", len(n))
	}
	return n
}

func looksSecret(n string) bool {
	switch {
	case len(n) > 64 || strings.HasPrefix(n, "agk_"):
		return true
	case strings.HasPrefix(n, "eyJ") && strings.Count(n, ".") == 2:
		return true // a JWT
	case len(n) >= 24 && !strings.ContainsAny(n, "@. "):
		var lower, upper, digit bool
		for _, r := range n {
			lower = lower || unicode.IsLower(r)
			upper = upper || unicode.IsUpper(r)
			digit = digit || unicode.IsDigit(r)
		}
		return lower && upper && digit // random-looking, like most keys
	}
	return false
}

// GoString redacts the secret from %#v as well.
func (c Credential) GoString() string { return "authgate.Credential{" + c.String() + "}" }

// LogValue redacts the secret from structured logs.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Principal is a proven identity.
type Principal struct {
	Subject  string   `json:"subject"`
	Method   Method   `json:"method"`
	Scopes   []string `json:"scopes,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`   // bearer tokens
	Audience []string `json:"audience,omitempty"` // bearer tokens
	KeyID    string   `json:"key_id,omitempty"`   // API keys
	// SecondFactor reports whether the identity was proved with a second
	// factor (a TOTP or recovery code) besides the password: sessions
	// after the 2-step page.
	SecondFactor bool `json:"second_factor,omitempty"`
	// SessionID names the session (a digest, never the cookie) for
	// sessions.
	SessionID string `json:"session_id,omitempty"`
	// Enrolled reports whether the user has a second factor: then a
	// password alone proves too little (policy refuses it outside the
	// portal's first step).
	Enrolled bool `json:"enrolled,omitempty"`
}

// HasScope reports whether the principal holds scope s.
func (p Principal) HasScope(s string) bool {
	for _, have := range p.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// UnavailableError is a technical failure that kept a verifier from
// deciding: a key server down, a store that does not answer. It carries the
// catalogued 503 reason the failure becomes, so the caller is never blamed
// for the gateway's own outage.
type UnavailableError struct {
	Reason     reason.Code
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	return string(e.Reason) + ": " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable wraps err as an UnavailableError with reason code.
func Unavailable(code reason.Code, retryAfter time.Duration, err error) error {
	return &UnavailableError{Reason: code, RetryAfter: retryAfter, Err: err}
}

// ErrNotFound is returned by stores when a user or key does not exist.
var ErrNotFound = errors.New("not found")
