package doctor

import (
	"fmt"
	"strings"
)

// Challenge is one parsed WWW-Authenticate or Proxy-Authenticate challenge
// (RFC 9110 §11.6.1): a scheme with either a token68 or auth-params.
type Challenge struct {
	Scheme  string  `json:"scheme"`
	Token68 string  `json:"token68,omitempty"`
	Params  []Param `json:"params,omitempty"`
}

// Param is one auth-param; names are case-insensitive, values unquoted.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Param returns the value of the auth-param name (case-insensitive), or "".
func (c Challenge) Param(name string) string {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}

// Is reports whether the challenge's scheme is scheme (case-insensitive).
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// String renders the challenge in header syntax, every value quoted.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
	}
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Name + "=" + quoteString(p.Value))
	}
	return b.String()
}

func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// ParseChallenges parses the values of WWW-Authenticate (or
// Proxy-Authenticate) fields; one field may hold several challenges. On a
// syntax error it returns the challenges before it and an error naming the
// byte offset, so a half-broken header still tells what it can.
func ParseChallenges(values []string) ([]Challenge, error) {
	var out []Challenge
	for _, v := range values {
		cs, err := parseChallengeList(v)
		out = append(out, cs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

type challengeParser struct {
	s string
	i int
}

func parseChallengeList(s string) ([]Challenge, error) {
	p := &challengeParser{s: s}
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.end() {
			return out, nil
		}
		scheme := p.token()
		if scheme == "" {
			return out, p.errorf("expected an auth-scheme")
		}
		c := Challenge{Scheme: scheme}
		if p.end() || p.peek() == ',' {
			out = append(out, c)
			continue
		}
		if !p.space() {
			return out, p.errorf("expected a space after scheme %s", scheme)
		}
		if p.end() || p.peek() == ',' {
			out = append(out, c)
			continue
		}
		if t68, ok := p.token68(); ok {
			c.Token68 = t68
			out = append(out, c)
			continue
		}
		// auth-params until the next element that is not "token BWS =".
		for {
			name, value, err := p.param()
			if err != nil {
				return append(out, c), err
			}
			c.Params = append(c.Params, Param{Name: name, Value: value})
			save := p.i
			p.ows()
			if p.end() {
				break
			}
			if p.peek() != ',' {
				return append(out, c), p.errorf("expected a comma after parameter %s", name)
			}
			p.skipListSeparators()
			if p.end() {
				break
			}
			if !p.startsParam() {
				p.i = save
				break
			}
		}
		out = append(out, c)
	}
}

// startsParam reports whether an auth-param (token BWS "=" not followed by
// another "=") starts here, without consuming anything.
func (p *challengeParser) startsParam() bool {
	save := p.i
	defer func() { p.i = save }()
	if p.token() == "" {
		return false
	}
	p.ows()
	if p.end() || p.peek() != '=' {
		return false
	}
	p.i++
	p.ows()
	return !p.end() && p.peek() != '=' && p.peek() != ','
}

func (p *challengeParser) param() (name, value string, err error) {
	name = p.token()
	if name == "" {
		return "", "", p.errorf("expected a parameter name")
	}
	p.ows()
	if p.end() || p.peek() != '=' {
		return "", "", p.errorf("expected = after parameter %s", name)
	}
	p.i++
	p.ows()
	if !p.end() && p.peek() == '"' {
		value, err = p.quoted()
		return name, value, err
	}
	value = p.token()
	if value == "" {
		return "", "", p.errorf("expected a value for parameter %s", name)
	}
	return name, value, nil
}

// token68 reads a token68 when one stands alone here (followed by the end
// or a comma); otherwise it consumes nothing.
func (p *challengeParser) token68() (string, bool) {
	start := p.i
	for !p.end() && isToken68(p.peek()) {
		p.i++
	}
	if p.i == start {
		return "", false
	}
	for !p.end() && p.peek() == '=' {
		p.i++
	}
	t := p.s[start:p.i]
	p.ows()
	if p.end() || p.peek() == ',' {
		return t, true
	}
	p.i = start
	return "", false
}

func (p *challengeParser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for !p.end() {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				p.i = start
				return "", p.errorf("unterminated quoted-string")
			}
			// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): an escaped
			// control character is as invalid as a bare one.
			if e := p.s[p.i+1]; e != '\t' && (e < 0x20 || e == 0x7f) {
				return "", p.errorf("control character in quoted-pair")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
			p.i++
		default:
			return "", p.errorf("control character in quoted-string")
		}
	}
	p.i = start
	return "", p.errorf("unterminated quoted-string")
}

func (p *challengeParser) token() string {
	start := p.i
	for !p.end() && isTchar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// space consumes at least one SP or HTAB.
func (p *challengeParser) space() bool {
	start := p.i
	p.ows()
	return p.i > start
}

func (p *challengeParser) ows() {
	for !p.end() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipListSeparators() {
	for !p.end() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.i++
	}
}

func (p *challengeParser) end() bool  { return p.i >= len(p.s) }
func (p *challengeParser) peek() byte { return p.s[p.i] }

func (p *challengeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

// isTchar reports whether c may appear in an RFC 9110 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
