package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"time"
	"unicode"

	"github.com/authgate/authgate/reason"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Match is what Check found out about a code.
type Match struct {
	// Malformed reports that the code is not Params.Digits ASCII digits
	// once spaces are removed; nothing was compared.
	Malformed bool
	// Found reports whether the code equals the code of a step within
	// Window steps of now.
	Found bool
	// Offset is the matching step minus the current step: 0 the current
	// step, -1 one step back, +6 three minutes ahead (with 30 s steps).
	Offset int
	// Step is the number of the matching step (see StepAt).
	Step int64
	// Current is the number of the step now falls in.
	Current int64
	// Acceptable reports whether the code may be accepted: Offset 0 or -1.
	Acceptable bool
	// ValidUntil is when the matching code stops being acceptable: the end
	// of the step after it. A replay cache keeps the step until then.
	ValidUntil time.Time

	at     time.Time     // the time checked
	period time.Duration // Params.Period
	digits int           // Params.Digits
	shape  string        // describe(code), for a malformed code only
}

// Skew is Offset periods when a step matched, else 0: how far ahead
// (positive: the device's clock is fast) or behind (negative: slow) the
// device's clock seems to be.
func (m Match) Skew() time.Duration {
	if !m.Found {
		return 0
	}
	return time.Duration(m.Offset) * m.period
}

// Reason classifies the match: "" when acceptable, else code_malformed,
// code_wrong (no step matches), code_expired (2 or 3 steps back: right 31
// to 90 s ago, typed too slowly) or code_clock_skew (any other step).
func (m Match) Reason() reason.Code {
	switch {
	case m.Malformed:
		return reason.CodeMalformed
	case !m.Found:
		return reason.CodeWrong
	case m.Acceptable:
		return ""
	case m.Offset == -2 || m.Offset == -3:
		return reason.CodeExpired
	}
	return reason.CodeClockSkew
}

// Check compares code with the codes of every step from Window steps
// before now to Window steps after it, each comparison in constant time
// and all of them whatever matched, so timing tells nothing about which
// step (if any) matched. When several steps match (a one-in-25,000 chance
// with 6 digits) it reports the one nearest now, the earlier on a tie.
// Spaces in code are ignored ("123 456"). Check panics if p is invalid
// (see Params.Validate).
func Check(secret []byte, code string, now time.Time, p Params) Match {
	p = p.mustValid()
	m := Match{Current: StepAt(now, p), at: now, period: p.Period, digits: p.Digits}
	digits, ok := normalizeDigits(code, p.Digits)
	if !ok {
		m.Malformed, m.shape = true, describe(code)
		return m
	}
	key, opts := hotpKey(secret, p)
	for off := -Window; off <= Window; off++ {
		step := m.Current + int64(off)
		if step < 0 {
			continue // no step before 1970
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(step), opts)
		if err != nil {
			continue // unreachable: key is valid base32
		}
		if subtle.ConstantTimeCompare([]byte(want), digits) == 1 && (!m.Found || rank(off) < rank(m.Offset)) {
			m.Found, m.Offset, m.Step = true, off, step
		}
	}
	if m.Found {
		m.Acceptable = m.Offset == 0 || m.Offset == -1
		m.ValidUntil = StepStart(m.Step+2, p)
	}
	return m
}

// Code returns the code an authenticator app shows at t for secret: for
// tests, and for tools that show what the code should be. It panics if p
// is invalid (see Params.Validate).
func Code(secret []byte, t time.Time, p Params) (string, error) {
	p = p.mustValid()
	key, opts := hotpKey(secret, p)
	return hotp.GenerateCodeCustom(key, uint64(StepAt(t, p)), opts)
}

// hotpKey puts secret and p in the form the hotp package takes.
func hotpKey(secret []byte, p Params) (string, hotp.ValidateOpts) {
	alg, _ := p.Algorithm.otp()
	key := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	return key, hotp.ValidateOpts{Digits: otp.Digits(p.Digits), Algorithm: alg}
}

// rank orders offsets by distance from now, the past first on a tie:
// 0, -1, +1, -2, +2, ...
func rank(off int) int {
	if off < 0 {
		return -2*off - 1
	}
	return 2 * off
}

// normalizeDigits removes spaces from code and reports whether what is
// left is exactly n ASCII digits. Other digits (Arabic-Indic, full-width)
// are not accepted: authenticator apps never show them.
func normalizeDigits(code string, n int) ([]byte, bool) {
	if len(code) > 64 {
		return nil, false
	}
	b := make([]byte, 0, n)
	for _, r := range code {
		switch {
		case unicode.IsSpace(r):
		case r >= '0' && r <= '9' && len(b) < n:
			b = append(b, byte(r))
		default:
			return nil, false
		}
	}
	return b, len(b) == n
}
