package totp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/totp"
	"github.com/google/go-cmp/cmp"
)

// now is 17 s into a step, as a person would type a code.
var now = time.Date(2026, 11, 20, 10, 0, 17, 0, time.UTC)

// codeAt returns the Default code of secret offset steps from now.
func codeAt(t testing.TB, secret []byte, offset int) string {
	t.Helper()
	c, err := totp.Code(secret, now.Add(time.Duration(offset)*totp.Default.Period), totp.Default)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckClassifiesEveryStepOfTheWindow(t *testing.T) {
	secret := rfcSHA1
	current := totp.StepAt(now, totp.Default)
	type want struct {
		Reason     reason.Code
		Found      bool
		Offset     int
		Acceptable bool
		Skew       time.Duration
	}
	tests := []struct {
		name string
		code func(t testing.TB) string
		want want
	}{
		{"the code of the current step is accepted",
			func(t testing.TB) string { return codeAt(t, secret, 0) },
			want{Found: true, Acceptable: true}},
		{"the code of one step back is accepted for network delay, with a skew of -30 s",
			func(t testing.TB) string { return codeAt(t, secret, -1) },
			want{Found: true, Offset: -1, Acceptable: true, Skew: -30 * time.Second}},
		{"the code of two steps back was typed too slowly: code_expired",
			func(t testing.TB) string { return codeAt(t, secret, -2) },
			want{Reason: reason.CodeExpired, Found: true, Offset: -2, Skew: -60 * time.Second}},
		{"the code of three steps back is still code_expired",
			func(t testing.TB) string { return codeAt(t, secret, -3) },
			want{Reason: reason.CodeExpired, Found: true, Offset: -3, Skew: -90 * time.Second}},
		{"the code of four steps back means the device clock is 2 minutes slow",
			func(t testing.TB) string { return codeAt(t, secret, -4) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: -4, Skew: -120 * time.Second}},
		{"the code of one step ahead is not accepted: the device clock is 30 s fast",
			func(t testing.TB) string { return codeAt(t, secret, 1) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: 1, Skew: 30 * time.Second}},
		{"the code of 6 steps ahead means the device clock is 180 s fast",
			func(t testing.TB) string { return codeAt(t, secret, 6) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: 6, Skew: 180 * time.Second}},
		{"the code of 8 steps back means the device clock is 240 s slow",
			func(t testing.TB) string { return codeAt(t, secret, -8) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: -8, Skew: -240 * time.Second}},
		{"the code of 20 steps ahead is the edge of the window: still clock skew",
			func(t testing.TB) string { return codeAt(t, secret, 20) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: 20, Skew: 600 * time.Second}},
		{"the code of 20 steps back is the other edge: still clock skew",
			func(t testing.TB) string { return codeAt(t, secret, -20) },
			want{Reason: reason.CodeClockSkew, Found: true, Offset: -20, Skew: -600 * time.Second}},
		{"the code of 21 steps ahead is outside the window: code_wrong",
			func(t testing.TB) string { return codeAt(t, secret, 21) },
			want{Reason: reason.CodeWrong}},
		{"the code of 21 steps back is outside the window: code_wrong",
			func(t testing.TB) string { return codeAt(t, secret, -21) },
			want{Reason: reason.CodeWrong}},
		{"the current code with a space in the middle, as apps show it, is accepted",
			func(t testing.TB) string { c := codeAt(t, secret, 0); return c[:3] + " " + c[3:] },
			want{Found: true, Acceptable: true}},
		{"the current code with spaces around it is accepted",
			func(t testing.TB) string { return " " + codeAt(t, secret, 0) + "\t" },
			want{Found: true, Acceptable: true}},
		{"letters are malformed", func(testing.TB) string { return "12a456" }, want{Reason: reason.CodeMalformed}},
		{"5 digits are malformed", func(t testing.TB) string { return codeAt(t, secret, 0)[:5] }, want{Reason: reason.CodeMalformed}},
		{"7 digits are malformed", func(t testing.TB) string { return codeAt(t, secret, 0) + "0" }, want{Reason: reason.CodeMalformed}},
		{"an empty code is malformed", func(testing.TB) string { return "" }, want{Reason: reason.CodeMalformed}},
		{"spaces alone are malformed", func(testing.TB) string { return "   " }, want{Reason: reason.CodeMalformed}},
		{"Arabic-Indic digits are malformed", func(testing.TB) string { return "١٢٣٤٥٦" }, want{Reason: reason.CodeMalformed}},
		{"full-width digits are malformed", func(testing.TB) string { return "１２３４５６" }, want{Reason: reason.CodeMalformed}},
		{"a dash inside the digits is malformed", func(testing.TB) string { return "123-456" }, want{Reason: reason.CodeMalformed}},
		{"a sign before the digits is malformed", func(testing.TB) string { return "+123456" }, want{Reason: reason.CodeMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.code(t)
			m := totp.Check(secret, code, now, totp.Default)
			got := want{Reason: m.Reason(), Found: m.Found, Offset: m.Offset, Acceptable: m.Acceptable, Skew: m.Skew()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			// The detail names steps and times, never the code.
			if d := m.Detail(); d == "" || len(strings.TrimSpace(code)) >= 6 && strings.Contains(d, strings.ReplaceAll(strings.TrimSpace(code), " ", "")) {
				t.Errorf("Detail() = %q", d)
			}
			if m.Current != current {
				t.Errorf("Current = %d, want %d", m.Current, current)
			}
			if m.Found {
				if m.Step != current+int64(m.Offset) {
					t.Errorf("Step = %d, want current %+d", m.Step, m.Offset)
				}
				if wantUntil := totp.StepStart(m.Step+2, totp.Default); !m.ValidUntil.Equal(wantUntil) {
					t.Errorf("ValidUntil = %s, want the end of the step after the matching one, %s", m.ValidUntil, wantUntil)
				}
			}
		})
	}
}

func TestStepsRoundDownEvenBefore1970(t *testing.T) {
	p := totp.Default
	for _, tt := range []struct {
		unix int64
		want int64
	}{{0, 0}, {29, 0}, {30, 1}, {-1, -1}, {-30, -1}, {-31, -2}} {
		if got := totp.StepAt(time.Unix(tt.unix, 0), p); got != tt.want {
			t.Errorf("StepAt(%d s) = %d, want %d", tt.unix, got, tt.want)
		}
	}
	// Near 1970 the window is cut short instead of using negative steps.
	code, _ := totp.Code(rfcSHA1, time.Unix(5, 0), p)
	if m := totp.Check(rfcSHA1, code, time.Unix(5, 0), p); !m.Acceptable || m.Step != 0 {
		t.Errorf("Check in the first step = %+v, want step 0 accepted", m)
	}
}

func TestParamsValidateNamesTheBadParameter(t *testing.T) {
	for _, p := range []totp.Params{
		{Period: 1500 * time.Millisecond},
		{Period: -30 * time.Second},
		{Digits: 5},
		{Digits: 9},
		{Algorithm: "MD5"},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: Validate = nil, want an error", p)
		}
	}
	if err := (totp.Params{}).Validate(); err != nil {
		t.Errorf("zero Params (all defaults): %v", err)
	}
}
