package totp

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/url"
	"strconv"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
)

// SecretSize is the length of a new secret in bytes: 160 bits, the size
// RFC 4226 §4 recommends for HMAC-SHA1.
const SecretSize = 20

// NewSecret returns a new random secret of SecretSize bytes. The error is
// that of the system's random source.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("totp: generating a secret: %w", err)
	}
	return b, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Base32 returns secret in base32 for typing by hand into an authenticator
// app that cannot scan the QR code: upper case, no padding, in groups of
// four ("JBSW Y3DP EHPK 3PXP"). Apps ignore the spaces.
func Base32(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// URI returns the otpauth URI that enrolls secret in an authenticator app
// (Google Authenticator's Key Uri Format) with the Default parameters:
// otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&period=30&digits=6&algorithm=SHA1.
// The issuer and account are escaped, colons included, so neither can
// move the label's separator, and spaces become %20 (apps show a "+").
// The URI holds the secret: show it to the user once, never log it.
func URI(secret []byte, issuer, account string) string {
	label := escape(issuer) + ":" + escape(account)
	q := "secret=" + b32.EncodeToString(secret) +
		"&issuer=" + escape(issuer) +
		"&period=" + strconv.FormatInt(Default.seconds(), 10) +
		"&digits=" + strconv.Itoa(Default.Digits) +
		"&algorithm=" + string(Default.Algorithm)
	return "otpauth://totp/" + label + "?" + q
}

// escape percent-encodes s for a URI path segment or query value: every
// byte but unreserved characters (RFC 3986 §2.3), so ':' '/' '?' '&' '#'
// '+' and spaces are all encoded.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// QRCode returns a PNG image, size pixels square, of the QR code of uri
// (as URI returns it), for the enrollment page: error correction level M
// as the otp package draws it, whole pixels per module, and a white quiet
// zone of 4 modules (ISO/IEC 18004 §7.3.7) so that it scans on a dark
// page too. The error says when size is too small for the code; it never
// includes the URI, which holds the secret.
func QRCode(uri string, size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || key.Type() != "totp" || key.Secret() == "" {
		return nil, errors.New("totp: not an otpauth://totp/ URI with a secret")
	}
	code, err := qr.Encode(key.String(), qr.M, qr.Auto)
	if err != nil {
		// The encoder's errors quote the content, secret included.
		return nil, fmt.Errorf("totp: the enrollment URI (%d bytes) is too long for a QR code", len(uri))
	}
	modules := code.Bounds().Dx()
	scale := size / (modules + 2*quietZone)
	if scale < 1 {
		return nil, fmt.Errorf("totp: a QR code of %d pixels is too small for this URI: it needs at least %d", size, modules+2*quietZone)
	}
	scaled, err := barcode.Scale(code, modules*scale, modules*scale)
	if err != nil {
		return nil, fmt.Errorf("totp: scaling the QR code: %w", err) // unreachable: whole multiples scale
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	at := (size - modules*scale) / 2
	draw.Draw(img, image.Rect(at, at, at+modules*scale, at+modules*scale), scaled, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: encoding the QR code as PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// quietZone is the white border around a QR code, in modules.
const quietZone = 4
