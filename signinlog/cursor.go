package signinlog

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds what every Store needs to page and filter the same way,
// whatever its database: the page cursor (a position bound to the filter
// it was made for), stored times, and the keys of source addresses.

// EncodeCursor returns the opaque page cursor of position (t, id) under f:
// t is the Unix-nanosecond time of a page's last event and id the store's
// insertion-ordered key of it, so the next page is the events before (t,
// id). The cursor carries a checksum over the position and f, so that
// DecodeCursor refuses it under any other filter.
func EncodeCursor(f Filter, t, id int64) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(t))
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = append(b, cursorSum(f, t, id)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the position EncodeCursor put into c. It fails with
// an error wrapping ErrBadCursor if c is not a cursor or was made for a
// filter other than f.
func DecodeCursor(f Filter, c string) (t, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return 0, 0, fmt.Errorf("%w: not a page cursor", ErrBadCursor)
	}
	t, id = int64(binary.BigEndian.Uint64(b[1:])), int64(binary.BigEndian.Uint64(b[9:]))
	if string(cursorSum(f, t, id)) != string(b[17:]) {
		return 0, 0, fmt.Errorf("%w: the cursor belongs to another filter", ErrBadCursor)
	}
	return t, id, nil
}

const (
	cursorVersion = 1
	cursorLen     = 1 + 8 + 8 + 8 // version, time, id, checksum
)

// cursorSum checksums a cursor's position together with its filter. It is
// not a secret: it tells a cursor of another filter (or a garbled one)
// apart, which would otherwise page through the wrong events silently.
func cursorSum(f Filter, t, id int64) []byte {
	h := sha256.New()
	h.Write([]byte("authgate events cursor v1\x00"))
	h.Write([]byte(filterKey(f)))
	h.Write(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(t)), uint64(id)))
	return h.Sum(nil)[:8]
}

// filterKey is a canonical text of f: filters that select the same events
// the same way (a network given with host bits, times in another location)
// have the same key.
func filterKey(f Filter) string {
	var network string
	if f.Network.IsValid() {
		network = f.Network.Masked().String()
	}
	return strings.Join([]string{f.User, f.KeyID, f.Route, string(f.Method), string(f.Reason), f.Outcome, network,
		strconv.FormatInt(nanosOrZero(f.Since), 10), strconv.FormatInt(nanosOrZero(f.Until), 10),
		f.RequestID, f.Fingerprint}, "\x00")
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return UnixNanos(t)
}

// UnixNanos returns t in Unix nanoseconds, the form stores keep times in,
// clamped to the range of int64 (years 1678 to 2261) so that a bound far in
// the past or future still compares correctly with every stored time.
func UnixNanos(t time.Time) int64 {
	switch {
	case t.Year() < 1678:
		return math.MinInt64
	case t.Year() > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// AddressKey returns the 16-byte key stores index a source address by: the
// address with IPv4 mapped into IPv6, so that an IPv4 source and the same
// source seen as ::ffff:a.b.c.d share a key and sort within IPv4Keys.
func AddressKey(a netip.Addr) [16]byte {
	return a.Unmap().As16()
}

// AddressRange returns the first and last AddressKey within p, for
// Filter.Network: the events whose key lies between lo and hi, inclusive.
// An IPv4-mapped prefix (::ffff:192.0.2.0/120) means its IPv4 network.
//
// exceptIPv4 reports that p is an IPv6 prefix whose range covers IPv4Keys
// (::/0, for one): IPv4 sources are stored there, and an IPv6 prefix must
// not match them, so the store has to leave that range out.
func AddressRange(p netip.Prefix) (lo, hi [16]byte, exceptIPv4 bool) {
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	v4 := addr.Is4()
	if v4 {
		bits += 96
	}
	lo = addr.As16()
	for i := range 16 {
		keep := min(max(bits-8*i, 0), 8)
		mask := byte(0xff << (8 - keep))
		lo[i] &= mask
		hi[i] = lo[i] | ^mask
	}
	v4Lo, v4Hi := IPv4Keys()
	exceptIPv4 = !v4 && string(lo[:]) <= string(v4Lo[:]) && string(v4Hi[:]) <= string(hi[:])
	return lo, hi, exceptIPv4
}

// IPv4Keys returns the first and last AddressKey of an IPv4 address
// (::ffff:0.0.0.0 and ::ffff:255.255.255.255).
func IPv4Keys() (lo, hi [16]byte) {
	return AddressKey(netip.IPv4Unspecified()), AddressKey(netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}

// TextColumn returns s as a store may index it: valid UTF-8 without NUL.
// Several event fields come straight from what a client sent (a token's
// unverified sub or iss, a user agent), and PostgreSQL refuses a text value
// with NUL or invalid UTF-8 — one such event would fail its whole batch,
// and every replay of it. The stored decision keeps the original.
func TextColumn(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s // nearly always: ValidString checks 8 bytes at a time
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
