package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// TextOptions control the human-readable rendering.
type TextOptions struct {
	// Color adds ANSI colours; callers set it only for a terminal and when
	// NO_COLOR is unset.
	Color bool
}

// WriteJSON writes r as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person: what was sent and answered, the token,
// the ranked causes with their fixes, notes, and the command for the admin.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	if r.Kind == "token" {
		p.tokenVerdict(r)
	} else {
		p.request(r)
	}
	if r.Token != nil {
		p.token(r.Token)
	}
	p.causes(r)
	p.notes(r.Notes)
	if r.ExplainCommand != "" {
		p.heading("For the server's admin")
		p.line("  Give them this request id; they see the whole decision with:")
		p.line("  %s", p.paint(bold, r.ExplainCommand))
	}
	return p.err
}

const (
	bold   = "1"
	red    = "31"
	green  = "32"
	yellow = "33"
	dim    = "2"
)

type printer struct {
	w     io.Writer
	color bool
	err   error
	first bool
}

// painted is text paint made safe and coloured; line prints it as it is.
type painted string

func (p *printer) paint(code, s string) painted {
	s = authgate.Printable(s)
	if !p.color || s == "" {
		return painted(s)
	}
	return painted("\x1b[" + code + "m" + s + "\x1b[0m")
}

func (p *printer) line(format string, args ...any) {
	if p.err != nil {
		return
	}
	// Every plain string may come from the server or a token: escape its
	// control characters so it cannot rewrite the reader's terminal.
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = authgate.Printable(s)
		}
	}
	_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) heading(s string) {
	p.line("")
	p.line("%s", p.paint(bold, s))
}

// field prints one named value: a plain string (escaped by line) or a
// painted one.
func (p *printer) field(name string, value any) {
	if fmt.Sprint(value) == "" {
		return
	}
	p.line("  %-12s %s", name, value)
}

func (p *printer) request(r *Report) {
	rq := r.Request
	target := rq.Method + " " + rq.URL
	switch {
	case r.Network != nil:
		p.line("%s → %s", target, p.paint(red, "no answer ("+r.Network.Kind+")"))
		p.line("  %s", r.Network.Error)
		p.line("  %s", r.Network.Explanation)
	case r.Response != nil:
		colour := green
		if r.Outcome == Failed {
			colour = red
		}
		p.line("%s → %s", target, p.paint(colour, fmt.Sprintf("%d %s", r.Response.Status, r.Response.StatusText)))
		if r.Response.Meaning != "" {
			p.line("  %s", r.Response.Meaning)
		}
	}

	p.heading("Request")
	if rq.Host != "" {
		p.field("host", rq.Host)
	}
	if len(rq.Credentials) == 0 {
		p.field("credentials", "none")
	}
	for _, c := range rq.Credentials {
		p.field("credential", credentialText(c))
	}
	p.field("proxy", rq.Proxy)
	p.field("client cert", rq.ClientCert)

	if len(r.Hops) > 1 {
		p.heading("Redirects")
		for i, h := range r.Hops {
			s := fmt.Sprintf("%d. %s %s → %d", i+1, h.Method, h.URL, h.Status)
			if h.Location != "" && i < len(r.Hops)-1 {
				s += " → " + h.Location
			}
			if len(h.Dropped) > 0 {
				s += "  (sent without " + strings.Join(h.Dropped, ", ") + ")"
			} else if !h.Credentials {
				s += "  (no credentials)"
			}
			p.line("  %s", s)
		}
	}

	ri := r.Response
	if ri == nil {
		return
	}
	p.heading("Response")
	if len(ri.Challenges) == 0 && ri.Status == 401 {
		p.field("challenge", p.paint(yellow, "none (WWW-Authenticate missing)"))
	}
	for _, c := range ri.Challenges {
		p.field("challenge", c.String())
	}
	for _, c := range ri.ProxyChallenges {
		p.field("proxy asks", c.String())
	}
	if ri.RetryAfter != "" {
		p.field("retry after", ri.RetryAfter+" s")
	}
	if a := ri.Authgate; a != nil {
		p.field("authgate", "reason "+p.paint(bold, string(a.Reason))+painted(authgate.Printable(masked(a))))
	}
	if pr := ri.Problem; pr != nil {
		s := pr.Title
		if pr.Detail != "" {
			s += ": " + pr.Detail
		}
		p.field("problem", s)
		p.field("explanation", pr.Explanation)
		p.field("scope", pr.Scope)
	}
	p.field("request id", ri.RequestID)
	p.field("server", ri.Server)
	if c := r.Clock; c != nil && !c.Server.IsZero() {
		p.field("clock", clockText(c))
	}
	if t := ri.TLS; t != nil {
		s := t.Version
		if t.Subject != "" {
			s += ", certificate " + t.Subject + " valid until " + t.NotAfter.Format(time.DateOnly)
		}
		p.field("tls", s)
	}
}

