package password

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
)

// probe is one extra hash computation after a failed check: a variant of
// the presented password against one hash.
type probe struct {
	code     reason.Code // what a match means; "" for padding
	password string
	hash     string
	previous authgate.PreviousPassword
}

// refuse finishes a failed attempt. With DetectSlips it runs the same
// sequence of probes for every user, known or not: trimmed and case-inverted
// variants (only when they differ from the presented password, which the
// caller already knows) and exactly PreviousChecked previous hashes, padded
// with the dummy. Unknown users run it all against the dummy. So the number
// of hash computations depends only on the presented password and the
// configuration: at most 3 + PreviousChecked per failed attempt.
func (v *Verifier) refuse(vd authgate.Verdict, u authgate.User, known bool, password string) authgate.Verdict {
	if !v.opts.DetectSlips {
		return v.finish(vd, known, u, nil, -1)
	}
	if n := v.waiting.Load(); n > 0 {
		// Under a burst, slips are a luxury: each probe is a whole hash,
		// and others wait for the slot. The count still depends only on
		// the load, never on the user.
		vd.Checks = append(vd.Checks, authgate.Checkf("password.slips", authgate.Skip,
			"not looked for: %d check(s) waiting for a hashing slot", n))
		return v.finish(vd, known, u, nil, -1)
	}
	probes := v.probes(u, known, password)
	match := -1
	for i, p := range probes {
		// Every probe runs, even after a match, so that a slip costs the
		// same time as a plain wrong password.
		ok, err := v.hash(p.hash, p.password)
		if ok && err == nil && known && p.code != "" && match < 0 {
			match = i
		}
	}
	return v.finish(vd, known, u, probes, match)
}

// probes lists the extra computations for a failed attempt.
func (v *Verifier) probes(u authgate.User, known bool, password string) []probe {
	current := v.dummy
	if known {
		current = u.PasswordHash
	}
	var ps []probe
	if trimmed := strings.TrimSpace(password); trimmed != password {
		ps = append(ps, probe{code: reason.PasswordWhitespace, password: trimmed, hash: current})
	}
	if inverted := invertCase(password); inverted != password {
		ps = append(ps, probe{code: reason.PasswordCapsLock, password: inverted, hash: current})
	}
	var recent []authgate.PreviousPassword
	if known {
		cutoff := v.opts.Now().Add(-v.opts.KeepPrevious)
		for _, p := range u.Previous {
			if !p.ReplacedAt.Before(cutoff) {
				recent = append(recent, p)
			}
		}
		slices.SortStableFunc(recent, func(a, b authgate.PreviousPassword) int { return b.ReplacedAt.Compare(a.ReplacedAt) })
	}
	for i := range v.opts.PreviousChecked {
		if i < len(recent) {
			ps = append(ps, probe{code: reason.PasswordPrevious, password: password, hash: recent[i].Hash, previous: recent[i]})
		} else {
			ps = append(ps, probe{password: password, hash: v.dummy})
		}
	}
	return ps
}

// finish writes the hash, slips and previous checks and the verdict's one
// reason. probes[match] is the first probe that matched, if match ≥ 0.
func (v *Verifier) finish(vd authgate.Verdict, known bool, u authgate.User, probes []probe, match int) authgate.Verdict {
	if !known {
		vd.Checks = append(vd.Checks, authgate.Checkf("password.hash", authgate.Info,
			"checked against a dummy hash (%d hash computations) so the answer takes as long as for an existing user", 1+len(probes)))
		vd.Reason = reason.UserUnknown
		return vd
	}
	code := reason.PasswordWrong
	if match >= 0 {
		code = probes[match].code
	}
	hash := authgate.Checkf("password.hash", authgate.Fail, "does not match the current %s hash", passhash.Name(u.PasswordHash))
	if code == reason.PasswordWrong {
		hash.Reason = code
	}
	vd.Checks = append(vd.Checks, hash)
	vd.Reason = code
	if !v.opts.DetectSlips {
		return vd
	}

	slip := authgate.Checkf("password.slips", authgate.Skip, "no surrounding whitespace and no letters to invert")
	var tried, previous int
	for _, p := range probes {
		switch p.code {
		case reason.PasswordWhitespace, reason.PasswordCapsLock:
			tried++
		case reason.PasswordPrevious:
			previous++
		}
	}
	switch {
	case code == reason.PasswordWhitespace:
		slip = authgate.Check{Name: "password.slips", Result: authgate.Fail, Reason: code,
			Detail: "matches once the whitespace around it is removed"}
	case code == reason.PasswordCapsLock:
		slip = authgate.Check{Name: "password.slips", Result: authgate.Fail, Reason: code,
			Detail: "matches with the case of every letter inverted (Caps Lock)"}
	case tried > 0:
		slip = authgate.Checkf("password.slips", authgate.Pass, "neither trimming whitespace nor inverting letter case matches")
	}
	vd.Checks = append(vd.Checks, slip)

	prev := authgate.Checkf("password.previous", authgate.Skip, "no previous password replaced within the last %s", days(v.opts.KeepPrevious))
	switch {
	case code == reason.PasswordPrevious:
		replaced := probes[match].previous.ReplacedAt
		prev = authgate.Check{Name: "password.previous", Result: authgate.Fail, Reason: code,
			Detail: fmt.Sprintf("was this user's password until %s (%s)", day(replaced), authgate.Ago(v.opts.Now(), replaced))}
	case previous > 0:
		prev = authgate.Checkf("password.previous", authgate.Pass, "matches none of the %d most recent previous password(s)", previous)
	}
	vd.Checks = append(vd.Checks, prev)
	return vd
}

// invertCase swaps upper and lower case of every letter, as typing with
// Caps Lock on does.
func invertCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsUpper(r):
			return unicode.ToLower(r)
		case unicode.IsLower(r):
			return unicode.ToUpper(r)
		}
		return r
	}, s)
}
