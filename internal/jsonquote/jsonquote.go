// Package jsonquote appends strings as JSON string literals, escaped
// byte for byte as the standard library's encoders escape them, for the
// hand-written encoders of hot paths (decision log lines, problem
// documents) whose output must not differ from what those encoders wrote.
package jsonquote

import "unicode/utf8"

// Style is one encoder's way of escaping.
type Style struct {
	// ShortBF writes \b and \f as such rather than as \u0008 and \u000c.
	ShortBF bool
	// EscapeHTML writes <, > and & as \u003c, \u003e and \u0026.
	EscapeHTML bool
}

var (
	// Slog is log/slog's JSON handler.
	Slog = Style{}
	// Encoder is encoding/json's Encoder with SetEscapeHTML(false), as
	// slog uses for values it marshals.
	Encoder = Style{ShortBF: true}
	// Marshal is encoding/json.Marshal.
	Marshal = Style{ShortBF: true, EscapeHTML: true}
)

// Append appends s quoted in style st. All three styles write ", \ and
// control bytes escaped (\n, \r and \t short), invalid UTF-8 as \ufffd,
// and U+2028 and U+2029 escaped.
func Append(b []byte, s string, st Style) []byte {
	const hex = "0123456789abcdef"
	safe := &plain
	if st.EscapeHTML {
		safe = &htmlSafe
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none of them needs a look: most of
		// what gateways quote (check details, names, paths) is plain ASCII.
		if i+8 <= len(s) && !needsLook(word(s, i), st.EscapeHTML) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case st.ShortBF && c == '\b':
				b = append(b, '\\', 'b')
			case st.ShortBF && c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// plain and htmlSafe say which ASCII bytes are written as they are: all
// but control bytes, " and \, and for htmlSafe also <, > and &. A table
// keeps the common path to one load per byte.
var plain, htmlSafe = func() (p, h [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		p[c] = c >= 0x20 && c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

// word returns the eight bytes of s from i, the first in the lowest bits
// (the compiler makes this one load).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// needsLook reports whether any byte of w may need escaping or is not
// ASCII: one below 0x20, ", \, 0x80 or above, and with html also <, >
// and &. It may answer true for a word that needs nothing (a borrow
// between bytes), never false for one that does.
func needsLook(w uint64, html bool) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	m := w | (w - ones*0x20) // high bit: at least 0x80, or below 0x20
	m |= hasZero(w^ones*'"') | hasZero(w^ones*'\\')
	if html {
		m |= hasZero(w^ones*'<') | hasZero(w^ones*'>') | hasZero(w^ones*'&')
	}
	return m&highs != 0
}

// hasZero has the high bit of a byte set where v's byte is 0 (and maybe
// above a byte that is, from the borrow).
func hasZero(v uint64) uint64 {
	return (v - 0x0101010101010101) &^ v
}
