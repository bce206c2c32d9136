package totp

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
)

// Algorithm names the HMAC hash of the codes, as the otpauth URI spells it.
type Algorithm string

// The hashes RFC 6238 defines. Authenticator apps use SHA1; most ignore
// the others.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Params are the parameters of the codes. The gateway uses Default; the
// others exist for the RFC's test vectors.
type Params struct {
	// Period is the length of a step: a whole number of seconds.
	Period time.Duration
	// Digits is the length of a code: 6, 7 or 8.
	Digits int
	// Algorithm is the HMAC hash.
	Algorithm Algorithm
}

// Default are the parameters every authenticator app understands: 30 s
// steps, 6 digits, HMAC-SHA1.
var Default = Params{Period: 30 * time.Second, Digits: 6, Algorithm: SHA1}

// Window is how many steps either side of now Check compares a code with
// (±10 minutes with 30 s steps), to recognise codes typed too slowly and
// devices whose clock is off. Only offsets 0 and -1 are ever accepted.
const Window = 20

// orDefault fills zero fields from Default.
func (p Params) orDefault() Params {
	if p.Period == 0 {
		p.Period = Default.Period
	}
	if p.Digits == 0 {
		p.Digits = Default.Digits
	}
	if p.Algorithm == "" {
		p.Algorithm = Default.Algorithm
	}
	return p
}

// Validate returns an error naming the first unusable parameter, after
// zero fields take their Default values; nil when p is usable.
func (p Params) Validate() error {
	p = p.orDefault()
	switch {
	case p.Period < time.Second || p.Period%time.Second != 0:
		return fmt.Errorf("totp: period %s is not a whole number of seconds", p.Period)
	case p.Digits < 6 || p.Digits > 8:
		return fmt.Errorf("totp: codes of %d digits are not supported (6 to 8)", p.Digits)
	}
	if _, ok := p.Algorithm.otp(); !ok {
		return fmt.Errorf("totp: unknown algorithm %q (SHA1, SHA256 or SHA512)", p.Algorithm)
	}
	return nil
}

// mustValid returns p with defaults filled in, and panics if it is
// unusable: parameters are the program's constants, never input.
func (p Params) mustValid() Params {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p.orDefault()
}

func (a Algorithm) otp() (otp.Algorithm, bool) {
	switch a {
	case SHA1:
		return otp.AlgorithmSHA1, true
	case SHA256:
		return otp.AlgorithmSHA256, true
	case SHA512:
		return otp.AlgorithmSHA512, true
	}
	return 0, false
}

// seconds is the period in whole seconds.
func (p Params) seconds() int64 { return int64(p.Period / time.Second) }

// StepAt returns the number of the step t falls in: the Unix time divided
// by the period, rounded down (RFC 6238 §4.2 with T0 = 0). It panics if p
// is invalid (see Validate).
func StepAt(t time.Time, p Params) int64 {
	p = p.mustValid()
	s, n := t.Unix(), p.seconds()
	step := s / n
	if s%n != 0 && s < 0 {
		step-- // round toward minus infinity before 1970
	}
	return step
}

// StepStart returns when step begins. It panics if p is invalid (see
// Validate).
func StepStart(step int64, p Params) time.Time {
	p = p.mustValid()
	return time.Unix(step*p.seconds(), 0).UTC()
}
