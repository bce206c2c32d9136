package totp

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Detail describes the match for a decision's trace, with the step
// numbers and times it compared and never the code: "matches the code of
// the current step (step 59838960)", "the code of 180 s later matches
// (step 59838966): the device clock is about 3 minutes fast".
func (m Match) Detail() string {
	switch m.Reason() {
	case reason.CodeMalformed:
		return fmt.Sprintf("expected %d digits; got %s", m.digits, m.shape)
	case reason.CodeWrong:
		w := approx(Window * m.period)
		return fmt.Sprintf("matches the code of no step from %s before to %s after now (steps %d to %d)",
			w, w, m.Current-Window, m.Current+Window)
	case reason.CodeExpired:
		return fmt.Sprintf("matches the code of %d steps back (step %d, %s), which stopped being accepted %s ago: typed too slowly",
			-m.Offset, m.Step, shift(m.Skew()), approx(m.at.Sub(m.ValidUntil)))
	case reason.CodeClockSkew:
		return fmt.Sprintf("the code of %s matches (step %d): the device clock is about %s %s",
			shift(m.Skew()), m.Step, approx(abs(m.Skew())), fastOrSlow(m.Skew()))
	}
	if m.Offset == -1 {
		return fmt.Sprintf("matches the code of one step back (step %d, sent just after the step changed)", m.Step)
	}
	return fmt.Sprintf("matches the code of the current step (step %d)", m.Step)
}

// describe tells what a malformed code looks like without repeating it:
// its length without spaces and dashes, and the kinds of characters in it.
func describe(code string) string {
	var n int
	var digits, letters, otherDigits, other, dashes bool
	for _, r := range code {
		if unicode.IsSpace(r) || r == '-' {
			dashes = dashes || r == '-'
			continue
		}
		n++
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r < 0x80 && unicode.IsLetter(r):
			letters = true
		case unicode.IsDigit(r):
			otherDigits = true
		default:
			other = true
		}
	}
	if n == 0 && dashes {
		return "dashes only"
	}
	if n == 0 {
		return "no characters"
	}
	var kinds []string
	if digits {
		kinds = append(kinds, "digits")
	}
	if letters {
		kinds = append(kinds, "letters")
	}
	if otherDigits {
		kinds = append(kinds, "non-ASCII digits")
	}
	if other {
		kinds = append(kinds, "other characters")
	}
	s := authgate.Count(n, "character") + " (" + strings.Join(kinds, ", ") + ")"
	if dashes {
		s += " and dashes"
	}
	if n == RecoveryLength && !otherDigits && !other {
		s += "; recovery codes never contain 0, 1, i, l, o or u"
	}
	return s
}

// shift says how far from now a step lies: "180 s later", "240 s earlier".
func shift(d time.Duration) string {
	if d < 0 {
		return strconv.Itoa(int(-d/time.Second)) + " s earlier"
	}
	return strconv.Itoa(int(d/time.Second)) + " s later"
}

// approx says a duration the way a person would: "30 seconds" below two
// minutes, else "3 minutes", rounded to the nearest minute.
func approx(d time.Duration) string {
	if d < 2*time.Minute {
		return authgate.Count(int(d/time.Second), "second")
	}
	return authgate.Count(int((d+30*time.Second)/time.Minute), "minute")
}

func fastOrSlow(skew time.Duration) string {
	if skew < 0 {
		return "slow"
	}
	return "fast"
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
