package totp_test

import (
	"bytes"
	"image"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/verify/totp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
)

// jbswy3dp is the secret of Google Authenticator's documentation,
// JBSWY3DPEHPK3PXP in base32.
var jbswy3dp = []byte("Hello!\xde\xad\xbe\xef")

func TestURIEscapesTheIssuerAndAccount(t *testing.T) {
	tests := []struct {
		name, issuer, account, want string
	}{
		{"a plain issuer and e-mail account stay readable",
			"ACME", "alice@example.com",
			"otpauth://totp/ACME:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME&period=30&digits=6&algorithm=SHA1"},
		{"spaces become %20, a colon in the issuer cannot move the label's separator, and & / + ? # are escaped",
			"ACME Corp: Dev/Ops & Co", "alice+ops@example.com?#",
			"otpauth://totp/ACME%20Corp%3A%20Dev%2FOps%20%26%20Co:alice%2Bops%40example.com%3F%23" +
				"?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Corp%3A%20Dev%2FOps%20%26%20Co&period=30&digits=6&algorithm=SHA1"},
		{"non-ASCII names are percent-encoded UTF-8",
			"Zürich Bank", "josé",
			"otpauth://totp/Z%C3%BCrich%20Bank:jos%C3%A9?secret=JBSWY3DPEHPK3PXP&issuer=Z%C3%BCrich%20Bank&period=30&digits=6&algorithm=SHA1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := totp.URI(jbswy3dp, tt.issuer, tt.account)
			if got != tt.want {
				t.Errorf("URI =\n %s\nwant\n %s", got, tt.want)
			}
			// An authenticator app's parser reads back what went in.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if label := strings.TrimPrefix(u.Path, "/"); label != tt.issuer+":"+tt.account {
				t.Errorf("label decodes to %q", label)
			}
			key, err := otp.NewKeyFromURL(got)
			if err != nil {
				t.Fatal(err)
			}
			if key.Issuer() != tt.issuer || key.Secret() != "JBSWY3DPEHPK3PXP" || key.Period() != 30 ||
				key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 || key.Type() != "totp" {
				t.Errorf("otp reads issuer %q, secret %q, period %d, digits %d, algorithm %s, type %s",
					key.Issuer(), key.Secret(), key.Period(), key.Digits(), key.Algorithm(), key.Type())
			}
		})
	}
}

func TestBase32IsGroupedForTypingByHand(t *testing.T) {
	for _, tt := range []struct {
		secret []byte
		want   string
	}{
		{jbswy3dp, "JBSW Y3DP EHPK 3PXP"},
		{rfcSHA1, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"},
		{[]byte("a"), "ME"},
	} {
		if got := totp.Base32(tt.secret); got != tt.want {
			t.Errorf("Base32(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
	// What the user types, spaces and all, is the secret.
	s := newSecret(t)
	typed := strings.ReplaceAll(totp.Base32(s), " ", "")
	if want := totp.URI(s, "i", "a"); !strings.Contains(want, "secret="+typed+"&") {
		t.Errorf("Base32 without spaces is not the URI's secret")
	}
}

func TestQRCodeDecodesToTheURI(t *testing.T) {
	uri := totp.URI(newSecret(t), "ACME Corp", "alice@example.com")
	for _, size := range []int{200, 256, 512} {
		b, err := totp.QRCode(uri, size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
			t.Errorf("image is %dx%d, want %dx%d", r.Dx(), r.Dy(), size, size)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		// PURE_BARCODE: the image is a generated code, not a photo. (Its
		// finder-pattern search misses about one code in twelve that
		// zbarimg and phone cameras read.)
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			t.Fatalf("%d px: the QR code does not decode: %v", size, err)
		}
		if res.GetText() != uri {
			t.Errorf("%d px: QR code holds %q, want %q", size, res.GetText(), uri)
		}
		// The quiet zone is at least 4 modules wide: measure a module by
		// the top edge of the top-left finder pattern, 7 modules long.
		border, finder := quietZone(img)
		if module := finder / 7; module == 0 || border < 4*module {
			t.Errorf("%d px: white border of %d px, modules of %d px: want a quiet zone of 4 modules", size, border, module)
		}
	}
}

// quietZone returns how many white rows precede the first dark pixel, and
// the length of the dark run that starts there (the top edge of the
// top-left finder pattern).
func quietZone(img image.Image) (border, run int) {
	dark := func(x, y int) bool { r, _, _, _ := img.At(x, y).RGBA(); return r < 0x8000 }
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(x, y) {
				for run = 0; x+run < b.Max.X && dark(x+run, y); run++ {
				}
				return min(y, x), run
			}
		}
	}
	return b.Dy(), 0
}

func TestQRCodeErrorsNeverQuoteTheURI(t *testing.T) {
	secret := newSecret(t)
	uri := totp.URI(secret, "ACME", "alice")
	for _, tt := range []struct {
		name string
		uri  string
		size int
	}{
		{"a size too small for the code", uri, 20},
		{"a size of zero", uri, 0},
		{"a URI too long for any QR code", uri + "&x=" + strings.Repeat("A", 8000), 256},
		{"a URI that does not parse", uri + "%zz\x7f", 256},
		{"an HOTP URI", strings.Replace(uri, "//totp/", "//hotp/", 1), 256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := totp.QRCode(tt.uri, tt.size)
			if err == nil {
				t.Fatal("QRCode succeeded")
			}
			assertNoSecret(t, err.Error(), secret)
		})
	}
}
