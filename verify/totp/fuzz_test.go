package totp_test

import (
	"testing"
	"time"

	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/totp"
)

// FuzzCheck feeds Check any secret, code and time: it must never panic,
// and what it reports must hold together.
func FuzzCheck(f *testing.F) {
	code, _ := totp.Code(rfcSHA1, now, totp.Default)
	for _, seed := range []struct {
		secret []byte
		code   string
		unix   int64
	}{
		{rfcSHA1, code, now.Unix()},
		{rfcSHA1, code[:3] + " " + code[3:], now.Unix()},
		{nil, "000000", 0},
		{[]byte{0}, "", -1},
		{rfcSHA1, "١٢٣٤٥٦", 59},
		{rfcSHA1, "12345\x00", 1 << 40},
		{rfcSHA1, "abcd-efgh-jkmn", -1 << 40},
		{rfcSHA512, "9999999", 20000000000},
	} {
		f.Add(seed.secret, seed.code, seed.unix)
	}
	f.Fuzz(func(t *testing.T, secret []byte, code string, unix int64) {
		at := time.Unix(unix, 0)
		m := totp.Check(secret, code, at, totp.Default)
		r := m.Reason()
		if r != "" && !reason.Known(r) {
			t.Fatalf("reason %q is not catalogued", r)
		}
		switch {
		case m.Malformed && (m.Found || m.Acceptable):
			t.Fatalf("malformed yet found: %+v", m)
		case m.Acceptable && m.Offset != 0 && m.Offset != -1:
			t.Fatalf("acceptable at offset %d", m.Offset)
		case m.Found && (m.Offset < -totp.Window || m.Offset > totp.Window):
			t.Fatalf("offset %d outside the window", m.Offset)
		case m.Found && m.Step != m.Current+int64(m.Offset):
			t.Fatalf("step %d is not current %d %+d", m.Step, m.Current, m.Offset)
		case m.Found && m.Skew() != time.Duration(m.Offset)*totp.Default.Period:
			t.Fatalf("skew %s for offset %d", m.Skew(), m.Offset)
		}
		// The shape checks never panic either.
		totp.LooksLikeRecoveryCode(code)
		totp.NormalizeRecoveryCode(code)
	})
}