func masked(a *AuthgateInfo) string {
	if a.Masked {
		return " (the route hides the precise reason)"
	}
	return ""
}

func credentialText(c CredentialInfo) string {
	s := c.Header + ": "
	switch {
	case c.Kind == "basic" && c.User != "":
		s += fmt.Sprintf("Basic, user %q, password %s", c.User, c.Secret)
	case c.Scheme != "":
		s += c.Scheme + " " + c.Secret.String()
	default:
		s += c.Secret.String()
	}
	return s
}

func clockText(c *ClockInfo) string {
	s := c.Server.Format(time.RFC3339) + " (" + c.ServerSource + ")"
	skew := time.Duration(c.SkewSeconds) * time.Second
	switch {
	case skew.Abs() < 5*time.Second:
		s += ", agrees with yours"
	case skew > 0:
		s += ", yours is " + human(skew) + " behind"
	default:
		s += ", yours is " + human(skew) + " ahead"
	}
	return s
}

func (p *printer) tokenVerdict(r *Report) {
	if r.Outcome == Failed {
		p.line("Token: %s", p.paint(red, fmt.Sprintf("%d problem(s) a verifier would reject", len(r.Causes))))
	} else {
		p.line("Token: %s", p.paint(green, "nothing a verifier would reject"))
	}
}

func (p *printer) token(t *TokenInfo) {
	p.heading("Token (decoded, not trusted)")
	p.field("format", t.Format+", "+t.Secret.String())
	p.field("problem", t.Problem)
	if t.Format != "jwt" || t.Problem != "" {
		return
	}
	hdr := "alg " + t.Algorithm
	if t.KeyID != "" {
		hdr += fmt.Sprintf(", kid %q", t.KeyID)
	}
	if t.Type != "" {
		hdr += ", typ " + t.Type
	}
	p.field("header", hdr)
	p.field("issuer", t.Issuer)
	p.field("subject", t.Subject)
	p.field("audience", strings.Join(t.Audience, ", "))
	p.field("scopes", strings.Join(t.Scopes, " "))
	p.field("expires", timeText(t.Expires))
	p.field("not before", timeText(t.NotBefore))
	p.field("issued", timeText(t.IssuedAt))
	if t.LifetimeSeconds > 0 {
		p.field("lifetime", human(time.Duration(t.LifetimeSeconds)*time.Second))
	}
	if s := t.Signature; s != nil {
		p.field("signature", s.Result+": "+s.Detail)
	}
}

func timeText(t *TokenTime) string {
	if t == nil {
		return ""
	}
	s := t.At.Format(time.RFC3339) + " — " + t.Local + " by your clock"
	if t.Server != "" && t.Server != t.Local {
		s += ", " + t.Server + " by the server's"
	}
	return s
}

func (p *printer) causes(r *Report) {
	if r.Outcome == Unreachable {
		return
	}
	if len(r.Causes) == 0 {
		if r.Outcome == Failed {
			p.heading("Likely causes")
			p.line("  doctor found no specific cause; see the response and notes above.")
		}
		return
	}
	p.heading("Likely causes, most likely first")
	for i, c := range r.Causes {
		colour := yellow
		if c.Likelihood == Certain {
			colour = red
		}
		p.line("  %d. %s — %s  [%s; found by %s]", i+1, p.paint(colour, string(c.Code)), c.Title, c.Likelihood, strings.Join(c.Sources, " and "))
		for _, e := range c.Evidence {
			p.line("     %s", e)
		}
		p.line("     %s %s", p.paint(bold, "Fix:"), c.Hint)
	}
}

func (p *printer) notes(ns []Note) {
	if len(ns) == 0 {
		return
	}
	p.heading("Notes")
	for _, n := range ns {
		mark := p.paint(dim, "-")
		switch n.Severity {
		case Warning:
			mark = p.paint(yellow, "!")
		case Fault:
			mark = p.paint(red, "✗")
		}
		p.line("  %s %s", mark, n.Text)
	}
}
