package totp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/verify/totp"
)

// The seeds of RFC 6238 Appendix B: the ASCII digits repeated to the
// length of each hash's output (its reference code's seed, seed32, seed64).
var (
	rfcSHA1   = []byte("12345678901234567890")
	rfcSHA256 = []byte("12345678901234567890123456789012")
	rfcSHA512 = []byte("1234567890123456789012345678901234567890123456789012345678901234")
)

// TestRFC6238AppendixB runs every test vector of RFC 6238 Appendix B
// through Code, StepAt and Check: 8 digits, 30 s steps, T0 = 0.
func TestRFC6238AppendixB(t *testing.T) {
	vectors := []struct {
		unix int64
		// step is the RFC's T. For 20000000000 s its table prints
		// 0x27BCC8A2, a slip: 20000000000/30 is 0x27BC86AA, and the
		// table's codes are those of 0x27BC86AA.
		step   int64
		alg    totp.Algorithm
		secret []byte
		code   string
	}{
		{59, 0x1, totp.SHA1, rfcSHA1, "94287082"},
		{59, 0x1, totp.SHA256, rfcSHA256, "46119246"},
		{59, 0x1, totp.SHA512, rfcSHA512, "90693936"},
		{1111111109, 0x23523EC, totp.SHA1, rfcSHA1, "07081804"},
		{1111111109, 0x23523EC, totp.SHA256, rfcSHA256, "68084774"},
		{1111111109, 0x23523EC, totp.SHA512, rfcSHA512, "25091201"},
		{1111111111, 0x23523ED, totp.SHA1, rfcSHA1, "14050471"},
		{1111111111, 0x23523ED, totp.SHA256, rfcSHA256, "67062674"},
		{1111111111, 0x23523ED, totp.SHA512, rfcSHA512, "99943326"},
		{1234567890, 0x273EF07, totp.SHA1, rfcSHA1, "89005924"},
		{1234567890, 0x273EF07, totp.SHA256, rfcSHA256, "91819424"},
		{1234567890, 0x273EF07, totp.SHA512, rfcSHA512, "93441116"},
		{2000000000, 0x3F940AA, totp.SHA1, rfcSHA1, "69279037"},
		{2000000000, 0x3F940AA, totp.SHA256, rfcSHA256, "90698825"},
		{2000000000, 0x3F940AA, totp.SHA512, rfcSHA512, "38618901"},
		{20000000000, 0x27BC86AA, totp.SHA1, rfcSHA1, "65353130"},
		{20000000000, 0x27BC86AA, totp.SHA256, rfcSHA256, "77737706"},
		{20000000000, 0x27BC86AA, totp.SHA512, rfcSHA512, "47863826"},
	}
	for _, v := range vectors {
		at := time.Unix(v.unix, 0).UTC()
		p := totp.Params{Period: 30 * time.Second, Digits: 8, Algorithm: v.alg}
		t.Run(fmt.Sprintf("%s at %s", v.alg, at.Format(time.DateTime)), func(t *testing.T) {
			if got := totp.StepAt(at, p); got != v.step {
				t.Errorf("StepAt = %#x, want %#x", got, v.step)
			}
			code, err := totp.Code(v.secret, at, p)
			if err != nil || code != v.code {
				t.Errorf("Code = %q, %v; want %q", code, err, v.code)
			}
			m := totp.Check(v.secret, v.code, at, p)
			if !m.Found || m.Offset != 0 || m.Step != v.step || !m.Acceptable {
				t.Errorf("Check at the vector's time = %+v, want the current step %#x, acceptable", m, v.step)
			}
			// 30 s later the same code is one step back: still accepted.
			m = totp.Check(v.secret, v.code, at.Add(30*time.Second), p)
			if !m.Found || m.Offset != -1 || m.Step != v.step || !m.Acceptable {
				t.Errorf("Check 30 s later = %+v, want one step back, acceptable", m)
			}
		})
	}
}
